// DeleteJob in-process against a real nats-server: only a finished job of the caller's goes, its
// record leaves the list and the watch, job.deleted is published once with what the file cleanup
// needs, and a repeat of its Idempotency-Key makes a new job.
import t from 'tap';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { streamNames, subjects } from '@gas/messaging';
import { ulid } from 'ulid';
import { startNatsServer } from '@gas/testing';
import { createLogger, createRegistry } from '@gas/runtime';
import {
  createClient,
  fromBinary,
  GenomeBuild,
  JobEventKind,
  JobEventSchema,
  JobService,
  JobStatus,
  ResultState,
  Status,
} from '@gas/proto';
import type { Job, ServiceClient } from '@gas/proto';
import { Writable } from 'node:stream';
import { createJobApp } from '../src/app.ts';

const nats = await startNatsServer();
t.teardown(() => nats.stop());
const nc: NatsConnection = await connect({ servers: nats.url });
t.teardown(() => nc.close());
const logger = createLogger({ service: 'job', level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const registry = createRegistry('job');
const app = createJobApp({
  config: { grpcHost: '127.0.0.1', grpcPort: 0, idempotencyTtlHours: 1, eventsMaxAgeDays: 1, natsReplicas: 1 },
  nc,
  logger,
  registry,
  staleClaimMs: 300,
});
const port = await app.start();
t.teardown(() => app.stop(500));
const jobs: ServiceClient<typeof JobService> = createClient(JobService, `127.0.0.1:${port}`, { defaultDeadlineMs: 5000 });
t.teardown(() => jobs.close());
const jsm = await jetstreamManager(nc);

const code = (c: Status) => ({ name: 'RpcError', code: c });

async function pending(userId: string, idempotencyKey = ''): Promise<Job> {
  const jobId = ulid();
  const res = await jobs.createJob({
    userId,
    jobId,
    genomeBuild: GenomeBuild.GRCH37,
    inputName: 'a.vcf',
    inputSize: 10n,
    inputKey: `${userId}/${jobId}/a.vcf`,
    idempotencyKey,
  });
  return res.job!;
}

async function running(userId: string): Promise<Job> {
  const job = await pending(userId);
  return (await jobs.claimJob({ userId, jobId: job.jobId, attempt: 1, annotatorId: 'a1' })).job!;
}

async function completed(userId: string): Promise<Job> {
  const job = await running(userId);
  const resultKeys = { vcf: `${userId}/${job.jobId}/a.annot.vcf.gz`, tsv: `${userId}/${job.jobId}/a.annot.tsv.gz` };
  return (await jobs.completeJob({ userId, jobId: job.jobId, attempt: 1, resultKeys, resultSize: 5n })).job!;
}

/** The job.deleted events of a job on GAS_EVENTS, with their Nats-Msg-Id. */
async function deletedEvents(jobId: string): Promise<Array<{ msgId: string | undefined; job: Job }>> {
  const info = await jsm.streams.info(streamNames.events);
  const out: Array<{ msgId: string | undefined; job: Job }> = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(streamNames.events, { seq }).catch(() => null);
    if (!m || m.subject !== subjects.jobEvent('deleted')) continue;
    const e = fromBinary(JobEventSchema, m.data);
    if (e.job?.jobId === jobId) {
      t.equal(e.kind, JobEventKind.DELETED);
      t.equal(e.eventId, `${jobId}.deleted`);
      out.push({ msgId: m.header?.get('Nats-Msg-Id'), job: e.job });
    }
  }
  return out;
}

t.test('a completed job is deleted: gone from get and list, one job.deleted with its keys', async (t) => {
  const job = await completed('del1');
  const keep = await completed('del1');
  const res = await jobs.deleteJob({ userId: 'del1', jobId: job.jobId });
  t.equal(res.job?.jobId, job.jobId, 'answers the job as it was');
  await t.rejects(jobs.getJob({ userId: 'del1', jobId: job.jobId }), code(Status.NOT_FOUND));
  const listed = (await jobs.listJobs({ userId: 'del1' })).jobs.map((j) => j.jobId);
  t.same(listed, [keep.jobId], 'the list has only the other job');
  const events = await deletedEvents(job.jobId);
  t.equal(events.length, 1);
  t.equal(events[0]!.msgId, `${job.jobId}.deleted`);
  t.equal(events[0]!.job.userId, 'del1');
  t.equal(events[0]!.job.inputKey, job.inputKey, 'the event names the input');
  t.same(events[0]!.job.resultKeys, job.resultKeys, 'and the results');

  await t.rejects(jobs.deleteJob({ userId: 'del1', jobId: job.jobId }), code(Status.NOT_FOUND), 'a second delete: NOT_FOUND');
  t.equal((await deletedEvents(job.jobId)).length, 1, 'and no second event');
  t.match(
    await registry.getSingleMetricAsString('gas_job_jobs_deleted_total'),
    /gas_job_jobs_deleted_total\{[^}]*\} 1\b|gas_job_jobs_deleted_total 1\b/,
  );
});

