#!/usr/bin/env node
// The test command behind `./gas test` and `.ci/run`: runs tap (configured in .taprc) on every test
// file or on the files given, prints one line per file and every failure with its difference, then,
// after a whole-suite run, the coverage per package checked against coverage-thresholds.json, and
// ends with the one line CI reads: "N passed, N failed, N skipped".
//
//   node scripts/run-tests.mjs [FILE...] [tap options, e.g. --grep=name]
//
// A test is a t.test() with no subtests of its own; assertions are not counted. A file that fails
// outside any test (a crash, a timeout, an assertion at its top level) counts as one failed test.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Parser } from 'tap-parser';
import { checkCoverage } from './coverage-check.mjs';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const files = args.filter((a) => !a.startsWith('-')).map((f) => relative(root, f));
const tapOptions = args.filter((a) => a.startsWith('-'));
const wholeSuite = files.length === 0 && !tapOptions.some((o) => /^--?(g|grep|only|O)\b/.test(o));

const counts = { passed: 0, failed: 0, skipped: 0 };
const paint = process.stdout.isTTY ? (code, s) => `\x1b[${code}m${s}\x1b[0m` : (_code, s) => s;
const red = (s) => paint(31, s);
const green = (s) => paint(32, s);
const dim = (s) => paint(2, s);

function yamlish(value, indent) {
  const pad = ' '.repeat(indent);
  if (value === null || typeof value !== 'object') return `${pad}${String(value)}`;
  return Object.entries(value)
    .map(([k, v]) => {
      if (typeof v === 'string' && v.includes('\n')) return `${pad}${k}: |\n${v.replace(/\n$/, '').replace(/^/gm, `${pad}  `)}`;
      if (v !== null && typeof v === 'object') return `${pad}${k}:\n${yamlish(v, indent + 2)}`;
      return `${pad}${k}: ${JSON.stringify(v)}`;
    })
    .join('\n');
}

/** What a failed assertion says: the difference, where it was made, and the rest of its details. */
function describeFailure(path, result) {
  const lines = [red(`✖ ${path.join(' › ')}`)];
  const diag = { ...(result.diag ?? {}) };
  if (diag.diff) {
    lines.push(diag.diff.replace(/\n$/, '').replace(/^/gm, '    '));
    delete diag.diff;
  }
  const at = diag.at ? `${diag.at.fileName}:${diag.at.lineNumber}:${diag.at.columnNumber}` : undefined;
  if (at) lines.push(`    at ${at}`);
  if (diag.source) lines.push(diag.source.replace(/\n$/, '').replace(/^/gm, '    | '));
  for (const k of ['at', 'source', 'stack']) delete diag[k];
  if (Object.keys(diag).length > 0) lines.push(yamlish(diag, 4));
  if (result.diag?.stack && !at) lines.push(String(result.diag.stack).replace(/^/gm, '    '));
  return lines.join('\n');
}

/**
 * Follows one subtest's parser: counts it as a test when it has no subtests of its own, and reports
 * failed assertions. Resolves to the number of failures found inside it.
 */
function follow(parser, path, tally, onFailure) {
  let hasChildren = false;
  let failuresInside = 0;
  const childDone = [];
  parser.on('child', (child) => {
    hasChildren = true;
    childDone.push(follow(child, [...path, child.name], tally, onFailure).then((n) => (failuresInside += n)));
  });
  parser.on('assert', (result) => {
    if (result.skip || result.todo) {
      // A skipped or todo subtest never runs, so it has no parser of its own to count it.
      if (!result.closingTestPoint || result.skip) tally.skipped += 1;
      return;
    }
    if (!result.ok && !result.closingTestPoint) {
      failuresInside += 1;
      onFailure(describeFailure([...path, result.name], result));
    }
  });
  return new Promise((resolve) => {
    parser.on('complete', async (final) => {
      await Promise.all(childDone);
      const isTest = path.length > 1 && !hasChildren;
      if (isTest) {
        if (final.ok && failuresInside === 0) tally.passed += 1;
        else tally.failed += 1;
      }
      resolve(failuresInside);
    });
  });
}

