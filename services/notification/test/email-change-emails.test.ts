// The two address-change emails: the link to the new address (account.email_change_requested, which
// carries the link's token) and word to the old address that the address changed
// (account.email_changed, with the link that undoes the change when the gateway made one, or word
// that an undo moved the account back). Every such event is erased from GAS_EVENTS once handled.
// The real job and notification services on nats-server, and an SMTP
// server; the events are asked for through the job service's RequestEmailChange and ChangeEmail, as
// the gateway does. The user has every email turned off: these are security emails, sent whatever
// the preference. Redeliveries are the same event published again under a new Nats-Msg-Id, which is
// what one looks like to the handler.
import t from 'tap';
import { publishProto, subjects } from '@gas/messaging';
import { create, timestampFromDate, AccountEventKind, AccountEventSchema, AccountSchema } from '@gas/proto';
import type { AccountEvent } from '@gas/proto';
import type { ReceivedMail } from '@gas/testing';
import { jobEventFixtures, ulid } from './job-event-fixtures.ts';
import { accountsWithEmailOff, mailingNotificationStack, newToken } from './stack-fixtures.ts';
import { eventStreamFixtures } from './stream-fixtures.ts';

const REQUESTED = subjects.accountEvent('email_change_requested');
const CHANGED = subjects.accountEvent('email_changed');
const REQUESTED_SUBJECT = 'GAS: Confirm your new email address';
const CHANGED_SUBJECT = 'GAS: The address of your account was changed';
const PUBLIC_URL = 'https://gas.example.org';
const USER = 'rosa';
const EMAIL = 'rosa@example.org';
const NEW_EMAIL = 'rosa@new.example.net';
const GONE_USER = 'sam';
const GONE_EMAIL = 'sam@example.org';
const UNDO_USER = 'ida';
const UNDO_EMAIL = 'ida@example.org';
const TAKEN_EMAIL = 'ida@taken.example.com';
const BACK_SUBJECT = 'GAS: The address of your account was changed back';

const { smtp, stack, jsm, js, accounts, jobs, counter, emails, terminated, noticesOf, logs } = await mailingNotificationStack({
  name: 'email-change-emails-test',
  env: { notification: { NOTIFICATION_PUBLIC_URL: PUBLIC_URL, LOG_LEVEL: 'debug' }, job: { LOG_LEVEL: 'debug' } },
});
const { eventsHandled } = jobEventFixtures({ stack, jsm, jobs });
const { storedEvents, lastSeq, gone, secretLeft } = eventStreamFixtures({ stack, jsm });

await accountsWithEmailOff(accounts, [
  [USER, EMAIL],
  [GONE_USER, GONE_EMAIL],
  [UNDO_USER, UNDO_EMAIL],
]);

const titled = (subject: string, to: string) => (m: ReceivedMail) => m.envelope.to.includes(to) && m.subject === subject;
const received = (subject: string, to: string) => smtp.messages.filter(titled(subject, to));

/** The change-request event as the job service publishes it, to publish again as a redelivery or late. */
const requestEvent = (userId: string, email: string, newEmail: string, requestId: string, token: string, expiresAt: Date): AccountEvent =>
  create(AccountEventSchema, {
    eventId: `${userId}.email_change_requested.${requestId}`,
    kind: AccountEventKind.EMAIL_CHANGE_REQUESTED,
    account: create(AccountSchema, { userId, email }),
    occurredAt: timestampFromDate(new Date()),
    emailConfirmation: { email: newEmail, token, expiresAt: timestampFromDate(expiresAt) },
  });

/** The changed-address event as the job service publishes it, to publish again as a redelivery or late. */
const changedEvent = (
  userId: string,
  email: string,
  previousEmail: string,
  requestId: string,
  undo?: { token: string; expiresAt: Date },
): AccountEvent =>
  create(AccountEventSchema, {
    eventId: `${userId}.email_changed.${requestId}`,
    kind: AccountEventKind.EMAIL_CHANGED,
    account: create(AccountSchema, { userId, email }),
    occurredAt: timestampFromDate(new Date()),
    previousEmail,
    ...(undo ? { emailConfirmation: { email: previousEmail, token: undo.token, expiresAt: timestampFromDate(undo.expiresAt) } } : {}),
  });

