// The k6 scripts under loadtest/ run through the harness (loadtest/harness/run.mjs) against a real
// local stack, one VU and one iteration per scenario with the smoke profile, as CI runs them: their
// checks must pass and their thresholds hold. Runs with a wrong token and a bad request show that a
// failing check, a crossed threshold and a threshold that nothing fed are reported and fail the run.
import t from 'tap';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, makeTempDir, repoRoot, sharedDataPath, startGasStack, WebClient } from '@gas/testing';

interface Check {
  group: string;
  name: string;
  passes: number;
  fails: number;
}
interface Report {
  ok: boolean;
  scenarios: string[];
  checks: Check[];
  thresholds: { key: string; threshold: string; ok: boolean; noSamples: boolean; value: number | null }[];
  errors: { phase: string; message: string }[];
  metrics: Record<string, { type: string; values: Record<string, number> }>;
}

const root = repoRoot();
const RUN = join(root, 'loadtest', 'harness', 'run.mjs');
const VCF = sharedDataPath('vcf/gas_anntools/free_1.vcf');

// Sign-ups, sign-ins and the scripts' polling come from one address and few tokens: the default
// budgets (10 sign-in posts and 600 requests a minute) are for people, not for a test run.
const stack = await startGasStack({
  store: 'filesystem',
  env: { gateway: { GATEWAY_RATE_LIMIT_PER_MINUTE: '6000', GATEWAY_SIGNIN_ATTEMPTS_PER_MINUTE: '100' } },
});
const temp = await makeTempDir('gas-loadtest-');
t.teardown(async () => {
  await stack.stop();
  await temp.cleanup();
});

let runs = 0;
/** Runs the harness as `pnpm loadtest:smoke` does; resolves with its exit code, output and JSON summary. */
async function harness(script: string, env: Record<string, string>): Promise<{ code: number; output: string; report: Report }> {
  const summary = join(temp.path, `summary-${++runs}.json`);
  const args = [RUN, '--smoke', '--summary-export', summary];
  for (const [k, v] of Object.entries({ GAS_URL: stack.url, GAS_VCF: VCF, ...env })) args.push('-e', `${k}=${v}`);
  args.push(join(root, script));
  const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
    execFile(process.execPath, args, { cwd: root, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, output: stdout + stderr });
    });
  });
  const [report] = JSON.parse(await readFile(summary, 'utf8')) as Report[];
  return { code, output, report: report! };
}

const tokens = stack.users.map((u) => u.token).join(',');
const failedChecks = (r: Report) => r.checks.filter((c) => c.fails > 0).map((c) => `${c.group}::${c.name}`);
const check = (r: Report, name: string) => r.checks.find((c) => c.name === name);

t.test('job-burst.js: one job submitted, polled to COMPLETED and timed; every check and threshold passes', async (t) => {
  const { code, output, report } = await harness('loadtest/job-burst.js', { GAS_TOKENS: tokens });
  t.equal(code, 0, output);
  t.strictSame(report.errors, []);
  t.strictSame(failedChecks(report), []);
  t.strictSame(report.scenarios, ['jobs']);
  t.equal(check(report, 'job COMPLETED')?.passes, 1);
  t.equal(report.metrics['job_submit_to_completed']?.values['count'], 1);
  t.equal(report.metrics['jobs_completed']?.values['rate'], 1);
  t.ok(report.thresholds.length >= 8, 'the SLOs are thresholds');
  t.strictSame(
    report.thresholds.filter((th) => !th.ok || th.noSamples),
    [],
    'every threshold held, and each had samples',
  );
});

t.test('web-users.js: signs up, seeds a job, signs in through the form, browses, opens a job and downloads its files', async (t) => {
  const { code, output, report } = await harness('loadtest/web-users.js', {});
  t.equal(code, 0, output);
  t.strictSame(report.errors, []);
  t.strictSame(failedChecks(report), []);
  for (const name of [
    'signed up',
    'signed in (303 to /jobs)',
    'the Done filter lists completed jobs',
    'log downloaded (200)',
    'annotated VCF is BGZF',
  ]) {
    t.ok((check(report, name)?.passes ?? 0) >= 1, `check "${name}" ran and passed`);
  }
  t.ok(
    report.checks.some((c) => c.group === '::download'),
    'checks are grouped as k6 groups them',
  );
  t.strictSame(
    report.thresholds.filter((th) => !th.ok || th.noSamples),
    [],
  );
});

