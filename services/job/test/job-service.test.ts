// The job service in-process against a real nats-server: KV compare-and-set under contention,
// idempotency, paging, queue position, events.
import t from 'tap';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { publishProto, subjects } from '@gas/messaging';
import { ulid } from 'ulid';
import { startNatsServer } from '@gas/testing';
import { createLogger, createRegistry } from '@gas/runtime';
import {
  create,
  createClient,
  fromBinary,
  GenomeBuild,
  JobRequestedSchema,
  JobService,
  AccountService,
  JobStatus,
  Plan,
  Status,
  AccountEventSchema,
} from '@gas/proto';
import type { ServiceClient } from '@gas/proto';
import { Writable } from 'node:stream';
import { createJobApp } from '../src/app.ts';
import { IdempotencyStore } from '../src/idempotency-store.ts';
import { Kvm } from '@nats-io/kv';
import type { JobApp } from '../src/app.ts';

// Stopped in reverse order at the end (tap runs teardowns last registered first).
const nats = await startNatsServer();
t.teardown(() => nats.stop());
const nc: NatsConnection = await connect({ servers: nats.url });
t.teardown(() => nc.close());
const logger = createLogger({ service: 'job', level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const app: JobApp = createJobApp({
  config: { grpcHost: '127.0.0.1', grpcPort: 0, idempotencyTtlHours: 1, eventsMaxAgeDays: 1, natsReplicas: 1 },
  nc,
  logger,
  registry: createRegistry('job'),
  staleClaimMs: 300,
});
const port = await app.start();
t.teardown(() => app.stop(500));
const jobs: ServiceClient<typeof JobService> = createClient(JobService, `127.0.0.1:${port}`, { defaultDeadlineMs: 5000 });
const accounts: ServiceClient<typeof AccountService> = createClient(AccountService, `127.0.0.1:${port}`, { defaultDeadlineMs: 5000 });
t.teardown(() => {
  jobs.close();
  accounts.close();
});

/** What an RpcError with status `c` matches (t.rejects / t.throws pattern). */
const code = (c: Status) => ({ name: 'RpcError', code: c });

async function newJob(userId: string, idempotencyKey = '') {
  const jobId = ulid();
  return jobs.createJob({
    userId,
    jobId,
    genomeBuild: GenomeBuild.GRCH37,
    inputName: 'a.vcf',
    inputSize: 10n,
    inputKey: `${userId}/${jobId}/a.vcf`,
    idempotencyKey,
  });
}

t.test('create validates its input with INVALID_ARGUMENT', async (t) => {
  const jobId = ulid();
  const base = { userId: 'u1', jobId, genomeBuild: GenomeBuild.GRCH37, inputName: 'a.vcf', inputKey: `u1/${jobId}/a.vcf` };
  await t.rejects(jobs.createJob({ ...base, userId: 'bad user' }), code(Status.INVALID_ARGUMENT));
  await t.rejects(jobs.createJob({ ...base, jobId: 'not-a-ulid' }), code(Status.INVALID_ARGUMENT));
  await t.rejects(jobs.createJob({ ...base, genomeBuild: GenomeBuild.UNSPECIFIED }), code(Status.INVALID_ARGUMENT));
  await t.rejects(jobs.createJob({ ...base, inputKey: `u2/${jobId}/a.vcf` }), code(Status.INVALID_ARGUMENT));
  await t.rejects(jobs.getJob({ userId: 'u1', jobId: ulid() }), code(Status.NOT_FOUND));
});

t.test('a job is queued once on GAS_JOBS with its sequence recorded', async (t) => {
  const { job, created } = await newJob('u1');
  t.ok(created);
  t.equal(job!.status, JobStatus.PENDING);
  t.ok(job!.queueSequence > 0n);
  const jsm = await jetstreamManager(nc);
  const msg = await jsm.streams.getMessage('GAS_JOBS', { seq: Number(job!.queueSequence) });
  t.ok(msg);
  t.equal(msg?.subject, 'gas.jobs.requested');
  t.equal(msg?.header?.get('Nats-Msg-Id'), job!.jobId);
});

t.test('a CreateJob retried after its first call died between publishing and writing the job', async (t) => {
  const jsm = await jetstreamManager(nc);
  const jobId = ulid();
  const req = { userId: 'u1', jobId, genomeBuild: GenomeBuild.GRCH37, inputName: 'a.vcf', inputSize: 10n, inputKey: `u1/${jobId}/a.vcf` };
  // The first call's request, published with the job id as its message id, as createJob does.
  const first = await publishProto(jetstream(nc), subjects.jobRequested, JobRequestedSchema, create(JobRequestedSchema, req), jobId);

  t.test('its request still queued: the retry keeps it, no second request', async (t) => {
    const { job, created } = await jobs.createJob(req);
    t.ok(created);
    t.equal(job!.queueSequence, BigInt(first.seq));
  });

  t.test('its request already dropped (no job when an annotator took it): the retry queues the job again', async (t) => {
    const jobId2 = ulid();
    const req2 = { ...req, jobId: jobId2, inputKey: `u1/${jobId2}/a.vcf` };
    const dropped = await publishProto(jetstream(nc), subjects.jobRequested, JobRequestedSchema, create(JobRequestedSchema, req2), jobId2);
    await jsm.streams.deleteMessage('GAS_JOBS', dropped.seq);
    const { job } = await jobs.createJob(req2);
    t.ok(job!.queueSequence > BigInt(dropped.seq), 'a new request');
    const msg = await jsm.streams.getMessage('GAS_JOBS', { seq: Number(job!.queueSequence) });
    t.equal(fromBinary(JobRequestedSchema, msg!.data).jobId, jobId2);
    t.match(msg?.header?.get('Nats-Msg-Id'), new RegExp(`^${jobId2}\\.again\\.`));
  });
});

t.test("the upload's warnings are kept on the job, and replaced by the annotator's of the same code at completion", async (t) => {
  const jobId = ulid();
  const warning = { code: 'build_mismatch', message: 'This file looks like GRCh37 (contig lengths), but it was annotated as GRCh38' };
  const { job } = await jobs.createJob({
    userId: 'u7',
    jobId,
    genomeBuild: GenomeBuild.GRCH38,
    inputName: 'a.vcf',
    inputSize: 10n,
    inputKey: `u7/${jobId}/a.vcf`,
    idempotencyKey: '',
    warnings: [warning],
  });
  t.match(job!.warnings, [warning]);
  t.match((await jobs.getJob({ userId: 'u7', jobId })).job!.warnings, [warning], 'stored');
  await jobs.claimJob({ userId: 'u7', jobId, attempt: 1, annotatorId: 'a' });
  const later = { code: 'build_mismatch', message: 'from the whole header' };
  const { job: done } = await jobs.completeJob({ userId: 'u7', jobId, attempt: 1, resultKeys: {}, resultSize: 0n, warnings: [later] });
  t.match(done!.warnings, [later]);
  t.equal(done!.warnings.length, 1);
});

t.test("the plan's input limits are kept on the job, for the annotator that claims it", async (t) => {
  const jobId = ulid();
  const inputLimits = { maxDecompressedBytes: 1n << 30n, maxRecords: 5_000_000n, plan: 'free', beyond: 'premium allows 64 GiB' };
  await jobs.createJob({
    userId: 'limits-user',
    jobId,
    genomeBuild: GenomeBuild.GRCH37,
    inputName: 'a.vcf',
    inputSize: 10n,
    inputKey: `limits-user/${jobId}/a.vcf`,
    idempotencyKey: '',
    inputLimits,
  });
  const { job } = await jobs.claimJob({ userId: 'limits-user', jobId, attempt: 1, annotatorId: 'a' });
  t.match(job!.inputLimits, inputLimits);
});

t.test('the same idempotency key returns the first job; another user with the same key gets their own', async (t) => {
  const a = await newJob('u2', 'key-1');
  const b = await newJob('u2', 'key-1');
  const c = await newJob('u3', 'key-1');
  t.equal(b.job!.jobId, a.job!.jobId);
  t.equal(b.created, false);
  t.not(c.job!.jobId, a.job!.jobId);
  t.equal((await jobs.listJobs({ userId: 'u2' })).jobs.length, 1);
});

t.test('an idempotency key claimed by a call that died before creating its job is taken over once stale', async (t) => {
  const kv = await new Kvm(nc).open('gas-idempotency');
  const store = new IdempotencyStore(kv);
  t.equal(await store.claim('u9', 'crashed-key', ulid()), null); // a call that then died
  await t.rejects(newJob('u9', 'crashed-key'), code(Status.ABORTED)); // might still be running
  // The claim goes stale once staleClaimMs (300 ms here) has passed: that time passing is the
  // behaviour under test, so this sleep stays.
  await new Promise((r) => setTimeout(r, 400));
  const retried = await newJob('u9', 'crashed-key');
  t.equal(retried.created, true);
  const again = await newJob('u9', 'crashed-key');
  t.equal(again.job!.jobId, retried.job!.jobId);
  t.equal(again.created, false);
});

t.test('concurrent claims of one job by different deliveries: exactly one attempt wins each step', async (t) => {
  const { job } = await newJob('u4');
  const id = { userId: 'u4', jobId: job!.jobId };
  // Ten annotators race with the same attempt: one claim succeeds, the rest are refused.
  const results = await Promise.allSettled(
    Array.from({ length: 10 }, (_, i) => jobs.claimJob({ ...id, attempt: 1, annotatorId: `a${i}` })),
  );
  const won = results.filter((r) => r.status === 'fulfilled');
  t.equal(won.length, 1, JSON.stringify(results.map((r) => r.status)));
  for (const r of results) if (r.status === 'rejected') t.match(r.reason, code(Status.FAILED_PRECONDITION), String(r.reason));
  const owner = (won[0] as PromiseFulfilledResult<{ job?: { annotatorId: string } }>).value.job!.annotatorId;
  // Completions race too: only the owning attempt can complete, and only once.
  const completes = await Promise.allSettled([
    jobs.completeJob({ ...id, attempt: 1, resultKeys: { vcf: 'k' }, resultSize: 1n, counts: { records: 3n } }),
    jobs.completeJob({ ...id, attempt: 2, resultKeys: { vcf: 'k2' }, resultSize: 1n }),
  ]);
  t.equal(completes[0].status, 'fulfilled');
  t.equal(completes[1].status, 'rejected');
  const { job: done } = await jobs.getJob(id);
  t.equal(done!.status, JobStatus.COMPLETED);
  t.equal(done!.annotatorId, owner);
  t.equal(done!.resultKeys.vcf, 'k');
  t.equal(done!.counts?.records, 3n);
});

t.test('list pages newest first and filters by status', async (t) => {
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await newJob('u5')).job!.jobId);
  await jobs.claimJob({ userId: 'u5', jobId: ids[0]!, attempt: 1, annotatorId: 'a' });
  const p1 = await jobs.listJobs({ userId: 'u5', pageSize: 2 });
  const p2 = await jobs.listJobs({ userId: 'u5', pageSize: 2, pageToken: p1.nextPageToken });
  const p3 = await jobs.listJobs({ userId: 'u5', pageSize: 2, pageToken: p2.nextPageToken });
  t.strictSame(
    [...p1.jobs, ...p2.jobs, ...p3.jobs].map((j) => j.jobId),
    [...ids].reverse(),
  );
  t.equal(p3.nextPageToken, '');
  const running = await jobs.listJobs({ userId: 'u5', status: JobStatus.RUNNING });
  t.strictSame(
    running.jobs.map((j) => j.jobId),
    [ids[0]],
  );
  t.equal((await jobs.listJobs({ userId: 'nobody' })).jobs.length, 0);
});

