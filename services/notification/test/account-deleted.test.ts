// A deleted account takes every notice of its user with it (the job ones and the account's own),
// gets one last email whatever its preference was, and no event of it handled later makes a notice
// or an email. The real job and notification services on nats-server, and an SMTP server. Jobs and
// plan changes go through the job service's RPCs, as the annotator and the gateway make them. Most
// tests publish account.deleted here as the job service's DeleteAccount makes it (the record as it
// was, address and all), so the user's jobs and account record stay in the job service and can
// still make real events after it: exactly the late events the tombstone is for. The last one calls
// DeleteAccount itself. Redeliveries are the same event published again under a new Nats-Msg-Id,
// which is what one looks like to the handler.
import t from 'tap';
import { Kvm } from '@nats-io/kv';
import { publishProto, subjects } from '@gas/messaging';
import {
  create,
  timestampFromDate,
  AccountEventKind,
  AccountEventSchema,
  AccountSchema,
  JobEventSchema,
  NotificationPrefsSchema,
  Plan,
} from '@gas/proto';
import type { AccountEvent } from '@gas/proto';
import type { ReceivedMail } from '@gas/testing';
import { buckets } from '../src/app.ts';
import { jobEventFixtures, ulid } from './job-event-fixtures.ts';
import { mailingNotificationStack } from './stack-fixtures.ts';

const ACCOUNT_DELETED = subjects.accountEvent('deleted');
const GOODBYE = 'GAS: Your account was deleted';
const PUBLIC_URL = 'https://gas.example.org';
const USER = 'kim';
const OTHER_USER = 'lee';
const QUIET_USER = 'mo';
const REAL_USER = 'nia';
const emailOf = (userId: string) => `${userId}@example.org`;

const { smtp, stack, jsm, js, accounts, jobs, notices, counter } = await mailingNotificationStack({
  name: 'account-deleted-test',
  // A test publishes a deleted account's stored event again: no erasure pass (an hour apart) takes it
  // from the stream meanwhile. event-erasure.test.ts tests the erasure.
  env: { notification: { NOTIFICATION_PUBLIC_URL: PUBLIC_URL, NOTIFICATION_ERASE_INTERVAL_MS: '3600000' } },
});
const kvm = new Kvm(js);
const { completedJob, eventsHandled, storedJobEvent, openNoticeWatch } = jobEventFixtures({ stack, jsm, jobs });

const everyEmail = create(NotificationPrefsSchema, { emailOnCompletion: true, emailOnFailure: true });
const noEmail = create(NotificationPrefsSchema, { emailOnCompletion: false, emailOnFailure: false });
for (const [userId, notifications] of [
  [USER, everyEmail],
  [OTHER_USER, everyEmail],
  [QUIET_USER, noEmail],
  [REAL_USER, everyEmail],
] as const)
  await accounts.upsertAccount({
    account: create(AccountSchema, { userId, email: emailOf(userId), name: `<b>${userId}</b> the owner`, notifications }),
  });

/** account.deleted as DeleteAccount publishes it: the record as it was; `again` publishes it anew (a redelivery). */
async function publishAccountDeleted(userId: string, again = false): Promise<AccountEvent> {
  const account = (await accounts.getAccount({ userId })).account;
  const event = create(AccountEventSchema, {
    eventId: `${userId}.deleted.${account?.createdAt?.seconds ?? 0}`,
    kind: AccountEventKind.DELETED,
    account,
    occurredAt: timestampFromDate(new Date('2026-12-07T10:20:00Z')),
  });
  await publishProto(js, ACCOUNT_DELETED, AccountEventSchema, event, again ? `${event.eventId}.again.${ulid()}` : event.eventId);
  return event;
}

const list = (userId: string) => notices.listNotices({ userId, jobId: '', pageSize: 100 });
const mailTo = (userId: string) => (m: ReceivedMail) => m.envelope.to.includes(emailOf(userId));
const goodbyeTo = (userId: string) => (m: ReceivedMail) => mailTo(userId)(m) && m.subject === GOODBYE;
const mailsTo = (userId: string) => smtp.messages.filter(mailTo(userId));

// Filled in by the first test, read by the later ones.
let firstJob = '';
let goodbyeEventId = '';
let otherNotices = 0;

