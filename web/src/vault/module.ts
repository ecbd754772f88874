import type { Module } from "../app/modules";
import { ClaimPage } from "./ClaimPage";

export const vaultModule: Module = {
  id: "vault",
  routes: [
    // The mailed claim link: the token is in the path (spec/vault-api.md), as the CLI also accepts it.
    { path: "/vault/claim/:token", title: "A vault was left to you", access: "public", page: ClaimPage },
  ],
};
