// The event handler built in-process on a real nats-server (stream, KV buckets, consumer), the
// outbox mailer in a test folder and the real job service for accounts, for what the whole stack
// cannot show on purpose: a job's deletion handled in the middle of one of its other events. Two
// moments are forced with hooks on the real store and mailer: right before a job.completed stores
// its notice (the deletion's search has passed it by, so the handler must remove the notice it
// stores), and while its email is being written (the notice is gone by the time its email status is
// recorded, and must not be written again). The first moment again for an account's deletion, which
// must take the notice of its job stored after its purge. The events are made here, as the job
// service makes them.
import t from 'tap';
import { readdir } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { Kvm } from '@nats-io/kv';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { JsMsg } from '@nats-io/jetstream';
import { connectNats, publishProto, streamNames, subjects } from '@gas/messaging';
import {
  create,
  createClient,
  timestampFromDate,
  AccountSchema,
  AccountService,
  AccountEventKind,
  AccountEventSchema,
  JobEventKind,
  JobEventSchema,
  JobSchema,
  JobStatus,
} from '@gas/proto';
import type { Notice } from '@gas/proto';
import { createLogger, createRegistry } from '@gas/runtime';
import { startGasStack } from '@gas/testing';
import { buckets } from '../src/app.ts';
import { ErasureRequests } from '../src/event-erasure.ts';
import { createEventHandler } from '../src/event-handler.ts';
import { outboxMailer } from '../src/mailer.ts';
import type { Mailer } from '../src/mailer.ts';
import { createNotificationMetrics } from '../src/notification-metrics.ts';
import { noticeId } from '../src/notice-id.ts';
import { NoticeStore } from '../src/notice-store.ts';
import { SendLog } from '../src/send-log.ts';

const EVENTS = streamNames.events;
const USER = 'ivy';
const CONSUMER = 'interleaved-test';

