// Resolves the current path to a route and enforces its access rule: signed-in pages wait for the session to be
// resumed from the refresh cookie, then send signed-out visitors to /signin; signed-out pages (sign-in, register)
// send a signed-in account to /app.
import { useEffect } from "preact/hooks";
import { Shell } from "./Shell";
import { routes } from "./modules";
import { currentPath, findRoute, navigate } from "./router";
import { Page } from "./ui";
import { Link } from "./Link";
import * as session from "../session/store";

export function App() {
  const path = currentPath.value;
  const status = session.status.value;
  const found = findRoute(routes, path);
  const access = found?.route.access;

  useEffect(() => {
    if (status === "signed-out" && access === "signed-in") navigate("/signin", { replace: true });
    if (status === "signed-in" && access === "signed-out") navigate("/app", { replace: true });
  }, [status, access]);

  if (!found) {
    return (
      <Shell>
        <Page title="Page not found" lead="There is no page at this address.">
          <p><Link href="/">Go to the start page</Link></p>
        </Page>
      </Shell>
    );
  }
  if (access === "signed-in" && status !== "signed-in") {
    return <Shell><p role="status" class="muted">Opening your session…</p></Shell>;
  }
  const PageComponent = found.route.page;
  return (
    <Shell>
      <PageComponent params={found.params} />
    </Shell>
  );
}
