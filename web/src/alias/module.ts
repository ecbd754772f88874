// Alias: the dashboard (aliases, recipients, contacts, failed deliveries, usage) and the recipient confirmation
// page that the mailed link opens (its token is in the path: the server maps /alias/verify/{token} to this app).
import type { Module } from "../app/modules";
import "./alias.css";
import { AliasesPage } from "./AliasesPage";
import { AliasPage } from "./AliasPage";
import { LogPage } from "./LogPage";
import { RecipientsPage } from "./RecipientsPage";
import { VerifyRecipientPage } from "./VerifyRecipientPage";

export const aliasModule: Module = {
  id: "alias",
  routes: [
    { path: "/app/alias", title: "Aliases", access: "signed-in", page: AliasesPage },
    { path: "/app/alias/recipients", title: "Recipients", access: "signed-in", page: RecipientsPage },
    { path: "/app/alias/log", title: "Failed deliveries", access: "signed-in", page: LogPage },
    { path: "/app/alias/a/:id", title: "Alias", access: "signed-in", page: AliasPage },
    { path: "/alias/verify/:token", title: "Confirm this mailbox", access: "public", page: VerifyRecipientPage },
  ],
  nav: [{ label: "Aliases", href: "/app/alias" }],
};
