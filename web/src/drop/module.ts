// Drop's send and receive pages are their own entries (drop.html, download.html: a large upload must not share a
// page with the app), styled like the app; here Drop only takes its place in the navigation.
import type { Module } from "../app/modules";

export const dropModule: Module = {
  id: "drop",
  routes: [],
  nav: [{ label: "Send a drop", href: "/drop", external: true }],
};
