import { lazyPage } from "../app/lazy";
import type { Module } from "../app/modules";
import { MagicLinkPage } from "./MagicLinkPage";
import { SessionsPage } from "./SessionsPage";
import { RegisterPage } from "./RegisterPage";
import { SignInPage } from "./SignInPage";
import { VerifyEmailPage } from "./VerifyEmailPage";

export const identityModule: Module = {
  id: "identity",
  routes: [
    { path: "/register", title: "Create an account", access: "signed-out", page: RegisterPage },
    { path: "/signin", title: "Sign in", access: "signed-out", page: SignInPage },
    // Mailed links: the token is in the fragment, which the browser never sends to the server.
    { path: "/verify-email", title: "Confirm your address", access: "public", page: VerifyEmailPage },
    { path: "/magic-link", title: "Sign in with a link", access: "public", page: MagicLinkPage },
    { path: "/app/account", title: "Account", access: "signed-in", page: lazyPage(() => import("./AccountPage")) },
    { path: "/app/account/sessions", title: "Sessions", access: "signed-in", page: SessionsPage },
  ],
  nav: [
    { label: "Account", href: "/app/account" },
    { label: "Sessions", href: "/app/account/sessions" },
  ],
};