t.test(
  'a change link: mailed once to the new address, whatever the preference, no notice; its event erased; no secret in a log',
  async (t) => {
    const { token, secret } = newToken(USER);
    const expiresAt = new Date(Date.now() + 24 * 3600_000);
    // Nothing else publishes meanwhile: this is where the job service's event goes.
    const seq = (await lastSeq()) + 1;
    await accounts.requestEmailChange({
      userId: USER,
      newEmail: 'Rosa@New.Example.net',
      token,
      expiresAt: timestampFromDate(expiresAt),
      requestId: 'change-1',
    });

    const [mail] = (await smtp.waitFor((ms) => ms.some(titled(REQUESTED_SUBJECT, NEW_EMAIL)), 30_000)).filter(
      titled(REQUESTED_SUBJECT, NEW_EMAIL),
    );
    const link = `${PUBLIC_URL}/change-email?token=${encodeURIComponent(token)}`;
    t.strictSame(mail!.envelope.to, [NEW_EMAIL], 'to the new address only');
    t.match(mail!.text, `\n${link}\n`, 'the link in the text');
    t.match(mail!.html, `href="${link}"`, 'and in the HTML');
    t.match(mail!.text, 'It works once, for 24 hours, until ');
    t.notMatch(mail!.text + mail!.html, /the owner|<b>/, 'greeting nobody by name');
    t.notOk((mail!.text + mail!.html).includes(EMAIL), "the account's current address is not told to the new one");
    t.equal(mail!.messageId, `<${USER}.email_change_requested.change-1@gas.example.org>`);
    await eventsHandled();
    t.equal(smtp.messages.filter((m) => m.envelope.to.includes(EMAIL)).length, 0, 'nothing to the current address');
    t.strictSame(await noticesOf(USER), [], 'no notice');
    t.equal(await emails('email_change', 'sent'), 1);
    t.equal((await accounts.getAccount({ userId: USER })).account?.email, EMAIL, 'the account keeps its address until the link is used');

    t.equal(await lastSeq(), seq, 'one event was published');
    t.ok(await gone(seq), 'and the stream answers nothing for it');
    t.strictSame(
      await secretLeft(REQUESTED, secret),
      { events: [], files: [] },
      'no change-request event left, nor a message or NATS store file with the token',
    );
    t.equal(await counter('gas_notification_confirmation_deletes_total', 'kind="email_change",outcome="deleted"'), 1, 'counted');

    // Delivered again (an ack that got lost): no second email, and the copy is erased too.
    const again = requestEvent(USER, EMAIL, NEW_EMAIL, 'change-1', token, expiresAt);
    const copy = await publishProto(js, REQUESTED, AccountEventSchema, again, `${again.eventId}.again.${ulid()}`);
    await eventsHandled();
    t.equal(await counter('gas_notification_duplicate_events_total', 'kind="email_change"'), 1, 'a duplicate');
    t.equal(received(REQUESTED_SUBJECT, NEW_EMAIL).length, 1, 'one email');
    t.ok(await gone(copy.seq), 'the copy is deleted as well');
    t.notOk(logs().includes(secret.toString()), 'no log line of either service holds the token');
    t.notOk(logs().toLowerCase().includes(NEW_EMAIL), 'nor the new address');
  },
);

t.test('a change link that expired before its event was handled: not mailed, its event erased all the same', async (t) => {
  const { token, secret } = newToken(USER);
  const before = received(REQUESTED_SUBJECT, NEW_EMAIL).length;
  await accounts.requestEmailChange({
    userId: USER,
    newEmail: NEW_EMAIL,
    token,
    expiresAt: timestampFromDate(new Date(Date.now() - 60_000)),
    requestId: 'change-2',
  });
  await eventsHandled();
  t.equal(await emails('email_change', 'expired'), 1, 'handled as expired');
  t.equal(received(REQUESTED_SUBJECT, NEW_EMAIL).length, before, 'no email');
  t.strictSame(await secretLeft(REQUESTED, secret), { events: [], files: [] }, 'no change-request event left, nor the token anywhere');
  t.notOk(logs().includes(secret.toString()), 'the token is in no log line');
});

