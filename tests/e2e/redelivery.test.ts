// Killing the annotator in the middle of a job: the request is redelivered once its ack deadline
// passes, a new annotator takes the job over, and it completes exactly once.
import t from 'tap';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { startGasStack, sharedDataPath } from '@gas/testing';
import type { GasStack } from '@gas/testing';
import { fromBinary, JobEventSchema } from '@gas/proto';
import { writeBigVcf } from './big-vcf.ts';

const stack: GasStack = await startGasStack({
  store: 'filesystem',
  env: { annotator: { ANNOTATOR_ACK_WAIT_MS: '3000', ANNOTATOR_CONCURRENCY: '1' } },
});
t.teardown(() => stack.stop());
const bigFile = join(stack.stateDir, 'big.vcf');
const bigRecords = await writeBigVcf(bigFile, 1_500_000);

// The annotators' consumer on GAS_JOBS, from the job service's queue gauges (read at each scrape).
const NOTHING_PENDING = /^gas_job_queue_waiting_jobs(\{[^}]*\})? 0$/m;
const NOTHING_UNACKED = /^gas_job_queue_running_jobs(\{[^}]*\})? 0$/m;

async function completionEvents(jobId: string): Promise<number> {
  const nc = await connect({ servers: stack.natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info('GAS_EVENTS');
    let n = 0;
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage('GAS_EVENTS', { seq }).catch(() => null);
      if (m?.subject === 'gas.events.job.completed' && fromBinary(JobEventSchema, m.data).job?.jobId === jobId) n++;
    }
    return n;
  } finally {
    await nc.close();
  }
}

t.test('a job whose annotator is killed mid-run is redelivered and completed exactly once', async (t) => {
  const user = stack.users[0]!;
  const res = await stack.submit(user, bigFile, { genomeBuild: 'GRCh37' });
  t.equal(res.status, 201);
  const { id } = (await res.json()) as { id: string };
  const running = await stack.waitForJob(user, id, (j) => j.status === 'RUNNING' || j.status === 'COMPLETED');
  t.equal(running.status, 'RUNNING', 'the job finished before the annotator could be killed; make the input bigger');
  t.equal(running.attempt, 1);
  // While the one annotator slot is busy, two more jobs wait: the queue depth the autoscaler reads
  // and each job's position say so.
  const waiting: string[] = [];
  for (let i = 0; i < 2; i++) {
    const r = await stack.submit(user, sharedDataPath('vcf/gas_anntools/free_1.vcf'), { genomeBuild: 'GRCh37' });
    waiting.push(((await r.json()) as { id: string }).id);
  }
  const metrics = await stack.metrics('job');
  t.match(metrics, /^gas_job_queue_waiting_jobs(\{[^}]*\})? 2$/m);
  t.match(metrics, /^gas_job_queue_running_jobs(\{[^}]*\})? 1$/m);
  t.match(metrics, /^gas_job_queue_depth_jobs(\{[^}]*\})? 3$/m);
  const positions = [];
  for (const w of waiting)
    positions.push(((await (await stack.api(user, `/api/v1/jobs/${w}`)).json()) as { queue_position: number }).queue_position);
  t.strictSame(positions, [1, 2]);

  stack.services.annotator!.signal('SIGKILL');
  const exit = await stack.services.annotator!.exited;
  t.equal(exit.signal, 'SIGKILL');
  t.equal(((await (await stack.api(user, `/api/v1/jobs/${id}`)).json()) as { status: string }).status, 'RUNNING');

  await stack.startService('annotator');
  const done = await stack.waitForJob(user, id, (j) => j.status === 'COMPLETED' || j.status === 'FAILED', 120_000);
  t.equal(done.status, 'COMPLETED', JSON.stringify(done));
  t.equal(done.attempt, 2);
  t.equal(done.counts.records, bigRecords);

  const vcf = await stack.api(user, `/api/v1/jobs/${id}/result`);
  let records = 0;
  let tail = '';
  // Stored as BGZF: read through gunzip.
  for await (const chunk of Readable.fromWeb(vcf.body!).pipe(createGunzip())) {
    const text = tail + Buffer.from(chunk).toString('utf8');
    const lines = text.split('\n');
    tail = lines.pop()!;
    for (const l of lines) if (l && !l.startsWith('#')) records++;
  }
  t.equal(records, bigRecords);
  // Count only once every job request is settled: the waiting jobs done, and nothing left pending or
  // unacknowledged on the annotators' consumer. No delivery remains then that could complete the job
  // a second time, and each completion's event is in GAS_EVENTS (the annotator acks after it).
  for (const w of waiting) t.equal((await stack.waitForJob(user, w, (j) => j.status === 'COMPLETED')).status, 'COMPLETED');
  const queue = await stack.eventually(
    () => stack.metrics('job'),
    (m) => NOTHING_PENDING.test(m) && NOTHING_UNACKED.test(m),
  );
  t.match(queue, NOTHING_PENDING);
  t.match(queue, NOTHING_UNACKED);
  t.equal(await completionEvents(id), 1);
});