t.test('account.deleted removes every notice of the user, job and account ones, and the unread count follows, live too', async (t) => {
  firstJob = await completedJob(USER, 'Jane Doe 1961.vcf');
  await completedJob(USER, 'second.vcf');
  await accounts.setPlan({ userId: USER, plan: Plan.PREMIUM });
  await completedJob(OTHER_USER, 'Jane Doe 1961.vcf');
  await accounts.setPlan({ userId: OTHER_USER, plan: Plan.PREMIUM });
  const before = await stack.eventually(
    () => list(USER),
    (r) => r.notices.length === 3,
    30_000,
  );
  t.equal(before.notices.length, 3, 'two job notices and the plan change');
  t.ok(
    before.notices.some((n) => n.title === 'You are on premium'),
    'an account-level notice among them',
  );
  // A read mark, which goes with the account.
  await notices.markNoticesRead({ userId: USER, upToNoticeId: before.notices.at(-1)!.noticeId });
  t.equal((await list(USER)).unreadCount, 2);
  otherNotices = (
    await stack.eventually(
      () => list(OTHER_USER),
      (r) => r.notices.length === 2,
      30_000,
    )
  ).notices.length;
  t.equal(otherNotices, 2);
  await smtp.waitFor((ms) => ms.filter(mailTo(USER)).length === 3, 30_000);
  await eventsHandled();

  // A browser's live stream, open while the account is deleted.
  const watch = await openNoticeWatch(notices, USER);
  t.teardown(watch.close);
  const seen = watch.seen;
  await eventsHandled();

  goodbyeEventId = (await publishAccountDeleted(USER)).eventId;
  await eventsHandled();
  const after = await list(USER);
  t.strictSame(after.notices, [], 'no notice of the user is left');
  t.equal(after.unreadCount, 0, 'nothing unread');
  t.equal(await (await kvm.open(buckets.reads)).get(USER), null, 'the read mark is gone, not even a delete marker');
  const live = await stack.eventually(
    async () => seen,
    (s) => s.some((r) => !r.notice && r.unreadCount === 0),
    10_000,
  );
  t.ok(
    live.some((r) => !r.notice && r.unreadCount === 0),
    'the live stream says nothing is unread',
  );
  await watch.close();

  const other = await list(OTHER_USER);
  t.equal(other.notices.length, otherNotices, "another user's notices stay, the same file name among them");
  t.equal(other.unreadCount, otherNotices);

  t.equal(await counter('gas_notification_accounts_deleted_total'), 1, 'counted');
  t.equal(await counter('gas_notification_notices_deleted_total'), 4, 'four notices removed');
  t.equal(await counter('gas_notification_notices_deleted_total', 'kind="plan_upgraded"'), 1);
  t.equal(await counter('gas_notification_messages_total', 'outcome="term"'), 0, 'nothing terminated');
});

t.test('the goodbye email: once, to the address the account had, plain, no link, no name', async (t) => {
  const [mail, ...more] = (await smtp.waitFor((ms) => ms.some(goodbyeTo(USER)), 30_000)).filter(goodbyeTo(USER));
  t.strictSame(more, [], 'one');
  t.match(mail!.text, /^On 2026-12-07 10:20 UTC the GAS account with this email address was deleted/m, 'what and when');
  t.match(mail!.text, /all its jobs, with the files uploaded for them and their annotated results, and all its notices/);
  t.match(
    mail!.text,
    `If you did not: someone else may have been able to sign in to it. Tell the people who run this GAS site (${PUBLIC_URL})`,
  );
  t.notMatch(mail!.text, /the owner|kim/, 'no greeting by the name the account had');
  t.notMatch(mail!.text, /Jane Doe|\.vcf/, 'no file name');
  t.notMatch(mail!.html, /<a\s/, 'no link to click');
  t.equal(mail!.messageId, `<${goodbyeEventId}@gas.example.org>`, 'its Message-ID is the event id');
  t.notOk(mail!.headers.has('list-unsubscribe'), 'no unsubscribe: the preference does not turn it off');
  t.equal(await counter('gas_notification_emails_total', 'kind="account_deleted",outcome="sent"'), 1);

  const acks = await counter('gas_notification_messages_total', 'outcome="ack"');
  await publishAccountDeleted(USER, true);
  await eventsHandled();
  t.equal(await counter('gas_notification_messages_total', 'outcome="ack"'), acks + 1, 'the redelivery is acked');
  t.equal(smtp.messages.filter(goodbyeTo(USER)).length, 1, 'and sends nothing');
  t.equal(await counter('gas_notification_duplicate_events_total', 'kind="account_deleted"'), 1, 'a duplicate');
  t.equal(await counter('gas_notification_accounts_deleted_total'), 1, 'not a second deletion');
});