t.test('the address changed: mailed once to the old address, naming the new one, no notice, no link; its event erased', async (t) => {
  const seq = (await lastSeq()) + 1;
  const res = await accounts.changeEmail({ userId: USER, email: NEW_EMAIL, previousEmail: EMAIL, requestId: 'change-1' });
  t.equal(res.changed, true);
  const [mail] = (await smtp.waitFor((ms) => ms.some(titled(CHANGED_SUBJECT, EMAIL)), 30_000)).filter(titled(CHANGED_SUBJECT, EMAIL));
  t.strictSame(mail!.envelope.to, [EMAIL], 'to the address the account had');
  t.match(mail!.text, new RegExp(`was changed on \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC, to ${NEW_EMAIL.replace(/\./g, '\\.')}\\.`));
  t.match(mail!.text, `Tell the people who run this GAS site (${PUBLIC_URL}) at once`);
  t.notMatch(mail!.text + mail!.html, /the owner|<b>/, 'greeting nobody by name');
  t.equal(mail!.messageId, `<${USER}.email_changed.change-1@gas.example.org>`);
  t.notMatch(mail!.text + mail!.html, /undo-email-change|token=|<a\s/, 'no link: the gateway made none');

  // The gateway's retry (its answer was lost): changes nothing, and the same event id is dropped.
  t.equal((await accounts.changeEmail({ userId: USER, email: NEW_EMAIL, previousEmail: EMAIL, requestId: 'change-1' })).changed, false);
  await eventsHandled();
  t.equal(received(CHANGED_SUBJECT, NEW_EMAIL).length, 0, 'nothing of it to the new address');
  t.strictSame(await noticesOf(USER), [], 'no notice');
  t.equal(await emails('email_changed', 'sent'), 1);
  t.equal(await lastSeq(), seq, 'one event was published');
  // Without a link as well: which events hold one is known only once decoded, and it names both addresses.
  t.ok(await gone(seq), 'and it is erased from GAS_EVENTS');
  t.equal(await counter('gas_notification_confirmation_deletes_total', 'kind="email_changed",outcome="deleted"'), 1, 'counted');

  // Delivered again: nothing more, and the copy is erased too.
  const again = changedEvent(USER, NEW_EMAIL, EMAIL, 'change-1');
  const copy = await publishProto(js, CHANGED, AccountEventSchema, again, `again.${ulid()}`);
  await eventsHandled();
  t.equal(await counter('gas_notification_duplicate_events_total', 'kind="email_changed"'), 1, 'a duplicate');
  t.equal(received(CHANGED_SUBJECT, EMAIL).length, 1, 'no second email');
  t.ok(await gone(copy.seq), 'the copy is deleted as well');
});

t.test('events missing what their email needs are terminated, and the link event erased all the same', async (t) => {
  const before = await terminated();
  const { token, secret } = newToken(USER);
  const noExpiry = requestEvent(USER, NEW_EMAIL, 'rosa@third.example.net', 'broken', token, new Date());
  noExpiry.emailConfirmation!.expiresAt = undefined;
  const { seq } = await publishProto(js, REQUESTED, AccountEventSchema, noExpiry, noExpiry.eventId);
  const noPrevious = create(AccountEventSchema, {
    eventId: `${USER}.email_changed.broken`,
    kind: AccountEventKind.EMAIL_CHANGED,
    account: create(AccountSchema, { userId: USER, email: NEW_EMAIL }),
    occurredAt: timestampFromDate(new Date()),
  });
  const broken = await publishProto(js, CHANGED, AccountEventSchema, noPrevious, noPrevious.eventId);
  await eventsHandled();
  t.equal(await terminated(), before + 2, 'both terminated');
  t.ok(await gone(seq), 'the link event is deleted');
  t.ok(await gone(broken.seq), 'and the changed-address one');
  t.notOk(logs().includes(secret.toString()), 'the token is in no log line');
  t.equal(received(CHANGED_SUBJECT, NEW_EMAIL).length, 0);
  t.equal(smtp.messages.filter((m) => m.envelope.to.includes('rosa@third.example.net')).length, 0);
});

