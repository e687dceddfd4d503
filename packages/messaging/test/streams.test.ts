import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
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
import { startNatsServer } from './nats-server.ts';
import type { NatsServer } from './nats-server.ts';

let server: NatsServer;
let nc: NatsConnection;
let jsm: JetStreamManager;
let js: JetStreamClient;

before(async () => {
  server = await startNatsServer();
  nc = await connectNats({ servers: server.url, name: 'streams-test', logger: captureLogger().logger });
  jsm = await waitForJetStream(nc, { timeoutMs: 5000 });
  js = jetstream(nc);
});
after(async () => {
  await nc?.close();
  await server?.close();
});

test('subjects follow the design', () => {
  assert.equal(subjects.jobRequested, 'gas.jobs.requested');
  assert.equal(subjects.jobEvent('completed'), 'gas.events.job.completed');
  assert.equal(subjects.accountEvent('upgraded'), 'gas.events.account.upgraded');
  assert.equal(subjects.archiveTimer('retention.j1'), 'gas.archive.retention.j1');
  assert.throws(() => subjects.archiveTimer('a.*'), /invalid archive timer name/);
  assert.throws(() => subjects.archiveTimer(''), /invalid archive timer name/);
});

test('ensureStreams creates the three streams once and is idempotent', async () => {
  const specs = streamSpecs({ eventsMaxAgeDays: 3 });
  assert.deepEqual(await ensureStreams(jsm, specs), [
    { stream: 'GAS_JOBS', action: 'created' },
    { stream: 'GAS_EVENTS', action: 'created' },
    { stream: 'GAS_ARCHIVE', action: 'created' },
  ]);
  assert.deepEqual((await ensureStreams(jsm, streamSpecs({ eventsMaxAgeDays: 3 }))).map((r) => r.action), ['unchanged', 'unchanged', 'unchanged']);

  const jobs = (await jsm.streams.info(streamNames.jobs)).config;
  assert.equal(jobs.retention, 'workqueue');
  assert.equal(jobs.storage, 'file');
  assert.deepEqual(jobs.subjects, ['gas.jobs.requested']);
  assert.equal(jobs.duplicate_window, 120 * 1e9);
  const events = (await jsm.streams.info(streamNames.events)).config;
  assert.equal(events.retention, 'limits');
  assert.equal(events.max_age, 3 * 86400 * 1e9);
  assert.deepEqual(events.subjects, ['gas.events.>']);
  const archive = (await jsm.streams.info(streamNames.archive)).config;
  assert.equal(archive.retention, 'workqueue');
  assert.deepEqual(archive.subjects, ['gas.archive.>']);

  // A changed retention window is applied in place, and only to the stream that changed.
  assert.deepEqual((await ensureStreams(jsm, streamSpecs({ eventsMaxAgeDays: 10 }))).map((r) => r.action), ['unchanged', 'updated', 'unchanged']);
  assert.equal((await jsm.streams.info(streamNames.events)).config.max_age, 10 * 86400 * 1e9);
});

test('ensureConsumer creates, leaves alone, updates, and refuses impossible changes', async () => {
  await ensureStreams(jsm, streamSpecs());
  const spec = consumerSpecs.annotator({ ackWaitMs: 30_000, maxDeliver: 3, maxAckPending: 8 });
  assert.equal(await ensureConsumer(jsm, streamNames.jobs, spec), 'created');
  assert.equal(await ensureConsumer(jsm, streamNames.jobs, spec), 'unchanged');
  let info = await jsm.consumers.info(streamNames.jobs, 'annotator');
  assert.equal(info.config.durable_name, 'annotator');
  assert.equal(info.config.ack_policy, 'explicit');
  assert.equal(info.config.deliver_policy, 'all');
  assert.equal(info.config.filter_subject, 'gas.jobs.requested');
  assert.equal(info.config.ack_wait, 30e9);
  assert.equal(info.config.max_deliver, 3);
  assert.equal(info.config.max_ack_pending, 8);
  assert.equal(info.config.deliver_subject, undefined, 'pull consumer');

  const changed = consumerSpecs.annotator({ ackWaitMs: 45_000, maxDeliver: 5, maxAckPending: 8 });
  assert.equal(await ensureConsumer(jsm, streamNames.jobs, changed), 'updated');
  info = await jsm.consumers.info(streamNames.jobs, 'annotator');
  assert.equal(info.config.ack_wait, 45e9);
  assert.equal(info.config.max_deliver, 5);
  assert.equal(await ensureConsumer(jsm, streamNames.jobs, changed), 'unchanged');

  await assert.rejects(ensureConsumer(jsm, streamNames.jobs, { ...changed, ack_policy: 'all' }), /cannot update consumer GAS_JOBS\/annotator \(ack_policy\)/);

  for (const [stream, c, filter] of [
    [streamNames.events, consumerSpecs.notification(), 'gas.events.>'],
    [streamNames.events, consumerSpecs.archive(), 'gas.events.>'],
    [streamNames.archive, consumerSpecs.archiveTimer(), 'gas.archive.>'],
  ] as const) {
    assert.equal(await ensureConsumer(jsm, stream, c), 'created');
    assert.equal(await ensureConsumer(jsm, stream, c), 'unchanged');
    const ci = await jsm.consumers.info(stream, c.durable_name);
    assert.equal(ci.config.filter_subject, filter);
  }
  assert.equal((await jsm.consumers.info(streamNames.archive, 'archive-timer')).config.max_deliver, -1);
});

