import { html } from '../html.ts';
import type { Html } from '../html.ts';

/**
 * A horizontal bar chart as SVG with a table-like reading order. Bar widths are SVG attributes,
 * not inline styles, so the page's Content-Security-Policy can forbid inline styles.
 */
export function barChart(title: string, counts: Record<string, number>, opts: { keepOrder?: boolean; max?: number } = {}): Html {
  let entries = Object.entries(counts).filter(([, n]) => n > 0);
  if (!opts.keepOrder) entries.sort((a, b) => b[1] - a[1]);
  const limit = opts.max ?? 12;
  if (entries.length > limit) {
    const rest = entries.slice(limit - 1).reduce((s, [, n]) => s + n, 0);
    entries = [...entries.slice(0, limit - 1), ['other', rest]];
  }
  const top = Math.max(1, ...entries.map(([, n]) => n));
  const total = entries.reduce((s, [, n]) => s + n, 0);
  return html`<figure class="chart">
<figcaption>${title}</figcaption>
<ol>
${entries.map(
  ([label, n]) =>
    html`<li><span class="label">${label.replace(/;/g, ' + ')}</span><svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true"><rect width="${((100 * n) / top).toFixed(2)}" height="10"></rect></svg><span class="count">${n.toLocaleString('en')} <small>${((100 * n) / total).toFixed(1)}\u00a0%</small></span></li>`,
)}
</ol>
</figure>`;
}
