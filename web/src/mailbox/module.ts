// Mailbox in the web app: for now only the public page where an outsider opens password mail (the signed-in mailbox
// is its own issue). The page loads lazily: it brings the MIME reader and the reply sealing, which no other page needs.
import type { Module } from "../app/modules";
import { lazyPage } from "../app/lazy";

export const mailboxModule: Module = {
  id: "mailbox",
  routes: [
    // The notice's link: the id is in the path; the password is typed in the page and never leaves it.
    { path: "/app/m/:id", title: "A password-protected message", access: "public", page: lazyPage(() => import("./OutsiderPage")) },
  ],
};
