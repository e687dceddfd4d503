import t from 'tap';
import {
  ConsumeLoop,
  connectNats,
  consumerSpecs,
  ensureConsumer,
  ensureStreams,
  jetstream,
  streamNames,
  streamSpecs,
  subjects,
  waitForJetStream,
} from '../src/index.ts';
import { captureLogger } from './log-capture.ts';
import { startNatsServer } from '@gas/testing';
import type { NatsServerHandle } from '@gas/testing';
import { eventually, waitFor } from './wait.ts';

// One JetStream server for the file; it is stopped and restarted by the tests below.
const server: NatsServerHandle = await startNatsServer();
t.teardown(() => server.stop());

t.test('connectNats keeps trying until the server appears', async (t) => {
  await server.halt();
  const { logger, lines } = captureLogger();
  const connecting = connectNats({ servers: server.url, name: 'late-start', logger });
  // The server comes back once the first attempt has failed; connectNats has to try again.
  t.ok(await waitFor(() => lines.some((l) => l.msg === 'cannot connect to NATS yet; retrying'), 5000), 'first failure is logged');
  await server.resume();
  const nc = await connecting;
  t.equal(nc.isClosed(), false);
  t.ok(lines.some((l) => l.msg === 'connected to NATS'));
  await nc.close();
});

t.test('connectNats gives up waiting when its signal is aborted', async (t) => {
  await server.halt();
  const ac = new AbortController();
  const connecting = connectNats({ servers: server.url, name: 'aborted', logger: captureLogger().logger, signal: ac.signal });
  setTimeout(() => ac.abort(new Error('shutting down')), 300);
  await t.rejects(connecting, /shutting down/);
  await server.resume();
});

t.test('waitForJetStream times out clearly when JetStream is not enabled', async (t) => {
  const plain = await startNatsServer({ jetstream: false });
  try {
    const nc = await connectNats({ servers: plain.url, name: 'no-js', logger: captureLogger().logger });
    const t0 = Date.now();
    await t.rejects(waitForJetStream(nc, { timeoutMs: 1500 }), /JetStream did not answer within 1500 ms/);
    t.ok(Date.now() - t0 < 4000);
    await nc.close();
  } finally {
    await plain.stop();
  }
});

t.test('connection status is logged and a ConsumeLoop keeps working across a server restart', async (t) => {
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
  t.ok(await waitFor(() => seen.includes('before') && seen.includes('slow'), 5000), 'messages before the restart');

  await server.halt();
  t.ok(await waitFor(() => lines.some((l) => l.msg === 'NATS disconnected'), 5000), 'disconnect log');
  // The server stays down until a reconnect attempt has failed against it: the client logs each
  // attempt ('NATS reconnecting'), so a second one means the first found no server.
  const attempts = () => lines.filter((l) => l.msg === 'NATS reconnecting').length;
  const tried = await eventually(attempts, (n) => n >= 2, 10_000);
  t.ok(tried >= 2, `a reconnect attempt failed while the server was down (${tried} attempts logged)`);
  await server.resume();
  t.ok(await waitFor(() => lines.some((l) => l.msg === 'NATS reconnected'), 10_000), 'reconnect log');
  releaseSlow();

  await js.publish(subjects.jobRequested, new TextEncoder().encode('after'), { msgID: 'after' });
  t.ok(await waitFor(() => seen.includes('after'), 15_000), 'a message published after the restart');
  // Every message was acked exactly once: the work queue drains and nothing was redelivered.
  const queued = await eventually(
    async () => (await jsm.streams.info(streamNames.jobs)).state.messages,
    (n) => n === 0,
    5000,
  );
  t.equal(queued, 0);
  t.strictSame(seen, ['before', 'slow', 'after']);
  await loop.stop({ graceMs: 1000 });
  await nc.drain();
});