const tapBin = new URL('../node_modules/tap/dist/esm/run.mjs', import.meta.url).pathname;

// tap is installed built with its default plugins, and .taprc swaps its TypeScript plugin (ts-node)
// for tsx. A run that finds the build out of date rebuilds it only for the runs after it, so the
// first run would load the tests through ts-node: slower, and with coverage that does not merge
// with the services' (tsx transforms the same file into other lines). Build first when the install
// or the plugin list changed since the last build.
function ensureTapBuilt() {
  const stamp = join(root, '.tap', 'built-for');
  const modules = join(root, 'node_modules', '.modules.yaml');
  const installed = existsSync(modules) ? statSync(modules).mtimeMs : 0;
  const plugins = /^plugin:\n((?:\s+-.*\n)+)/m.exec(readFileSync(join(root, '.taprc'), 'utf8'))?.[1] ?? '';
  const want = JSON.stringify({ installed, plugins });
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  console.log(dim('building tap with the plugins in .taprc (once per install)'));
  const built = spawnSync(process.execPath, [tapBin, 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (built.status !== 0) throw new Error(`tap build failed (exit ${built.status})`);
  mkdirSync(join(root, '.tap'), { recursive: true });
  writeFileSync(stamp, want);
}
ensureTapBuilt();

const started = Date.now();
const child = spawn(process.execPath, [tapBin, '-R', 'tap', ...(wholeSuite ? [] : ['--disable-coverage']), ...tapOptions, ...files], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...process.env, GAS_REPO_ROOT: root },
});

const rootParser = new Parser();
const fileDone = new Map();
rootParser.on('child', (fileParser) => {
  const file = fileParser.name;
  const tally = { passed: 0, failed: 0, skipped: 0 };
  const failures = [];
  const followed = follow(fileParser, [file], tally, (text) => failures.push(text));
  fileDone.set(file, { tally, failures, followed });
});
// The line that closes a file's subtest carries its result and time: the file is done.
const printed = [];
rootParser.on('assert', (result) => {
  const done = fileDone.get(result.name);
  if (!done) return;
  printed.push(
    done.followed.then((failuresInside) => {
      const { tally, failures } = done;
      if (!result.ok && failuresInside === 0 && tally.failed === 0) {
        tally.failed += 1;
        const why = result.diag?.signal
          ? `signal ${result.diag.signal}`
          : result.diag?.exitCode
            ? `exit code ${result.diag.exitCode}`
            : 'see its output above';
        failures.push(red(`✖ ${result.name}: failed outside any test (${why})`));
      }
      for (const k of Object.keys(counts)) counts[k] += tally[k];
      const mark = tally.failed > 0 ? red('✖') : green('✔');
      const secs = result.time === null ? '' : `, ${(result.time / 1000).toFixed(1)} s`;
      console.log(
        `${mark} ${result.name} ${dim(`${tally.passed + tally.failed} tests${tally.skipped ? `, ${tally.skipped} skipped` : ''}${secs}`)}`,
      );
      for (const f of failures) console.log(f);
    }),
  );
});
// Lines that are not TAP (the coverage report's file names) are shown as they are.
if (wholeSuite) rootParser.on('extra', (line) => process.stdout.write(line));
child.stdout.pipe(rootParser);

const [code, signal] = await new Promise((resolve) => child.on('close', (c, s) => resolve([c, s])));
await new Promise((resolve) => (rootParser.results ? resolve() : rootParser.once('complete', resolve)));
await Promise.all(printed);
console.log(dim(`tap finished in ${((Date.now() - started) / 1000).toFixed(0)} s`));

let coverageOk = true;
if (wholeSuite && code === 0) coverageOk = await checkCoverage(root);
else if (wholeSuite) console.log('coverage not checked: the run failed');

// The runner failed without a failed test to show for it (a crash of tap itself, a signal).
if ((code !== 0 || signal) && counts.failed === 0) counts.failed = 1;
if (!coverageOk) counts.failed += 1;
console.log(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
process.exit(counts.failed > 0 ? 1 : 0);
