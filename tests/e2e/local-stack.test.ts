// The local stack script itself: starts everything, prints the URL and a token, stops cleanly on
// Ctrl-C, and a second start finds the same jobs and results.
import t from 'tap';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { freePort, repoRoot, sharedDataPath } from '@gas/testing';
import { openAsBlob } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';

/** Local stacks started and not yet seen to exit. */
const running = new Map<ChildProcess, Promise<unknown>>();

/** Stops a stack still up (a check failed before its Ctrl-C) the way a user would. */
async function stopRunning(): Promise<void> {
  for (const [child, exited] of running) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    await exited;
  }
}

/** Fresh ports for one start: freePort cannot hold them, so a parallel test may take one first. */
async function freshPorts(state: string): Promise<Record<string, string>> {
  return {
    GAS_STATE_DIR: state,
    GAS_PORT: String(await freePort()),
    GAS_NATS_PORT: String(await freePort()),
    GAS_JOB_GRPC_PORT: String(await freePort()),
    GAS_NOTIFICATION_GRPC_PORT: String(await freePort()),
    // Six consecutive ports from a free one: good enough on a quiet test machine, and retried if not.
    GAS_OPS_PORT_BASE: String(await freePort()),
  };
}

/** Starts the local stack, again on fresh ports (same state) if one was taken meanwhile. */
async function startLocalStack(state: string) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startLocalStackOnce(await freshPorts(state));
    } catch (err) {
      if (attempt >= 3 || !/EADDRINUSE|another program listens on/.test((err as Error).message)) throw err;
    }
  }
}

/** Runs the script as `./gas up` does, with `env` added; its output so far, both streams. */
function spawnLocalStack(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/local-stack.ts'], {
    cwd: repoRoot(),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += String(d)));
  child.stderr.on('data', (d) => (out += String(d)));
  return { child, output: () => out };
}

async function startLocalStackOnce(env: Record<string, string>) {
  const { child, output } = spawnLocalStack(env);
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  running.set(child, exited);
  void exited.then(() => running.delete(child));
  const deadline = Date.now() + 90_000;
  while (!/API token \(user "local"\): \S+/.test(output())) {
    if (child.exitCode !== null) throw new Error(`local stack exited early:\n${output()}`);
    if (Date.now() > deadline) throw new Error(`local stack did not come up:\n${output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const url = output().match(/GAS is running at (\S+)/)![1]!;
  const token = output().match(/API token \(user "local"\): (\S+)/)![1]!;
  return { child, url, token, exited, output };
}

t.test('a port another program holds: said at once, with the variable that moves it, and nothing starts', async (t) => {
  const state = t.testdir();
  const env = await freshPorts(state);
  const holder = createServer();
  await new Promise<void>((done) => holder.listen(Number(env['GAS_NOTIFICATION_GRPC_PORT']), '127.0.0.1', done));
  t.teardown(() => new Promise((done) => holder.close(done)));
  const { child, output } = spawnLocalStack(env);
  const [code] = (await once(child, 'exit')) as [number | null];
  t.equal(code, 1);
  const out = output();
  t.match(
    out,
    `another program listens on this port:\n  ${env['GAS_NOTIFICATION_GRPC_PORT']}: the notification service's gRPC (move it with GAS_NOTIFICATION_GRPC_PORT)`,
  );
  t.notMatch(out, /reference|starting nats-server|at .*\.ts:\d+/, 'before the reference build, and no stack trace');
});

t.test('local stack: up, a job, Ctrl-C, up again with the same job and result', async (t) => {
  // Registered before t.testdir(), so it runs before the state folder is removed.
  t.teardown(stopRunning);
  const state = t.testdir();
  const first = await startLocalStack(state);
  const auth = { authorization: `Bearer ${first.token}` };
  const form = new FormData();
  form.append('genome_build', 'GRCh37');
  form.append('file', await openAsBlob(sharedDataPath('vcf/gas_anntools/free_1.vcf')), 'free_1.vcf');
  const created = await fetch(`${first.url}/api/v1/jobs`, { method: 'POST', body: form, headers: auth });
  t.equal(created.status, 201);
  const { id } = (await created.json()) as { id: string };
  let status = '';
  for (let i = 0; i < 300 && status !== 'COMPLETED'; i++) {
    status = ((await (await fetch(`${first.url}/api/v1/jobs/${id}`, { headers: auth })).json()) as { status: string }).status;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(status, 'COMPLETED');
  // The "local" user is the default admin, and counts as confirmed: its token reads the admin figures.
  t.equal((await fetch(`${first.url}/admin/state.json`, { headers: auth })).status, 200, "the local token reads the admin page's JSON");
  t.match(first.output(), 'the "local" token reads');

  first.child.kill('SIGINT');
  const [code] = await first.exited;
  t.equal(code, 0, 'the first stack exits 0 on Ctrl-C', { output: first.output() });
  t.match(first.output(), /stopped; state kept/);
  // Each service was stopped by SIGTERM and ran its own shutdown, not killed.
  for (const name of ['gateway', 'job', 'annotator', 'notification', 'archive']) {
    const log = await readFile(join(state, 'logs', `${name}.log`), 'utf8');
    t.match(log, /"msg":"shutdown complete"/, `${name} did not shut down cleanly:\n${log.slice(-2000)}`);
  }

  const second = await startLocalStack(state);
  try {
    t.equal(second.token, first.token, 'the token is kept between starts');
    const job = (await (await fetch(`${second.url}/api/v1/jobs/${id}`, { headers: auth })).json()) as {
      status: string;
      counts: { records: number };
    };
    t.equal(job.status, 'COMPLETED');
    t.equal(job.counts.records, 1141);
    const result = await fetch(`${second.url}/api/v1/jobs/${id}/result`, { headers: auth });
    t.equal(result.status, 200);
    const text = gunzipSync(Buffer.from(await result.arrayBuffer())).toString('utf8');
    t.equal(text.split('\n').filter((l) => l && !l.startsWith('#')).length, 1141);

    // kill -9 of the annotator: the stack says so, starts it again, and jobs run.
    const starts = (await readFile(join(state, 'logs', 'annotator.log'), 'utf8')).split('\n').filter((l) => l.includes('"msg":"starting"'));
    const pid = (JSON.parse(starts.at(-1)!) as { pid: number }).pid;
    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 60_000;
    while (!/annotator is back/.test(second.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    t.match(second.output(), /\[gas\] [\d:]+ annotator killed by SIGKILL; restarting in 1\.0 s/);
    t.match(second.output(), /\[gas\] [\d:]+ annotator is back after [\d.]+ s \(restart 1\)/);
    const again = new FormData();
    again.append('genome_build', 'GRCh37');
    again.append('file', await openAsBlob(sharedDataPath('vcf/gas_anntools/free_1.vcf')), 'free_1.vcf');
    const next = (await (await fetch(`${second.url}/api/v1/jobs`, { method: 'POST', body: again, headers: auth })).json()) as {
      id: string;
    };
    let nextStatus = '';
    for (let i = 0; i < 300 && nextStatus !== 'COMPLETED'; i++) {
      nextStatus = ((await (await fetch(`${second.url}/api/v1/jobs/${next.id}`, { headers: auth })).json()) as { status: string }).status;
      await new Promise((r) => setTimeout(r, 100));
    }
    t.equal(nextStatus, 'COMPLETED', 'a job after the restart completes');
  } finally {
    second.child.kill('SIGINT');
    const [code2] = await second.exited;
    t.equal(code2, 0, 'the second stack exits 0 on Ctrl-C', { output: second.output() });
  }
});
