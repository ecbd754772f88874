import type { Module } from "../app/modules";
import { ClaimPage } from "./ClaimPage";
import { VaultPage, VaultsPage } from "./VaultPages";

export const vaultModule: Module = {
  id: "vault",
  routes: [
    { path: "/app/vault", title: "Vaults", access: "signed-in", page: VaultsPage },
    { path: "/app/vault/:id", title: "Vault", access: "signed-in", page: VaultPage },
    // The mailed claim link: the token is in the path (spec/vault-api.md), as the CLI also accepts it.
    { path: "/vault/claim/:token", title: "A vault was left to you", access: "public", page: ClaimPage },
  ],
  nav: [{ label: "Vault", href: "/app/vault" }],
};
