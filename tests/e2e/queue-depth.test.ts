// The autoscaling signal end to end, on the real services: the job service's queue depth reads N
// for N requests while no annotator runs, drains to 0 once annotators start, and still reads N with
// annotators scaled back to zero. Scale-in (SIGTERM) releases a running job, so nothing is lost,
// even on a request's last allowed delivery.
import t from 'tap';
import { join } from 'node:path';
import { startGasStack, sharedDataPath } from '@gas/testing';
import type { GasStack } from '@gas/testing';
import { writeBigVcf } from './big-vcf.ts';

const stack: GasStack = await startGasStack({
  store: 'filesystem',
  services: ['job', 'gateway'],
  env: {
    // A released request is redelivered at once: the last of its deliveries is where a nak would be lost.
    annotator: { ANNOTATOR_MAX_DELIVER: '1', ANNOTATOR_CONCURRENCY: '1', ANNOTATOR_DRAIN_GRACE_MS: '200' },
  },
});
t.teardown(() => stack.stop());
const sample = sharedDataPath('vcf/gas_anntools/free_1.vcf');

const figure = (name: string) => async () => {
  const m = new RegExp(`^${name}\\{[^}]*consumer="annotator"[^}]*\\} (\\S+)$`, 'm').exec(await stack.metrics('job'));
  return m ? Number(m[1]) : undefined;
};
const depth = figure('gas_job_queue_depth_jobs');
const oldest = figure('gas_job_queue_oldest_waiting_seconds');

async function submitSamples(n: number): Promise<string[]> {
  const user = stack.users[0]!;
  const ids = [];
  for (let i = 0; i < n; i++) {
    const res = await stack.submit(user, sample, { genomeBuild: 'GRCh37' });
    ids.push(((await res.json()) as { id: string }).id);
  }
  return ids;
}

t.test('no annotator: N requests read N; annotators drain it to 0; at zero again it reads N', async (t) => {
  const first = await submitSamples(6);
  t.equal(await stack.eventually(depth, (d) => d === 6), 6, 'six requests and no annotator');
  t.ok((await oldest())! > 0, 'the oldest request has been waiting');

  await stack.startService('annotator');
  const user = stack.users[0]!;
  for (const id of first) t.equal((await stack.waitForJob(user, id, (j) => j.status === 'COMPLETED')).status, 'COMPLETED');
  t.equal(await stack.eventually(depth, (d) => d === 0), 0, 'drained');
  t.equal(await oldest(), 0);

  stack.services.annotator!.signal('SIGTERM');
  t.equal((await stack.services.annotator!.exited).code, 0, 'the annotator stops cleanly');
  await submitSamples(4);
  t.equal(await stack.eventually(depth, (d) => d === 4), 4, 'annotators at zero: still counted');

  await stack.startService('annotator');
  t.equal(await stack.eventually(depth, (d) => d === 0, 60_000), 0, 'drained again');
});

t.test('SIGTERM on a running job (its last allowed delivery): released, then completed by the next annotator', async (t) => {
  const big = join(stack.stateDir, 'big.vcf');
  const records = await writeBigVcf(big, 1_500_000);
  const user = stack.users[0]!;
  const { id } = (await (await stack.submit(user, big, { genomeBuild: 'GRCh37' })).json()) as { id: string };
  const running = await stack.waitForJob(user, id, (j) => j.status === 'RUNNING' || j.status === 'COMPLETED', 60_000);
  t.equal(running.status, 'RUNNING', 'the job finished before the annotator was stopped; make the input bigger');
  t.equal(running.attempt, 1);

  stack.services.annotator!.signal('SIGTERM');
  t.equal((await stack.services.annotator!.exited).code, 0);
  const released = await stack.waitForJob(user, id, (j) => j.status !== 'RUNNING');
  t.equal(released.status, 'PENDING', 'back in the queue, not left RUNNING');
  t.equal(await depth(), 1);

  await stack.startService('annotator');
  const done = await stack.waitForJob(user, id, (j) => j.status === 'COMPLETED' || j.status === 'FAILED', 120_000);
  t.equal(done.status, 'COMPLETED', JSON.stringify(done.failure_reason));
  t.equal(done.attempt, 2, 'the next attempt after the released one');
  t.equal(done.counts.records, records);
});