test('publishProto deduplicates by msgId and decodeProto round-trips', async () => {
  await ensureStreams(jsm, streamSpecs());
  const ts = timestampFromMs(1_700_000_000_123);
  const first = await publishProto(js, subjects.jobEvent('completed'), TimestampSchema, ts, 'evt-1');
  const second = await publishProto(js, subjects.jobEvent('completed'), TimestampSchema, ts, 'evt-1');
  assert.equal(first.duplicate, false);
  assert.equal(second.duplicate, true);
  assert.equal(second.seq, first.seq);
  const third = await publishProto(js, subjects.jobEvent('completed'), TimestampSchema, ts, 'evt-2');
  assert.equal(third.duplicate, false);
  assert.equal(third.seq, first.seq + 1);

  const stored = await jsm.streams.getMessage(streamNames.events, { seq: first.seq });
  assert.ok(stored);
  assert.equal(stored.header.get('Nats-Msg-Id'), 'evt-1');
  assert.deepEqual(decodeProto(TimestampSchema, stored.data), ts);
});

test('decodeProto throws PoisonMessageError on bad bytes', () => {
  const bytes = toBinary(StructSchema, create(StructSchema, {}));
  assert.deepEqual(decodeProto(StructSchema, bytes), create(StructSchema, {}));
  const err = (() => {
    try {
      decodeProto(TimestampSchema, new Uint8Array([0x0a, 0xff, 0xff, 0xff]));
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  assert.ok(err instanceof PoisonMessageError, `got ${String(err)}`);
  assert.equal(err.typeName, 'google.protobuf.Timestamp');
  assert.match(err.message, /^cannot decode google\.protobuf\.Timestamp: /);
});

test('consumerBacklog reports pending, ack-pending and redelivered counts', async () => {
  await ensureStreams(jsm, streamSpecs());
  const spec = consumerSpecs.annotator({ ackWaitMs: 30_000, maxDeliver: 5, maxAckPending: 8 });
  await ensureConsumer(jsm, streamNames.jobs, spec);
  for (let i = 0; i < 5; i++) await js.publish(subjects.jobRequested, new Uint8Array([i]), { msgID: `job-${i}` });
  assert.deepEqual(await consumerBacklog(jsm, streamNames.jobs, 'annotator'), { pending: 5, ackPending: 0, redelivered: 0 });

  const c = await js.consumers.get(streamNames.jobs, 'annotator');
  const m1 = await c.next({ expires: 1000 });
  const m2 = await c.next({ expires: 1000 });
  assert.ok(m1 && m2);
  m1.nak();
  assert.deepEqual(await consumerBacklog(jsm, streamNames.jobs, 'annotator'), { pending: 3, ackPending: 2, redelivered: 0 });
  const again = await c.next({ expires: 1000 });
  assert.equal(again?.info.deliveryCount, 2);
  assert.deepEqual(await consumerBacklog(jsm, streamNames.jobs, 'annotator'), { pending: 3, ackPending: 2, redelivered: 1 });
  again.ack();
  m2.ack();
  await nc.flush();
  assert.deepEqual(await consumerBacklog(jsm, streamNames.jobs, 'annotator'), { pending: 3, ackPending: 0, redelivered: 0 });
});
