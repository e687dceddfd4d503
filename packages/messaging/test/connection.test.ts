import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConsumeLoop, connectNats, consumerSpecs, ensureConsumer, ensureStreams, jetstream, streamNames, streamSpecs, subjects, waitForJetStream } from '../src/index.ts';
import { captureLogger } from './log-capture.ts';
import { startNatsServer } from './nats-server.ts';
import type { NatsServer } from './nats-server.ts';

// One JetStream server for the file; it is stopped and restarted by the tests below.
let server: NatsServer;

before(async () => {
  server = await startNatsServer();
});
after(async () => {
  await server?.close();
});

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('connectNats keeps trying until the server appears', async () => {
  await server.stop();
  const { logger, lines } = captureLogger();
  const connecting = connectNats({ servers: server.url, name: 'late-start', logger });
  await sleep(1500);
  assert.ok(lines.some((l) => l.msg === 'cannot connect to NATS yet; retrying'), 'first failure is logged');
  await server.restart();
  const nc = await connecting;
  assert.equal(nc.isClosed(), false);
  assert.ok(lines.some((l) => l.msg === 'connected to NATS'));
  await nc.close();
});

test('connectNats gives up waiting when its signal is aborted', async () => {
  await server.stop();
  const ac = new AbortController();
  const connecting = connectNats({ servers: server.url, name: 'aborted', logger: captureLogger().logger, signal: ac.signal });
  setTimeout(() => ac.abort(new Error('shutting down')), 300);
  await assert.rejects(connecting, /shutting down/);
  await server.restart();
});

test('waitForJetStream times out clearly when JetStream is not enabled', async () => {
  const plain = await startNatsServer({ jetstream: false });
  try {
    const nc = await connectNats({ servers: plain.url, name: 'no-js', logger: captureLogger().logger });
    const t0 = Date.now();
    await assert.rejects(waitForJetStream(nc, { timeoutMs: 1500 }), /JetStream did not answer within 1500 ms/);
    assert.ok(Date.now() - t0 < 4000);
    await nc.close();
  } finally {
    await plain.close();
  }
});

test('connection status is logged and a ConsumeLoop keeps working across a server restart', async () => {
  const { logger, lines } = captureLogger();
  const nc = await connectNats({ servers: server.url, name: 'restart', logger });
  const jsm = await waitForJetStream(nc, { timeoutMs: 5000 });
  await ensureStreams(jsm, streamSpecs());
  await ensureConsumer(jsm, streamNames.jobs, consumerSpecs.annotator({ ackWaitMs: 30_000, maxDeliver: 5, maxAckPending: 4 }));
  const js = jetstream(nc);

  const seen: string[] = [];
  let releaseSlow: () => void = () => {};
  const loop = new ConsumeLoop({
    js,
    stream: streamNames.jobs,
    consumer: 'annotator',
    maxInFlight: 2,
    heartbeatMs: 500,
    logger,
    metricsPrefix: 'gas_restart_test',
    handler: async (msg) => {
      seen.push(msg.string());
      // 'slow' is still being worked on while the server restarts; its ack goes out afterwards.
      if (msg.string() === 'slow') await new Promise<void>((r) => (releaseSlow = r));
      return { kind: 'ack' };
    },
  });
  loop.start();
  await js.publish(subjects.jobRequested, new TextEncoder().encode('before'), { msgID: 'before' });
  await js.publish(subjects.jobRequested, new TextEncoder().encode('slow'), { msgID: 'slow' });
  await until(() => seen.includes('before') && seen.includes('slow'), 5000, 'messages before the restart');

  await server.stop();
  await until(() => lines.some((l) => l.msg === 'NATS disconnected'), 5000, 'disconnect log');
  await sleep(1500);
  await server.restart();
  await until(() => lines.some((l) => l.msg === 'NATS reconnected'), 10_000, 'reconnect log');
  releaseSlow();

  await js.publish(subjects.jobRequested, new TextEncoder().encode('after'), { msgID: 'after' });
  await until(() => seen.includes('after'), 15_000, 'a message published after the restart');
  // Every message was acked exactly once: the work queue drains and nothing was redelivered.
  const deadline = Date.now() + 5000;
  let state = await jsm.streams.info(streamNames.jobs);
  while (state.state.messages !== 0 && Date.now() < deadline) {
    await sleep(100);
    state = await jsm.streams.info(streamNames.jobs);
  }
  assert.equal(state.state.messages, 0);
  assert.deepEqual(seen, ['before', 'slow', 'after']);
  await loop.stop({ graceMs: 1000 });
  await nc.drain();
});
