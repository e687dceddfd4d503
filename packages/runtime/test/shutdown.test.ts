import t from 'tap';
import { parseLogLine } from '@gas/testing';
import type { LogLine } from '@gas/testing';
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Health, createLogger, installShutdown } from '../src/index.ts';

function harness() {
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk, _e, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(parseLogLine(l));
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

t.test('first signal: not ready, steps in order with durations, failures logged, exit 0', async (t) => {
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
      // The drain takes 30 ms, so its logged duration can be checked.
      {
        name: 'drain',
        run: async () => {
          readyDuringSteps.push(health.isReady());
          await sleep(30);
          order.push('drain');
        },
      },
      {
        name: 'broken',
        run: async () => {
          order.push('broken');
          throw new Error('step exploded');
        },
      },
      {
        name: 'close',
        run: async () => {
          order.push('close');
        },
      },
    ],
  });
  h.events.emit('SIGTERM', 'SIGTERM');
  h.events.emit('SIGINT', 'SIGINT');
  t.equal(await h.exited, 0);
  handle.uninstall();

  t.strictSame(order, ['drain', 'broken', 'close']);
  t.strictSame(readyDuringSteps, [false]);
  t.strictSame(h.exits, [0]);
  const done = h.lines.filter((l) => l.msg === 'shutdown step done');
  t.strictSame(
    done.map((l) => l.step),
    ['drain', 'close'],
  );
  const drainMs = done[0]?.durationMs;
  t.ok(typeof drainMs === 'number' && drainMs >= 25, `drain duration logged: ${String(drainMs)}`);
  const failed = h.lines.find((l) => l.msg === 'shutdown step failed');
  t.equal(failed?.step, 'broken');
  t.equal(failed?.err?.message, 'step exploded');
  t.equal(failed?.level, 'error');
  const ignored = h.lines.find((l) => l.msg === 'signal received while shutting down; ignored');
  t.equal(ignored?.signal, 'SIGINT');
  t.equal(h.lines.find((l) => l.msg === 'shutdown started')?.reason, 'SIGTERM');
});

t.test('hung steps hit the hard timeout and exit 1 exactly once', async (t) => {
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
      {
        name: 'after',
        run: async () => {
          later.push('after');
        },
      },
    ],
  });
  // The hard timer is unref'd by design; a real hung step holds a socket or timer, this one must too.
  const keepAlive = setInterval(() => {}, 1000);
  const t0 = Date.now();
  const finished = handle.shutdown('test');
  t.equal(await h.exited, 1);
  clearInterval(keepAlive);
  const elapsed = Date.now() - t0;
  t.ok(elapsed >= 90 && elapsed < 1000, `timed out after ${elapsed} ms`);
  t.equal(h.lines.find((l) => l.msg === 'shutdown timed out; exiting')?.level, 'error');
  release();
  await finished;
  t.strictSame(later, ['after']);
  t.strictSame(h.exits, [1], 'no second exit after the timeout');
  handle.uninstall();
});

t.test('uncaught exceptions and unhandled rejections log fatal and exit 1 after the steps', async (t) => {
  for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
    const h = harness();
    const ran: string[] = [];
    const handle = installShutdown({
      logger: h.logger,
      timeoutMs: 5000,
      exit: h.exit,
      events: h.events,
      steps: [
        {
          name: 'close',
          run: async () => {
            ran.push('close');
          },
        },
      ],
    });
    h.events.emit(event, new Error(`bad ${event}`));
    t.equal(await h.exited, 1, event);
    t.strictSame(ran, ['close']);
    const fatal = h.lines.find((l) => l.level === 'fatal');
    t.equal(fatal?.err?.message, `bad ${event}`);
    handle.uninstall();
  }
});

