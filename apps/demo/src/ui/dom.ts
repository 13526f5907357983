/** Small DOM helpers the demo pages share: typed lookups and element construction, nothing more. */

/** The element with this id; throws a clear error when the page's HTML lacks it. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`page is missing #${id}`);
  return found as T;
}

type Attrs = Record<string, string | number | boolean | undefined>;

/**
 * Creates an element: `el('label', { for: 'lr' }, 'Learning rate')`. Attributes set to false or
 * undefined are left out, true gives an empty attribute; children are nodes or text.
 */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  node.append(...children);
  return node;
}

/** Formats a number for a control's readout: short, and in exponent form when tiny. */
export function formatNumber(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a < 1e-3 || a >= 1e5) return x.toExponential(0).replace('e-', 'e\u2212');
  if (a >= 100) return x.toFixed(0);
  return Number(x.toPrecision(3)).toString();
}
