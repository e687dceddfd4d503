// The event that asks for an address confirmation carries the link's token, and GAS_EVENTS keeps
// events for days: once the notification service is done with such an event, it deletes it from the
// stream. The real job and notification services, nats-server and an SMTP server: the link is asked
// for through the job service's RequestEmailConfirmation, as the gateway does. The archive service,
// the other consumer of every event, is started only at the end, so it meets the deleted messages
// before it has read them.
import t from 'tap';
import { consumerSpecs, ensureConsumer, publishProto, streamNames, subjects } from '@gas/messaging';
import {
  create,
  timestampFromDate,
  toBinary,
  AccountEventKind,
  AccountEventSchema,
  AccountSchema,
  JobEventKind,
  JobEventSchema,
  JobSchema,
  JobStatus,
} from '@gas/proto';
import type { ReceivedMail } from '@gas/testing';
import { jobEventFixtures } from './job-event-fixtures.ts';
import { mailingNotificationStack, newToken } from './stack-fixtures.ts';
import { eventStreamFixtures } from './stream-fixtures.ts';

const EVENTS = streamNames.events;
const CONFIRMATION = subjects.accountEvent('email_confirmation_requested');
const SUBJECT = 'GAS: Confirm your email address';
const USER = 'fay';
const EMAIL = 'fay@example.org';

const { smtp, stack, jsm, js, accounts, jobs } = await mailingNotificationStack({ name: 'confirmation-event-deletion-test' });
const { eventsHandled } = jobEventFixtures({ stack, jsm, jobs });

// The archive service's durable consumer, as it declares it, with nothing read yet: as if the
// service were down while the events come and go.
await ensureConsumer(jsm, EVENTS, consumerSpecs.archive());
await accounts.upsertAccount({ account: create(AccountSchema, { userId: USER, email: EMAIL, name: 'Fay' }) });

const askForLink = (requestId: string, token: string, expiresAt: Date) =>
  accounts.requestEmailConfirmation({ userId: USER, requestId, email: EMAIL, token, expiresAt: timestampFromDate(expiresAt) });

const { storedEvents, deletedSeqs, lastSeq, gone, secretLeft } = eventStreamFixtures({ stack, jsm });

async function counter(name: string, labels: string): Promise<number> {
  const m = await stack.metrics('notification');
  return Number(new RegExp(`^${name}\\{[^}]*${labels}[^}]*\\} (\\S+)$`, 'm').exec(m)?.[1] ?? 0);
}
const deletes = (outcome: string) => counter('gas_notification_confirmation_deletes_total', `outcome="${outcome}"`);

const linkMailTo = (m: ReceivedMail) => m.envelope.to.includes(EMAIL) && m.subject === SUBJECT;

let besideSeq = 0;

t.test('a mailed link: its event leaves GAS_EVENTS and the store files once sent; the job event beside it stays', async (t) => {
  const { token, secret } = newToken(USER);
  const before = await lastSeq();
  const jobEvent = create(JobEventSchema, {
    eventId: 'beside-job.failed',
    kind: JobEventKind.FAILED,
    job: create(JobSchema, {
      jobId: 'beside-job',
      userId: USER,
      status: JobStatus.FAILED,
      inputName: 'beside.vcf',
      failureReason: 'a test',
    }),
    occurredAt: timestampFromDate(new Date()),
  });
  const beside = await publishProto(js, subjects.jobEvent('failed'), JobEventSchema, jobEvent, jobEvent.eventId);
  besideSeq = beside.seq;
  await askForLink('link-1', token, new Date(Date.now() + 86_400_000));

  const [mail] = (await smtp.waitFor((ms) => ms.some(linkMailTo), 30_000)).filter(linkMailTo);
  t.match(mail!.text, `/confirm-email?token=${token}`, 'the link was mailed with its token');
  await eventsHandled();

  const deleted = await deletedSeqs();
  t.equal(deleted.length, 1, 'one message deleted');
  const seq = deleted[0]!;
  t.ok(seq > before && seq !== beside.seq, 'the one published for the link');
  t.ok(await gone(seq), 'the stream answers nothing for its sequence');
  const left = await storedEvents();
  t.notOk(
    left.some((m) => m.subject === CONFIRMATION),
    'no confirmation event left',
  );
  t.notOk(
    left.some((m) => m.data.includes(secret)),
    'no message holds the token',
  );
  const kept = left.find((m) => m.seq === beside.seq);
  t.equal(kept?.subject, 'gas.events.job.failed', 'the job event published beside it is still there');
  t.ok(kept?.data.equals(toBinary(JobEventSchema, jobEvent)), 'unchanged');
  // Deleted with erase: the bytes are overwritten in the stream's files, not only marked deleted.
  t.strictSame((await secretLeft(CONFIRMATION, secret)).files, [], 'no NATS store file holds it');

  t.equal(await deletes('deleted'), 1, 'counted');
  t.equal(await deletes('failed'), 0);
  const logs = stack.services.notification!.logs();
  t.notOk(logs.includes(secret.toString()), 'the token is not logged');
  t.notMatch(logs, /ack not confirmed|could not delete/, 'the ack of the deleted message was confirmed');
});

