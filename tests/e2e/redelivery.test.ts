// Killing the annotator in the middle of a job: the request is redelivered once its ack deadline
// passes, a new annotator takes the job over, and it completes exactly once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { startGasStack, sharedDataPath } from '@gas/testing';
import type { GasStack } from '@gas/testing';
import { fromBinary, JobEventSchema } from '@gas/proto';
import { writeBigVcf } from './big-vcf.ts';

let stack: GasStack;
let bigFile: string;
let bigRecords: number;
before(async () => {
  stack = await startGasStack({ store: 'filesystem', env: { annotator: { ANNOTATOR_ACK_WAIT_MS: '3000', ANNOTATOR_CONCURRENCY: '1' } } });
  bigFile = join(stack.stateDir, 'big.vcf');
  bigRecords = await writeBigVcf(bigFile, 1_500_000);
});
after(async () => {
  await stack?.stop();
});

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

test('a job whose annotator is killed mid-run is redelivered and completed exactly once', async () => {
  const user = stack.users[0]!;
  const res = await stack.submit(user, bigFile, { genomeBuild: 'GRCh37' });
  assert.equal(res.status, 201);
  const { id } = (await res.json()) as { id: string };
  const running = await stack.waitForJob(user, id, (j) => j.status === 'RUNNING' || j.status === 'COMPLETED');
  assert.equal(running.status, 'RUNNING', 'the job finished before the annotator could be killed; make the input bigger');
  assert.equal(running.attempt, 1);
  // While the one annotator slot is busy, two more jobs wait: the queue depth the autoscaler reads
  // and each job's position say so.
  const waiting: string[] = [];
  for (let i = 0; i < 2; i++) {
    const r = await stack.submit(user, sharedDataPath('vcf/gas_anntools/free_1.vcf'), { genomeBuild: 'GRCh37' });
    waiting.push(((await r.json()) as { id: string }).id);
  }
  const metrics = await stack.metrics('annotator');
  assert.match(metrics, /^gas_annotator_queue_pending_messages(\{[^}]*\})? 2$/m);
  assert.match(metrics, /^gas_annotator_queue_ack_pending_messages(\{[^}]*\})? 1$/m);
  const positions = [];
  for (const w of waiting) positions.push(((await (await stack.api(user, `/api/v1/jobs/${w}`)).json()) as { queue_position: number }).queue_position);
  assert.deepEqual(positions, [1, 2]);

  stack.services.annotator!.signal('SIGKILL');
  const exit = await stack.services.annotator!.exited;
  assert.equal(exit.signal, 'SIGKILL');
  assert.equal((await (await stack.api(user, `/api/v1/jobs/${id}`)).json() as { status: string }).status, 'RUNNING');

  await stack.startService('annotator');
  const done = await stack.waitForJob(user, id, (j) => j.status === 'COMPLETED' || j.status === 'FAILED', 120_000);
  assert.equal(done.status, 'COMPLETED', JSON.stringify(done));
  assert.equal(done.attempt, 2);
  assert.equal(done.counts.records, bigRecords);

  const vcf = await stack.api(user, `/api/v1/jobs/${id}/result`);
  let records = 0;
  let tail = '';
  for await (const chunk of vcf.body!) {
    const text = tail + Buffer.from(chunk).toString('utf8');
    const lines = text.split('\n');
    tail = lines.pop()!;
    for (const l of lines) if (l && !l.startsWith('#')) records++;
  }
  assert.equal(records, bigRecords);
  // Give a duplicate a chance to show up before counting.
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(await completionEvents(id), 1);
  for (const w of waiting) assert.equal((await stack.waitForJob(user, w, (j) => j.status === 'COMPLETED')).status, 'COMPLETED');
});
