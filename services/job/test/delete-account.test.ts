// DeleteAccount in-process against a real nats-server: every finished job of the account goes as
// DeleteJob deletes one (one job.deleted each), then one account.deleted and the record; nothing
// goes while a job is queued or running; a repeat is safe; a job that appears while the deletion
// runs is deleted too, or refuses the call if it is queued; SetPlan cannot bring the account back.
import t from 'tap';
import { Writable } from 'node:stream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { publishProto, streamNames, subjects } from '@gas/messaging';
import { ulid } from 'ulid';
import { startNatsServer } from '@gas/testing';
import { createLogger, createRegistry } from '@gas/runtime';
import {
  addService,
  create,
  createClient,
  fromBinary,
  startGrpcServer,
  AccountEventKind,
  AccountEventSchema,
  AccountService,
  GenomeBuild,
  JobEventSchema,
  JobService,
  JobStatus,
  Plan,
  ResultState,
  Status,
} from '@gas/proto';
import type { Account, Job } from '@gas/proto';
import { createJobApp, buckets } from '../src/app.ts';
import { AccountStore } from '../src/account-store.ts';
import { JobStore } from '../src/job-store.ts';
import { IdempotencyStore } from '../src/idempotency-store.ts';
import { createJobDeletion } from '../src/job-deletion.ts';
import { createAccountService } from '../src/account-service.ts';

const nats = await startNatsServer();
t.teardown(() => nats.stop());
const nc: NatsConnection = await connect({ servers: nats.url });
t.teardown(() => nc.close());
const logLines: Array<Record<string, unknown>> = [];
const logger = createLogger({
  service: 'job',
  level: 'info',
  destination: new Writable({
    write: (chunk, _e, cb) => {
      for (const line of String(chunk).split('\n')) if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  }),
});
const registry = createRegistry('job');
const app = createJobApp({
  config: { grpcHost: '127.0.0.1', grpcPort: 0, idempotencyTtlHours: 1, eventsMaxAgeDays: 1, natsReplicas: 1 },
  nc,
  logger,
  registry,
});
const port = await app.start();
t.teardown(() => app.stop(500));
const jobs = createClient(JobService, `127.0.0.1:${port}`, { defaultDeadlineMs: 10_000 });
t.teardown(() => jobs.close());
const accounts = createClient(AccountService, `127.0.0.1:${port}`, { defaultDeadlineMs: 10_000 });
t.teardown(() => accounts.close());
const jsm = await jetstreamManager(nc);
const js = jetstream(nc);
const kvm = new Kvm(js);

const code = (c: Status) => ({ name: 'RpcError', code: c });

async function signUp(userId: string): Promise<Account> {
  return (await accounts.upsertAccount({ account: { userId, email: `${userId}@example.org`, name: userId } })).account!;
}

async function pending(userId: string, idempotencyKey = ''): Promise<Job> {
  const jobId = ulid();
  const res = await jobs.createJob({
    userId,
    jobId,
    genomeBuild: GenomeBuild.GRCH38,
    inputName: 'a.vcf',
    inputSize: 10n,
    inputKey: `${userId}/${jobId}/a.vcf`,
    idempotencyKey,
  });
  return res.job!;
}

async function running(userId: string, idempotencyKey = ''): Promise<Job> {
  const job = await pending(userId, idempotencyKey);
  return (await jobs.claimJob({ userId, jobId: job.jobId, attempt: 1, annotatorId: 'a1' })).job!;
}

async function completed(userId: string): Promise<Job> {
  const job = await running(userId);
  const resultKeys = { vcf: `${userId}/${job.jobId}/a.annot.vcf.gz`, tsv: `${userId}/${job.jobId}/a.annot.tsv.gz` };
  return (await jobs.completeJob({ userId, jobId: job.jobId, attempt: 1, resultKeys, resultSize: 5n })).job!;
}

async function failed(userId: string, idempotencyKey = ''): Promise<Job> {
  const job = await running(userId, idempotencyKey);
  return (await jobs.failJob({ userId, jobId: job.jobId, attempt: 1, reason: 'line 3: POS: bad' })).job!;
}

async function archived(userId: string): Promise<Job> {
  const job = await completed(userId);
  return (await jobs.markArchived({ userId, jobId: job.jobId, archiveKeys: { vcf: job.resultKeys.vcf! } })).job!;
}

const listed = async (userId: string) => (await jobs.listJobs({ userId, pageSize: 100 })).jobs.map((j) => j.jobId).sort();

/** The events of a user on `subject`, oldest first, with their Nats-Msg-Id. */
async function eventsOf(userId: string, subject: string) {
  const info = await jsm.streams.info(streamNames.events);
  const out: Array<{ msgId: string | undefined; data: Uint8Array }> = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(streamNames.events, { seq }).catch(() => null);
    if (m?.subject !== subject) continue;
    const owner = subject.includes('.job.')
      ? fromBinary(JobEventSchema, m.data).job?.userId
      : fromBinary(AccountEventSchema, m.data).account?.userId;
    if (owner === userId) out.push({ msgId: m.header?.get('Nats-Msg-Id'), data: m.data });
  }
  return out;
}
const jobDeletedEvents = async (userId: string) =>
  (await eventsOf(userId, subjects.jobEvent('deleted'))).map((e) => ({ msgId: e.msgId, event: fromBinary(JobEventSchema, e.data) }));
