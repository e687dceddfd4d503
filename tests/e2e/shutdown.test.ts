// SIGTERM with work in flight: every service exits 0 inside its shutdown timeout and the in-flight
// work is finished (uploads, RPCs) or released for another worker (annotation), never lost.
import t from 'tap';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { startGasStack } from '@gas/testing';
import type { ServiceHandle } from '@gas/testing';
import { createClient, JobService } from '@gas/proto';
import { writeBigVcf } from './big-vcf.ts';

const SHUTDOWN_TIMEOUT_MS = 10_000;
const GATEWAY_DRAIN_DELAY_MS = 1500;
const common = { SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) };
const stack = await startGasStack({
  store: 'filesystem',
  env: {
    // A long ack wait proves the job comes back because it was released, not because it timed out.
    annotator: { ...common, ANNOTATOR_ACK_WAIT_MS: '120000', ANNOTATOR_DRAIN_GRACE_MS: '500', ANNOTATOR_CONCURRENCY: '1' },
    job: common,
    // The upload test waits for the gateway's request log line: at least info, whatever GAS_LOG_LEVEL says.
    gateway: { ...common, GATEWAY_DRAIN_DELAY_MS: String(GATEWAY_DRAIN_DELAY_MS), LOG_LEVEL: atLeastInfo(process.env['GAS_LOG_LEVEL']) },
    notification: common,
    archive: common,
  },
});
t.teardown(() => stack.stop());
const bigFile = join(stack.stateDir, 'big.vcf');
await writeBigVcf(bigFile, 1_500_000);

function atLeastInfo(level: string | undefined): string {
  return level === 'debug' || level === 'trace' ? level : 'info';
}

async function timedExit(name: 'gateway' | 'job' | 'annotator' | 'notification' | 'archive') {
  const h = stack.services[name]!;
  const t0 = Date.now();
  h.signal('SIGTERM');
  const exit = await h.exited;
  return { ...exit, ms: Date.now() - t0, logs: h.logs() };
}

/** How many requests `method url` the gateway has logged as incoming (Fastify's request log). */
function incomingRequests(gateway: ServiceHandle, method: string, url: string): number {
  let n = 0;
  for (const line of gateway.logs().split('\n')) {
    if (!line.includes('incoming request')) continue;
    try {
      const entry = JSON.parse(line) as { msg?: string; req?: { method?: string; url?: string } };
      if (entry.msg === 'incoming request' && entry.req?.method === method && entry.req.url === url) n++;
    } catch {
      // Not a log line of the gateway's own (a truncated start of the buffer).
    }
  }
  return n;
}