t.test('later events of the deleted user make no notice and no email; the other user is served as usual', async (t) => {
  const mailsBefore = mailsTo(USER).length;
  const completed = await storedJobEvent(`${firstJob}.completed`);
  await publishProto(js, completed.subject, JobEventSchema, completed.event, `${completed.event.eventId}.again.${ulid()}`);
  await completedJob(USER, 'late.vcf');
  // The plan change a billing cancellation makes after the deletion, and a sign-up with the address.
  await accounts.setPlan({ userId: USER, plan: Plan.FREE });
  t.ok((await accounts.noteSignUpAttempt({ userId: USER })).noted, 'a sign-up attempt published');
  const otherJob = await completedJob(OTHER_USER, 'after.vcf');
  await eventsHandled();

  const now = await list(USER);
  t.strictSame(now.notices, [], 'still no notice');
  t.equal(now.unreadCount, 0);
  t.equal(mailsTo(USER).length, mailsBefore, 'no email');
  t.equal(await counter('gas_notification_deleted_account_events_total'), 4, 'each seen as an event of a deleted account');
  t.equal(await counter('gas_notification_deleted_account_events_total', 'kind="job_completed"'), 2);
  t.equal(await counter('gas_notification_deleted_account_events_total', 'kind="plan_downgraded"'), 1);
  t.equal(await counter('gas_notification_deleted_account_events_total', 'kind="sign_up_attempted"'), 1);
  t.equal(await counter('gas_notification_messages_total', 'outcome="term"'), 0);

  const other = await list(OTHER_USER);
  t.ok(
    other.notices.some((n) => n.jobId === otherJob),
    'the other user gets the notice of their new job',
  );
  await smtp.waitFor((ms) => ms.some((m) => mailTo(OTHER_USER)(m) && m.subject === 'GAS: after.vcf is annotated'), 30_000);
});

t.test('the goodbye email goes whatever the preference was; an account without an address is acked with none', async (t) => {
  await completedJob(QUIET_USER, 'quiet.vcf');
  await stack.eventually(
    () => list(QUIET_USER),
    (r) => r.notices.length === 1,
    30_000,
  );
  await eventsHandled();
  t.equal(mailsTo(QUIET_USER).length, 0, 'no email for the job: the preference is none');
  await publishAccountDeleted(QUIET_USER);
  const mails = (await smtp.waitFor((ms) => ms.some(goodbyeTo(QUIET_USER)), 30_000)).filter(mailTo(QUIET_USER));
  t.equal(mails.length, 1, 'the goodbye email, and nothing else');
  t.equal(mails[0]!.subject, GOODBYE);
  await eventsHandled();
  t.strictSame((await list(QUIET_USER)).notices, []);

  const noAddress = create(AccountEventSchema, {
    eventId: 'nobody.deleted',
    kind: AccountEventKind.DELETED,
    account: create(AccountSchema, { userId: 'nobody' }),
    occurredAt: timestampFromDate(new Date()),
  });
  await publishProto(js, ACCOUNT_DELETED, AccountEventSchema, noAddress, noAddress.eventId);
  await eventsHandled();
  t.equal(await counter('gas_notification_emails_total', 'kind="account_deleted",outcome="no_address"'), 1);

  const wildcard = create(AccountEventSchema, {
    eventId: 'wildcard.deleted',
    kind: AccountEventKind.DELETED,
    account: create(AccountSchema, { userId: '*', email: 'x@example.org' }),
  });
  await publishProto(js, ACCOUNT_DELETED, AccountEventSchema, wildcard, wildcard.eventId);
  await eventsHandled();
  t.equal(await counter('gas_notification_messages_total', 'outcome="term"'), 1, 'a user id that is not one is terminated');
  t.equal((await list(OTHER_USER)).notices.length, otherNotices + 1, "and purges nobody's notices");
});

t.test("DeleteAccount itself: the user's notices go, one goodbye email, and another user's stay", async (t) => {
  const jobId = await completedJob(REAL_USER, 'real.vcf');
  await accounts.setPlan({ userId: REAL_USER, plan: Plan.PREMIUM });
  await stack.eventually(
    () => list(REAL_USER),
    (r) => r.notices.length === 2,
    30_000,
  );
  await smtp.waitFor((ms) => ms.filter(mailTo(REAL_USER)).length === 2, 30_000);
  const otherBefore = (await list(OTHER_USER)).notices.length;
  const res = await accounts.deleteAccount({ userId: REAL_USER });
  t.equal(res.jobsDeleted, 1);
  t.ok(res.accountFound);
  const mails = (await smtp.waitFor((ms) => ms.some(goodbyeTo(REAL_USER)), 30_000)).filter(goodbyeTo(REAL_USER));
  t.equal(mails.length, 1, 'the goodbye email');
  await eventsHandled();
  const after = await list(REAL_USER);
  t.strictSame(after.notices, [], 'no notice left, of the job or the plan');
  t.equal(after.unreadCount, 0);
  t.notOk(
    after.notices.some((n) => n.jobId === jobId),
    'none of the job',
  );
  t.equal((await list(OTHER_USER)).notices.length, otherBefore, "another user's notices stay");
  t.equal(mailsTo(REAL_USER).length, 3, 'two emails before, the goodbye after, nothing else');
  t.equal(await counter('gas_notification_messages_total', 'outcome="nak"'), 0);
});