const accountDeletedEvents = async (userId: string) =>
  (await eventsOf(userId, subjects.accountEvent('deleted'))).map((e) => ({
    msgId: e.msgId,
    event: fromBinary(AccountEventSchema, e.data),
  }));

const counter = async (name: string) => {
  const m = await registry.getSingleMetric(name)!.get();
  return m.values.reduce((n, v) => n + v.value, 0);
};

t.test('an account with finished jobs: every job and the account go, one event each', async (t) => {
  const account = await signUp('gone1');
  const mine = [await completed('gone1'), await failed('gone1', 'upload-1'), await archived('gone1')];
  t.equal(mine[2]!.resultState, ResultState.ARCHIVED);
  const theirs = [await completed('stays1'), await pending('stays1')];
  await signUp('stays1');
  // A claim whose job was never created (the call died in between): it goes with the account.
  const idem = await kvm.open(buckets.idempotency);
  await idem.put('gone1.0123456789abcdef0123456789abcdef01234567', ulid());
  const jobsBefore = await counter('gas_job_jobs_deleted_total');

  const res = await accounts.deleteAccount({ userId: 'gone1' });
  t.equal(res.jobsDeleted, 3);
  t.equal(res.accountFound, true);

  t.same(await listed('gone1'), [], 'no job left');
  for (const j of mine) await t.rejects(jobs.getJob({ userId: 'gone1', jobId: j.jobId }), code(Status.NOT_FOUND));
  await t.rejects(accounts.getAccount({ userId: 'gone1' }), code(Status.NOT_FOUND), 'the account is gone');

  const jobEvents = await jobDeletedEvents('gone1');
  t.same(jobEvents.map((e) => e.msgId).sort(), mine.map((j) => `${j.jobId}.deleted`).sort(), 'one job.deleted per job, as DeleteJob sends');
  t.same(
    jobEvents.find((e) => e.event.job?.jobId === mine[2]!.jobId)?.event.job?.archiveKeys,
    mine[2]!.archiveKeys,
    'with its archive copies',
  );

  const [only, ...more] = await accountDeletedEvents('gone1');
  t.equal(more.length, 0, 'one account.deleted');
  t.equal(only!.msgId, `gone1.deleted.${account.createdAt!.seconds}`, 'its id is fixed by the record');
  t.equal(only!.event.eventId, only!.msgId);
  t.equal(only!.event.kind, AccountEventKind.DELETED);
  t.match(only!.event.account, { userId: 'gone1', email: 'gone1@example.org' }, 'the record as it was, with the address to tell');

  t.same(await listed('stays1'), theirs.map((j) => j.jobId).sort(), "another user's jobs stay");
  t.ok((await accounts.getAccount({ userId: 'stays1' })).account, 'and their account');
  t.equal((await jobDeletedEvents('stays1')).length, 0);

  let keys = 0;
  for await (const _ of await idem.keys('gone1.*')) keys++;
  t.equal(keys, 0, 'no idempotency key of the user is left');
  t.equal((await pending('gone1', 'upload-1')).status, JobStatus.PENDING, 'a repeat of a deleted job key would make a new job');

  t.equal((await counter('gas_job_jobs_deleted_total')) - jobsBefore, 3, 'each job counts as a deleted job');
  t.equal(await counter('gas_job_accounts_deleted_total'), 1);
  const line = logLines.find((l) => l.msg === 'account deleted' && l.userId === 'gone1');
  t.match(line, { userId: 'gone1', jobsDeleted: 3, accountFound: true }, 'one log line with the user and the count');
  t.notOk(JSON.stringify(logLines.filter((l) => l.userId === 'gone1')).includes('@example.org'), 'no address in any log line of it');
});