t.test('a crash during a signal-initiated shutdown turns the exit code into 1', async (t) => {
  const h = harness();
  const handle = installShutdown({
    logger: h.logger,
    timeoutMs: 5000,
    exit: h.exit,
    events: h.events,
    // Still running when the crash comes in.
    steps: [{ name: 'slow', run: () => sleep(30) }],
  });
  h.events.emit('SIGTERM', 'SIGTERM');
  h.events.emit('uncaughtException', new Error('late crash'));
  t.equal(await h.exited, 1);
  t.strictSame(h.exits, [1]);
  handle.uninstall();
});

t.test('installs on the real process by default and uninstall removes the listeners', async (t) => {
  const h = harness();
  const before = process.listenerCount('SIGTERM');
  const handle = installShutdown({ logger: h.logger, timeoutMs: 1000, exit: h.exit, steps: [] });
  t.equal(process.listenerCount('SIGTERM'), before + 1);
  handle.uninstall();
  t.equal(process.listenerCount('SIGTERM'), before);
  t.strictSame(h.exits, []);
});

// Steps are compared in the order their log lines were stamped: a piped stdout can deliver two
// lines written a millisecond apart in either order.
function stepsInOrder(lines: LogLine[], order = ['work', 'ops']): unknown[] {
  const stamp = (l: LogLine): number => Date.parse(l.time ?? '');
  const rank = (l: LogLine): number => (typeof l.step === 'string' ? order.indexOf(l.step) : -1);
  return (
    lines
      .filter((l) => l.msg === 'shutdown step done')
      // Equal stamps keep the step order the steps were declared in.
      .sort((a, b) => stamp(a) - stamp(b) || rank(a) - rank(b))
      .map((l) => l.step)
  );
}

async function runChild(env: Record<string, string>, signals: NodeJS.Signals[]) {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./fixtures/shutdown-child.ts', import.meta.url).pathname], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: LogLine[] = [];
  let buf = '';
  let readySeen: (port: number) => void = () => {};
  let diedEarly: (err: Error) => void = () => {};
  const ready = new Promise<number>((resolve, reject) => {
    readySeen = resolve;
    diedEarly = reject;
  });
  child.stdout.on('data', (d) => {
    buf += String(d);
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = parseLogLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
      lines.push(line);
      if (line.msg === 'child ready') {
        if (typeof line.port === 'number') readySeen(line.port);
        else diedEarly(new Error(`shutdown-child reported no port: ${JSON.stringify(line)}`));
      }
    }
  });
  const code = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  // A child that dies before it is ready fails the test instead of leaving it waiting.
  child.on('exit', (c, sig) => diedEarly(new Error(`shutdown-child exited (code ${c}, signal ${sig}) before it was ready`)));
  const port = await ready;
  const readyBefore = (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
  for (const s of signals) child.kill(s);
  return { code: await code, lines, readyBefore };
}

t.test('a real process exits 0 on SIGTERM after its steps, ignoring a second signal', async (t) => {
  const r = await runChild({ HANG_MS: '200' }, ['SIGTERM', 'SIGINT']);
  t.equal(r.readyBefore, 200);
  t.equal(r.code, 0);
  t.strictSame(stepsInOrder(r.lines), ['work', 'ops'], JSON.stringify(r.lines));
  t.ok(r.lines.some((l) => l.msg === 'signal received while shutting down; ignored'));
});

t.test('a real process whose steps hang exits 1 at the hard timeout', async (t) => {
  const r = await runChild({ HANG_MS: '10000', TIMEOUT_MS: '300' }, ['SIGTERM']);
  t.equal(r.code, 1);
  t.ok(r.lines.some((l) => l.msg === 'shutdown timed out; exiting'));
});

t.test('a real process with an uncaught exception logs fatal, runs its steps and exits 1', async (t) => {
  const r = await runChild({ CRASH: '1' }, []);
  t.equal(r.code, 1);
  t.equal(r.lines.find((l) => l.level === 'fatal')?.err?.message, 'child crashed');
  t.strictSame(stepsInOrder(r.lines), ['work', 'ops'], JSON.stringify(r.lines));
});
