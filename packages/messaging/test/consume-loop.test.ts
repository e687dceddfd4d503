import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { Registry } from '@gas/runtime';
import { ConsumeLoop, connectNats, consumerBacklog, ensureConsumer, ensureStream, jetstream, retryDelayMs, waitForJetStream } from '../src/index.ts';
import type { Handler, JetStreamClient, JetStreamManager, JsMsg, NatsConnection, Outcome } from '../src/index.ts';
import { captureLogger } from './log-capture.ts';
import { startNatsServer } from './nats-server.ts';
import type { NatsServer } from './nats-server.ts';

let server: NatsServer;
let nc: NatsConnection;
let jsm: JetStreamManager;
let js: JetStreamClient;
const loops: ConsumeLoop[] = [];

before(async () => {
  server = await startNatsServer();
  nc = await connectNats({ servers: server.url, name: 'consume-loop-test', logger: captureLogger().logger });
  jsm = await waitForJetStream(nc, { timeoutMs: 5000 });
  js = jetstream(nc);
});
after(async () => {
  await Promise.all(loops.map((l) => l.stop({ graceMs: 0 })));
  await nc?.drain();
  await server?.close();
});

let seq = 0;
/** A fresh work-queue stream and durable pull consumer per test, so tests cannot see each other's messages. */
async function fixture(opts: { ackWaitMs?: number; maxDeliver?: number; maxAckPending?: number } = {}) {
  const id = `T${++seq}`;
  const subject = `test.${id}`;
  await ensureStream(jsm, { name: id, subjects: [subject], retention: RetentionPolicy.Workqueue, storage: StorageType.File });
  await ensureConsumer(jsm, id, {
    durable_name: 'worker',
    filter_subject: subject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: (opts.ackWaitMs ?? 30_000) * 1e6,
    max_deliver: opts.maxDeliver ?? -1,
    max_ack_pending: opts.maxAckPending ?? 1000,
  });
  const publish = async (n: number) => {
    for (let i = 0; i < n; i++) await js.publish(subject, new TextEncoder().encode(`m${i}`));
  };
  return { stream: id, subject, publish };
}

function loopFor(stream: string, handler: Handler, extra: { maxInFlight?: number; heartbeatMs?: number; registry?: Registry } = {}) {
  const log = captureLogger();
  const loop = new ConsumeLoop({
    js,
    stream,
    consumer: 'worker',
    maxInFlight: extra.maxInFlight ?? 4,
    heartbeatMs: extra.heartbeatMs ?? 1000,
    logger: log.logger,
    registry: extra.registry,
    metricsPrefix: 'gas_test',
    handler,
  });
  loops.push(loop);
  return { loop, lines: log.lines };
}

async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function metricValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

test('retry delay doubles from 1 s and caps at 60 s', () => {
  assert.deepEqual([1, 2, 3, 4, 7, 8, 50].map(retryDelayMs), [1000, 2000, 4000, 8000, 60_000, 60_000, 60_000]);
});

test('acks handled messages and records metrics', async () => {
  const f = await fixture();
  const registry = new Registry();
  const seen: string[] = [];
  const { loop } = loopFor(f.stream, async (msg) => {
    seen.push(msg.string());
    return { kind: 'ack' };
  }, { registry });
  await f.publish(5);
  loop.start();
  await until(() => seen.length === 5, 5000, '5 messages');
  await until(async () => (await consumerBacklog(jsm, f.stream, 'worker')).ackPending === 0, 3000, 'acks to land');
  assert.deepEqual(seen.sort(), ['m0', 'm1', 'm2', 'm3', 'm4']);
  assert.equal((await jsm.streams.info(f.stream)).state.messages, 0, 'work queue emptied by acks');
  assert.equal(await metricValue(registry, 'gas_test_messages_total', { consumer: 'worker', outcome: 'ack' }), 5);
  assert.equal(await metricValue(registry, 'gas_test_inflight_messages', { consumer: 'worker' }), 0);
  const hist = await registry.getSingleMetric('gas_test_handler_seconds')?.get();
  assert.equal(hist?.values.find((v) => (v as { metricName?: string }).metricName === 'gas_test_handler_seconds_count')?.value, 5);
  await loop.stop({ graceMs: 1000 });
});

test('nak(delay) redelivers no sooner than the delay', async () => {
  const f = await fixture();
  const deliveries: Array<{ at: number; count: number }> = [];
  const { loop } = loopFor(f.stream, async (_msg, ctx) => {
    deliveries.push({ at: Date.now(), count: ctx.deliveryCount });
    return ctx.deliveryCount === 1 ? { kind: 'nak', delayMs: 700 } : { kind: 'ack' };
  });
  await f.publish(1);
  loop.start();
  await until(() => deliveries.length === 2, 5000, 'redelivery');
  const gap = deliveries[1]!.at - deliveries[0]!.at;
  assert.ok(gap >= 700, `redelivered after ${gap} ms`);
  assert.ok(gap < 2000, `redelivered after ${gap} ms`);
  assert.deepEqual(deliveries.map((d) => d.count), [1, 2]);
  await loop.stop({ graceMs: 1000 });
});

