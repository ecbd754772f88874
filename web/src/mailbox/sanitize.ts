// Hostile HTML is the normal case for mail (issue 21 point 3). A message's HTML part is shown only:
//   1. after DOMPurify (3.4) with the HTML profile: no script, no event handler, no javascript: URL, no SVG or MathML,
//      no form, no frame, no <base>, no <meta>, no <link>, no <style> and no style attribute (the page's CSP allows
//      no inline style, and CSS is how url() exfiltration and layout tricks arrive);
//   2. with every remote resource removed unless the reader asked for remote images for this message: img src/srcset
//      and background attributes that are not data: — and tracking pixels (images of at most 2×2 pixels, or hidden)
//      are removed whether or not remote images are allowed;
//   3. inside a sandboxed iframe (no allow-scripts, no allow-same-origin, no allow-forms) whose srcdoc carries its own
//      CSP: default-src 'none'; img-src data: blob: (plus https: once remote images are allowed); style-src 'unsafe-inline'.
//      The iframe also inherits the page's CSP (it is a srcdoc document), so both policies must allow a load.
// Links open outside the sandbox in a new tab with no referrer, only when clicked.
import DOMPurify from "dompurify";

export interface SanitizedMail {
  /** The whole srcdoc for the sandboxed iframe. */
  srcdoc: string;
  /** Remote images (and backgrounds) left out; the "Load remote images" button is offered when > 0. */
  blockedRemote: number;
  /** Tracking pixels removed (never loaded, even with remote images allowed). */
  trackers: number;
}

const Forbidden = ["style", "link", "meta", "base", "form", "input", "button", "select", "textarea", "iframe", "frame", "frameset", "object", "embed", "applet", "audio", "video", "source", "track", "picture", "portal", "template", "noscript", "svg", "math"];
const RemoteAttributes = ["src", "srcset", "background", "poster", "lowsrc", "dynsrc"];

function isRemote(url: string): boolean {
  return !/^\s*(data:image\/|cid:|#)/i.test(url);
}

function isTrackingPixel(element: Element): boolean {
  const small = (name: string) => {
    const value = element.getAttribute(name);
    return value !== null && /^\s*[0-2](px)?\s*$/i.test(value);
  };
  return (small("width") && small("height")) || small("width") && !element.hasAttribute("height") || small("height") && !element.hasAttribute("width")
    || element.hasAttribute("hidden");
}

export function contentSecurityPolicy(allowRemote: boolean): string {
  return `default-src 'none'; img-src data: blob:${allowRemote ? " https:" : ""}; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'`;
}

export function sanitizeMail(html: string, allowRemote: boolean): SanitizedMail {
  let blockedRemote = 0;
  let trackers = 0;
  const purify = DOMPurify();
  purify.addHook("afterSanitizeAttributes", (node) => {
    const element = node as Element;
    if (element.tagName === "IMG") {
      const src = element.getAttribute("src") ?? "";
      if (isTrackingPixel(element) && isRemote(src)) {
        trackers++;
        element.remove();
        return;
      }
    }
    for (const name of RemoteAttributes) {
      const value = element.getAttribute(name);
      if (value === null || !isRemote(value)) continue;
      // Only https: is ever loaded (after the click); plain http: images stay out, as would any other scheme.
      if (!allowRemote || name !== "src" || !/^\s*https:/i.test(value)) {
        element.removeAttribute(name);
        blockedRemote++;
        if (element.tagName === "IMG") element.setAttribute("alt", element.getAttribute("alt") || "[remote image]");
      }
    }
    if (element.tagName === "A") {
      const href = element.getAttribute("href") ?? "";
      if (/^\s*(https?:|mailto:)/i.test(href)) {
        element.setAttribute("target", "_blank");
        element.setAttribute("rel", "noopener noreferrer");
      } else {
        element.removeAttribute("href");
      }
    }
  });
  const body = purify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: Forbidden,
    FORBID_ATTR: ["style", "class", "id", "ping", "action", "formaction", "srcdoc", "http-equiv"],
    ALLOW_DATA_ATTR: false,
    WHOLE_DOCUMENT: false,
  });
  purify.removeAllHooks();
  const srcdoc = "<!doctype html><html><head>"
    + `<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(allowRemote)}">`
    + '<meta name="referrer" content="no-referrer"><meta charset="utf-8">'
    + `</head><body>${body}</body></html>`;
  return { srcdoc, blockedRemote, trackers };
}
