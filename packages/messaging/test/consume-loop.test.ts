import t from 'tap';
import type { Test } from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { Registry } from '@gas/runtime';
import {
  ConsumeLoop,
  connectNats,
  consumerBacklog,
  ensureConsumer,
  ensureStream,
  jetstream,
  retryDelayMs,
  waitForJetStream,
} from '../src/index.ts';
import type { Handler, JetStreamClient, JetStreamManager, JsMsg, NatsConnection, Outcome } from '../src/index.ts';
import { captureLogger } from './log-capture.ts';
import { startNatsServer } from '@gas/testing';
import type { NatsServerHandle } from '@gas/testing';
import { waitFor } from './wait.ts';

const server: NatsServerHandle = await startNatsServer();
const loops: ConsumeLoop[] = [];
let connection: NatsConnection | undefined;
t.teardown(async () => {
  await Promise.all(loops.map((l) => l.stop({ graceMs: 0 })));
  await connection?.drain();
  await server.stop();
});
const nc: NatsConnection = (connection = await connectNats({
  servers: server.url,
  name: 'consume-loop-test',
  logger: captureLogger().logger,
}));
const jsm: JetStreamManager = await waitForJetStream(nc, { timeoutMs: 5000 });
const js: JetStreamClient = jetstream(nc);

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

async function metricValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

t.test('retry delay doubles from 1 s and caps at 60 s', async (t) => {
  t.strictSame([1, 2, 3, 4, 7, 8, 50].map(retryDelayMs), [1000, 2000, 4000, 8000, 60_000, 60_000, 60_000]);
});

t.test('acks handled messages and records metrics', async (t) => {
  const f = await fixture();
  const registry = new Registry();
  const seen: string[] = [];
  const { loop } = loopFor(
    f.stream,
    async (msg) => {
      seen.push(msg.string());
      return { kind: 'ack' };
    },
    { registry },
  );
  await f.publish(5);
  loop.start();
  t.ok(await waitFor(() => seen.length === 5, 5000), '5 messages');
  t.ok(await waitFor(async () => (await consumerBacklog(jsm, f.stream, 'worker')).ackPending === 0, 3000), 'acks to land');
  t.strictSame(seen.sort(), ['m0', 'm1', 'm2', 'm3', 'm4']);
  t.equal((await jsm.streams.info(f.stream)).state.messages, 0, 'work queue emptied by acks');
  t.equal(await metricValue(registry, 'gas_test_messages_total', { consumer: 'worker', outcome: 'ack' }), 5);
  t.equal(await metricValue(registry, 'gas_test_inflight_messages', { consumer: 'worker' }), 0);
  const hist = await registry.getSingleMetric('gas_test_handler_seconds')?.get();
  t.equal(hist?.values.find((v) => (v as { metricName?: string }).metricName === 'gas_test_handler_seconds_count')?.value, 5);
  await loop.stop({ graceMs: 1000 });
});

t.test('nak(delay) redelivers no sooner than the delay', async (t) => {
  const f = await fixture();
  const deliveries: Array<{ at: number; count: number }> = [];
  const { loop } = loopFor(f.stream, async (_msg, ctx) => {
    deliveries.push({ at: Date.now(), count: ctx.deliveryCount });
    return ctx.deliveryCount === 1 ? { kind: 'nak', delayMs: 700 } : { kind: 'ack' };
  });
  await f.publish(1);
  loop.start();
  t.ok(await waitFor(() => deliveries.length === 2, 5000), 'redelivery');
  const gap = deliveries[1]!.at - deliveries[0]!.at;
  t.ok(gap >= 700, `redelivered after ${gap} ms`);
  t.ok(gap < 2000, `redelivered after ${gap} ms`);
  t.strictSame(
    deliveries.map((d) => d.count),
    [1, 2],
  );
  await loop.stop({ graceMs: 1000 });
});

t.test('term is logged, counted and never redelivered', async (t) => {
  const f = await fixture({ ackWaitMs: 1000 });
  const registry = new Registry();
  let calls = 0;
  const { loop, lines } = loopFor(
    f.stream,
    async () => {
      calls++;
      return { kind: 'term', reason: 'unparseable job request' };
    },
    { registry },
  );
  await f.publish(1);
  loop.start();
  t.ok(await waitFor(() => calls === 1, 5000), 'delivery');
  await sleep(2000); // two ack_waits: an ignored term would have been redelivered by now
  t.equal(calls, 1);
  const warn = lines.find((l) => l.msg === 'message terminated');
  t.equal(warn?.level, 'warn');
  t.equal(warn?.reason, 'unparseable job request');
  t.equal(await metricValue(registry, 'gas_test_messages_total', { consumer: 'worker', outcome: 'term' }), 1);
  t.equal((await consumerBacklog(jsm, f.stream, 'worker')).ackPending, 0);
  await loop.stop({ graceMs: 1000 });
});

