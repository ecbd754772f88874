// The frame of every app page: the header (same markup and classes as the Drop pages' header, see drop.html) and
// the navigation, which lists only modules that have pages.
import type { ComponentChildren } from "preact";
import { Link } from "./Link";
import { navigation } from "./modules";
import { navigate } from "./router";
import * as session from "../session/store";
import { lock, signOut } from "../identity/service";
import { NoticeBanner } from "../notices/NoticeBanner";

export function Shell(props: { children: ComponentChildren }) {
  const signedIn = session.status.value === "signed-in";
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="site">
        <Link href={signedIn ? "/app" : "/"} class="brand">Veil</Link>
        <nav aria-label="Main">
          {signedIn ? (
            <ul>
              <li><Link href="/app" nav>Overview</Link></li>
              {navigation.map((item) => (
                <li key={item.href}>{item.external ? <a href={item.href}>{item.label}</a> : <Link href={item.href} nav>{item.label}</Link>}</li>
              ))}
            </ul>
          ) : (
            <ul>
              <li><a href="/drop">Send a drop</a></li>
              <li><Link href="/signin" nav>Sign in</Link></li>
              <li><Link href="/register" nav>Register</Link></li>
            </ul>
          )}
        </nav>
        {signedIn && (
          <div class="who">
            {session.isUnlocked.value && (
              <button type="button" class="secondary" onClick={lock}>Lock</button>
            )}
            <button
              type="button"
              class="secondary"
              onClick={async () => {
                await signOut().catch(() => undefined);
                navigate("/signin", { replace: true });
              }}
            >
              Sign out
            </button>
          </div>
        )}
      </header>
      <NoticeBanner />
      <main id="main" tabIndex={-1}>{props.children}</main>
    </>
  );
}
