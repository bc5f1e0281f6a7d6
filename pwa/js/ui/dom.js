/**
 * The two DOM helpers every screen uses: `$` (one element of the page) and `el` (build
 * an element with attributes, properties and children).
 */

/** The first element of the page matching `sel`, or null. */
export const $ = (sel) => document.querySelector(sel);

// Keys set as attributes; every other key is set as a property (onclick, value, alt...).
const ATTRIBUTES = new Set(['type', 'href', 'role', 'src']);

/**
 * A new element: `class` and `text` set className and textContent; data-*, aria-*,
 * type, href, role and src are attributes. Null, undefined and false children are
 * left out (so `cond ? node : null` reads well).
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('data-') || k.startsWith('aria-') || ATTRIBUTES.has(k)) node.setAttribute(k, v);
    else node[k] = v;
  }
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}