t.test("another user's job and an unknown job answer the same NOT_FOUND; the job stays", async (t) => {
  const job = await completed('del2');
  await t.rejects(jobs.deleteJob({ userId: 'del2b', jobId: job.jobId }), code(Status.NOT_FOUND));
  await t.rejects(jobs.deleteJob({ userId: 'del2b', jobId: ulid() }), code(Status.NOT_FOUND));
  t.equal((await jobs.getJob({ userId: 'del2', jobId: job.jobId })).job?.status, JobStatus.COMPLETED, 'still there for its owner');
  t.equal((await deletedEvents(job.jobId)).length, 0, 'no event');
  await t.rejects(jobs.deleteJob({ userId: 'del2', jobId: 'not-a-ulid' }), code(Status.INVALID_ARGUMENT));
});

t.test('queued, running and restoring jobs are refused with FAILED_PRECONDITION saying to wait', async (t) => {
  const queued = await pending('del3');
  const run = await running('del3');
  const restoring = await completed('del3');
  await jobs.markArchived({ userId: 'del3', jobId: restoring.jobId, archiveKeys: { vcf: restoring.resultKeys.vcf! } });
  await jobs.markRestoring({ userId: 'del3', jobId: restoring.jobId });
  for (const j of [queued, run, restoring]) {
    await t.rejects(
      jobs.deleteJob({ userId: 'del3', jobId: j.jobId }),
      { name: 'RpcError', code: Status.FAILED_PRECONDITION, message: /wait until it finishes/ },
      JobStatus[j.status],
    );
    t.ok((await jobs.getJob({ userId: 'del3', jobId: j.jobId })).job, 'the job stays');
    t.equal((await deletedEvents(j.jobId)).length, 0, 'no event');
  }
});

t.test('failed and archived jobs can be deleted; the event of an archived one names its archive copies', async (t) => {
  const run = await running('del4');
  await jobs.failJob({ userId: 'del4', jobId: run.jobId, attempt: 1, reason: 'line 3: POS: bad' });
  await jobs.deleteJob({ userId: 'del4', jobId: run.jobId });
  await t.rejects(jobs.getJob({ userId: 'del4', jobId: run.jobId }), code(Status.NOT_FOUND));

  const done = await completed('del4');
  const archiveKeys = { vcf: done.resultKeys.vcf!, tsv: done.resultKeys.tsv! };
  await jobs.markArchived({ userId: 'del4', jobId: done.jobId, archiveKeys });
  const res = await jobs.deleteJob({ userId: 'del4', jobId: done.jobId });
  t.equal(res.job?.resultState, ResultState.ARCHIVED);
  const [event] = await deletedEvents(done.jobId);
  t.same(event?.job.archiveKeys, archiveKeys);
});

t.test('the watch says a job was deleted, with its ids', async (t) => {
  const job = await completed('del5');
  const ac = new AbortController();
  const seen: Array<{ id: string; deleted: boolean }> = [];
  let opened: () => void = () => undefined;
  const open = new Promise<void>((r) => (opened = r));
  const watching = (async () => {
    for await (const r of jobs.watchJobs({ userId: 'del5' }, { signal: ac.signal, deadlineMs: 30_000 })) {
      seen.push({ id: r.job!.jobId, deleted: r.deleted });
      opened();
      if (r.deleted) ac.abort();
    }
  })().catch(() => undefined);
  await open;
  await jobs.deleteJob({ userId: 'del5', jobId: job.jobId });
  await watching;
  t.same(seen, [
    { id: job.jobId, deleted: false },
    { id: job.jobId, deleted: true },
  ]);
});

t.test('a repeat of the Idempotency-Key after the delete makes a new job', async (t) => {
  const keyed = await pending('del6', 'upload-42');
  await jobs.claimJob({ userId: 'del6', jobId: keyed.jobId, attempt: 1, annotatorId: 'a1' });
  await jobs.failJob({ userId: 'del6', jobId: keyed.jobId, attempt: 1, reason: 'bad' });
  t.equal((await pending('del6', 'upload-42')).jobId, keyed.jobId, 'before the delete, the key answers the first job');
  await jobs.deleteJob({ userId: 'del6', jobId: keyed.jobId });
  const again = await pending('del6', 'upload-42');
  t.not(again.jobId, keyed.jobId, 'after it, a new job');
  t.equal(again.status, JobStatus.PENDING);
  t.equal((await pending('del6', 'upload-42')).jobId, again.jobId, 'which the key then answers');
});