t.test('queue position counts the waiting jobs ahead', async (t) => {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.purge('GAS_JOBS');
  const a = (await newJob('u6')).job!;
  const b = (await newJob('u6')).job!;
  const c = (await newJob('u7')).job!;
  const pos = async (userId: string, jobId: string) => Number((await jobs.getQueuePosition({ userId, jobId })).position);
  t.equal(await pos('u6', a.jobId), 1);
  t.equal(await pos('u6', b.jobId), 2);
  t.equal(await pos('u7', c.jobId), 3);
  // Job a leaves the queue (its request is acked): everyone moves up.
  await jsm.streams.deleteMessage('GAS_JOBS', Number(a.queueSequence));
  await jobs.claimJob({ userId: 'u6', jobId: a.jobId, attempt: 1, annotatorId: 'x' });
  t.equal(await pos('u6', a.jobId), 0);
  t.equal(await pos('u6', b.jobId), 1);
  t.equal(await pos('u7', c.jobId), 2);

  t.test("several at once: the same places, only for the asking user's waiting jobs", async (t) => {
    const d = (await newJob('u6')).job!;
    const res = await jobs.getQueuePositions({ userId: 'u6', jobIds: [a.jobId, b.jobId, c.jobId, d.jobId, b.jobId, ulid()] });
    t.strictSame(res.positions, { [b.jobId]: 1n, [d.jobId]: 3n }, "a is running, c is u7's, the last does not exist");
    t.equal(res.queueDepth, 3n);
    t.strictSame((await jobs.getQueuePositions({ userId: 'u6', jobIds: [] })).positions, {});
    await t.rejects(jobs.getQueuePositions({ userId: 'u6', jobIds: ['nope'] }), code(Status.INVALID_ARGUMENT));
    await t.rejects(
      jobs.getQueuePositions({ userId: 'u6', jobIds: Array.from({ length: 101 }, () => ulid()) }),
      code(Status.INVALID_ARGUMENT),
    );
  });
});

