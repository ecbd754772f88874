// A router of ~60 lines over the History API: the path is a signal, routes come from the module registry
// (modules.ts). No hash routing: fragments carry secrets (link tokens) and must stay out of the router.
import { signal } from "@preact/signals";
import type { ComponentType } from "preact";

export const currentPath = signal(typeof location === "undefined" ? "/" : location.pathname);

if (typeof window !== "undefined") {
  window.addEventListener("popstate", () => {
    currentPath.value = location.pathname;
  });
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  currentPath.value = location.pathname;
  window.scrollTo(0, 0);
}

/** Who may open a route: anyone, only signed-out visitors (sign-in, register), or only a signed-in account. */
export type Access = "public" | "signed-out" | "signed-in";

export interface RouteProps {
  params: Record<string, string>;
}

export interface Route {
  /** "/app/alias", "/app/alias/:id"; a trailing "/*" matches the rest (params["*"]). */
  path: string;
  title: string;
  access: Access;
  page: ComponentType<RouteProps>;
}

export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split("/").filter(Boolean);
  const have = path.split("/").filter(Boolean);
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const part = want[i]!;
    if (part === "*") {
      params["*"] = have.slice(i).map(decodeURIComponent).join("/");
      return params;
    }
    const actual = have[i];
    if (actual === undefined) return null;
    if (part.startsWith(":")) params[part.slice(1)] = decodeURIComponent(actual);
    else if (part !== actual) return null;
  }
  return have.length === want.length ? params : null;
}

export function findRoute(routes: readonly Route[], path: string): { route: Route; params: Record<string, string> } | null {
  for (const route of routes) {
    const params = matchPath(route.path, path);
    if (params) return { route, params };
  }
  return null;
}