t.test('soak.js: the web users and the job trickle run side by side, with an account given in GAS_WEB_USERS', async (t) => {
  // An account made beforehand, with no jobs yet: setup() gives it one to open.
  const account = { email: 'soaker@example.org', password: 'a long soak password', name: 'Soaker' };
  await new WebClient(stack.url).signUp(account);
  const { code, output, report } = await harness('loadtest/soak.js', {
    GAS_TOKENS: tokens,
    GAS_WEB_USERS: `${account.email}:${account.password}`,
  });
  t.equal(code, 0, output);
  t.strictSame(report.errors, []);
  t.strictSame(failedChecks(report), []);
  t.strictSame(report.scenarios, ['web', 'jobs']);
  t.equal(report.metrics['iterations']?.values['count'], 2, 'one iteration per scenario');
  t.notOk(check(report, 'signed up'), 'no account was signed up');
  t.equal(check(report, 'job COMPLETED')?.passes, 2, "the account's seeded job and the trickle's");
  t.strictSame(
    report.thresholds.filter((th) => !th.ok || th.noSamples),
    [],
  );
});

t.test('a wrong token fails the check in setup() and the run, and says why', async (t) => {
  const { code, output, report } = await harness('loadtest/job-burst.js', { GAS_TOKEN: 'not-a-token-this-gateway-knows' });
  t.equal(code, 1, output);
  t.equal(report.ok, false);
  t.strictSame(check(report, 'API token accepted'), { group: '', name: 'API token accepted', passes: 0, fails: 1 });
  t.match(output, /✗ API token accepted {2}\(0 passed, 1 failed\)/);
  t.equal(report.errors[0]?.phase, 'setup');
  t.match(report.errors[0]?.message, /1 of 1 API tokens were refused/);
  t.equal(report.thresholds.find((th) => th.key === 'http_req_failed')?.ok, false, 'the 401 counts as a failed request');
});

t.test('a job the gateway refuses fails the iteration’s check and the jobs_completed SLO', async (t) => {
  const { code, output, report } = await harness('loadtest/job-burst.js', { GAS_TOKENS: tokens, GAS_GENOME_BUILD: 'GRCh99' });
  t.equal(code, 1, output);
  t.strictSame(report.errors, [], 'nothing threw: the script saw the 400 and recorded it');
  t.strictSame(check(report, 'job submitted (201)'), { group: '', name: 'job submitted (201)', passes: 0, fails: 1 });
  const completed = report.thresholds.find((th) => th.key === 'jobs_completed');
  t.match(completed, { ok: false, value: 0, noSamples: false });
  t.ok(
    report.thresholds.some((th) => th.key === 'job_submit_to_completed' && th.noSamples && !th.ok),
    'in a smoke run, a threshold that no sample fed fails',
  );
});

t.test('the harness behaves as k6 where a script could tell the difference', async (t) => {
  const closed = `http://127.0.0.1:${await freePort()}/`;
  // Answers with what it was sent, for the checks on how the harness encodes a request.
  const echo = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ contentType: req.headers['content-type'] ?? '', body: Buffer.concat(chunks).toString('latin1') }));
    });
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => echo.close(() => resolve())));
  const echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}/`;
  const env = { GAS_TOKEN: stack.users[0]!.token, CLOSED_URL: closed, ECHO_URL: echoUrl };
  const { code, output, report } = await harness('tests/loadtest/fixtures/k6-semantics.js', env);
  t.equal(code, 0, output);
  t.strictSame(report.errors, []);
  t.strictSame(failedChecks(report), []);
  t.equal(report.checks.length, 17, 'every check ran');
  t.strictSame(
    report.thresholds.filter((th) => !th.ok),
    [],
  );
  t.equal(report.metrics['fixture_trend']?.values['p(95)'], 19.5, "k6's percentile: linear between ranks");

  const unused = await harness('tests/loadtest/fixtures/k6-semantics.js', { ...env, UNUSED_THRESHOLD: '1' });
  t.equal(unused.code, 1, unused.output);
  t.match(
    unused.report.thresholds.find((th) => th.key === 'http_req_duration{name:never sent}'),
    { ok: false, noSamples: true },
  );
  t.match(unused.output, /✗ http_req_duration\{name:never sent\}: p\(95\)<1000 {2}\(no samples matched\)/);
});
