// The docs say what the code does: the engine's name, the INFO fields it declares and every service's
// environment variables (names and defaults) are read from the code and compared with the pages
// that describe them, so a change to one without the other fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ENGINE_NAME, INFO_HEADERS } from '../../packages/anntools/src/vcf-header.ts';
import type { ConfigSpec } from '../../packages/runtime/src/config.ts';
import { annotatorConfigSpec } from '../../services/annotator/src/config.ts';
import { archiveConfigSpec } from '../../services/archive/src/config.ts';
import { gatewayConfigSpec } from '../../services/gateway/src/config.ts';
import { jobConfigSpec } from '../../services/job/src/config.ts';
import { notificationConfigSpec } from '../../services/notification/src/config.ts';

const root = new URL('../..', import.meta.url).pathname;
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

/** Every markdown page a reader meets: the README, docs/ and each package's and service's README. */
function markdownPages(): string[] {
  const pages = [
    'README.md',
    ...readdirSync(join(root, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  for (const dir of ['packages', 'services']) {
    for (const name of readdirSync(join(root, dir))) {
      if (readdirSync(join(root, dir, name)).includes('README.md')) pages.push(`${dir}/${name}/README.md`);
    }
  }
  return pages;
}

/** The lines of a markdown section, from its heading to the next heading of the same or a higher level. */
function section(text: string, heading: RegExp): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => heading.test(l));
  if (start < 0) return '';
  const level = /^#+/.exec(lines[start]!)![0].length;
  const end = lines.findIndex((l, i) => i > start && /^#+ /.test(l) && /^#+/.exec(l)![0].length <= level);
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

/**
 * `| \`NAME\` | default | ...` rows of a table (a row may name several variables that share a
 * default: `| \`A\`, \`B\` | unset | ...`): each variable with its row's default cell.
 */
function tableRows(text: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const m of text.matchAll(/^\|((?:\s*`[A-Z][A-Z0-9_]*`\s*,?)+)\|\s*([^|]*?)\s*\|/gm)) {
    for (const name of m[1]!.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) rows.set(name[1]!, m[2]!);
  }
  return rows;
}

t.test('every page that names the engine names the one the code reports', async (t) => {
  const mentions: string[] = [];
  for (const page of markdownPages()) {
    for (const m of read(page).matchAll(/gas-anntools-\d+(?:\.\d+)*/g)) mentions.push(`${page}: ${m[0]}`);
  }
  t.ok(
    mentions.some((m) => m.startsWith('services/annotator/README.md')),
    'the annotator README names the engine',
  );
  t.strictSame(
    mentions.filter((m) => !m.endsWith(`: ${ENGINE_NAME}`)),
    [],
    `every mention is ${ENGINE_NAME}`,
  );
});

t.test('the INFO fields the engine declares are the ones the docs describe', async (t) => {
  const declared = INFO_HEADERS.map((h) => /^##INFO=<ID=([^,]+),/.exec(h)![1]!).sort();
  t.ok(declared.length > 0, 'the engine declares INFO fields');

  const readme = read('services/annotator/README.md');
  const table = section(readme, /^###? The engine/);
  const documented = [
    ...new Set([...table.matchAll(/^\|([^|]*)\|/gm)].flatMap((m) => [...m[1]!.matchAll(/`(GAS_[A-Z_]+)`/g)].map((x) => x[1]!))),
  ].sort();
  t.strictSame(documented, declared, 'the annotator README tables exactly the declared INFO fields');

  const annotationDoc = read('docs/annotation.md');
  t.strictSame(
    declared.filter((id) => !annotationDoc.includes(id)),
    [],
    'docs/annotation.md mentions every declared INFO field',
  );
  const numberWords = ['no', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve'];
  for (const page of ['services/annotator/README.md', 'docs/annotation.md']) {
    for (const m of read(page).matchAll(/\b(\w+) INFO (?:declarations|fields)\b/g)) {
      const n = numberWords.indexOf(m[1]!.toLowerCase());
      if (n >= 0) t.equal(n, declared.length, `${page} counts "${m[0]}"`);
    }
  }
});

const services: Record<string, ConfigSpec> = {
  gateway: gatewayConfigSpec,
  job: jobConfigSpec,
  annotator: annotatorConfigSpec,
  notification: notificationConfigSpec,
  archive: archiveConfigSpec,
};

for (const [service, spec] of Object.entries(services)) {
  t.test(`services/${service}/README.md lists exactly the variables its config reads, with their defaults`, async (t) => {
    const readme = read(`services/${service}/README.md`);
    const documented = tableRows(section(readme, /^## Environment variables/));
    const read_ = Object.values(spec).map((f) => f.env);
    t.strictSame([...documented.keys()].sort(), [...new Set(read_)].sort(), 'variable names');
    for (const f of Object.values(spec)) {
      const cell = documented.get(f.env);
      const literal = cell === undefined ? undefined : /^`([^`]*)`$/.exec(cell)?.[1];
      const parsed = f.parse(undefined);
      // Defaults computed at startup (a host name, a path under the state folder) are described in
      // words; a default given as a literal must be the code's.
      if (literal === undefined || literal.includes('<') || !parsed.ok || parsed.value === undefined || f.secret) continue;
      const value: unknown = parsed.value;
      // Defaults are strings, numbers, booleans or (for list fields) arrays of strings, written comma-separated.
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
        t.equal(literal, String(value), `${f.env}'s default`);
      } else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
        t.equal(literal, value.join(','), `${f.env}'s default`);
      } else {
        t.fail(`${f.env}'s default is neither a string, number, boolean nor list of strings`, { value });
      }
    }
  });
}
