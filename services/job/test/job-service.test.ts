// The job service in-process against a real nats-server: KV compare-and-set under contention,
// idempotency, paging, queue position, events.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { ulid } from 'ulid';
import { startNatsServer } from '@gas/testing';
import type { NatsServerHandle } from '@gas/testing';
import { createLogger, createRegistry } from '@gas/runtime';
import { createClient, fromBinary, GenomeBuild, JobService, AccountService, JobStatus, Plan, RpcError, Status, AccountEventSchema } from '@gas/proto';
import type { ServiceClient } from '@gas/proto';
import { Writable } from 'node:stream';
import { createJobApp } from '../src/app.ts';
import { IdempotencyStore } from '../src/idempotency-store.ts';
import { Kvm } from '@nats-io/kv';
import type { JobApp } from '../src/app.ts';

let nats: NatsServerHandle;
let nc: NatsConnection;
let app: JobApp;
let jobs: ServiceClient<typeof JobService>;
let accounts: ServiceClient<typeof AccountService>;

before(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url });
  const logger = createLogger({ service: 'job', level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  app = createJobApp({
    config: { grpcHost: '127.0.0.1', grpcPort: 0, idempotencyTtlHours: 1, eventsMaxAgeDays: 1, natsReplicas: 1 },
    nc,
    logger,
    registry: createRegistry('job'),
    staleClaimMs: 300,
  });
  const port = await app.start();
  jobs = createClient(JobService, `127.0.0.1:${port}`, { defaultDeadlineMs: 5000 });
  accounts = createClient(AccountService, `127.0.0.1:${port}`, { defaultDeadlineMs: 5000 });
});
after(async () => {
  jobs?.close();
  accounts?.close();
  await app?.stop(500);
  await nc?.close();
  await nats?.stop();
});

const code = (c: Status) => (e: unknown) => e instanceof RpcError && e.code === c;

async function newJob(userId: string, idempotencyKey = '') {
  const jobId = ulid();
  return jobs.createJob({ userId, jobId, genomeBuild: GenomeBuild.GRCH37, inputName: 'a.vcf', inputSize: 10n, inputKey: `${userId}/${jobId}/a.vcf`, idempotencyKey });
}

test('create validates its input with INVALID_ARGUMENT', async () => {
  const jobId = ulid();
  const base = { userId: 'u1', jobId, genomeBuild: GenomeBuild.GRCH37, inputName: 'a.vcf', inputKey: `u1/${jobId}/a.vcf` };
  await assert.rejects(jobs.createJob({ ...base, userId: 'bad user' }), code(Status.INVALID_ARGUMENT));
  await assert.rejects(jobs.createJob({ ...base, jobId: 'not-a-ulid' }), code(Status.INVALID_ARGUMENT));
  await assert.rejects(jobs.createJob({ ...base, genomeBuild: GenomeBuild.UNSPECIFIED }), code(Status.INVALID_ARGUMENT));
  await assert.rejects(jobs.createJob({ ...base, inputKey: `u2/${jobId}/a.vcf` }), code(Status.INVALID_ARGUMENT));
  await assert.rejects(jobs.getJob({ userId: 'u1', jobId: ulid() }), code(Status.NOT_FOUND));
});

test('a job is queued once on GAS_JOBS with its sequence recorded', async () => {
  const { job, created } = await newJob('u1');
  assert.ok(created);
  assert.equal(job!.status, JobStatus.PENDING);
  assert.ok(job!.queueSequence > 0n);
  const jsm = await jetstreamManager(nc);
  const msg = await jsm.streams.getMessage('GAS_JOBS', { seq: Number(job!.queueSequence) });
  assert.ok(msg);
  assert.equal(msg.subject, 'gas.jobs.requested');
  assert.equal(msg.header?.get('Nats-Msg-Id'), job!.jobId);
});

test('the same idempotency key returns the first job; another user with the same key gets their own', async () => {
  const a = await newJob('u2', 'key-1');
  const b = await newJob('u2', 'key-1');
  const c = await newJob('u3', 'key-1');
  assert.equal(b.job!.jobId, a.job!.jobId);
  assert.equal(b.created, false);
  assert.notEqual(c.job!.jobId, a.job!.jobId);
  assert.equal((await jobs.listJobs({ userId: 'u2' })).jobs.length, 1);
});

test('an idempotency key claimed by a call that died before creating its job is taken over once stale', async () => {
  const kv = await new Kvm(nc).open('gas-idempotency');
  const store = new IdempotencyStore(kv);
  assert.equal(await store.claim('u9', 'crashed-key', ulid()), null); // a call that then died
  await assert.rejects(newJob('u9', 'crashed-key'), code(Status.ABORTED)); // might still be running
  await new Promise((r) => setTimeout(r, 400));
  const retried = await newJob('u9', 'crashed-key');
  assert.equal(retried.created, true);
  const again = await newJob('u9', 'crashed-key');
  assert.equal(again.job!.jobId, retried.job!.jobId);
  assert.equal(again.created, false);
});

