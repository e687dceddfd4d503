// The event handler built in-process on a real nats-server (stream, KV buckets, consumer) and the
// outbox mailer in a test folder, for what the whole stack cannot show: the delete of an address
// confirmation event failing. Its failure here is real too: the delete goes through a second NATS
// connection that is closed. A failed delete is a warning and a count, never a handler error, so
// the event is acked like any other and its email is not sent again; a later delivery of the same
// event (an ack that got lost) deletes it. The job service's gRPC client points nowhere: the event
// carries the address, so the handler never calls it.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Kvm } from '@nats-io/kv';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { JsMsg } from '@nats-io/jetstream';
import {
  connectNats,
  consumerSpecs,
  ensureConsumer,
  ensureStreams,
  publishProto,
  streamNames,
  streamSpecs,
  subjects,
} from '@gas/messaging';
import type { Outcome } from '@gas/messaging';
import { create, createClient, timestampFromDate, AccountEventKind, AccountEventSchema, AccountSchema, AccountService } from '@gas/proto';
import { createLogger, createRegistry } from '@gas/runtime';
import { parseLogLine, startNatsServer } from '@gas/testing';
import type { LogLine } from '@gas/testing';
import { buckets } from '../src/app.ts';
import { ErasureRequests } from '../src/event-erasure.ts';
import { createEventHandler } from '../src/event-handler.ts';
import { outboxMailer } from '../src/mailer.ts';
import { createNotificationMetrics } from '../src/notification-metrics.ts';
import { NoticeStore } from '../src/notice-store.ts';
import { SendLog } from '../src/send-log.ts';

const EVENTS = streamNames.events;

const nats = await startNatsServer();
t.teardown(() => nats.stop());
const quiet = createLogger({ service: 'notification-test', level: 'silent' });
const nc = await connectNats({ servers: nats.url, name: 'confirmation-delete-failure-test', logger: quiet });
t.teardown(() => nc.close());
const jsm = await jetstreamManager(nc);
const js = jetstream(nc);
await ensureStreams(jsm, streamSpecs());
const consumer = consumerSpecs.notification({ ackWaitMs: 5000 });
await ensureConsumer(jsm, EVENTS, consumer);
const kvm = new Kvm(js);
const notices = new NoticeStore(
  await kvm.create(buckets.notices),
  await kvm.create(buckets.reads),
  jsm,
  buckets.notices,
  await kvm.create(buckets.deletedJobs),
  buckets.reads,
);
const sends = new SendLog(await kvm.create(buckets.sends));
const accounts = createClient(AccountService, '127.0.0.1:1', { defaultDeadlineMs: 1000 });
t.teardown(() => accounts.close());
const outbox = t.testdir();
const mailer = outboxMailer(outbox, 'GAS <gas@localhost>');
t.teardown(() => mailer.close());

const lines: LogLine[] = [];
const rawLog: string[] = [];
const logger = createLogger({
  service: 'notification-test',
  level: 'debug',
  destination: new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) {
        if (!l) continue;
        rawLog.push(l);
        lines.push(parseLogLine(l));
      }
      cb();
    },
  }),
});
const erasures = new ErasureRequests(await kvm.create(buckets.erasures));
const registry = createRegistry('notification-test');
const metrics = createNotificationMetrics(registry);

// Closed before use: every request on it fails at once, as one does with NATS out of reach.
const closed = await connectNats({ servers: nats.url, name: 'closed', logger: quiet });
const closedJsm = await jetstreamManager(closed);
await closed.close();

const handlerDeletingWith = (manager: typeof jsm) =>
  createEventHandler({
    notices,
    sends,
    accounts,
    mailer,
    publicUrl: 'http://gas.example.org',
    metrics,
    logger,
    erasures,
    deleteEventMessage: (seq) => manager.streams.deleteMessage(EVENTS, seq, true),
  });

async function deletes(outcome: string): Promise<number> {
  const m = await metrics.confirmationDeletes.get();
  return m.values.find((v) => v.labels['outcome'] === outcome)?.value ?? 0;
}

const nextMessage = async (): Promise<JsMsg> => {
  const m = await (await js.consumers.get(EVENTS, consumer.durable_name)).next({ expires: 5000 });
  if (!m) throw new Error('no message delivered');
  return m;
};
const ctx = (deliveryCount: number) => ({ signal: new AbortController().signal, deliveryCount, maxDeliver: 10 });
const mails = async () => (await readdir(outbox)).filter((f) => f.endsWith('.eml'));

t.test('a failed delete: logged without the token, counted, the event acked and left; a later delivery deletes it', async (t) => {
  const secret = randomBytes(32).toString('base64url');
  const token = `gus.${secret}`;
  const event = create(AccountEventSchema, {
    eventId: 'gus.email_confirmation_requested.1',
    kind: AccountEventKind.EMAIL_CONFIRMATION_REQUESTED,
    account: create(AccountSchema, { userId: 'gus', email: 'gus@example.org' }),
    occurredAt: timestampFromDate(new Date()),
    emailConfirmation: { email: 'gus@example.org', token, expiresAt: timestampFromDate(new Date(Date.now() + 86_400_000)) },
  });
  const { seq } = await publishProto(js, subjects.accountEvent('email_confirmation_requested'), AccountEventSchema, event, event.eventId);

  const first = await nextMessage();
  const outcome: Outcome = await handlerDeletingWith(closedJsm)(first, ctx(1));
  t.strictSame(outcome, { kind: 'ack' }, 'acked: the failed delete is no handler error');
  t.strictSame(await mails(), ['gus.email_confirmation_requested.1.eml'], 'the email was written');
  t.match(await readFile(join(outbox, 'gus.email_confirmation_requested.1.eml'), 'utf8'), secret, 'with the link');
  const warning = lines.find((l) => l.msg?.startsWith('could not delete the email confirmation event'));
  t.equal(warning?.level, 'warn', 'a warning');
  t.match(warning, { seq, subject: 'gas.events.account.email_confirmation_requested' }, 'naming the message');
  t.notOk(
    rawLog.some((l) => l.includes(secret)),
    'no log line holds the token',
  );
  t.equal(await deletes('failed'), 1, 'counted as failed');
  t.equal(await deletes('deleted'), 0);
  t.ok(await jsm.streams.getMessage(EVENTS, { seq }), 'the event is still in the stream');

  // The ack is lost (here: never sent), so the server delivers the event again.
  first.nak();
  const second = await nextMessage();
  t.equal(second.seq, seq, 'the same event again');
  t.strictSame(await handlerDeletingWith(jsm)(second, ctx(2)), { kind: 'ack' }, 'a duplicate: acked');
  t.equal(await deletes('deleted'), 1, 'and deleted this time');
  t.equal(await jsm.streams.getMessage(EVENTS, { seq }).catch(() => null), null, 'gone from the stream');
  t.equal(await second.ackAck({ timeout: 5000 }), true, 'the server confirms the ack of the deleted message');
  t.equal((await mails()).length, 1, 'and the email was not written again');
  const info = await jsm.consumers.info(EVENTS, consumer.durable_name);
  t.equal(info.num_ack_pending + info.num_pending, 0, 'nothing left for the consumer');
});
