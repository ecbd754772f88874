// The module registry: the only list a new module is added to. Each module (web/src/<module>/module.ts) names its
// routes and, when it has signed-in pages, its place in the navigation. Order here is the order in the menu.
import type { Route } from "./router";
import { homeModule } from "../home/module";
import { identityModule } from "../identity/module";
import { dropModule } from "../drop/module";
import { aliasModule } from "../alias/module";
import { vaultModule } from "../vault/module";
import { mailboxModule } from "../mailbox/module";

export interface NavItem {
  label: string;
  href: string;
  /** A separate page of this server (full load), e.g. the Drop send page; otherwise an in-app route. */
  external?: boolean;
}

export interface Module {
  id: string;
  routes: Route[];
  /** Entries in the signed-in navigation; omit for modules without signed-in pages yet. */
  nav?: NavItem[];
}

export const modules: readonly Module[] = [homeModule, aliasModule, vaultModule, identityModule, dropModule, mailboxModule];

export const routes: readonly Route[] = modules.flatMap((module) => module.routes);

export const navigation: readonly NavItem[] = modules.flatMap((module) => module.nav ?? []);