t.test('an account deleted meanwhile: neither email, and the change-request event is erased all the same', async (t) => {
  const { token, secret } = newToken(GONE_USER);
  await accounts.deleteAccount({ userId: GONE_USER });
  await smtp.waitFor((ms) => ms.some(titled('GAS: Your account was deleted', GONE_EMAIL)), 30_000);
  // Published as the job service did before the deletion (it answers NOT_FOUND now), handled after it.
  const request = requestEvent(GONE_USER, GONE_EMAIL, 'sam@new.example.net', 'late', token, new Date(Date.now() + 3600_000));
  const { seq } = await publishProto(js, REQUESTED, AccountEventSchema, request, request.eventId);
  const undo = newToken(GONE_USER);
  const changed = changedEvent(GONE_USER, 'sam@new.example.net', GONE_EMAIL, 'late', {
    token: undo.token,
    expiresAt: new Date(Date.now() + 7 * 24 * 3600_000),
  });
  const late = await publishProto(js, CHANGED, AccountEventSchema, changed, changed.eventId);
  await eventsHandled();
  const deletedAccountEvents = (kind: string) => counter('gas_notification_deleted_account_events_total', `kind="${kind}"`);
  t.equal(await deletedAccountEvents('email_change'), 1);
  t.equal(await deletedAccountEvents('email_changed'), 1);
  t.strictSame(
    smtp.messages.filter((m) => m.envelope.to.includes(GONE_EMAIL) || m.envelope.to.includes('sam@new.example.net')).map((m) => m.subject),
    ['GAS: Your account was deleted'],
    'only the goodbye email',
  );
  t.ok(await gone(seq), 'the change-request event is deleted');
  t.ok(await gone(late.seq), 'and the changed-address one, with its undo link');
  t.notOk(logs().includes(secret.toString()), 'the token is in no log line');
  t.notOk(logs().includes(undo.secret.toString()), 'nor the undo token');
});

t.test(
  'the address changed with an undo link: the old address gets the link, once, whatever the preference; its event and token erased',
  async (t) => {
    const { token, secret } = newToken(UNDO_USER);
    const expiresAt = new Date(Date.now() + 7 * 24 * 3600_000);
    const seq = (await lastSeq()) + 1;
    const res = await accounts.changeEmail({
      userId: UNDO_USER,
      email: TAKEN_EMAIL,
      previousEmail: UNDO_EMAIL,
      requestId: 'take',
      undoToken: token,
      undoExpiresAt: timestampFromDate(expiresAt),
    });
    t.equal(res.changed, true);
    const [mail] = (await smtp.waitFor((ms) => ms.some(titled(CHANGED_SUBJECT, UNDO_EMAIL)), 30_000)).filter(
      titled(CHANGED_SUBJECT, UNDO_EMAIL),
    );
    const link = `${PUBLIC_URL}/undo-email-change?token=${encodeURIComponent(token)}`;
    t.strictSame(mail!.envelope.to, [UNDO_EMAIL], 'to the address the account had');
    t.match(mail!.text, `to ${TAKEN_EMAIL}.`, 'naming the new one');
    t.match(mail!.text, 'If it was not you: someone else may have been able to sign in to your account. To take it back, open this link. ');
    t.match(mail!.text, /It works once, for 7 days, until \d{4}-\d\d-\d\d \d\d:\d\d UTC:\n/);
    t.match(mail!.text, `\n${link}\n`, 'the link in the text');
    t.match(mail!.html, `href="${link}"`, 'and as the button in the HTML');
    t.match(mail!.text, 'makes its password stop working; GAS then emails this address a link to set a new one.');
    t.match(mail!.text, `Then tell the people who run this GAS site (${PUBLIC_URL}) at once`);
    t.notMatch(mail!.text + mail!.html, /the owner|<b>/, 'greeting nobody by name');
    await eventsHandled();
    t.equal(smtp.messages.filter((m) => m.envelope.to.includes(TAKEN_EMAIL)).length, 0, 'nothing to the new address');
    t.strictSame(await noticesOf(UNDO_USER), [], 'no notice');

    t.equal(await lastSeq(), seq, 'one event was published');
    t.ok(await gone(seq), 'and the stream answers nothing for it');
    t.strictSame(
      await secretLeft(CHANGED, secret),
      { events: [], files: [] },
      'no changed-address event left, nor a message or NATS store file with the undo token',
    );

    // Delivered again (an ack that got lost): no second email, and the copy is erased too.
    const again = changedEvent(UNDO_USER, TAKEN_EMAIL, UNDO_EMAIL, 'take', { token, expiresAt });
    const copy = await publishProto(js, CHANGED, AccountEventSchema, again, `${again.eventId}.again.${ulid()}`);
    await eventsHandled();
    t.equal(received(CHANGED_SUBJECT, UNDO_EMAIL).length, 1, 'one email');
    t.ok(await gone(copy.seq), 'the copy is deleted as well');
    t.strictSame(await secretLeft(CHANGED, secret), { events: [], files: [] }, 'the token is nowhere in the stream');
    t.notOk(logs().includes(secret.toString()), 'no log line of either service holds the token');
  },
);