t.test('a repeat is safe: nothing more published; a job left behind is deleted, the account not found', async (t) => {
  await signUp('gone2');
  await completed('gone2');
  t.equal((await accounts.deleteAccount({ userId: 'gone2' })).jobsDeleted, 1);
  const again = await accounts.deleteAccount({ userId: 'gone2' });
  t.same({ jobsDeleted: again.jobsDeleted, accountFound: again.accountFound }, { jobsDeleted: 0, accountFound: false });
  t.equal((await accountDeletedEvents('gone2')).length, 1, 'no second account.deleted');

  // A job that outlived the account (created after the last listing of a deletion).
  const late = await failed('gone2');
  const third = await accounts.deleteAccount({ userId: 'gone2' });
  t.same({ jobsDeleted: third.jobsDeleted, accountFound: third.accountFound }, { jobsDeleted: 1, accountFound: false });
  t.same(await listed('gone2'), []);
  t.equal((await jobDeletedEvents('gone2')).filter((e) => e.event.job?.jobId === late.jobId).length, 1);
  t.equal((await accountDeletedEvents('gone2')).length, 1, 'still one account.deleted');

  const never = await accounts.deleteAccount({ userId: 'never-signed-up' });
  t.same({ jobsDeleted: never.jobsDeleted, accountFound: never.accountFound }, { jobsDeleted: 0, accountFound: false });
  await t.rejects(accounts.deleteAccount({ userId: 'not a user' }), code(Status.INVALID_ARGUMENT));
});

t.test('a call cut short after its event is finished by the next, with the same event id', async (t) => {
  const account = await signUp('gone3');
  // What the first call published before it died: the record stayed.
  const eventId = `gone3.deleted.${account.createdAt!.seconds}`;
  const event = create(AccountEventSchema, { eventId, kind: AccountEventKind.DELETED, account });
  await publishProto(js, subjects.accountEvent('deleted'), AccountEventSchema, event, eventId);
  t.equal((await accounts.deleteAccount({ userId: 'gone3' })).accountFound, true);
  await t.rejects(accounts.getAccount({ userId: 'gone3' }), code(Status.NOT_FOUND));
  t.equal((await accountDeletedEvents('gone3')).length, 1, 'JetStream dropped the copy');
});

t.test('a queued or running job refuses the call with FAILED_PRECONDITION, and nothing is deleted', async (t) => {
  await signUp('busy');
  const done = await completed('busy');
  const queued = await pending('busy');
  const before = await listed('busy');
  await t.rejects(accounts.deleteAccount({ userId: 'busy' }), {
    ...code(Status.FAILED_PRECONDITION),
    message: /1 job is still queued; wait until it finishes, then delete the account$/,
  });
  const run = await running('busy');
  await t.rejects(accounts.deleteAccount({ userId: 'busy' }), {
    ...code(Status.FAILED_PRECONDITION),
    message: /2 jobs are still queued or running \(1 queued, 1 running\); wait until they finish, then delete the account$/,
  });
  t.same(await listed('busy'), [...before, run.jobId].sort(), 'every job stays');
  t.equal((await jobDeletedEvents('busy')).length, 0, 'no job.deleted');
  t.ok((await accounts.getAccount({ userId: 'busy' })).account, 'the account stays');
  t.equal((await accountDeletedEvents('busy')).length, 0, 'no account.deleted');

  // Restoring archived results refuse it too.
  await jobs.completeJob({ userId: 'busy', jobId: run.jobId, attempt: 1, resultKeys: { vcf: 'busy/x/a.annot.vcf.gz' }, resultSize: 1n });
  await jobs.claimJob({ userId: 'busy', jobId: queued.jobId, attempt: 1, annotatorId: 'a1' });
  await jobs.failJob({ userId: 'busy', jobId: queued.jobId, attempt: 1, reason: 'bad' });
  await jobs.markArchived({ userId: 'busy', jobId: done.jobId, archiveKeys: { vcf: done.resultKeys.vcf! } });
  await jobs.markRestoring({ userId: 'busy', jobId: done.jobId });
  await t.rejects(accounts.deleteAccount({ userId: 'busy' }), {
    ...code(Status.FAILED_PRECONDITION),
    message: /1 job is still restoring; wait until it finishes/,
  });
  await jobs.markRestored({ userId: 'busy', jobId: done.jobId });
  t.equal((await accounts.deleteAccount({ userId: 'busy' })).jobsDeleted, 3, 'once they are finished, all go');
});

