// A page whose code loads when it is first opened (a separate chunk), so pages few visits need (Account) do not
// weigh on the app's entry. A tiny stand-in for preact/compat's lazy + Suspense, which would add compat to the entry.
import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { RouteProps } from "./router";

export function lazyPage(load: () => Promise<{ default: ComponentType<RouteProps> }>): ComponentType<RouteProps> {
  let loaded: ComponentType<RouteProps> | null = null;
  return function LazyPage(props: RouteProps) {
    const [page, setPage] = useState<ComponentType<RouteProps> | null>(() => loaded);
    const [failed, setFailed] = useState(false);
    useEffect(() => {
      if (loaded) return;
      load().then(
        (module) => {
          loaded = module.default;
          setPage(() => module.default);
        },
        () => setFailed(true),
      );
    }, []);
    if (failed) return <p class="error" role="alert">This page did not load. Check your connection and reload.</p>;
    if (!page) return <p role="status" class="muted">Loading…</p>;
    const Page = page;
    return <Page {...props} />;
  };
}
