// A deleted job takes its in-app notices with it: their titles name the uploaded file, and their
// links would lead to a 404 page. The real job and notification services on nats-server; jobs are
// finished and deleted through the job service's RPCs, as the annotator and the gateway do. Events
// of the deleted job handled after it (a redelivery of job.deleted or job.completed, a late
// job.archived) are published again by hand under a new Nats-Msg-Id, which is what a redelivery
// looks like to the handler.
import t from 'tap';
import { publishProto, subjects } from '@gas/messaging';
import { create, timestampFromDate, AccountSchema, JobEventKind, JobEventSchema, JobSchema, JobStatus } from '@gas/proto';
import type { JobEvent } from '@gas/proto';
import { jobEventFixtures, ulid } from './job-event-fixtures.ts';
import { notificationStack } from './stack-fixtures.ts';

const USER = 'gina';
const OTHER_USER = 'hal';

// These tests publish a deleted job's stored events again, as redeliveries: no erasure pass (an
// hour apart) takes them from the stream meanwhile. event-erasure.test.ts tests the erasure.
const { stack, jsm, js, accounts, jobs, notices, counter } = await notificationStack({
  name: 'job-deleted-test',
  env: { notification: { NOTIFICATION_ERASE_INTERVAL_MS: '3600000' } },
});
const { completedJob, eventsHandled, storedJobEvent, openNoticeWatch } = jobEventFixtures({ stack, jsm, jobs });

for (const userId of [USER, OTHER_USER])
  await accounts.upsertAccount({ account: create(AccountSchema, { userId, email: `${userId}@example.org`, name: userId }) });

/** Publishes the event again under a new Nats-Msg-Id: to the handler, a redelivery. */
const redeliver = (subject: string, event: JobEvent) =>
  publishProto(js, subject, JobEventSchema, event, `${event.eventId}.again.${ulid()}`);

/** A fresh ULID (the notice id's shape is the job id's: the time, then 80 bits from a random name). */

const list = (userId: string, jobId = '') => notices.listNotices({ userId, jobId, pageSize: 100 });

// Filled in by the first test, read by the later ones.
let deletedJob = '';
let keptJob = '';
let unreadAfter = 0;

t.test('deleting a job removes its notice, from the list and the unread count, live too; the other job keeps its own', async (t) => {
  deletedJob = await completedJob(USER, 'Jane Doe 1961.vcf');
  keptJob = await completedJob(USER, 'kept.vcf');
  const otherUsersJob = await completedJob(OTHER_USER, 'Jane Doe 1961.vcf');
  const before = await stack.eventually(
    () => list(USER),
    (r) => [deletedJob, keptJob].every((id) => r.notices.some((n) => n.jobId === id)),
    30_000,
  );
  t.equal(before.notices.find((n) => n.jobId === deletedJob)?.title, 'Jane Doe 1961.vcf is annotated', 'the notice names the file');
  t.equal(before.unreadCount, 2, 'both unread');
  await eventsHandled();

  // A browser's live stream, open while the job is deleted.
  const watch = await openNoticeWatch(notices, USER);
  t.teardown(watch.close);
  const seen = watch.seen;

  const res = await jobs.deleteJob({ userId: USER, jobId: deletedJob });
  t.equal(res.job?.status, JobStatus.COMPLETED);
  await stack.eventually(
    () => list(USER),
    (r) => !r.notices.some((n) => n.jobId === deletedJob),
    30_000,
  );
  await eventsHandled();
  const after = await list(USER);
  t.notOk(
    after.notices.some((n) => n.jobId === deletedJob),
    'the deleted job has no notice left',
  );
  t.strictSame((await list(USER, deletedJob)).notices, [], 'none when asked for that job');
  t.ok(
    after.notices.some((n) => n.jobId === keptJob),
    'the other job keeps its notice',
  );
  t.equal(after.unreadCount, 2, 'the unread count drops by one');
  unreadAfter = after.unreadCount;
  t.equal(
    (await list(OTHER_USER)).notices.filter((n) => n.jobId === otherUsersJob).length,
    1,
    "another user's notice of the same file name stays",
  );

  const live = await stack.eventually(
    async () => seen,
    (s) => s.some((r) => !r.notice && r.unreadCount === 2),
    10_000,
  );
  t.ok(
    live.some((r) => !r.notice && r.unreadCount === 2),
    'the live stream says the new unread count',
  );
  t.notOk(
    live.some((r) => r.notice?.jobId === deletedJob),
    'and shows no notice of the deleted job',
  );
  await watch.close();

  await eventsHandled();
  t.equal(await counter('gas_notification_notices_deleted_total', 'kind="job_completed"'), 1, 'counted');
  t.equal(await counter('gas_notification_messages_total', 'outcome="term"'), 0, 'job.deleted is not terminated any more');
});

t.test('a redelivered job.deleted removes nothing more and fails nothing', async (t) => {
  const { subject, event } = await storedJobEvent(`${deletedJob}.deleted`);
  t.equal(event.kind, JobEventKind.DELETED);
  const acks = await counter('gas_notification_messages_total', 'outcome="ack"');
  await redeliver(subject, event);
  await eventsHandled();
  t.equal(await counter('gas_notification_messages_total', 'outcome="ack"'), acks + 1, 'acked');
  t.equal(
    (await counter('gas_notification_messages_total', 'outcome="term"')) +
      (await counter('gas_notification_messages_total', 'outcome="nak"')),
    0,
  );
  t.equal(await counter('gas_notification_notices_deleted_total'), 1, 'nothing more removed');
  const now = await list(USER);
  t.ok(
    now.notices.some((n) => n.jobId === keptJob),
    'the other job keeps its notice',
  );
  t.equal(now.unreadCount, unreadAfter);
});

t.test('a redelivered job.completed or a late job.archived of the deleted job makes no notice and no email', async (t) => {
  const sent = await counter('gas_notification_emails_total', 'outcome="sent"');
  const completed = await storedJobEvent(`${deletedJob}.completed`);
  await redeliver(completed.subject, completed.event);
  const archived = create(JobEventSchema, {
    eventId: `${deletedJob}.archived`,
    kind: JobEventKind.ARCHIVED,
    job: create(JobSchema, { ...completed.event.job!, status: JobStatus.COMPLETED }),
    occurredAt: timestampFromDate(new Date()),
  });
  await publishProto(js, subjects.jobEvent('archived'), JobEventSchema, archived, archived.eventId);
  await eventsHandled();
  t.equal(await counter('gas_notification_deleted_job_events_total'), 2, 'both seen as events of a deleted job');
  t.equal(await counter('gas_notification_deleted_job_events_total', 'kind="results_archived"'), 1);
  const now = await list(USER);
  t.notOk(
    now.notices.some((n) => n.jobId === deletedJob),
    'no notice came back',
  );
  t.equal(now.unreadCount, unreadAfter, 'the unread count is unchanged');
  t.equal(await counter('gas_notification_emails_total', 'outcome="sent"'), sent, 'no email');
  t.equal(
    (await counter('gas_notification_messages_total', 'outcome="term"')) +
      (await counter('gas_notification_messages_total', 'outcome="nak"')),
    0,
  );
});

t.test('a job of the user finished after the deletion gets its notice as usual', async (t) => {
  const jobId = await completedJob(USER, 'after.vcf');
  const r = await stack.eventually(
    () => list(USER),
    (x) => x.notices.some((n) => n.jobId === jobId),
    30_000,
  );
  t.ok(r.notices.some((n) => n.jobId === jobId));
  t.equal(r.unreadCount, unreadAfter + 1);
});
