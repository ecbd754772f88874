// Mailbox in the web app: the signed-in mailbox (/app/mail: unlock, folders, the list, reading safely) and the public
// page where an outsider opens password mail. Both load lazily: OpenPGP.js, DOMPurify and the MIME reader travel in
// their chunks, which no other page needs.
import type { Module } from "../app/modules";
import { lazyPage } from "../app/lazy";

export const mailboxModule: Module = {
  id: "mailbox",
  routes: [
    { path: "/app/mail", title: "Mail", access: "signed-in", page: lazyPage(() => import("./MailboxPage")) },
    // The notice's link: the id is in the path; the password is typed in the page and never leaves it.
    { path: "/app/m/:id", title: "A password-protected message", access: "public", page: lazyPage(() => import("./OutsiderPage")) },
  ],
  nav: [{ label: "Mail", href: "/app/mail" }],
};