test('term is logged, counted and never redelivered', async () => {
  const f = await fixture({ ackWaitMs: 1000 });
  const registry = new Registry();
  let calls = 0;
  const { loop, lines } = loopFor(f.stream, async () => {
    calls++;
    return { kind: 'term', reason: 'unparseable job request' };
  }, { registry });
  await f.publish(1);
  loop.start();
  await until(() => calls === 1, 5000, 'delivery');
  await sleep(2000); // two ack_waits: an ignored term would have been redelivered by now
  assert.equal(calls, 1);
  const warn = lines.find((l) => l.msg === 'message terminated');
  assert.equal(warn?.level, 'warn');
  assert.equal(warn?.reason, 'unparseable job request');
  assert.equal(await metricValue(registry, 'gas_test_messages_total', { consumer: 'worker', outcome: 'term' }), 1);
  assert.equal((await consumerBacklog(jsm, f.stream, 'worker')).ackPending, 0);
  await loop.stop({ graceMs: 1000 });
});

test('working() heartbeats keep a long handler from being redelivered', async () => {
  const f = await fixture({ ackWaitMs: 1000 });
  let calls = 0;
  let done = false;
  const { loop } = loopFor(f.stream, async () => {
    calls++;
    await sleep(2500);
    done = true;
    return { kind: 'ack' };
  }, { heartbeatMs: 300 });
  await f.publish(1);
  loop.start();
  await until(() => done, 6000, 'handler');
  await sleep(1200);
  assert.equal(calls, 1, 'delivered exactly once');
  const backlog = await consumerBacklog(jsm, f.stream, 'worker');
  assert.deepEqual(backlog, { pending: 0, ackPending: 0, redelivered: 0 });
  await loop.stop({ graceMs: 1000 });
});

test('without heartbeats the same handler would be redelivered (control for the test above)', async () => {
  const f = await fixture({ ackWaitMs: 1000 });
  let calls = 0;
  const { loop } = loopFor(f.stream, async () => {
    calls++;
    await sleep(2500);
    return { kind: 'ack' };
  }, { heartbeatMs: 60_000 });
  await f.publish(1);
  loop.start();
  await until(() => calls >= 2, 6000, 'a redelivery after ack_wait');
  await loop.stop({ graceMs: 3000 });
});

test('never runs more than maxInFlight handlers at once', async () => {
  const f = await fixture();
  let running = 0;
  let peak = 0;
  let handled = 0;
  let peakAckPending = 0;
  const { loop } = loopFor(f.stream, async () => {
    running++;
    peak = Math.max(peak, running);
    await sleep(60);
    running--;
    handled++;
    return { kind: 'ack' };
  }, { maxInFlight: 3 });
  await f.publish(30);
  loop.start();
  const sampler = (async () => {
    while (handled < 30) {
      peakAckPending = Math.max(peakAckPending, (await consumerBacklog(jsm, f.stream, 'worker')).ackPending);
      await sleep(15);
    }
  })();
  await until(() => handled === 30, 10_000, '30 messages');
  await sampler;
  assert.equal(peak, 3, `peak concurrency ${peak}`);
  assert.ok(peakAckPending <= 3, `server saw ${peakAckPending} unacked messages`);
  assert.ok(peakAckPending >= 2, `sampler saw work in flight (${peakAckPending})`);
  await loop.stop({ graceMs: 1000 });
});

test('a throwing handler is logged and retried after a backoff', async () => {
  const f = await fixture();
  const registry = new Registry();
  const at: number[] = [];
  const { loop, lines } = loopFor(f.stream, async (_m, ctx) => {
    at.push(Date.now());
    if (ctx.deliveryCount === 1) throw new Error('transient failure');
    return { kind: 'ack' };
  }, { registry });
  await f.publish(1);
  loop.start();
  await until(() => at.length === 2, 5000, 'retry');
  const gap = at[1]! - at[0]!;
  assert.ok(gap >= 1000 && gap < 2500, `retried after ${gap} ms`);
  const err = lines.find((l) => l.msg === 'handler failed; will retry');
  assert.equal(err?.err.message, 'transient failure');
  assert.equal(err?.retryInMs, 1000);
  assert.equal(await metricValue(registry, 'gas_test_messages_total', { consumer: 'worker', outcome: 'error' }), 1);
  await until(async () => (await metricValue(registry, 'gas_test_messages_total', { consumer: 'worker', outcome: 'ack' })) === 1, 2000, 'ack');
  await loop.stop({ graceMs: 1000 });
});