t.test('watch streams the current jobs and then each change', async (t) => {
  const { job } = await newJob('u8');
  const ac = new AbortController();
  const seen: JobStatus[] = [];
  let firstUpdate: () => void = () => undefined;
  const watchOpen = new Promise<void>((resolve) => (firstUpdate = resolve));
  const watching = (async () => {
    for await (const { job: j } of jobs.watchJobs({ userId: 'u8' }, { signal: ac.signal, deadlineMs: 30_000 })) {
      seen.push(j!.status);
      firstUpdate();
      if (j!.status === JobStatus.FAILED) ac.abort();
    }
  })();
  // The job's current state (PENDING) is the watch's first update: once it has arrived, the KV watch
  // is open and sees every later change. (A stream that ends or fails first ends the wait too.)
  await Promise.race([watchOpen, watching]);
  await jobs.claimJob({ userId: 'u8', jobId: job!.jobId, attempt: 1, annotatorId: 'a' });
  await jobs.failJob({ userId: 'u8', jobId: job!.jobId, attempt: 1, reason: 'line 3: POS: bad' });
  await watching;
  t.strictSame(seen, [JobStatus.PENDING, JobStatus.RUNNING, JobStatus.FAILED]);
  const { job: failed } = await jobs.getJob({ userId: 'u8', jobId: job!.jobId });
  t.equal(failed!.failureReason, 'line 3: POS: bad');
});

