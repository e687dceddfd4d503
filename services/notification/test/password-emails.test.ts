// The two password emails: the reset link (account.password_reset_requested, which carries the
// link's token) and word that the password changed (account.password_changed). The real job and
// notification services on nats-server, and an SMTP server; the events are asked for through the
// job service's RequestPasswordReset and NotePasswordChanged, as the gateway does. The user has
// every email turned off: these are security emails, sent whatever the preference. Redeliveries are
// the same event published again under a new Nats-Msg-Id, which is what one looks like to the handler.
import t from 'tap';
import { publishProto, subjects } from '@gas/messaging';
import { create, timestampFromDate, AccountEventKind, AccountEventSchema, AccountSchema } from '@gas/proto';
import type { AccountEvent } from '@gas/proto';
import type { ReceivedMail } from '@gas/testing';
import { jobEventFixtures, ulid } from './job-event-fixtures.ts';
import { accountsWithEmailOff, mailingNotificationStack, newToken } from './stack-fixtures.ts';
import { eventStreamFixtures } from './stream-fixtures.ts';

const RESET = subjects.accountEvent('password_reset_requested');
const CHANGED = subjects.accountEvent('password_changed');
const RESET_SUBJECT = 'GAS: Reset your password';
const CHANGED_SUBJECT = 'GAS: Your password was changed';
const PUBLIC_URL = 'https://gas.example.org';
const USER = 'pia';
const EMAIL = 'pia@example.org';
const GONE_USER = 'quinn';
const GONE_EMAIL = 'quinn@example.org';

const { smtp, stack, jsm, js, accounts, jobs, counter, emails, noticesOf, logs } = await mailingNotificationStack({
  name: 'password-emails-test',
  env: { notification: { NOTIFICATION_PUBLIC_URL: PUBLIC_URL, LOG_LEVEL: 'debug' }, job: { LOG_LEVEL: 'debug' } },
});
const { eventsHandled } = jobEventFixtures({ stack, jsm, jobs });
const { storedEvents, lastSeq, gone, secretLeft } = eventStreamFixtures({ stack, jsm });

await accountsWithEmailOff(accounts, [
  [USER, EMAIL],
  [GONE_USER, GONE_EMAIL],
]);

const titled =
  (subject: string, to = EMAIL) =>
  (m: ReceivedMail) =>
    m.envelope.to.includes(to) && m.subject === subject;
const received = (subject: string, to = EMAIL) => smtp.messages.filter(titled(subject, to));

/** The reset event as the job service publishes it, to publish again as a redelivery. */
const resetEvent = (userId: string, email: string, requestId: string, token: string, expiresAt: Date): AccountEvent =>
  create(AccountEventSchema, {
    eventId: `${userId}.password_reset_requested.${requestId}`,
    kind: AccountEventKind.PASSWORD_RESET_REQUESTED,
    account: create(AccountSchema, { userId, email }),
    occurredAt: timestampFromDate(new Date()),
    passwordReset: { email, token, expiresAt: timestampFromDate(expiresAt) },
  });

t.test('a reset link: mailed once to the address, whatever the preference, no notice; its event erased; the token in no log', async (t) => {
  const { token, secret } = newToken(USER);
  const expiresAt = new Date(Date.now() + 3600_000);
  // Nothing else publishes meanwhile: this is where the job service's event goes.
  const seq = (await lastSeq()) + 1;
  await accounts.requestPasswordReset({
    userId: USER,
    email: 'Pia@Example.org',
    token,
    expiresAt: timestampFromDate(expiresAt),
    requestId: 'reset-1',
  });

  const [mail] = (await smtp.waitFor((ms) => ms.some(titled(RESET_SUBJECT)), 30_000)).filter(titled(RESET_SUBJECT));
  const link = `${PUBLIC_URL}/password/reset?token=${encodeURIComponent(token)}`;
  t.strictSame(mail!.envelope.to, [EMAIL], 'to the address on record');
  t.equal(mail!.subject, RESET_SUBJECT);
  t.match(mail!.text, `\n${link}\n`, 'the link in the text');
  t.match(mail!.html, `href="${link}"`, 'and in the HTML');
  t.match(mail!.text, 'It works once, for one hour, until ');
  t.notMatch(mail!.text + mail!.html, /the owner|<b>/, 'greeting nobody by name');
  t.equal(mail!.messageId, `<${USER}.password_reset_requested.reset-1@gas.example.org>`);
  await eventsHandled();
  t.strictSame(await noticesOf(USER), [], 'no notice');
  t.equal(await emails('password_reset', 'sent'), 1);

  t.equal(await lastSeq(), seq, 'one event was published');
  t.ok(await gone(seq), 'and the stream answers nothing for it');
  t.strictSame(
    await secretLeft(RESET, secret),
    { events: [], files: [] },
    'no reset event left, nor a message or NATS store file with the token',
  );
  t.equal(await counter('gas_notification_confirmation_deletes_total', 'kind="password_reset",outcome="deleted"'), 1, 'counted');

  // Delivered again (an ack that got lost): no second email, and the copy is erased too.
  const again = resetEvent(USER, EMAIL, 'reset-1', token, expiresAt);
  const copy = await publishProto(js, RESET, AccountEventSchema, again, `${again.eventId}.again.${ulid()}`);
  await eventsHandled();
  t.equal(await counter('gas_notification_duplicate_events_total', 'kind="password_reset"'), 1, 'a duplicate');
  t.equal(received(RESET_SUBJECT).length, 1, 'one email');
  t.ok(await gone(copy.seq), 'the copy is deleted as well');
  t.notOk(logs().includes(secret.toString()), 'no log line of either service holds the token');
});