test('a handler failing on the last allowed delivery terminates the message', async () => {
  const f = await fixture({ maxDeliver: 2 });
  const counts: Array<{ count: number; max: number }> = [];
  const { loop, lines } = loopFor(f.stream, async (_m, ctx) => {
    counts.push({ count: ctx.deliveryCount, max: ctx.maxDeliver });
    throw new Error('always broken');
  });
  await f.publish(1);
  loop.start();
  await until(() => lines.some((l) => l.msg === 'handler failed on the last allowed delivery; message terminated'), 5000, 'give up');
  assert.deepEqual(counts, [{ count: 1, max: 2 }, { count: 2, max: 2 }]);
  await until(async () => (await jsm.streams.info(f.stream)).state.messages === 0, 2000, 'terminated message removed from the work queue');
  await loop.stop({ graceMs: 1000 });
});

test('stop() waits for handlers that finish within the grace period and acks them', async () => {
  const f = await fixture();
  const registry = new Registry();
  let finished = 0;
  const { loop } = loopFor(f.stream, async () => {
    await sleep(300);
    finished++;
    return { kind: 'ack' };
  }, { registry });
  await f.publish(2);
  loop.start();
  await until(() => loop.inFlightCount === 2, 5000, 'two in flight');
  assert.equal(await metricValue(registry, 'gas_test_inflight_messages', { consumer: 'worker' }), 2);
  await loop.stop({ graceMs: 5000 });
  assert.equal(finished, 2);
  assert.equal(loop.inFlightCount, 0);
  assert.equal(await metricValue(registry, 'gas_test_inflight_messages', { consumer: 'worker' }), 0);
  assert.equal(await metricValue(registry, 'gas_test_messages_total', { consumer: 'worker', outcome: 'released' }), 0);
  await until(async () => (await jsm.streams.info(f.stream)).state.messages === 0, 2000, 'acks');
});

async function releasedPromptly(handler: (msg: JsMsg, signal: AbortSignal) => Promise<Outcome>, graceMs: number, maxMs: number) {
  const f = await fixture({ ackWaitMs: 30_000 });
  const registry = new Registry();
  let started = false;
  const a = loopFor(f.stream, async (msg, ctx) => {
    started = true;
    return handler(msg, ctx.signal);
  }, { registry });
  await f.publish(1);
  a.loop.start();
  await until(() => started, 5000, 'loop A to take the message');

  let receivedByB = 0;
  const b = loopFor(f.stream, async () => {
    receivedByB = Date.now();
    return { kind: 'ack' };
  });
  b.loop.start();
  await sleep(300);
  assert.equal(receivedByB, 0, 'B cannot see the message while A holds it');

  const t0 = Date.now();
  await a.loop.stop({ graceMs });
  const stopMs = Date.now() - t0;
  assert.equal(a.loop.inFlightCount, 0);
  await until(() => receivedByB > 0, maxMs, 'loop B to receive the released message');
  const latency = receivedByB - t0;
  assert.ok(latency < maxMs, `B got it ${latency} ms after stop began (ack_wait is 30 s)`);
  assert.equal(await metricValue(registry, 'gas_test_messages_total', { consumer: 'worker', outcome: 'released' }), 1);
  await b.loop.stop({ graceMs: 1000 });
  return { stopMs, lines: a.lines };
}

test('stop() releases a message whose handler honours the abort signal', async () => {
  const { stopMs } = await releasedPromptly(
    (_m, signal) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    200,
    1500,
  );
  assert.ok(stopMs >= 200 && stopMs < 1000, `stop took ${stopMs} ms`);
});

test('stop() releases a message whose handler ignores the signal, and ignores its late outcome', async () => {
  let finishLate: (o: Outcome) => void = () => {};
  const { stopMs, lines } = await releasedPromptly(() => new Promise<Outcome>((resolve) => (finishLate = resolve)), 200, 4000);
  assert.ok(stopMs >= 2200 && stopMs < 3500, `stop took ${stopMs} ms (grace + abort settle)`);
  finishLate({ kind: 'ack' });
  await until(() => lines.some((l) => l.msg === 'handler finished after its message was released; outcome ignored'), 1000, 'late outcome log');
});

test('start() twice is refused and stop() is idempotent', async () => {
  const f = await fixture();
  const { loop } = loopFor(f.stream, async () => ({ kind: 'ack' }));
  loop.start();
  assert.throws(() => loop.start(), /cannot start/);
  const t0 = Date.now();
  await Promise.all([loop.stop({ graceMs: 100 }), loop.stop({ graceMs: 100 })]);
  assert.ok(Date.now() - t0 < 2500, 'an idle loop stops without waiting for its pull to expire');
  await loop.stop({ graceMs: 100 });
});
