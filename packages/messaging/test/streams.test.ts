import t from 'tap';
import { create, toBinary } from '@bufbuild/protobuf';
import { StructSchema, TimestampSchema, timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  PoisonMessageError,
  connectNats,
  consumerBacklog,
  consumerSpecs,
  decodeProto,
  ensureConsumer,
  ensureStreams,
  jetstream,
  publishProto,
  streamNames,
  streamSpecs,
  subjects,
  waitForJetStream,
} from '../src/index.ts';
import type { JetStreamClient, JetStreamManager, NatsConnection } from '../src/index.ts';
import { captureLogger } from './log-capture.ts';
import { startNatsServer } from '@gas/testing';
import type { NatsServerHandle } from '@gas/testing';

const server: NatsServerHandle = await startNatsServer();
let connection: NatsConnection | undefined;
t.teardown(async () => {
  await connection?.close();
  await server.stop();
});
const nc: NatsConnection = (connection = await connectNats({ servers: server.url, name: 'streams-test', logger: captureLogger().logger }));
const jsm: JetStreamManager = await waitForJetStream(nc, { timeoutMs: 5000 });
const js: JetStreamClient = jetstream(nc);

t.test('subjects follow the design', async (t) => {
  t.equal(subjects.jobRequested, 'gas.jobs.requested');
  t.equal(subjects.jobEvent('completed'), 'gas.events.job.completed');
  t.equal(subjects.accountEvent('upgraded'), 'gas.events.account.upgraded');
  t.equal(subjects.archiveTimer('retention.j1'), 'gas.archive.retention.j1');
  t.throws(() => subjects.archiveTimer('a.*'), /invalid archive timer name/);
  t.throws(() => subjects.archiveTimer(''), /invalid archive timer name/);
});

t.test('ensureStreams creates the three streams once and is idempotent', async (t) => {
  const specs = streamSpecs({ eventsMaxAgeDays: 3 });
  t.strictSame(await ensureStreams(jsm, specs), [
    { stream: 'GAS_JOBS', action: 'created' },
    { stream: 'GAS_EVENTS', action: 'created' },
    { stream: 'GAS_ARCHIVE', action: 'created' },
  ]);
  t.strictSame(
    (await ensureStreams(jsm, streamSpecs({ eventsMaxAgeDays: 3 }))).map((r) => r.action),
    ['unchanged', 'unchanged', 'unchanged'],
  );

  const jobs = (await jsm.streams.info(streamNames.jobs)).config;
  t.equal(jobs.retention, 'workqueue');
  t.equal(jobs.storage, 'file');
  t.strictSame(jobs.subjects, ['gas.jobs.requested']);
  t.equal(jobs.duplicate_window, 120 * 1e9);
  const events = (await jsm.streams.info(streamNames.events)).config;
  t.equal(events.retention, 'limits');
  t.equal(events.max_age, 3 * 86400 * 1e9);
  t.strictSame(events.subjects, ['gas.events.>']);
  const archive = (await jsm.streams.info(streamNames.archive)).config;
  t.equal(archive.retention, 'workqueue');
  t.strictSame(archive.subjects, ['gas.archive.>']);

  // A changed retention window is applied in place, and only to the stream that changed.
  t.strictSame(
    (await ensureStreams(jsm, streamSpecs({ eventsMaxAgeDays: 10 }))).map((r) => r.action),
    ['unchanged', 'updated', 'unchanged'],
  );
  t.equal((await jsm.streams.info(streamNames.events)).config.max_age, 10 * 86400 * 1e9);
});