t.test('a link that expired before its event was handled: not mailed, and its event deleted all the same', async (t) => {
  const { token, secret } = newToken(USER);
  const mailsBefore = smtp.messages.filter(linkMailTo).length;
  await askForLink('link-2', token, new Date(Date.now() - 60_000));
  await eventsHandled();
  t.equal(await counter('gas_notification_emails_total', 'outcome="expired"'), 1, 'handled as expired');
  t.equal(smtp.messages.filter(linkMailTo).length, mailsBefore, 'no email');
  t.equal(await deletes('deleted'), 2, 'deleted');
  t.equal((await deletedSeqs()).length, 2);
  t.strictSame(await secretLeft(CONFIRMATION, secret), { events: [], files: [] }, 'no confirmation event left, nor the token anywhere');
});

t.test('a confirmation event terminated as malformed is deleted too', async (t) => {
  const garbage = await js.publish(CONFIRMATION, Uint8Array.from([0x0a, 0xff, 0xff]), { msgID: 'garbage' });
  const noToken = create(AccountEventSchema, {
    eventId: `${USER}.email_confirmation_requested.no-token`,
    kind: AccountEventKind.EMAIL_CONFIRMATION_REQUESTED,
    account: create(AccountSchema, { userId: USER, email: EMAIL }),
  });
  const incomplete = await publishProto(js, CONFIRMATION, AccountEventSchema, noToken, noToken.eventId);
  await eventsHandled();
  t.equal(await counter('gas_notification_messages_total', 'outcome="term"'), 2, 'both terminated');
  t.ok(await gone(garbage.seq), 'the undecodable one is gone');
  t.ok(await gone(incomplete.seq), 'the one without a token is gone');
  t.equal(await deletes('deleted'), 4);
  t.notOk(await gone(besideSeq), 'the job event is still there');
});

t.test('the archive service, which had read none of them, reads the events left and goes past the deleted ones', async (t) => {
  const left = await storedEvents();
  t.ok(left.length > 0);
  const last = await lastSeq();
  await stack.startService('archive');
  const info = await stack.eventually(
    () => jsm.consumers.info(EVENTS, 'archive'),
    (c) => c.num_pending === 0 && c.num_ack_pending === 0 && c.ack_floor.stream_seq === last,
    30_000,
  );
  t.equal(info.num_pending, 0, 'nothing pending');
  t.equal(info.num_ack_pending, 0);
  t.equal(info.ack_floor.stream_seq, last, 'acked up to the last message');
  const m = await stack.metrics('archive');
  const handled = (outcome: string) =>
    Number(
      new RegExp(`^gas_archive_messages_total\\{[^}]*consumer="archive"[^}]*outcome="${outcome}"[^}]*\\} (\\S+)$`, 'm').exec(m)?.[1] ?? 0,
    );
  t.equal(handled('ack'), left.length, 'every message left handled once');
  t.equal(handled('term') + handled('error'), 0, 'none failed');
});