async function readyzStatus(h: ServiceHandle): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${h.opsPort}/readyz`);
  await res.body?.cancel();
  return res.status;
}

t.test('annotator: SIGTERM mid-job releases the job, exits 0 in time, and another annotator completes it at once', async (t) => {
  const user = stack.users[0]!;
  const res = await stack.submit(user, bigFile, { genomeBuild: 'GRCh37' });
  const { id } = (await res.json()) as { id: string };
  const running = await stack.waitForJob(user, id, (j) => j.status !== 'PENDING');
  t.equal(running.status, 'RUNNING');
  const exit = await timedExit('annotator');
  t.equal(exit.code, 0, 'the annotator exits 0', { logs: exit.logs.slice(-3000) });
  t.ok(exit.ms < SHUTDOWN_TIMEOUT_MS, `took ${exit.ms} ms`);
  const t0 = Date.now();
  await stack.startService('annotator');
  const done = await stack.waitForJob(user, id, (j) => j.status === 'COMPLETED' || j.status === 'FAILED', 60_000);
  t.equal(done.status, 'COMPLETED');
  t.equal(done.attempt, 2);
  t.ok(Date.now() - t0 < 60_000, `completed ${Date.now() - t0} ms after the restart`);
});

t.test('gateway: SIGTERM during an upload lets the upload finish into a job, then exits 0', async (t) => {
  const user = stack.users[0]!;
  const gateway = stack.services.gateway!;
  const header = '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n';
  const boundary = 'gasboundary';
  let bodySent = false;
  // A slow multipart body: the gateway is told to stop while it is still arriving. The pauses are
  // the behaviour under test (an upload that takes two seconds), not a wait for something.
  async function* body() {
    yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="genome_build"\r\n\r\nGRCh37\r\n`);
    yield Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.vcf"\r\nContent-Type: text/plain\r\n\r\n${header}`,
    );
    for (let i = 1; i <= 20; i++) {
      await sleep(100);
      yield Buffer.from(`1\t${i}\t.\tA\tG\t.\t.\t.\n`);
    }
    yield Buffer.from(`\r\n--${boundary}--\r\n`);
    bodySent = true;
  }
  const postsBefore = incomingRequests(gateway, 'POST', '/api/v1/jobs');
  const upload = fetch(`${stack.url}/api/v1/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${user.token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
    body: Readable.toWeb(Readable.from(body())) as ReadableStream,
    duplex: 'half',
  });
  // The gateway has the upload once it logs the request coming in.
  const posts = await stack.eventually(
    async () => incomingRequests(gateway, 'POST', '/api/v1/jobs'),
    (n) => n > postsBefore,
    10_000,
  );
  t.equal(posts, postsBefore + 1, 'the gateway is receiving the upload');
  t.notOk(bodySent, 'the body is still arriving when the gateway is told to stop');
  const exiting = timedExit('gateway');
  // During the drain delay the gateway says it is not ready but still answers requests. Readiness
  // flips at once; the poll stops well inside the drain delay so the request below still falls in it.
  const ready = await stack.eventually(
    () => readyzStatus(gateway),
    (s) => s === 503,
    GATEWAY_DRAIN_DELAY_MS / 2,
  );
  t.equal(ready, 503, '/readyz answers 503 while draining');
  const during = await stack.api(user, '/api/v1/jobs');
  await during.body?.cancel();
  t.equal(during.status, 200, 'requests are still answered while draining');
  const res = await upload;
  t.equal(res.status, 201, 'the upload becomes a job', { body: await res.clone().text() });
  const exit = await exiting;
  t.equal(exit.code, 0, 'the gateway exits 0', { logs: exit.logs.slice(-3000) });
  t.ok(exit.ms < SHUTDOWN_TIMEOUT_MS, `took ${exit.ms} ms`);
  await stack.startService('gateway');
  const { id } = (await res.json()) as { id: string };
  const job = await stack.waitForJob(user, id, (j) => j.status === 'COMPLETED');
  t.equal(job.counts.records, 20);
});

t.test('job: SIGTERM with a watch stream open exits 0 in time, and the stream ends', async (t) => {
  // The job service serves a watch from a KV watch: an ordered consumer on the jobs bucket filtered
  // to the user's keys, which shows on the NATS server while the stream is open.
  const nc = await connect({ servers: stack.natsUrl });
  t.teardown(() => nc.close());
  const jsm = await jetstreamManager(nc);
  const watchesOf = async (userId: string) =>
    (await jsm.consumers.list('KV_gas-jobs').next()).filter(
      (c) => c.config.filter_subject === `$KV.gas-jobs.${userId}.*` || c.config.filter_subjects?.includes(`$KV.gas-jobs.${userId}.*`),
    ).length;
  const watchesBefore = await watchesOf('alice');

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
  const watches = await stack.eventually(
    () => watchesOf('alice'),
    (n) => n > watchesBefore,
    10_000,
  );
  t.equal(watches, watchesBefore + 1, 'the watch stream is open');
  const exit = await timedExit('job');
  t.equal(exit.code, 0, 'the job service exits 0', { logs: exit.logs.slice(-3000) });
  // Open watches end as shutdown starts, so they do not hold it for the in-flight grace period
  // (60% of the timeout, after which the server would cut them).
  t.ok(exit.ms < SHUTDOWN_TIMEOUT_MS * 0.6, `took ${exit.ms} ms, less than the grace period`);
  await watching;
  t.ok(ended);
  client.close();
  await stack.startService('job');
});

t.test('notification and archive: SIGTERM exits 0 in time', async (t) => {
  for (const name of ['notification', 'archive'] as const) {
    const exit = await timedExit(name);
    t.equal(exit.code, 0, `${name} exits 0`, { logs: exit.logs.slice(-3000) });
    t.ok(exit.ms < SHUTDOWN_TIMEOUT_MS, `${name} took ${exit.ms} ms`);
  }
});