const stack = await startGasStack({ store: 'filesystem', services: ['job'], users: [] });
t.teardown(() => stack.stop());
const quiet = createLogger({ service: 'notification-test', level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const nc = await connectNats({ servers: stack.natsUrl, name: 'job-deleted-interleaved-test', logger: quiet });
t.teardown(() => nc.close());
const jsm = await jetstreamManager(nc);
const js = jetstream(nc);
const kvm = new Kvm(js);
const accounts = createClient(AccountService, stack.jobGrpcUrl, { defaultDeadlineMs: 10_000 });
t.teardown(() => accounts.close());
await accounts.upsertAccount({ account: create(AccountSchema, { userId: USER, email: `${USER}@example.org`, name: 'Ivy' }) });

/** The real store, with a hook that runs once right before the next notice is stored. */
class HookedStore extends NoticeStore {
  beforeEnsure?: () => Promise<unknown>;
  override async ensure(notice: Notice) {
    const hook = this.beforeEnsure;
    this.beforeEnsure = undefined;
    await hook?.();
    return super.ensure(notice);
  }
}
const notices = new HookedStore(
  await kvm.create(buckets.notices),
  await kvm.create(buckets.reads),
  jsm,
  buckets.notices,
  await kvm.create(buckets.deletedJobs),
  buckets.reads,
);
const sendsKv = await kvm.create(buckets.sends);
const outbox = t.testdir();
const outboxMail = outboxMailer(outbox, 'GAS <gas@localhost>');
t.teardown(() => outboxMail.close());
/** The outbox, with a hook that runs once while the next mail is being sent. */
let whileSending: (() => Promise<unknown>) | undefined;
const mailer: Mailer = {
  kind: 'outbox',
  async send(mail, key) {
    const hook = whileSending;
    whileSending = undefined;
    await hook?.();
    return outboxMail.send(mail, key);
  },
  close: () => undefined,
};
const erasures = new ErasureRequests(await kvm.create(buckets.erasures));
const registry = createRegistry('notification-test');
const metrics = createNotificationMetrics(registry);
const handler = createEventHandler({
  notices,
  sends: new SendLog(sendsKv),
  accounts,
  mailer,
  publicUrl: 'http://gas.example.org',
  metrics,
  logger: quiet,
  erasures,
  deleteEventMessage: async () => undefined,
});

await jsm.consumers.add(EVENTS, { durable_name: CONSUMER, ack_policy: AckPolicy.Explicit, filter_subject: 'gas.events.job.>' });
const nextMessage = async (): Promise<JsMsg> => {
  const m = await (await js.consumers.get(EVENTS, CONSUMER)).next({ expires: 5000 });
  if (!m) throw new Error('no message delivered');
  return m;
};
const ctx = { signal: new AbortController().signal, deliveryCount: 1, maxDeliver: 10 };

/** Publishes a job's job.completed and job.deleted, and takes both from the consumer. */
async function completedThenDeleted(inputName: string): Promise<{ jobId: string; completed: JsMsg; deleted: JsMsg }> {
  const createdAt = new Date();
  const jobId = noticeId(`${inputName}-${createdAt.getTime()}`, createdAt);
  const job = create(JobSchema, {
    jobId,
    userId: USER,
    status: JobStatus.COMPLETED,
    inputName,
    createdAt: timestampFromDate(createdAt),
    finishedAt: timestampFromDate(new Date()),
  });
  for (const [kind, name] of [
    [JobEventKind.COMPLETED, 'completed'],
    [JobEventKind.DELETED, 'deleted'],
  ] as const) {
    const eventId = `${jobId}.${name}`;
    const event = create(JobEventSchema, { eventId, kind, job, occurredAt: timestampFromDate(new Date()) });
    await publishProto(js, subjects.jobEvent(name), JobEventSchema, event, eventId);
  }
  return { jobId, completed: await nextMessage(), deleted: await nextMessage() };
}

const jobNotices = async (jobId: string) =>
  (await Promise.all((await notices.ids(USER)).map((id) => notices.get(USER, id)))).filter((n) => n?.jobId === jobId);
const mails = async () => (await readdir(outbox)).filter((f) => f.endsWith('.eml'));
const count = async (c: { get(): Promise<{ values: Array<{ value: number }> }> }) =>
  (await c.get()).values.reduce((sum, v) => sum + v.value, 0);

t.test('a deletion handled just before a job.completed stores its notice: the notice it stores goes at once, no email', async (t) => {
  const { jobId, completed, deleted } = await completedThenDeleted('Jane Doe 1961.vcf');
  t.equal(completed.subject, 'gas.events.job.completed');
  let deletionOutcome: unknown;
  // The handler has already looked for a tombstone and found none; the deletion's search finds no notice.
  notices.beforeEnsure = async () => (deletionOutcome = await handler(deleted, ctx));
  t.strictSame(await handler(completed, ctx), { kind: 'ack' }, 'the job.completed is acked');
  t.strictSame(deletionOutcome, { kind: 'ack' }, 'so is the deletion');
  t.strictSame(await jobNotices(jobId), [], 'no notice of the job is left');
  t.strictSame(await notices.ids(USER), [], 'no key either');
  t.equal(await count(metrics.deletedJobEvents), 1, 'seen as an event of a deleted job');
  t.equal(await count(metrics.noticesDeleted), 0, 'the deletion itself had found none');
  t.strictSame(await mails(), [], 'no email');
  completed.ack();
  deleted.ack();
});

t.test('a deletion handled while the job.completed email is being sent: the email goes, the notice is not written again', async (t) => {
  const { jobId, completed, deleted } = await completedThenDeleted('John Roe 1970.vcf');
  let deletionOutcome: unknown;
  whileSending = async () => (deletionOutcome = await handler(deleted, ctx));
  t.strictSame(await handler(completed, ctx), { kind: 'ack' });
  t.strictSame(deletionOutcome, { kind: 'ack' });
  t.equal(await count(metrics.noticesDeleted), 1, 'the deletion removed the notice');
  t.strictSame(await jobNotices(jobId), [], 'and recording the email did not bring it back');
  t.strictSame(await mails(), [`${jobId}.completed.eml`], 'the email was already on its way: it went');
  t.equal((await sendsKv.get(`${jobId}.completed`))?.json<{ state: string }>().state, 'sent', 'recorded as sent');

  // Its ack lost: the same event again finds the tombstone and sends nothing more.
  completed.nak();
  const again = await nextMessage();
  t.equal(again.seq, completed.seq);
  t.strictSame(await handler(again, { ...ctx, deliveryCount: 2 }), { kind: 'ack' });
  t.strictSame(await jobNotices(jobId), [], 'no notice');
  t.equal((await mails()).length, 1, 'no second email');
  again.ack();
  deleted.ack();
});

t.test(
  'an account deletion handled just before a job.completed of it stores its notice: that notice goes too, no email but the last one',
  async (t) => {
    const user = 'jo';
    const accountConsumer = 'interleaved-account-test';
    await jsm.consumers.add(EVENTS, {
      durable_name: accountConsumer,
      ack_policy: AckPolicy.Explicit,
      filter_subject: 'gas.events.account.>',
    });
    const jobId = noticeId(`jo-${Date.now()}`, new Date());
    const job = create(JobSchema, {
      jobId,
      userId: user,
      status: JobStatus.COMPLETED,
      inputName: 'Jo Roe 1980.vcf',
      createdAt: timestampFromDate(new Date()),
    });
    const completedEvent = create(JobEventSchema, {
      eventId: `${jobId}.completed`,
      kind: JobEventKind.COMPLETED,
      job,
      occurredAt: timestampFromDate(new Date()),
    });
    await publishProto(js, subjects.jobEvent('completed'), JobEventSchema, completedEvent, completedEvent.eventId);
    const deletedEvent = create(AccountEventSchema, {
      eventId: `${user}.deleted.1`,
      kind: AccountEventKind.DELETED,
      account: create(AccountSchema, { userId: user, email: `${user}@example.org`, name: 'Jo' }),
      occurredAt: timestampFromDate(new Date()),
    });
    await publishProto(js, subjects.accountEvent('deleted'), AccountEventSchema, deletedEvent, deletedEvent.eventId);
    const completed = await nextMessage();
    t.equal(completed.subject, 'gas.events.job.completed');
    const deleted = await (await js.consumers.get(EVENTS, accountConsumer)).next({ expires: 5000 });
    t.equal(deleted?.subject, 'gas.events.account.deleted');

    let deletionOutcome: unknown;
    // The handler has already looked for a tombstone and found none; the deletion's purge finds no notice.
    notices.beforeEnsure = async () => (deletionOutcome = await handler(deleted!, ctx));
    t.strictSame(await handler(completed, ctx), { kind: 'ack' }, 'the job.completed is acked');
    t.strictSame(deletionOutcome, { kind: 'ack' }, 'so is the deletion');
    t.strictSame(await notices.ids(user), [], 'no notice of the user is left');
    t.equal(await count(metrics.deletedAccountEvents), 1, 'seen as an event of a deleted account');
    t.ok((await mails()).includes(`${deletedEvent.eventId}.eml`), 'the last email went');
    t.notOk((await mails()).includes(`${jobId}.completed.eml`), 'the job email did not');
    completed.ack();
    deleted!.ack();
  },
);