t.test('working() heartbeats keep a long handler from being redelivered', async (t) => {
  const f = await fixture({ ackWaitMs: 1000 });
  let calls = 0;
  let done = false;
  const { loop } = loopFor(
    f.stream,
    async () => {
      calls++;
      await sleep(2500);
      done = true;
      return { kind: 'ack' };
    },
    { heartbeatMs: 300 },
  );
  await f.publish(1);
  loop.start();
  t.ok(await waitFor(() => done, 6000), 'handler');
  // Another ack_wait (1 s) goes by: a redelivery would show in calls and the backlog.
  await sleep(1200);
  t.equal(calls, 1, 'delivered exactly once');
  const backlog = await consumerBacklog(jsm, f.stream, 'worker');
  t.strictSame(backlog, { pending: 0, ackPending: 0, redelivered: 0 });
  await loop.stop({ graceMs: 1000 });
});

t.test('without heartbeats the same handler would be redelivered (control for the test above)', async (t) => {
  const f = await fixture({ ackWaitMs: 1000 });
  let calls = 0;
  const { loop } = loopFor(
    f.stream,
    async () => {
      calls++;
      await sleep(2500);
      return { kind: 'ack' };
    },
    { heartbeatMs: 60_000 },
  );
  await f.publish(1);
  loop.start();
  t.ok(await waitFor(() => calls >= 2, 6000), 'a redelivery after ack_wait');
  await loop.stop({ graceMs: 3000 });
});

t.test('never runs more than maxInFlight handlers at once', async (t) => {
  const f = await fixture();
  let running = 0;
  let peak = 0;
  let handled = 0;
  let peakAckPending = 0;
  const { loop } = loopFor(
    f.stream,
    async () => {
      running++;
      peak = Math.max(peak, running);
      await sleep(60);
      running--;
      handled++;
      return { kind: 'ack' };
    },
    { maxInFlight: 3 },
  );
  await f.publish(30);
  loop.start();
  const sampler = (async () => {
    while (handled < 30) {
      peakAckPending = Math.max(peakAckPending, (await consumerBacklog(jsm, f.stream, 'worker')).ackPending);
      await sleep(15);
    }
  })();
  t.ok(await waitFor(() => handled === 30, 10_000), '30 messages');
  await sampler;
  t.equal(peak, 3, `peak concurrency ${peak}`);
  t.ok(peakAckPending <= 3, `server saw ${peakAckPending} unacked messages`);
  t.ok(peakAckPending >= 2, `sampler saw work in flight (${peakAckPending})`);
  await loop.stop({ graceMs: 1000 });
});

t.test('a throwing handler is logged and retried after a backoff', async (t) => {
  const f = await fixture();
  const registry = new Registry();
  const at: number[] = [];
  const { loop, lines } = loopFor(
    f.stream,
    async (_m, ctx) => {
      at.push(Date.now());
      if (ctx.deliveryCount === 1) throw new Error('transient failure');
      return { kind: 'ack' };
    },
    { registry },
  );
  await f.publish(1);
  loop.start();
  t.ok(await waitFor(() => at.length === 2, 5000), 'retry');
  const gap = at[1]! - at[0]!;
  t.ok(gap >= 1000 && gap < 2500, `retried after ${gap} ms`);
  const err = lines.find((l) => l.msg === 'handler failed; will retry');
  t.equal(err?.err?.message, 'transient failure');
  t.equal(err?.retryInMs, 1000);
  t.equal(await metricValue(registry, 'gas_test_messages_total', { consumer: 'worker', outcome: 'error' }), 1);
  t.ok(
    await waitFor(async () => (await metricValue(registry, 'gas_test_messages_total', { consumer: 'worker', outcome: 'ack' })) === 1, 2000),
    'ack',
  );
  await loop.stop({ graceMs: 1000 });
});

t.test('a handler failing on the last allowed delivery terminates the message', async (t) => {
  const f = await fixture({ maxDeliver: 2 });
  const counts: Array<{ count: number; max: number }> = [];
  const { loop, lines } = loopFor(f.stream, async (_m, ctx) => {
    counts.push({ count: ctx.deliveryCount, max: ctx.maxDeliver });
    throw new Error('always broken');
  });
  await f.publish(1);
  loop.start();
  t.ok(
    await waitFor(() => lines.some((l) => l.msg === 'handler failed on the last allowed delivery; message terminated'), 5000),
    'give up',
  );
  t.strictSame(counts, [
    { count: 1, max: 2 },
    { count: 2, max: 2 },
  ]);
  t.ok(
    await waitFor(async () => (await jsm.streams.info(f.stream)).state.messages === 0, 2000),
    'terminated message removed from the work queue',
  );
  await loop.stop({ graceMs: 1000 });
});

