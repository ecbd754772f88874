import { resolve } from "node:path";
import { defineConfig } from "vitest/config";

// Two pages, served by Veil.Server (src/Veil.Server/Web): /drop -> drop.html, /d/{id} -> download.html;
// every built file lives under /web/. Nothing is inlined (the CSP allows no inline script, style, data: or
// blob: worker), nothing comes from another origin.
export default defineConfig({
  base: "/web/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: "es2022",
    rollupOptions: {
      input: {
        drop: resolve(import.meta.dirname, "drop.html"),
        download: resolve(import.meta.dirname, "download.html"),
      },
    },
  },
  worker: { format: "es" },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60000,
  },
});