t.test('a reset link that expired before its event was handled: not mailed, its event erased all the same', async (t) => {
  const { token, secret } = newToken(USER);
  const before = received(RESET_SUBJECT).length;
  await accounts.requestPasswordReset({
    userId: USER,
    email: EMAIL,
    token,
    expiresAt: timestampFromDate(new Date(Date.now() - 60_000)),
    requestId: 'reset-2',
  });
  await eventsHandled();
  t.equal(await emails('password_reset', 'expired'), 1, 'handled as expired');
  t.equal(received(RESET_SUBJECT).length, before, 'no email');
  t.strictSame(await secretLeft(RESET, secret), { events: [], files: [] }, 'no reset event left, nor the token anywhere');
  t.equal(await counter('gas_notification_confirmation_deletes_total', 'kind="password_reset",outcome="deleted"'), 3);
  t.notOk(logs().includes(secret.toString()), 'the token is in no log line');
});

t.test('a password change: mailed once per change, saying how, whatever the preference; no notice; its event kept', async (t) => {
  await accounts.notePasswordChanged({ userId: USER, requestId: 'change-1', throughResetLink: true });
  await accounts.notePasswordChanged({ userId: USER, requestId: 'change-2', throughResetLink: false });
  const mails = (await smtp.waitFor((ms) => ms.filter(titled(CHANGED_SUBJECT)).length === 2, 30_000)).filter(titled(CHANGED_SUBJECT));
  const byId = new Map(mails.map((m) => [m.messageId, m]));
  const link = byId.get(`<${USER}.password_changed.change-1@gas.example.org>`);
  const profile = byId.get(`<${USER}.password_changed.change-2@gas.example.org>`);
  t.match(link?.text, /was changed on \d{4}-\d\d-\d\d \d\d:\d\d UTC, through a link mailed to this address\./);
  t.match(profile?.text, /was changed on \d{4}-\d\d-\d\d \d\d:\d\d UTC, on the account's profile page\./);
  for (const m of [link, profile]) {
    t.strictSame(m?.envelope.to, [EMAIL]);
    t.match(m?.text, `Set a new password here: ${PUBLIC_URL}/password/forgot\n`);
    t.match(m?.html, `href="${PUBLIC_URL}/password/forgot"`);
    t.notMatch(m!.text + m!.html, /the owner|<b>/, 'greeting nobody by name');
  }
  await eventsHandled();
  t.strictSame(await noticesOf(USER), [], 'no notice');
  t.equal(await emails('password_changed', 'sent'), 2);
  const kept = (await storedEvents()).filter((m) => m.subject === CHANGED);
  t.equal(kept.length, 2, 'the events hold no secret, so they stay in GAS_EVENTS');

  // Delivered again: nothing more.
  await js.publish(CHANGED, kept[0]!.data, { msgID: `again.${ulid()}` });
  await eventsHandled();
  t.equal(await counter('gas_notification_duplicate_events_total', 'kind="password_changed"'), 1, 'a duplicate');
  t.equal(received(CHANGED_SUBJECT).length, 2, 'no third email');
});

t.test('an account deleted meanwhile: neither email, and the reset event is erased all the same', async (t) => {
  const { token, secret } = newToken(GONE_USER);
  await accounts.deleteAccount({ userId: GONE_USER });
  await smtp.waitFor((ms) => ms.some(titled('GAS: Your account was deleted', GONE_EMAIL)), 30_000);
  // Published as the job service did before the deletion (it answers NOT_FOUND now), handled after it.
  const reset = resetEvent(GONE_USER, GONE_EMAIL, 'late', token, new Date(Date.now() + 3600_000));
  const { seq } = await publishProto(js, RESET, AccountEventSchema, reset, reset.eventId);
  const changed = create(AccountEventSchema, {
    eventId: `${GONE_USER}.password_changed.late`,
    kind: AccountEventKind.PASSWORD_CHANGED,
    account: create(AccountSchema, { userId: GONE_USER, email: GONE_EMAIL }),
    occurredAt: timestampFromDate(new Date()),
    passwordChangedThroughResetLink: true,
  });
  await publishProto(js, CHANGED, AccountEventSchema, changed, changed.eventId);
  await eventsHandled();
  const deletedAccountEvents = (kind: string) => counter('gas_notification_deleted_account_events_total', `kind="${kind}"`);
  t.equal(await deletedAccountEvents('password_reset'), 1);
  t.equal(await deletedAccountEvents('password_changed'), 1);
  t.strictSame(
    smtp.messages.filter((m) => m.envelope.to.includes(GONE_EMAIL)).map((m) => m.subject),
    ['GAS: Your account was deleted'],
    'only the goodbye email',
  );
  t.ok(await gone(seq), 'the reset event is deleted');
  t.notOk(logs().includes(secret.toString()), 'the token is in no log line');
});
