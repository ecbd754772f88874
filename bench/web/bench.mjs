// The web app in Chromium, driven over the DevTools protocol with no dependencies (Node 20: --experimental-websocket).
// Usage: node --experimental-websocket bench/web/bench.mjs ORIGIN RUNS      (bench/web.sh runs it; see docs/PERFORMANCE.md)
//  (c) first page interactive: a fresh tab, cache disabled, opens ORIGIN/; the time from navigation start until the
//      app has rendered its first view (an <h1> inside #app: Preact renders it with its handlers attached).
//  (a) Argon2id (64 MiB, t=3, p=4) exactly as the app runs it: a new module worker from the app's own
//      kdf.worker-*.js per derivation, started a second before the request (the app warms it when a password field
//      gets the focus), timed in the page from the request to the keys' arrival; and cold, from `new Worker`. The page is cross-origin
//      isolated, so the worker runs the threaded reference build with its lane workers (ADR 0006 "Argon2 in threads");
//      the line printed says whether it was. The same derivations in the same page with COEP stripped (so not isolated)
//      time the fallback (hash-wasm, one thread), runs alternating.
//  (b) optional (bench/web.sh passes SEED_EMAIL PASSWORD VAULT_ID ITEMS after Veil.Bench --vault-seed made them): sign in
//      once, then per run a fresh load of /app/vault/{id} (session resumed, keys locked), and the time in the page from
//      submitting the master password to the vault's list showing (its count of all items and the first page of
//      100 item cards; Argon2id included), plus one frame.
// Prints every run and RESULT lines with the medians.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [origin, runsText = "5", seedEmail, seedPassword, seedVault, seedItemsText] = process.argv.slice(2);
const runs = Number(runsText);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const profile = mkdtempSync(join(tmpdir(), "veil-web-bench-"));
const chromium = spawn("/usr/bin/chromium", [
  "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
  "--remote-debugging-port=0", `--user-data-dir=${profile}`, "about:blank",
], { stdio: ["ignore", "ignore", "pipe"] });
const cleanup = () => { chromium.kill(); try { rmSync(profile, { recursive: true, force: true }); } catch { /* gone */ } };
process.on("exit", cleanup);

const browserUrl = await new Promise((resolve, reject) => {
  let text = "";
  chromium.stderr.on("data", (chunk) => {
    text += chunk;
    const match = text.match(/DevTools listening on (ws:\/\/\S+)/);
    if (match) resolve(match[1]);
  });
  chromium.on("exit", (code) => reject(new Error("chromium exited " + code + ": " + text)));
});
const port = new URL(browserUrl).port;

async function openTab() {
  const target = await (await fetch(`http://127.0.0.1:${port}/json/new?about:blank`, { method: "PUT" })).json();
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => { socket.onopen = resolve; socket.onerror = reject; });
  let next = 0;
  const pending = new Map();
  const listeners = new Map();
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.method && listeners.has(message.method)) listeners.get(message.method)(message.params);
    if (message.id && pending.has(message.id)) {
      const { resolve, reject } = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) reject(new Error(JSON.stringify(message.error)));
      else resolve(message.result);
    }
  };
  const send = (method, params = {}) => new Promise((resolve, reject) => {
    const id = ++next;
    pending.set(id, { resolve, reject });
    socket.send(JSON.stringify({ id, method, params }));
  });
  const evaluate = async (expression) => {
    const result = await send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
    if (result.exceptionDetails) throw new Error(JSON.stringify(result.exceptionDetails));
    return result.result.value;
  };
  const close = async () => { socket.close(); await fetch(`http://127.0.0.1:${port}/json/close/${target.id}`); };
  const on = (method, handler) => listeners.set(method, handler);
  return { send, evaluate, close, on };
}

