// SIGTERM with work in flight: every service exits 0 inside its shutdown timeout and the in-flight
// work is finished (uploads, RPCs) or released for another worker (annotation), never lost.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { startGasStack } from '@gas/testing';
import type { GasStack } from '@gas/testing';
import { createClient, JobService } from '@gas/proto';
import { writeBigVcf } from './big-vcf.ts';

const SHUTDOWN_TIMEOUT_MS = 10_000;
let stack: GasStack;
let bigFile: string;
before(async () => {
  const common = { SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) };
  stack = await startGasStack({
    store: 'filesystem',
    env: {
      // A long ack wait proves the job comes back because it was released, not because it timed out.
      annotator: { ...common, ANNOTATOR_ACK_WAIT_MS: '120000', ANNOTATOR_DRAIN_GRACE_MS: '500', ANNOTATOR_CONCURRENCY: '1' },
      job: common,
      gateway: { ...common, GATEWAY_DRAIN_DELAY_MS: '1500' },
      notification: common,
      archive: common,
    },
  });
  bigFile = join(stack.stateDir, 'big.vcf');
  await writeBigVcf(bigFile, 1_500_000);
});
after(async () => {
  await stack?.stop();
});

async function timedExit(name: 'gateway' | 'job' | 'annotator' | 'notification' | 'archive') {
  const h = stack.services[name]!;
  const t0 = Date.now();
  h.signal('SIGTERM');
  const exit = await h.exited;
  return { ...exit, ms: Date.now() - t0, logs: h.logs() };
}

test('annotator: SIGTERM mid-job releases the job, exits 0 in time, and another annotator completes it at once', async () => {
  const user = stack.users[0]!;
  const res = await stack.submit(user, bigFile, { genomeBuild: 'GRCh37' });
  const { id } = (await res.json()) as { id: string };
  const running = await stack.waitForJob(user, id, (j) => j.status !== 'PENDING');
  assert.equal(running.status, 'RUNNING');
  const exit = await timedExit('annotator');
  assert.equal(exit.code, 0, exit.logs.slice(-3000));
  assert.ok(exit.ms < SHUTDOWN_TIMEOUT_MS, `took ${exit.ms} ms`);
  const t0 = Date.now();
  await stack.startService('annotator');
  const done = await stack.waitForJob(user, id, (j) => j.status === 'COMPLETED' || j.status === 'FAILED', 60_000);
  assert.equal(done.status, 'COMPLETED');
  assert.equal(done.attempt, 2);
  assert.ok(Date.now() - t0 < 60_000);
});

test('gateway: SIGTERM during an upload lets the upload finish into a job, then exits 0', async () => {
  const user = stack.users[0]!;
  const header = '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n';
  const boundary = 'gasboundary';
  // A slow multipart body: the gateway is told to stop while it is still arriving.
  async function* body() {
    yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="genome_build"\r\n\r\nGRCh37\r\n`);
    yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.vcf"\r\nContent-Type: text/plain\r\n\r\n${header}`);
    for (let i = 1; i <= 20; i++) {
      await new Promise((r) => setTimeout(r, 100));
      yield Buffer.from(`1\t${i}\t.\tA\tG\t.\t.\t.\n`);
    }
    yield Buffer.from(`\r\n--${boundary}--\r\n`);
  }
  const upload = fetch(`${stack.url}/api/v1/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${user.token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
    body: Readable.toWeb(Readable.from(body())) as ReadableStream,
    duplex: 'half',
  } as RequestInit);
  await new Promise((r) => setTimeout(r, 500));
  const gateway = stack.services.gateway!;
  const exiting = timedExit('gateway');
  // During the drain delay the gateway says it is not ready but still answers requests.
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await fetch(`http://127.0.0.1:${gateway.opsPort}/readyz`)).status, 503);
  assert.equal((await stack.api(user, '/api/v1/jobs')).status, 200);
  const res = await upload;
  assert.equal(res.status, 201, await res.clone().text());
  const exit = await exiting;
  assert.equal(exit.code, 0, exit.logs.slice(-3000));
  assert.ok(exit.ms < SHUTDOWN_TIMEOUT_MS, `took ${exit.ms} ms`);
  await stack.startService('gateway');
  const { id } = (await res.json()) as { id: string };
  const job = await stack.waitForJob(user, id, (j) => j.status === 'COMPLETED');
  assert.equal(job.counts.records, 20);
});

test('job: SIGTERM with a watch stream open exits 0 in time, and the stream ends', async () => {
  const client = createClient(JobService, stack.jobGrpcUrl, { defaultDeadlineMs: 5000 });
  let ended = false;
  const watching = (async () => {
    try {
      for await (const _ of client.watchJobs({ userId: 'alice' }, { deadlineMs: 600_000 })) {
        // Initial values arrive; then the stream stays open until the server stops.
      }
    } catch {
      // Cut by the server: also an end.
    }
    ended = true;
  })();
  await new Promise((r) => setTimeout(r, 500));
  const exit = await timedExit('job');
  assert.equal(exit.code, 0, exit.logs.slice(-3000));
  assert.ok(exit.ms < SHUTDOWN_TIMEOUT_MS, `took ${exit.ms} ms`);
  await watching;
  assert.ok(ended);
  client.close();
  await stack.startService('job');
});

test('notification and archive: SIGTERM exits 0 in time', async () => {
  for (const name of ['notification', 'archive'] as const) {
    const exit = await timedExit(name);
    assert.equal(exit.code, 0, exit.logs.slice(-3000));
    assert.ok(exit.ms < SHUTDOWN_TIMEOUT_MS, `${name} took ${exit.ms} ms`);
  }
});
