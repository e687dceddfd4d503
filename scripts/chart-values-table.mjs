#!/usr/bin/env node
// The values table of charts/gas/README.md, generated from the `# --` comments in values.yaml, so
// that every value is documented and the README never drifts from the chart.
//
//   node scripts/chart-values-table.mjs           exit 1 (and say so) if the README's table is stale
//   node scripts/chart-values-table.mjs --write   rewrite the table in the README
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const chart = resolve(import.meta.dirname, '../charts/gas');
const START = '<!-- values:start -->';
const END = '<!-- values:end -->';

/** Rows of [dotted key, default, description] for every value with a `# --` comment above it. */
export function valuesTable(text) {
  const lines = text.split('\n');
  const rows = [];
  const path = [];
  let pending = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const comment = /^(\s*)# -- (.*)$/.exec(line);
    if (comment) {
      pending = comment[2];
      continue;
    }
    if (pending !== null && /^\s*#\s{2,}\S/.test(line)) {
      pending += ' ' + line.replace(/^\s*#\s+/, '');
      continue;
    }
    const entry = /^(\s*)([A-Za-z0-9_.-]+):(.*)$/.exec(line);
    if (!entry) continue;
    const depth = entry[1].length / 2;
    path.length = depth;
    path[depth] = entry[2];
    if (pending === null) continue;
    let value = entry[3].trim();
    if (value === '') {
      // A block: its lines, more indented, joined on one line.
      const block = [];
      for (let j = i + 1; j < lines.length && (lines[j].trim() === '' || /^\s*/.exec(lines[j])[0].length > entry[1].length); j++) {
        if (lines[j].trim() && !lines[j].trim().startsWith('#')) block.push(lines[j].trim());
      }
      value = block.join(', ');
    }
    rows.push([path.join('.'), value, pending]);
    pending = null;
  }
  return rows;
}

export function renderTable(rows) {
  const cell = (s) => s.replace(/\|/g, '\\|');
  return [
    '| value | default | meaning |',
    '|---|---|---|',
    ...rows.map(([k, v, d]) => `| \`${k}\` | ${v ? `\`${cell(v)}\`` : '(empty)'} | ${cell(d)} |`),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const table = renderTable(valuesTable(readFileSync(join(chart, 'values.yaml'), 'utf8')));
  const readmePath = join(chart, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${readmePath} has no ${START} ... ${END} markers`);
  const next = `${readme.slice(0, start + START.length)}\n${table}\n${readme.slice(end)}`;
  if (process.argv.includes('--write')) writeFileSync(readmePath, next);
  else if (next !== readme) {
    process.stderr.write('charts/gas/README.md: the values table is stale; run node scripts/chart-values-table.mjs --write\n');
    process.exit(1);
  }
}