// (c) first page interactive
const firstPage = [];
for (let i = 0; i <= runs; i++) {
  const tab = await openTab();
  await tab.send("Network.enable");
  await tab.send("Network.clearBrowserCache");
  await tab.send("Network.setCacheDisabled", { cacheDisabled: true });
  await tab.send("Page.enable");
  await tab.send("Page.addScriptToEvaluateOnNewDocument", { source: `
    new MutationObserver((_, observer) => {
      if (document.querySelector("#app h1")) { window.__veilReady = performance.now(); observer.disconnect(); }
    }).observe(document, { subtree: true, childList: true });` });
  await tab.send("Page.navigate", { url: origin + "/" });
  let ready = null;
  for (let wait = 0; wait < 400 && ready === null; wait++) {
    ready = await tab.evaluate("window.__veilReady ?? null").catch(() => null);
    if (ready === null) await new Promise((r) => setTimeout(r, 25));
  }
  if (ready === null) throw new Error("the app never rendered its first view");
  const dcl = await tab.evaluate("performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd");
  if (i > 0) firstPage.push(ready); // run 0 warms the server and the browser process, not the page cache
  console.log(`first page run ${i}${i === 0 ? " (warm-up)" : ""}: app rendered at ${ready.toFixed(0)} ms (DOMContentLoaded ${dcl.toFixed(0)} ms)`);
  await tab.close();
}

