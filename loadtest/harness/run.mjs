#!/usr/bin/env node
// Runs k6 scripts through the harness, one VU and one iteration per scenario, and prints what
// `k6 run` would: the checks, the metrics and the thresholds. Exits 1 when a check failed, a
// threshold was crossed or the script threw (setup, an iteration, teardown).
//
//   node loadtest/harness/run.mjs [-e KEY=VALUE]... [--smoke] [--iterations N] [--summary-export FILE] SCRIPT...
//
// --smoke sets PROFILE=smoke (unless -e gives one) and fails a threshold no request matched. The
// scripts read GAS_URL and GAS_TOKEN(S) (loadtest/README.md); when neither token variable is set,
// the local stack's token in .gas/api-token is used, so `pnpm loadtest:smoke` works beside `./gas up`.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runK6Script } from './runner.mjs';

const args = process.argv.slice(2);
const env = {};
const scripts = [];
let smoke = false;
let iterations = 1;
let summaryExport;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '-e' || a === '--env') {
    const kv = args[++i] ?? '';
    const eq = kv.indexOf('=');
    if (eq < 1) usage(`-e takes KEY=VALUE, got ${JSON.stringify(kv)}`);
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  } else if (a === '--smoke') smoke = true;
  else if (a === '--iterations' || a === '-i') iterations = Number(args[++i]);
  else if (a === '--summary-export') summaryExport = args[++i];
  else if (a.startsWith('-')) usage(`unknown option ${a}`);
  else scripts.push(a);
}
if (scripts.length === 0) usage('name at least one script');
if (!Number.isInteger(iterations) || iterations < 1) usage('--iterations takes a whole number of at least 1');

function usage(problem) {
  process.stderr.write(
    `${problem}\nusage: node loadtest/harness/run.mjs [-e KEY=VALUE]... [--smoke] [--iterations N] [--summary-export FILE] SCRIPT...\n`,
  );
  process.exit(2);
}

// As `k6 run` does, the system environment is in __ENV too, and -e wins.
const scriptEnv = { ...process.env, ...env };
if (smoke) scriptEnv.PROFILE = env.PROFILE ?? 'smoke';
const localToken = fileURLToPath(new URL('../../.gas/api-token', import.meta.url));
if (!scriptEnv.GAS_TOKEN && !scriptEnv.GAS_TOKENS && existsSync(localToken)) {
  scriptEnv.GAS_TOKEN = readFileSync(localToken, 'utf8').trim();
  process.stdout.write(`using the local stack's API token from ${localToken}\n`);
}

const fmt = (v, time) =>
  time ? (v >= 1000 ? `${(v / 1000).toFixed(2)}s` : `${v.toFixed(2)}ms`) : Number.isInteger(v) ? String(v) : v.toFixed(4);
const reports = [];
let failed = false;
for (const script of scripts) {
  const r = await runK6Script({ script, env: scriptEnv, iterations, strict: smoke });
  reports.push(r);
  failed ||= !r.ok;
  const out = [`\n${r.ok ? '✓' : '✗'} ${script}  (scenarios: ${r.scenarios.join(', ') || 'none'}; ${r.durationSeconds.toFixed(1)} s)`];
  // As k6 prints them: the checks outside any group first, then each group's under its name.
  const groups = [...new Set(r.checks.map((c) => c.group))].sort((a, b) => (a === '' ? -1 : b === '' ? 1 : 0));
  for (const group of groups) {
    if (group) out.push(`    █ ${group.split('::').filter(Boolean).join(' › ')}`);
    for (const c of r.checks.filter((x) => x.group === group)) {
      out.push(
        `    ${group ? '  ' : ''}${c.fails === 0 ? '✓' : '✗'} ${c.name}${c.fails ? `  (${c.passes} passed, ${c.fails} failed)` : ''}`,
      );
    }
  }
  for (const [name, m] of Object.entries(r.metrics)) {
    const v = m.values;
    const time = m.contains === 'time';
    const line =
      m.type === 'trend'
        ? `avg=${fmt(v.avg, time)} min=${fmt(v.min, time)} med=${fmt(v.med, time)} max=${fmt(v.max, time)} p(95)=${fmt(v['p(95)'], time)} count=${v.count}`
        : m.type === 'rate'
          ? `${(v.rate * 100).toFixed(2)}% ✓ ${v.passes} ✗ ${v.fails}`
          : m.type === 'counter'
            ? `${fmt(v.count, time)} ${v.rate.toFixed(2)}/s`
            : `value=${fmt(v.value, time)}`;
    out.push(`    ${name.padEnd(30, '.')} ${line}`);
  }
  if (r.thresholds.length > 0) out.push('    thresholds:');
  for (const t of r.thresholds) {
    const seen = t.noSamples ? 'no samples matched' : `${fmt(t.value, r.metrics[t.key.split('{')[0]]?.contains === 'time')}`;
    out.push(`      ${t.ok ? '✓' : '✗'} ${t.key}: ${t.threshold}  (${seen})`);
  }
  for (const e of r.errors) out.push(`    ERROR in ${e.phase}: ${e.message}`);
  process.stdout.write(out.join('\n') + '\n');
}
if (summaryExport) {
  writeFileSync(
    summaryExport,
    JSON.stringify(
      reports.map(({ samples: _samples, ...rest }) => rest),
      null,
      2,
    ),
  );
}
process.exitCode = failed ? 1 : 0;