t.test('undone through that link: the address the account leaves is told it went back, with no link', async (t) => {
  const before = received(CHANGED_SUBJECT, UNDO_EMAIL).length;
  const res = await accounts.changeEmail({
    userId: UNDO_USER,
    email: UNDO_EMAIL,
    previousEmail: TAKEN_EMAIL,
    requestId: 'undo',
    undoing: true,
  });
  t.equal(res.changed, true);
  const [mail] = (await smtp.waitFor((ms) => ms.some(titled(BACK_SUBJECT, TAKEN_EMAIL)), 30_000)).filter(titled(BACK_SUBJECT, TAKEN_EMAIL));
  t.strictSame(mail!.envelope.to, [TAKEN_EMAIL], 'to the address the account left');
  t.match(
    mail!.text,
    new RegExp(
      `The address of your GAS account was changed back to ${UNDO_EMAIL.replace(/\./g, '\\.')} on \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC, ` +
        'through the link mailed to that address when it was changed from it\\.',
    ),
  );
  t.match(mail!.text, 'GAS no longer emails this address about the account.');
  t.notMatch(mail!.text + mail!.html, /undo-email-change|token=|<a\s/, 'no link');
  t.equal(mail!.messageId, `<${UNDO_USER}.email_changed.undo@gas.example.org>`);
  await eventsHandled();
  t.equal(received(CHANGED_SUBJECT, UNDO_EMAIL).length, before, 'nothing of it to the address it went back to');
  t.equal(received(CHANGED_SUBJECT, TAKEN_EMAIL).length, 0, 'and no "was changed" email besides');
  t.strictSame(
    (await storedEvents()).filter((m) => m.subject === CHANGED),
    [],
    'its event is erased as well',
  );
});

t.test('an undo link that expired before its event was handled: the change is told without it; its event erased', async (t) => {
  const { token, secret } = newToken(UNDO_USER);
  const later = 'ida@later.example.com';
  await accounts.changeEmail({
    userId: UNDO_USER,
    email: later,
    previousEmail: UNDO_EMAIL,
    requestId: 'late',
    undoToken: token,
    undoExpiresAt: timestampFromDate(new Date(Date.now() - 60_000)),
  });
  const [mail] = (await smtp.waitFor((ms) => ms.filter(titled(CHANGED_SUBJECT, UNDO_EMAIL)).length === 2, 30_000)).filter(
    (m) => titled(CHANGED_SUBJECT, UNDO_EMAIL)(m) && m.text.includes(later),
  );
  t.ok(mail, 'the change is told');
  t.match(mail!.text, `Tell the people who run this GAS site (${PUBLIC_URL}) at once`);
  t.notMatch(mail!.text + mail!.html, /undo-email-change|token=|<a\s/, 'with no link');
  t.notOk((mail!.text + mail!.html).includes(secret.toString()), 'nor the token');
  await eventsHandled();
  t.strictSame(await secretLeft(CHANGED, secret), { events: [], files: [] }, 'no changed-address event left, nor the token anywhere');
  t.match(logs(), 'undo link expired before it could be sent; the change is told without it');
  t.notOk(logs().includes(secret.toString()), 'the token is in no log line');
});
