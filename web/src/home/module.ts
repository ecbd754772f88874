import type { Module } from "../app/modules";
import { HomePage } from "./HomePage";
import { OverviewPage } from "./OverviewPage";

export const homeModule: Module = {
  id: "home",
  routes: [
    { path: "/", title: "Veil", access: "public", page: HomePage },
    { path: "/app", title: "Overview", access: "signed-in", page: OverviewPage },
  ],
};
