// A deleted account's events, and a deleted job's, leave GAS_EVENTS, but never ahead of a durable
// consumer that has not handled them (the archive service needs job.deleted and account.deleted to
// delete the files). The real job and notification services on nats-server, and an SMTP server; the
// account and the job are deleted through the job service's DeleteAccount and DeleteJob, as the
// gateway does. A durable consumer named
// like the archive service's stands for it, and the test acknowledges its messages when it chooses.
import t from 'tap';
import { Kvm } from '@nats-io/kv';
import { consumerSpecs, decodeProto, ensureConsumer, publishProto, streamNames, subjects } from '@gas/messaging';
import {
  create,
  timestampFromDate,
  AccountEventSchema,
  AccountSchema,
  JobEventKind,
  JobEventSchema,
  JobSchema,
  JobStatus,
  NotificationPrefsSchema,
  Plan,
} from '@gas/proto';
import { createLogger, createRegistry } from '@gas/runtime';
import { buckets } from '../src/app.ts';
import { ErasureRequests, EventEraser } from '../src/event-erasure.ts';
import { createNotificationMetrics } from '../src/notification-metrics.ts';
import { jobEventFixtures, ulid } from './job-event-fixtures.ts';
import { mailingNotificationStack } from './stack-fixtures.ts';
import { eventStreamFixtures } from './stream-fixtures.ts';

const EVENTS = streamNames.events;
const GONE = 'rae';
const STAYS = 'sol';
const emailOf = (userId: string) => `${userId}.private@example.org`;
const PRIVATE_FILE = 'Rae Q Private 1961-04-02.vcf';

const { smtp, stack, jsm, js, accounts, jobs } = await mailingNotificationStack({
  name: 'event-erasure-test',
  env: { notification: { NOTIFICATION_ERASE_INTERVAL_MS: '200' } },
});
const quiet = createLogger({ service: 'test', level: 'silent' });
const { completedJob, eventsHandled } = jobEventFixtures({ stack, jsm, jobs });
const { storedEvents, storeFilesHolding } = eventStreamFixtures({ stack, jsm });

// Stands for the archive service: created before any event, so it holds every one until acknowledged here.
const archive = consumerSpecs.archive();
await ensureConsumer(jsm, EVENTS, archive);

/** Acknowledges, for the stand-in archive consumer, every event the stream holds now. */
async function archiveHandlesAll(): Promise<void> {
  const consumer = await js.consumers.get(EVENTS, archive.durable_name);
  for (;;) {
    const info = await consumer.info();
    if (info.num_pending === 0 && info.num_ack_pending === 0) return;
    for await (const m of await consumer.fetch({ max_messages: 500, expires: 1000 })) m.ack();
  }
}

/** Whose event a stored message is. */
function ownerOf(m: { subject: string; data: Uint8Array }): string {
  if (m.subject.startsWith('gas.events.job.')) return decodeProto(JobEventSchema, m.data).job?.userId ?? '';
  return decodeProto(AccountEventSchema, m.data).account?.userId ?? '';
}
const seqsOf = async (userId: string) => (await storedEvents()).filter((m) => ownerOf(m) === userId).map((m) => m.seq);

async function erasedCount(deleted: 'account' | 'job' = 'account'): Promise<number> {
  const m = new RegExp(`^gas_notification_events_erased_total\\{[^}]*deleted="${deleted}"[^}]*\\} (\\S+)$`, 'm').exec(
    await stack.metrics('notification'),
  );
  return m ? Number(m[1]) : 0;
}

/** The NATS store files of GAS_EVENTS that still hold `text`. */
const eventFilesHolding = async (text: string) => (await storeFilesHolding(Buffer.from(text))).filter((f) => f.includes(EVENTS));

const every = create(NotificationPrefsSchema, { emailOnCompletion: true, emailOnFailure: true });
for (const userId of [GONE, STAYS])
  await accounts.upsertAccount({
    account: create(AccountSchema, { userId, email: emailOf(userId), name: `${userId} the owner`, notifications: every }),
  });

let goneBefore: number[] = [];
let staysBefore: number[] = [];

t.test('a deleted account keeps its events while a durable consumer has not handled them', async (t) => {
  await completedJob(GONE, PRIVATE_FILE);
  await accounts.setPlan({ userId: GONE, plan: Plan.PREMIUM });
  await completedJob(STAYS, 'sol.vcf');
  const res = await accounts.deleteAccount({ userId: GONE });
  t.equal(res.jobsDeleted, 1);
  await smtp.waitFor(
    (ms) => ms.some((m) => m.envelope.to.includes(emailOf(GONE)) && m.subject === 'GAS: Your account was deleted'),
    30_000,
  );
  await eventsHandled();
  goneBefore = await seqsOf(GONE);
  staysBefore = await seqsOf(STAYS);
  // completed, upgraded, deleted (the job), deleted (the account); the account's upsert published nothing.
  t.ok(goneBefore.length >= 4, `the user's events are in the stream (${goneBefore.length})`);
  const request = await (await new Kvm(js).open(buckets.erasures)).get(GONE);
  t.equal(request?.operation, 'PUT', 'the erasure is requested');
  // Five passes of the eraser's 200 ms interval.
  await new Promise((r) => setTimeout(r, 1000));
  t.strictSame(await seqsOf(GONE), goneBefore, 'nothing erased ahead of the archive consumer');
  t.equal((await erasedCount()) + (await erasedCount('job')), 0);
  t.ok((await eventFilesHolding(PRIVATE_FILE)).length > 0, 'the file name is still in the stream files');
});

