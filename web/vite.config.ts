import { resolve } from "node:path";
import { defineConfig } from "vitest/config";

// Three entries, served by Veil.Server (src/Veil.Server/Web): the app (app.html) at / and its client routes
// (/signin, /register, /verify-email, /magic-link, /app/...), /drop -> drop.html, /d/{id} -> download.html;
// every built file lives under /web/. Nothing is inlined (the CSP allows no inline script, style, data: or
// blob: worker), nothing comes from another origin.
export default defineConfig({
  base: "/web/",
  // The threaded Argon2 module (src/crypto/argon2/argon2.wasm) is imported with ?inline: its bytes travel inside the
  // key derivation worker's chunk, so the budget test counts them and no extra request or MIME type is needed.
  assetsInclude: ["**/*.wasm"],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: "es2022",
    rollupOptions: {
      input: {
        app: resolve(import.meta.dirname, "app.html"),
        drop: resolve(import.meta.dirname, "drop.html"),
        download: resolve(import.meta.dirname, "download.html"),
      },
      output: {
        // The zxcvbn dictionaries (loaded lazily, only where a master password is chosen) get a name of their own, so
        // the budget test (tests/Veil.Server.Tests/Web/WebBudgetTests.cs) can tell them from the app (ADR 0006).
        chunkFileNames: (chunk) =>
          chunk.moduleIds.some((id) => id.includes("@zxcvbn-ts")) ? "assets/strength-[name]-[hash].js" : "assets/[name]-[hash].js",
      },
    },
  },
  worker: { format: "es" },
  // Preact's automatic JSX runtime (tsconfig says the same for type checking).
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60000,
  },
});
