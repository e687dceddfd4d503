// Coverage per package from tap's json-summary report (.tap/report/coverage-summary.json), checked
// against the floors in coverage-thresholds.json. The floors sit a little below what the suite
// measured when they were set: coverage may rise; a change that lowers it fails CI. Raise a floor
// when a package's coverage has risen for good.
//
//   node scripts/coverage-check.mjs     (after a whole-suite run; ./gas test runs it for you)
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const METRICS = ['lines', 'branches', 'functions', 'statements'];

function packageOf(root, file) {
  const parts = relative(root, file).split(sep);
  return (parts[0] === 'packages' || parts[0] === 'services') && parts[1] ? `${parts[0]}/${parts[1]}` : undefined;
}

/** Source files of the packages and services (not tests, not generated code, not declarations). */
function sourceFiles(root) {
  const out = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'gen' && e.name !== 'node_modules') walk(p);
      } else if (/\.(ts|mjs|js)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
    }
  };
  for (const kind of ['packages', 'services']) {
    for (const name of readdirSync(join(root, kind))) {
      try {
        walk(join(root, kind, name, 'src'));
      } catch {
        // a package without src/
      }
    }
  }
  return out;
}

/** Whether a module has code that runs (not only types and type imports). */
function hasRuntimeCode(file) {
  const text = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  return text
    .split('\n')
    .some(
      (line) =>
        /^\s*(export\s+)?(default\s+)?(const|let|var|function|async|class|enum)\b/.test(line) ||
        (/^\s*export\s+\{/.test(line) && !/^\s*export\s+type\b/.test(line)),
    );
}

/** Prints the per-package table and returns whether every package meets its floor. */
export async function checkCoverage(root) {
  let summary;
  try {
    summary = JSON.parse(readFileSync(join(root, '.tap', 'report', 'coverage-summary.json'), 'utf8'));
  } catch (err) {
    console.log(`coverage: no report to check (${err.message})`);
    return false;
  }
  const { $comment: _, ...thresholds } = JSON.parse(readFileSync(join(root, 'coverage-thresholds.json'), 'utf8'));
  const byPackage = new Map();
  for (const [file, figures] of Object.entries(summary)) {
    if (file === 'total') continue;
    const pkg = packageOf(root, file);
    if (!pkg) continue;
    const sums = byPackage.get(pkg) ?? Object.fromEntries(METRICS.map((m) => [m, { covered: 0, total: 0 }]));
    for (const m of METRICS) {
      sums[m].covered += figures[m].covered;
      sums[m].total += figures[m].total;
    }
    byPackage.set(pkg, sums);
  }

  const pct = (s) => (s.total === 0 ? 100 : (100 * s.covered) / s.total);
  const problems = [];
  const rows = [['package', ...METRICS.map((m) => `% ${m}`), 'floor (lines/branches/functions)']];
  for (const pkg of [...byPackage.keys()].sort()) {
    const sums = byPackage.get(pkg);
    const floor = thresholds[pkg];
    rows.push([
      pkg,
      ...METRICS.map((m) => pct(sums[m]).toFixed(1)),
      floor ? `${floor.lines} / ${floor.branches} / ${floor.functions}` : 'none',
    ]);
    if (!floor) {
      problems.push(`${pkg} has no floor in coverage-thresholds.json: add one a little below what it measures now`);
      continue;
    }
    for (const m of ['lines', 'branches', 'functions']) {
      if (pct(sums[m]) < floor[m]) problems.push(`${pkg}: ${m} ${pct(sums[m]).toFixed(1)}% is below its floor of ${floor[m]}%`);
    }
  }
  // V8 reports only files some process loaded: a module no test loads would vanish from the
  // figures instead of counting as uncovered.
  for (const file of sourceFiles(root)) {
    if (!(file in summary) && hasRuntimeCode(file)) problems.push(`${relative(root, file)} is never loaded by any test`);
  }
  for (const pkg of Object.keys(thresholds)) {
    if (!byPackage.has(pkg)) problems.push(`${pkg} has a floor but no coverage was measured (did its tests run?)`);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  console.log('\ncoverage of the source files per package (tap, V8):');
  for (const r of rows) console.log('  ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
  console.log(`  full report: ${join(root, '.tap', 'report', 'index.html')}`);
  for (const p of problems) console.log(`coverage: ${p}`);
  return problems.length === 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const ok = await checkCoverage(new URL('..', import.meta.url).pathname);
  process.exit(ok ? 0 : 1);
}