t.test('once every durable consumer has handled them, every event of the user is erased, and only those', async (t) => {
  await archiveHandlesAll();
  await stack.eventually(
    () => seqsOf(GONE),
    (s) => s.length === 0,
    15_000,
  );
  t.strictSame(await seqsOf(STAYS), staysBefore, "the other user's events stay");
  t.equal(await erasedCount(), goneBefore.length, 'each erased event counted once');
  const left = await stack.eventually(
    async () => [...(await eventFilesHolding(PRIVATE_FILE)), ...(await eventFilesHolding(emailOf(GONE)))],
    (files) => files.length === 0,
    15_000,
  );
  t.strictSame(left, [], "the file name and the address are overwritten in the stream's files, not only marked deleted");
});

t.test('a late event of the deleted user is erased too, once handled', async (t) => {
  const before = await erasedCount();
  const job = create(JobSchema, { userId: GONE, jobId: ulid(), inputName: 'Rae late.vcf', status: JobStatus.COMPLETED });
  const late = create(JobEventSchema, {
    eventId: `${job.jobId}.completed`,
    kind: JobEventKind.COMPLETED,
    job,
    occurredAt: timestampFromDate(new Date()),
  });
  await publishProto(js, subjects.jobEvent('completed'), JobEventSchema, late, late.eventId);
  await completedJob(STAYS, 'sol-2.vcf');
  await eventsHandled();
  t.equal((await seqsOf(GONE)).length, 1, 'held while the archive consumer has not handled it');
  await archiveHandlesAll();
  await stack.eventually(
    () => seqsOf(GONE),
    (s) => s.length === 0,
    15_000,
  );
  t.equal(await erasedCount(), before + 1);
  t.equal((await seqsOf(STAYS)).length, staysBefore.length + 1, "the other user's new event stays");
});

t.test("a deleted job's events are erased once handled, and the request ends; the user's other jobs keep theirs", async (t) => {
  const kept = await completedJob(STAYS, 'sol-kept.vcf');
  const deleted = await completedJob(STAYS, 'Sol private 1972-09-09.vcf');
  await jobs.deleteJob({ userId: STAYS, jobId: deleted });
  await eventsHandled();
  const ofJob = async (jobId: string) =>
    (await storedEvents()).filter(
      (m) => m.subject.startsWith('gas.events.job.') && decodeProto(JobEventSchema, m.data).job?.jobId === jobId,
    );
  t.equal((await ofJob(deleted)).length, 2, 'completed and deleted, held while the archive consumer has not handled them');
  const requests = await new Kvm(js).open(buckets.erasures);
  t.equal((await requests.get(`${STAYS}.${deleted}`))?.operation, 'PUT', 'the erasure is requested');
  await archiveHandlesAll();
  await stack.eventually(
    () => ofJob(deleted),
    (m) => m.length === 0,
    15_000,
  );
  t.equal(await erasedCount('job'), 2);
  t.equal((await ofJob(kept)).length, 1, "the other job's event stays");
  await stack.eventually(
    async () => (await requests.get(`${STAYS}.${deleted}`))?.operation,
    (op) => op !== 'PUT',
    15_000,
  );
  t.pass('the request ended once the passes were past its job.deleted');
  t.strictSame(await eventFilesHolding('Sol private 1972-09-09.vcf'), [], 'the file name is overwritten');
});

t.test('a request ends once the stream has aged out everything from before it', async (t) => {
  const kv = await new Kvm(js).open(buckets.erasures);
  const requests = new ErasureRequests(kv);
  const eraser = new EventEraser({
    js,
    jsm,
    requests,
    eventsMaxAgeDays: 7,
    intervalMs: 60_000,
    erased: createNotificationMetrics(createRegistry('erasure-test')).eventsErased,
    logger: quiet,
  });
  t.equal(await eraser.pass(new Date(Date.now() + 6 * 86_400_000)), 0, 'nothing left to erase');
  t.equal((await kv.get(GONE))?.operation, 'PUT', 'kept within the stream age');
  await eraser.pass(new Date(Date.now() + 8 * 86_400_000));
  t.not((await kv.get(GONE))?.operation, 'PUT', 'ended after it');
  // A user with no events, so the service's own passes have nothing to erase for it.
  const tia = async () => (await requests.all()).find((r) => r.key === 'tia');
  t.ok(await requests.request({ userId: 'tia' }));
  const first = await tia();
  t.ok(await requests.request({ userId: 'tia' }, { since: new Date() }));
  t.strictSame(await tia(), first, 'a repeated request (a redelivered account.deleted) changes nothing');
  t.notOk(await requests.request({ userId: 'tia', jobId: 'a.>' }), 'an id that could reach other keys is refused');
});