test('concurrent claims of one job by different deliveries: exactly one attempt wins each step', async () => {
  const { job } = await newJob('u4');
  const id = { userId: 'u4', jobId: job!.jobId };
  // Ten annotators race with the same attempt: one claim succeeds, the rest are refused.
  const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => jobs.claimJob({ ...id, attempt: 1, annotatorId: `a${i}` })));
  const won = results.filter((r) => r.status === 'fulfilled');
  assert.equal(won.length, 1, JSON.stringify(results.map((r) => r.status)));
  for (const r of results) if (r.status === 'rejected') assert.ok(code(Status.FAILED_PRECONDITION)(r.reason), String(r.reason));
  const owner = (won[0] as PromiseFulfilledResult<{ job?: { annotatorId: string } }>).value.job!.annotatorId;
  // Completions race too: only the owning attempt can complete, and only once.
  const completes = await Promise.allSettled([
    jobs.completeJob({ ...id, attempt: 1, resultKeys: { vcf: 'k' }, resultSize: 1n, counts: { records: 3n } }),
    jobs.completeJob({ ...id, attempt: 2, resultKeys: { vcf: 'k2' }, resultSize: 1n }),
  ]);
  assert.equal(completes[0].status, 'fulfilled');
  assert.equal(completes[1].status, 'rejected');
  const { job: done } = await jobs.getJob(id);
  assert.equal(done!.status, JobStatus.COMPLETED);
  assert.equal(done!.annotatorId, owner);
  assert.equal(done!.resultKeys.vcf, 'k');
  assert.equal(done!.counts?.records, 3n);
});

test('list pages newest first and filters by status', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await newJob('u5')).job!.jobId);
  await jobs.claimJob({ userId: 'u5', jobId: ids[0]!, attempt: 1, annotatorId: 'a' });
  const p1 = await jobs.listJobs({ userId: 'u5', pageSize: 2 });
  const p2 = await jobs.listJobs({ userId: 'u5', pageSize: 2, pageToken: p1.nextPageToken });
  const p3 = await jobs.listJobs({ userId: 'u5', pageSize: 2, pageToken: p2.nextPageToken });
  assert.deepEqual([...p1.jobs, ...p2.jobs, ...p3.jobs].map((j) => j.jobId), [...ids].reverse());
  assert.equal(p3.nextPageToken, '');
  const running = await jobs.listJobs({ userId: 'u5', status: JobStatus.RUNNING });
  assert.deepEqual(running.jobs.map((j) => j.jobId), [ids[0]]);
  assert.equal((await jobs.listJobs({ userId: 'nobody' })).jobs.length, 0);
});

test('queue position counts the waiting jobs ahead', async () => {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.purge('GAS_JOBS');
  const a = (await newJob('u6')).job!;
  const b = (await newJob('u6')).job!;
  const c = (await newJob('u7')).job!;
  const pos = async (userId: string, jobId: string) => Number((await jobs.getQueuePosition({ userId, jobId })).position);
  assert.equal(await pos('u6', a.jobId), 1);
  assert.equal(await pos('u6', b.jobId), 2);
  assert.equal(await pos('u7', c.jobId), 3);
  // Job a leaves the queue (its request is acked): everyone moves up.
  await jsm.streams.deleteMessage('GAS_JOBS', Number(a.queueSequence));
  await jobs.claimJob({ userId: 'u6', jobId: a.jobId, attempt: 1, annotatorId: 'x' });
  assert.equal(await pos('u6', a.jobId), 0);
  assert.equal(await pos('u6', b.jobId), 1);
  assert.equal(await pos('u7', c.jobId), 2);
});

test('watch streams the current jobs and then each change', async () => {
  const { job } = await newJob('u8');
  const ac = new AbortController();
  const seen: JobStatus[] = [];
  const watching = (async () => {
    for await (const { job: j } of jobs.watchJobs({ userId: 'u8' }, { signal: ac.signal, deadlineMs: 30_000 })) {
      seen.push(j!.status);
      if (j!.status === JobStatus.FAILED) ac.abort();
    }
  })();
  await new Promise((r) => setTimeout(r, 200));
  await jobs.claimJob({ userId: 'u8', jobId: job!.jobId, attempt: 1, annotatorId: 'a' });
  await jobs.failJob({ userId: 'u8', jobId: job!.jobId, attempt: 1, reason: 'line 3: POS: bad' });
  await watching;
  assert.deepEqual(seen, [JobStatus.PENDING, JobStatus.RUNNING, JobStatus.FAILED]);
  const { job: failed } = await jobs.getJob({ userId: 'u8', jobId: job!.jobId });
  assert.equal(failed!.failureReason, 'line 3: POS: bad');
});

test('accounts: upsert keeps the plan; set plan publishes one upgrade event', async () => {
  const created = await accounts.upsertAccount({ account: { userId: 'acc1', email: 'a@example.org', name: 'A' } });
  assert.equal(created.created, true);
  assert.equal(created.account!.plan, Plan.FREE);
  await assert.rejects(accounts.upsertAccount({ account: { userId: 'acc1', email: 'not an email' } }), code(Status.INVALID_ARGUMENT));
  const up = await accounts.setPlan({ userId: 'acc1', plan: Plan.PREMIUM, billingCustomerId: 'cus_1' });
  assert.equal(up.account!.plan, Plan.PREMIUM);
  const again = await accounts.upsertAccount({ account: { userId: 'acc1', email: 'b@example.org' } });
  // A repeated SetPlan after a profile edit is still the same plan change: no second event.
  await accounts.setPlan({ userId: 'acc1', plan: Plan.PREMIUM });
  assert.equal(again.account!.plan, Plan.PREMIUM);
  assert.equal(again.account!.email, 'b@example.org');
  await assert.rejects(accounts.setPlan({ userId: 'ghost', plan: Plan.PREMIUM }), code(Status.NOT_FOUND));
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info('GAS_EVENTS', { subjects_filter: 'gas.events.account.>' });
  assert.equal(info.state.subjects?.['gas.events.account.upgraded'], 1);
  const last = await jsm.streams.getMessage('GAS_EVENTS', { last_by_subj: 'gas.events.account.upgraded' });
  assert.ok(last);
  assert.equal(fromBinary(AccountEventSchema, last.data).account?.billingCustomerId, 'cus_1');
});