t.test('accounts: upsert keeps the plan and the address; set plan publishes one upgrade event', async (t) => {
  const created = await accounts.upsertAccount({ account: { userId: 'acc1', email: 'a@example.org', name: 'A' } });
  t.equal(created.created, true);
  t.equal(created.account!.plan, Plan.FREE);
  await t.rejects(accounts.upsertAccount({ account: { userId: 'acc1', email: 'not an email' } }), code(Status.INVALID_ARGUMENT));
  const up = await accounts.setPlan({ userId: 'acc1', plan: Plan.PREMIUM, billingCustomerId: 'cus_1' });
  t.equal(up.account!.plan, Plan.PREMIUM);
  const again = await accounts.upsertAccount({ account: { userId: 'acc1', email: 'b@example.org' } });
  // A repeated SetPlan after a profile edit is still the same plan change: no second event.
  await accounts.setPlan({ userId: 'acc1', plan: Plan.PREMIUM });
  t.equal(again.account!.plan, Plan.PREMIUM);
  t.equal(again.account!.email, 'a@example.org', 'nor the address: only ChangeEmail changes it');
  await t.rejects(accounts.setPlan({ userId: 'ghost', plan: Plan.PREMIUM }), code(Status.NOT_FOUND));
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info('GAS_EVENTS', { subjects_filter: 'gas.events.account.>' });
  t.equal(info.state.subjects?.['gas.events.account.upgraded'], 1);
  const last = await jsm.streams.getMessage('GAS_EVENTS', { last_by_subj: 'gas.events.account.upgraded' });
  t.ok(last);
  t.equal(last && fromBinary(AccountEventSchema, last.data).account?.billingCustomerId, 'cus_1');
});