t.test('ensureConsumer creates, leaves alone, updates, and refuses impossible changes', async (t) => {
  await ensureStreams(jsm, streamSpecs());
  const spec = consumerSpecs.annotator({ ackWaitMs: 30_000, maxDeliver: 3, maxAckPending: 8 });
  t.equal(await ensureConsumer(jsm, streamNames.jobs, spec), 'created');
  t.equal(await ensureConsumer(jsm, streamNames.jobs, spec), 'unchanged');
  let info = await jsm.consumers.info(streamNames.jobs, 'annotator');
  t.equal(info.config.durable_name, 'annotator');
  t.equal(info.config.ack_policy, 'explicit');
  t.equal(info.config.deliver_policy, 'all');
  t.equal(info.config.filter_subject, 'gas.jobs.requested');
  t.equal(info.config.ack_wait, 30e9);
  t.equal(info.config.max_deliver, 3);
  t.equal(info.config.max_ack_pending, 8);
  t.equal(info.config.deliver_subject, undefined, 'pull consumer');

  const changed = consumerSpecs.annotator({ ackWaitMs: 45_000, maxDeliver: 5, maxAckPending: 8 });
  t.equal(await ensureConsumer(jsm, streamNames.jobs, changed), 'updated');
  info = await jsm.consumers.info(streamNames.jobs, 'annotator');
  t.equal(info.config.ack_wait, 45e9);
  t.equal(info.config.max_deliver, 5);
  t.equal(await ensureConsumer(jsm, streamNames.jobs, changed), 'unchanged');
  t.equal(await ensureConsumer(jsm, streamNames.jobs, spec, { onlyIfMissing: true }), 'unchanged', 'another owner only checks it exists');
  t.equal((await jsm.consumers.info(streamNames.jobs, 'annotator')).config.ack_wait, 45e9, 'its settings kept');

  await t.rejects(
    ensureConsumer(jsm, streamNames.jobs, { ...changed, ack_policy: 'all' }),
    /cannot update consumer GAS_JOBS\/annotator \(ack_policy\)/,
  );

  for (const [stream, c, filter] of [
    [streamNames.events, consumerSpecs.notification(), 'gas.events.>'],
    [streamNames.events, consumerSpecs.archive(), 'gas.events.>'],
    [streamNames.archive, consumerSpecs.archiveTimer(), 'gas.archive.>'],
  ] as const) {
    t.equal(await ensureConsumer(jsm, stream, c), 'created');
    t.equal(await ensureConsumer(jsm, stream, c), 'unchanged');
    const ci = await jsm.consumers.info(stream, c.durable_name);
    t.equal(ci.config.filter_subject, filter);
  }
  t.equal((await jsm.consumers.info(streamNames.archive, 'archive-timer')).config.max_deliver, -1);
});

t.test('publishProto deduplicates by msgId and decodeProto round-trips', async (t) => {
  await ensureStreams(jsm, streamSpecs());
  const ts = timestampFromMs(1_700_000_000_123);
  const first = await publishProto(js, subjects.jobEvent('completed'), TimestampSchema, ts, 'evt-1');
  const second = await publishProto(js, subjects.jobEvent('completed'), TimestampSchema, ts, 'evt-1');
  t.equal(first.duplicate, false);
  t.equal(second.duplicate, true);
  t.equal(second.seq, first.seq);
  const third = await publishProto(js, subjects.jobEvent('completed'), TimestampSchema, ts, 'evt-2');
  t.equal(third.duplicate, false);
  t.equal(third.seq, first.seq + 1);

  const stored = await jsm.streams.getMessage(streamNames.events, { seq: first.seq });
  t.ok(stored);
  if (!stored) return;
  t.equal(stored.header.get('Nats-Msg-Id'), 'evt-1');
  t.strictSame(decodeProto(TimestampSchema, stored.data), ts);
});

t.test('decodeProto throws PoisonMessageError on bad bytes', async (t) => {
  const bytes = toBinary(StructSchema, create(StructSchema, {}));
  t.strictSame(decodeProto(StructSchema, bytes), create(StructSchema, {}));
  const err = t.throws(() => decodeProto(TimestampSchema, new Uint8Array([0x0a, 0xff, 0xff, 0xff])), PoisonMessageError);
  t.hasStrict(err, { typeName: 'google.protobuf.Timestamp' });
  t.match(err, { message: /^cannot decode google\.protobuf\.Timestamp: / });
});

t.test('consumerBacklog reports pending, ack-pending and redelivered counts', async (t) => {
  await ensureStreams(jsm, streamSpecs());
  const spec = consumerSpecs.annotator({ ackWaitMs: 30_000, maxDeliver: 5, maxAckPending: 8 });
  await ensureConsumer(jsm, streamNames.jobs, spec);
  for (let i = 0; i < 5; i++) await js.publish(subjects.jobRequested, new Uint8Array([i]), { msgID: `job-${i}` });
  t.strictSame(await consumerBacklog(jsm, streamNames.jobs, 'annotator'), { pending: 5, ackPending: 0, redelivered: 0 });

  const c = await js.consumers.get(streamNames.jobs, 'annotator');
  const m1 = await c.next({ expires: 1000 });
  const m2 = await c.next({ expires: 1000 });
  t.ok(m1 && m2);
  if (!m1 || !m2) return;
  m1.nak();
  t.strictSame(await consumerBacklog(jsm, streamNames.jobs, 'annotator'), { pending: 3, ackPending: 2, redelivered: 0 });
  const again = await c.next({ expires: 1000 });
  t.equal(again?.info.deliveryCount, 2);
  t.strictSame(await consumerBacklog(jsm, streamNames.jobs, 'annotator'), { pending: 3, ackPending: 2, redelivered: 1 });
  // Acks confirmed by the server: a flush only says they arrived, and current servers apply them
  // to the consumer's state a moment later.
  t.ok(await again?.ackAck());
  t.ok(await m2.ackAck());
  t.strictSame(await consumerBacklog(jsm, streamNames.jobs, 'annotator'), { pending: 3, ackPending: 0, redelivered: 0 });
});
