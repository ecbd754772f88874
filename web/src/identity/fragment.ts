/**
 * Takes a mailed link's token from the fragment and removes it from the address bar and history, so it is not
 * left in the browser's history or shown to someone looking over a shoulder. Read once per page load.
 */
export function takeFragmentToken(): string | null {
  const token = location.hash.slice(1);
  if (location.hash) history.replaceState(null, "", location.pathname);
  return /^[A-Za-z0-9_-]{43}$/.test(token) ? token : null;
}
