// The local stack script itself: starts everything, prints the URL and a token, stops cleanly on
// Ctrl-C, and a second start finds the same jobs and results.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { freePort, makeTempDir, repoRoot, sharedDataPath } from '@gas/testing';
import type { TempDir } from '@gas/testing';
import { openAsBlob } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

let state: TempDir;
after(async () => {
  await state?.cleanup();
});

async function startLocalStack(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/local-stack.ts'], {
    cwd: repoRoot(),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += String(d)));
  child.stderr.on('data', (d) => (out += String(d)));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const deadline = Date.now() + 90_000;
  while (!/API token \(user "local"\): \S+/.test(out)) {
    if (child.exitCode !== null) throw new Error(`local stack exited early:\n${out}`);
    if (Date.now() > deadline) throw new Error(`local stack did not come up:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const url = out.match(/GAS is running at (\S+)/)![1]!;
  const token = out.match(/API token \(user "local"\): (\S+)/)![1]!;
  return { child, url, token, exited, output: () => out };
}

test('local stack: up, a job, Ctrl-C, up again with the same job and result', async () => {
  state = await makeTempDir('gas-local-');
  const opsBase = await freePort();
  const env = {
    GAS_STATE_DIR: state.path,
    GAS_PORT: String(await freePort()),
    GAS_NATS_PORT: String(await freePort()),
    GAS_JOB_GRPC_PORT: String(await freePort()),
    // Six consecutive ports from a free one: good enough on a quiet test machine.
    GAS_OPS_PORT_BASE: String(opsBase),
  };
  const first = await startLocalStack(env);
  const auth = { authorization: `Bearer ${first.token}` };
  const form = new FormData();
  form.append('genome_build', 'GRCh37');
  form.append('file', await openAsBlob(sharedDataPath('vcf/gas_anntools/free_1.vcf')), 'free_1.vcf');
  const created = await fetch(`${first.url}/api/v1/jobs`, { method: 'POST', body: form, headers: auth });
  assert.equal(created.status, 201);
  const { id } = (await created.json()) as { id: string };
  let status = '';
  for (let i = 0; i < 300 && status !== 'COMPLETED'; i++) {
    status = ((await (await fetch(`${first.url}/api/v1/jobs/${id}`, { headers: auth })).json()) as { status: string }).status;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(status, 'COMPLETED');

  first.child.kill('SIGINT');
  const [code] = await first.exited;
  assert.equal(code, 0, first.output());
  assert.match(first.output(), /stopped; state kept/);
  // Each service was stopped by SIGTERM and ran its own shutdown, not killed.
  for (const name of ['gateway', 'job', 'annotator', 'notification', 'archive']) {
    const log = await readFile(join(state.path, 'logs', `${name}.log`), 'utf8');
    assert.match(log, /"msg":"shutdown complete"/, `${name} did not shut down cleanly:\n${log.slice(-2000)}`);
  }

  const second = await startLocalStack(env);
  try {
    assert.equal(second.token, first.token, 'the token is kept between starts');
    const job = (await (await fetch(`${second.url}/api/v1/jobs/${id}`, { headers: auth })).json()) as { status: string; counts: { records: number } };
    assert.equal(job.status, 'COMPLETED');
    assert.equal(job.counts.records, 1141);
    const result = await fetch(`${second.url}/api/v1/jobs/${id}/result`, { headers: auth });
    assert.equal(result.status, 200);
    assert.equal((await result.text()).split('\n').filter((l) => l && !l.startsWith('#')).length, 1141);
  } finally {
    second.child.kill('SIGINT');
    const [code2] = await second.exited;
    assert.equal(code2, 0, second.output());
  }
});
