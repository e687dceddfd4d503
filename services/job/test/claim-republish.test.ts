// A job service killed between recording a job's outcome and publishing its event: the annotator's
// call failed, so the request comes back, and the claim that finds the job finished publishes the
// event then.
import t from 'tap';
import { Writable } from 'node:stream';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { ulid } from 'ulid';
import { startNatsServer } from '@gas/testing';
import { createLogger, createRegistry } from '@gas/runtime';
import { createClient, fromBinary, toBinary, GenomeBuild, JobEventSchema, JobSchema, JobService, JobStatus, Status } from '@gas/proto';
import { Kvm } from '@nats-io/kv';
import { createJobApp } from '../src/app.ts';

const nats = await startNatsServer();
t.teardown(() => nats.stop());
const nc = await connect({ servers: nats.url });
t.teardown(() => nc.close());
const app = createJobApp({
  config: { grpcHost: '127.0.0.1', grpcPort: 0, idempotencyTtlHours: 1, eventsMaxAgeDays: 1, natsReplicas: 1 },
  nc,
  logger: createLogger({ service: 'job', level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) }),
  registry: createRegistry('job'),
  staleClaimMs: 300,
});
const port = await app.start();
t.teardown(() => app.stop(500));
const jobs = createClient(JobService, `127.0.0.1:${port}`, { defaultDeadlineMs: 5000 });
t.teardown(() => jobs.close());
const jsm = await jetstreamManager(nc);

async function events(jobId: string): Promise<string[]> {
  const info = await jsm.streams.info('GAS_EVENTS');
  const kinds: string[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage('GAS_EVENTS', { seq }).catch(() => null);
    if (m && fromBinary(JobEventSchema, m.data).job?.jobId === jobId) kinds.push(m.subject);
  }
  return kinds;
}

for (const outcome of ['completed', 'failed'] as const) {
  t.test(`a claim of a ${outcome} job whose event is missing publishes it once, and still refuses the claim`, async (t) => {
    const jobId = ulid();
    const userId = `u-${outcome}`;
    await jobs.createJob({
      userId,
      jobId,
      genomeBuild: GenomeBuild.GRCH37,
      inputName: 'a.vcf',
      inputSize: 1n,
      inputKey: `${userId}/${jobId}/a.vcf`,
    });
    await jobs.claimJob({ userId, jobId, attempt: 1, annotatorId: 'a' });
    // What a kill between the KV write and the publish leaves: the record finished, no event.
    const kv = await new Kvm(nc).open('gas-jobs');
    const entry = (await kv.get(`${userId}.${jobId}`))!;
    const job = fromBinary(JobSchema, entry.value);
    job.status = outcome === 'completed' ? JobStatus.COMPLETED : JobStatus.FAILED;
    if (outcome === 'failed') job.failureReason = 'bad input';
    await kv.update(`${userId}.${jobId}`, toBinary(JobSchema, job), entry.revision);
    t.strictSame(await events(jobId), []);

    await t.rejects(jobs.claimJob({ userId, jobId, attempt: 2, annotatorId: 'b' }), { code: Status.FAILED_PRECONDITION });
    t.strictSame(await events(jobId), [`gas.events.job.${outcome}`], 'published by the refused claim');
    // Asked again (another redelivery), the copy is dropped by the stream's duplicate window.
    await t.rejects(jobs.claimJob({ userId, jobId, attempt: 3, annotatorId: 'c' }), { code: Status.FAILED_PRECONDITION });
    t.strictSame(await events(jobId), [`gas.events.job.${outcome}`], 'still one');
  });
}