// (a) Argon2id in the app's worker
const appHtml = await (await fetch(origin + "/")).text();
// The worker's URL is wherever the build put `new Worker(new URL(...))`: search the page's entry and preloads.
let workerUrl = null;
for (const [, src] of appHtml.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="([^"]+\.js)"/g)) {
  workerUrl ??= (await (await fetch(origin + src)).text()).match(/\/web\/assets\/kdf\.worker-[A-Za-z0-9_-]+\.js/)?.[0] ?? null;
}
if (!workerUrl) throw new Error("no kdf.worker-*.js referenced by the app page");
// The same page twice: as served (cross-origin isolated: the threaded build with lane workers) and with the
// Cross-Origin-Embedder-Policy header removed by the DevTools protocol (not isolated: the app's fallback, hash-wasm on
// one thread), the runs alternating between the two so both see the same machine load.
async function argon2Tab(isolated) {
  const tab = await openTab();
  if (!isolated) {
    tab.on("Fetch.requestPaused", async (paused) => {
      const headers = (paused.responseHeaders ?? []).filter((h) => h.name.toLowerCase() !== "cross-origin-embedder-policy");
      const { body, base64Encoded } = await tab.send("Fetch.getResponseBody", { requestId: paused.requestId });
      await tab.send("Fetch.fulfillRequest", { requestId: paused.requestId, responseCode: paused.responseStatusCode,
        responseHeaders: headers, body: base64Encoded ? body : Buffer.from(body).toString("base64") });
    });
    await tab.send("Fetch.enable", { patterns: [{ urlPattern: "*", requestStage: "Response" }] });
  }
  await tab.send("Page.enable");
  await tab.send("Page.navigate", { url: origin + "/" });
  await new Promise((r) => setTimeout(r, 1500));
  const page = await tab.evaluate("JSON.stringify({ crossOriginIsolated: self.crossOriginIsolated, cores: navigator.hardwareConcurrency })");
  if (JSON.parse(page).crossOriginIsolated !== isolated) throw new Error(`expected a page with crossOriginIsolated=${isolated}: ${page}`);
  return { tab, page, times: [] };
}
// warm: as the app does since it starts the next derivation's worker when a password field gets the focus
// (web/src/crypto/kdf.ts): the worker starts, a second passes (the person types), then the timer runs from the
// request to the keys. cold: the timer includes starting the worker, its lane workers and compiling the module.
const derive = (warm) => `(async () => {
  const worker = new Worker(${JSON.stringify(workerUrl)}, { type: "module" });
  if (${warm}) await new Promise((r) => setTimeout(r, 1000));
  const t0 = performance.now();
  await new Promise((resolve, reject) => {
    worker.onmessage = (event) => { worker.terminate(); event.data.ok ? resolve() : reject(new Error(event.data.message)); };
    worker.onerror = (event) => { worker.terminate(); reject(new Error(event.message)); };
    worker.postMessage({ password: "correct horse battery staple", email: "bench@example.org", salt: "AAAAAAAAAAAAAAAAAAAAAA",
      memoryKiB: 65536, iterations: 3, parallelism: 4 });
  });
  return performance.now() - t0;
})()`;
const threaded = await argon2Tab(true);
const fallback = await argon2Tab(false);
const cold = [];
for (let i = 0; i <= runs; i++) {
  for (const side of [threaded, fallback]) {
    const ms = await side.tab.evaluate(derive(true));
    if (i > 0) side.times.push(ms); // run 0 warms each page up
  }
  const ms = await threaded.tab.evaluate(derive(false));
  if (i > 0) cold.push(ms);
}
const argon = threaded.times;
console.log(`argon2 in chromium, threaded, warm worker as the app runs it (page ${threaded.page}: lanes in parallel) runs ms: ${argon.map((t) => t.toFixed(0)).join(" ")}`);
console.log(`argon2 in chromium, threaded, cold worker (timer includes starting it) runs ms: ${cold.map((t) => t.toFixed(0)).join(" ")}`);
console.log(`argon2 in chromium, fallback, warm worker (page ${fallback.page}: hash-wasm, one thread) runs ms: ${fallback.times.map((t) => t.toFixed(0)).join(" ")}`);
await threaded.tab.close();
await fallback.tab.close();
// (b) a large vault: unlock and show the list
let vaultMedian = null;
if (seedEmail) {
  const items = Number(seedItemsText);
  const page = await openTab();
  await page.send("Page.enable");
  const typeInto = (selector, value) => `(() => {
    const input = document.querySelector(${JSON.stringify(selector)});
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set.call(input, ${JSON.stringify(value)});
    input.dispatchEvent(new Event("input", { bubbles: true }));
    return true;
  })()`;
  const waitFor = async (expression, what) => {
    for (let wait = 0; wait < 1200; wait++) {
      if (await page.evaluate(expression).catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error("timed out waiting for " + what);
  };
  await page.send("Page.navigate", { url: origin + "/signin" });
  await waitFor(`!!document.querySelector("input[name=email]")`, "the sign-in form");
  await page.evaluate(typeInto("input[name=email]", seedEmail));
  await page.evaluate(typeInto("input[name=password]", seedPassword));
  await page.evaluate(`document.querySelector("input[name=password]").form.requestSubmit(), true`);
  await waitFor(`location.pathname.startsWith("/app")`, "the signed-in app");
  const vaultTimes = [];
  for (let i = 0; i <= runs; i++) {
    await page.send("Page.navigate", { url: `${origin}/app/vault/${seedVault}` });
    await waitFor(`!!document.querySelector("input[type=password]")`, "the vault's unlock form");
    await page.evaluate(typeInto("input[type=password]", seedPassword));
    const ms = await page.evaluate(`(async () => {
      const t0 = performance.now();
      document.querySelector("input[type=password]").form.requestSubmit();
      await new Promise((resolve) => {
        // Listed: the count of every item is shown and the first page of item cards is drawn (the list grows by
        // "Show more"; search covers every item from the start).
        const done = () => [...document.querySelectorAll(".vault-browser [role=status]")].some((e) => e.textContent.startsWith("${items} item"))
          && document.querySelectorAll(".vault-item").length >= Math.min(${items}, 100);
        if (done()) return resolve();
        new MutationObserver((_, observer) => { if (done()) { observer.disconnect(); resolve(); } })
          .observe(document.body, { subtree: true, childList: true });
      });
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
      return performance.now() - t0;
    })()`);
    if (i > 0) vaultTimes.push(ms);
    console.log(`vault of ${items} items run ${i}${i === 0 ? " (warm-up)" : ""}: unlocked and listed in ${ms.toFixed(0)} ms`);
  }
  vaultMedian = median(vaultTimes);
  await page.close();
}
console.log(`RESULT first_page_median_ms=${median(firstPage).toFixed(0)} argon2_chromium_median_ms=${median(argon).toFixed(1)} argon2_cold_median_ms=${median(cold).toFixed(1)} argon2_fallback_median_ms=${median(fallback.times).toFixed(1)}${vaultMedian === null ? "" : ` vault_median_ms=${vaultMedian.toFixed(0)}`}`);
cleanup();
process.exit(0);
