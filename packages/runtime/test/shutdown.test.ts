import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Health, createLogger, installShutdown } from '../src/index.ts';

function harness() {
  const lines: Record<string, any>[] = [];
  const destination = new Writable({
    write(chunk, _e, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  const logger = createLogger({ service: 'shutdown-test', destination });
  const exits: number[] = [];
  let onExit: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => (onExit = resolve));
  const exit = (code: number) => {
    exits.push(code);
    onExit(code);
  };
  return { lines, logger, exits, exit, exited, events: new EventEmitter() };
}

test('first signal: not ready, steps in order with durations, failures logged, exit 0', async () => {
  const h = harness();
  const health = new Health();
  health.markStarted();
  const order: string[] = [];
  const readyDuringSteps: boolean[] = [];
  const handle = installShutdown({
    logger: h.logger,
    timeoutMs: 5000,
    health,
    exit: h.exit,
    events: h.events,
    steps: [
      { name: 'drain', run: async () => { readyDuringSteps.push(health.isReady()); await sleep(30); order.push('drain'); } },
      { name: 'broken', run: async () => { order.push('broken'); throw new Error('step exploded'); } },
      { name: 'close', run: async () => { order.push('close'); } },
    ],
  });
  h.events.emit('SIGTERM', 'SIGTERM');
  h.events.emit('SIGINT', 'SIGINT');
  assert.equal(await h.exited, 0);
  handle.uninstall();

  assert.deepEqual(order, ['drain', 'broken', 'close']);
  assert.deepEqual(readyDuringSteps, [false]);
  assert.deepEqual(h.exits, [0]);
  const done = h.lines.filter((l) => l.msg === 'shutdown step done');
  assert.deepEqual(done.map((l) => l.step), ['drain', 'close']);
  assert.ok(done[0]!.durationMs >= 25, `drain duration logged: ${done[0]!.durationMs}`);
  const failed = h.lines.find((l) => l.msg === 'shutdown step failed');
  assert.equal(failed?.step, 'broken');
  assert.equal(failed?.err.message, 'step exploded');
  assert.equal(failed?.level, 'error');
  const ignored = h.lines.find((l) => l.msg === 'signal received while shutting down; ignored');
  assert.equal(ignored?.signal, 'SIGINT');
  assert.equal(h.lines.find((l) => l.msg === 'shutdown started')?.reason, 'SIGTERM');
});

test('hung steps hit the hard timeout and exit 1 exactly once', async () => {
  const h = harness();
  let release: () => void = () => {};
  const later: string[] = [];
  const handle = installShutdown({
    logger: h.logger,
    timeoutMs: 100,
    exit: h.exit,
    events: h.events,
    steps: [
      { name: 'hang', run: () => new Promise<void>((r) => (release = r)) },
      { name: 'after', run: async () => { later.push('after'); } },
    ],
  });
  // The hard timer is unref'd by design; a real hung step holds a socket or timer, this one must too.
  const keepAlive = setInterval(() => {}, 1000);
  const t0 = Date.now();
  const finished = handle.shutdown('test');
  assert.equal(await h.exited, 1);
  clearInterval(keepAlive);
  const elapsed = Date.now() - t0;
  assert.ok(elapsed >= 90 && elapsed < 1000, `timed out after ${elapsed} ms`);
  assert.equal(h.lines.find((l) => l.msg === 'shutdown timed out; exiting')?.level, 'error');
  release();
  await finished;
  assert.deepEqual(later, ['after']);
  assert.deepEqual(h.exits, [1], 'no second exit after the timeout');
  handle.uninstall();
});

test('uncaught exceptions and unhandled rejections log fatal and exit 1 after the steps', async () => {
  for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
    const h = harness();
    const ran: string[] = [];
    const handle = installShutdown({
      logger: h.logger,
      timeoutMs: 5000,
      exit: h.exit,
      events: h.events,
      steps: [{ name: 'close', run: async () => { ran.push('close'); } }],
    });
    h.events.emit(event, new Error(`bad ${event}`));
    assert.equal(await h.exited, 1, event);
    assert.deepEqual(ran, ['close']);
    const fatal = h.lines.find((l) => l.level === 'fatal');
    assert.equal(fatal?.err.message, `bad ${event}`);
    handle.uninstall();
  }
});

test('a crash during a signal-initiated shutdown turns the exit code into 1', async () => {
  const h = harness();
  const handle = installShutdown({
    logger: h.logger,
    timeoutMs: 5000,
    exit: h.exit,
    events: h.events,
    steps: [{ name: 'slow', run: () => sleep(30) }],
  });
  h.events.emit('SIGTERM', 'SIGTERM');
  h.events.emit('uncaughtException', new Error('late crash'));
  assert.equal(await h.exited, 1);
  assert.deepEqual(h.exits, [1]);
  handle.uninstall();
});

test('installs on the real process by default and uninstall removes the listeners', () => {
  const h = harness();
  const before = process.listenerCount('SIGTERM');
  const handle = installShutdown({ logger: h.logger, timeoutMs: 1000, exit: h.exit, steps: [] });
  assert.equal(process.listenerCount('SIGTERM'), before + 1);
  handle.uninstall();
  assert.equal(process.listenerCount('SIGTERM'), before);
  assert.deepEqual(h.exits, []);
});

// Steps are compared in the order their log lines were stamped: a piped stdout can deliver two
// lines written a millisecond apart in either order.
function stepsInOrder(lines: Record<string, any>[], order = ['work', 'ops']): string[] {
  return lines
    .filter((l) => l.msg === 'shutdown step done')
    // Equal stamps keep the step order the steps were declared in.
    .sort((a, b) => Date.parse(a.time) - Date.parse(b.time) || order.indexOf(a.step) - order.indexOf(b.step))
    .map((l) => l.step);
}

async function runChild(env: Record<string, string>, signals: NodeJS.Signals[]) {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./fixtures/shutdown-child.ts', import.meta.url).pathname], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: Record<string, any>[] = [];
  let buf = '';
  let readySeen: (port: number) => void = () => {};
  const ready = new Promise<number>((r) => (readySeen = r));
  child.stdout.on('data', (d) => {
    buf += String(d);
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = JSON.parse(buf.slice(0, i));
      buf = buf.slice(i + 1);
      lines.push(line);
      if (line.msg === 'child ready') readySeen(line.port);
    }
  });
  const code = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  const port = await ready;
  const readyBefore = (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
  for (const s of signals) child.kill(s);
  return { code: await code, lines, readyBefore };
}

test('a real process exits 0 on SIGTERM after its steps, ignoring a second signal', async () => {
  const r = await runChild({ HANG_MS: '200' }, ['SIGTERM', 'SIGINT']);
  assert.equal(r.readyBefore, 200);
  assert.equal(r.code, 0);
  assert.deepEqual(stepsInOrder(r.lines), ['work', 'ops'], JSON.stringify(r.lines));
  assert.ok(r.lines.some((l) => l.msg === 'signal received while shutting down; ignored'));
});

test('a real process whose steps hang exits 1 at the hard timeout', async () => {
  const r = await runChild({ HANG_MS: '10000', TIMEOUT_MS: '300' }, ['SIGTERM']);
  assert.equal(r.code, 1);
  assert.ok(r.lines.some((l) => l.msg === 'shutdown timed out; exiting'));
});

test('a real process with an uncaught exception logs fatal, runs its steps and exits 1', async () => {
  const r = await runChild({ CRASH: '1' }, []);
  assert.equal(r.code, 1);
  assert.equal(r.lines.find((l) => l.level === 'fatal')?.err.message, 'child crashed');
  assert.deepEqual(stepsInOrder(r.lines), ['work', 'ops'], JSON.stringify(r.lines));
});
