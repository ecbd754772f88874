// Drop's send and receive pages are their own entries (drop.html, download.html: a large upload must not share a
// page with the app), styled like the app. The app has the signed-in owner's list of drops.
import type { Module } from "../app/modules";
import "../alias/alias.css";
import { DropsPage } from "./DropsPage";

export const dropModule: Module = {
  id: "drop",
  routes: [{ path: "/app/drops", title: "Your drops", access: "signed-in", page: DropsPage }],
  nav: [
    { label: "Your drops", href: "/app/drops" },
    { label: "Send a drop", href: "/drop", external: true },
  ],
};
