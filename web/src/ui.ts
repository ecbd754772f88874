// Small DOM helpers. Text only goes in through textContent / value: nothing is parsed as HTML.

export function el<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing`);
  return found as T;
}

export function show(id: string, visible = true): void {
  el(id).hidden = !visible;
}

export function setText(id: string, text: string): void {
  el(id).textContent = text;
}

export function showError(message: string): void {
  const box = el("error");
  box.textContent = message;
  box.hidden = false;
}

export function clearError(): void {
  const box = el("error");
  box.textContent = "";
  box.hidden = true;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} byte${n === 1 ? "" : "s"}`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]} (${n.toLocaleString("en")} bytes)`;
}

export function formatDate(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function setProgress(done: number, total: number, text: string): void {
  const bar = el<HTMLProgressElement>("progress");
  bar.max = Math.max(total, 1);
  bar.value = Math.min(done, bar.max);
  setText("progress-text", text);
}