t.test('stop() waits for handlers that finish within the grace period and acks them', async (t) => {
  const f = await fixture();
  const registry = new Registry();
  let finished = 0;
  const { loop } = loopFor(
    f.stream,
    async () => {
      await sleep(300);
      finished++;
      return { kind: 'ack' };
    },
    { registry },
  );
  await f.publish(2);
  loop.start();
  t.ok(await waitFor(() => loop.inFlightCount === 2, 5000), 'two in flight');
  t.equal(await metricValue(registry, 'gas_test_inflight_messages', { consumer: 'worker' }), 2);
  await loop.stop({ graceMs: 5000 });
  t.equal(finished, 2);
  t.equal(loop.inFlightCount, 0);
  t.equal(await metricValue(registry, 'gas_test_inflight_messages', { consumer: 'worker' }), 0);
  t.equal(await metricValue(registry, 'gas_test_messages_total', { consumer: 'worker', outcome: 'released' }), 0);
  t.ok(await waitFor(async () => (await jsm.streams.info(f.stream)).state.messages === 0, 2000), 'acks');
});

async function releasedPromptly(t: Test, handler: (msg: JsMsg, signal: AbortSignal) => Promise<Outcome>, graceMs: number, maxMs: number) {
  const f = await fixture({ ackWaitMs: 30_000 });
  const registry = new Registry();
  let started = false;
  const a = loopFor(
    f.stream,
    async (msg, ctx) => {
      started = true;
      return handler(msg, ctx.signal);
    },
    { registry },
  );
  await f.publish(1);
  a.loop.start();
  t.ok(await waitFor(() => started, 5000), 'loop A to take the message');

  let receivedByB = 0;
  const b = loopFor(f.stream, async () => {
    receivedByB = Date.now();
    return { kind: 'ack' };
  });
  b.loop.start();
  // B gets 300 ms to pull: that it gets nothing is the check, so there is no event to wait for.
  await sleep(300);
  t.equal(receivedByB, 0, 'B cannot see the message while A holds it');

  const t0 = Date.now();
  await a.loop.stop({ graceMs });
  const stopMs = Date.now() - t0;
  t.equal(a.loop.inFlightCount, 0);
  t.ok(await waitFor(() => receivedByB > 0, maxMs), 'loop B to receive the released message');
  const latency = receivedByB - t0;
  t.ok(latency < maxMs, `B got it ${latency} ms after stop began (ack_wait is 30 s)`);
  t.equal(await metricValue(registry, 'gas_test_messages_total', { consumer: 'worker', outcome: 'released' }), 1);
  await b.loop.stop({ graceMs: 1000 });
  return { stopMs, lines: a.lines };
}

t.test('stop() releases a message whose handler honours the abort signal', async (t) => {
  const { stopMs } = await releasedPromptly(
    t,
    (_m, signal) =>
      new Promise((_resolve, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason instanceof Error ? signal.reason : new Error('handler aborted'))),
      ),
    200,
    1500,
  );
  t.ok(stopMs >= 200 && stopMs < 1000, `stop took ${stopMs} ms`);
});

t.test('stop() releases a message whose handler ignores the signal, and ignores its late outcome', async (t) => {
  let finishLate: (o: Outcome) => void = () => {};
  const { stopMs, lines } = await releasedPromptly(t, () => new Promise<Outcome>((resolve) => (finishLate = resolve)), 200, 4000);
  t.ok(stopMs >= 2200 && stopMs < 3500, `stop took ${stopMs} ms (grace + abort settle)`);
  finishLate({ kind: 'ack' });
  t.ok(
    await waitFor(() => lines.some((l) => l.msg === 'handler finished after its message was released; outcome ignored'), 1000),
    'late outcome log',
  );
});

t.test('start() twice is refused and stop() is idempotent', async (t) => {
  const f = await fixture();
  const { loop } = loopFor(f.stream, async () => ({ kind: 'ack' }));
  loop.start();
  t.throws(() => loop.start(), /cannot start/);
  const t0 = Date.now();
  await Promise.all([loop.stop({ graceMs: 100 }), loop.stop({ graceMs: 100 })]);
  const stopMs = Date.now() - t0;
  t.ok(stopMs < 2500, `an idle loop stops without waiting for its pull to expire (${stopMs} ms)`);
  await loop.stop({ graceMs: 100 });
});