t.test('SetPlan and the other account calls on a deleted account answer NOT_FOUND and bring nothing back', async (t) => {
  await signUp('gone4');
  await accounts.setPlan({ userId: 'gone4', plan: Plan.PREMIUM, billingCustomerId: 'cus_1' });
  await accounts.deleteAccount({ userId: 'gone4' });
  // The billing webhook after a cancellation.
  await t.rejects(accounts.setPlan({ userId: 'gone4', plan: Plan.FREE }), code(Status.NOT_FOUND));
  await t.rejects(accounts.noteSignUpAttempt({ userId: 'gone4' }), code(Status.NOT_FOUND));
  await t.rejects(accounts.getAccount({ userId: 'gone4' }), code(Status.NOT_FOUND), 'still no account');
  t.equal((await eventsOf('gone4', subjects.accountEvent('downgraded'))).length, 0, 'no downgrade announced');
});

t.test('jobs that appear while the deletion runs: a finished one is deleted too, a queued one refuses', async (t) => {
  // A second replica whose DeleteJob path makes a job of the user while the first deletion runs.
  const jobStore = new JobStore(await kvm.open(buckets.jobs), jsm, buckets.jobs);
  t.teardown(() => jobStore.closeIndex());
  const deps = {
    jobs: jobStore,
    idempotency: new IdempotencyStore(await kvm.open(buckets.idempotency)),
    js,
    logger,
    registry: createRegistry('job'),
  };
  const deleteJob = createJobDeletion(deps);
  const accountStore = new AccountStore(await kvm.open(buckets.accounts));
  let during: (() => Promise<Job>) | undefined;
  const made: Job[] = [];
  const server = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    serviceNames: [AccountService.typeName],
    register: (s) =>
      addService(
        s,
        AccountService,
        createAccountService({
          ...deps,
          accounts: accountStore,
          deleteJob: async (userId, jobId) => {
            const make = during;
            during = undefined;
            if (make) made.push(await make());
            return deleteJob(userId, jobId);
          },
        }),
      ),
  });
  t.teardown(() => server.shutdown(500));
  const racing = createClient(AccountService, `127.0.0.1:${server.port}`, { defaultDeadlineMs: 10_000 });
  t.teardown(() => racing.close());

  await signUp('race1');
  await completed('race1');
  during = () => failed('race1');
  const res = await racing.deleteAccount({ userId: 'race1' });
  t.equal(res.jobsDeleted, 2, 'the job that appeared was deleted in the next round');
  t.same(await listed('race1'), []);
  const ids = (await jobDeletedEvents('race1')).map((e) => e.event.job?.jobId);
  t.equal(ids.length, 2, 'one job.deleted each');
  t.ok(ids.includes(made[0]!.jobId));

  await signUp('race2');
  await completed('race2');
  await completed('race2');
  during = () => pending('race2');
  await t.rejects(racing.deleteAccount({ userId: 'race2' }), {
    ...code(Status.FAILED_PRECONDITION),
    message:
      /^1 job is still queued; wait until it finishes, then delete the account \(this call deleted 2 finished jobs first; the account is still there\)$/,
  });
  t.same(await listed('race2'), [made[1]!.jobId], 'only the queued job is left');
  t.ok((await accounts.getAccount({ userId: 'race2' })).account, 'and the account');
  t.equal((await accountDeletedEvents('race2')).length, 0);
});
