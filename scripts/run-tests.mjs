#!/usr/bin/env node
// Runs every test file (or the ones given) with node:test under tsx, prints the spec report and
// ends with the one line CI reads: "N passed, N failed, N skipped", computed from the TAP stream.
import { spawn } from 'node:child_process';
import { readdirSync, statSync, mkdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const roots = ['packages', 'services', 'tests'];

function findTests(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) findTests(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
const files = args.length > 0 ? args : roots.flatMap((r) => findTests(join(root, r), [])).sort();
mkdirSync(join(root, 'test-results'), { recursive: true });
const tapFile = join(root, 'test-results', `results-${process.pid}.tap`);

const child = spawn(
  process.execPath,
  [
    '--import', 'tsx',
    '--test',
    '--test-concurrency=1',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
    ...files.map((f) => relative(process.cwd(), f)),
  ],
  { stdio: 'inherit', env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...process.env, GAS_REPO_ROOT: root } },
);
child.on('exit', (code, signal) => {
  let passed = 0, failed = 0, skipped = 0;
  try {
    const tap = readFileSync(tapFile, 'utf8');
    const num = (k) => Number((tap.match(new RegExp(`^# ${k} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
    passed = num('pass');
    failed = num('fail') + num('cancelled');
    skipped = num('skipped') + num('todo');
  } catch {
    failed = 1;
  }
  if (code !== 0 && failed === 0) failed = 1; // the runner itself failed (crash, signal)
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(code ?? (signal ? 1 : 0));
});
