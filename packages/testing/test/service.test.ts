import t from 'tap';
import { startService } from '../src/index.ts';
import type { ServiceHandle } from '../src/index.ts';

const fixture = (name: string): string => new URL(`./fixtures/${name}`, import.meta.url).pathname;

// Polls until the service has printed `text` or timeoutMs has passed; returns its output either way.
async function logsOnceIncluding(svc: ServiceHandle, text: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!svc.logs().includes(text) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return svc.logs();
}

t.test('startService', async (t) => {
  const started: ServiceHandle[] = [];
  t.teardown(async () => {
    await Promise.all(started.map((s) => s.stop(2_000)));
  });

  t.test('reports the exit code and the last 40 lines when the process exits before ready', async (t) => {
    const svc = startService('gateway', {}, { entry: fixture('exits-early.ts') });
    started.push(svc);
    const err = await t.rejects(svc.waitReady(20_000));
    const message = err instanceof Error ? err.message : '';
    t.match(message, /gateway exited with code 3 before it was ready/);
    t.match(message, /fatal: DATABASE_URL is not set/);
    t.match(message, /starting step 60/);
    t.notMatch(message, /starting step 20\n/);
    t.strictSame(await svc.exited, { code: 3, signal: null });
    t.match(svc.logs(), /starting step 1\n/);
  });

  t.test('passes env and OPS_PORT, waits for /readyz and stops with SIGTERM', async (t) => {
    const svc = startService('job', { GREETING: 'hello' }, { entry: fixture('ready-service.ts') });
    started.push(svc);
    t.ok(svc.opsPort > 0);
    t.ok(svc.pid > 0);
    await svc.waitReady(20_000);
    t.match(svc.logs(), new RegExp(`listening on ${svc.opsPort} with GREETING=hello`));
    const exit = await svc.stop();
    t.strictSame(exit, { code: 0, signal: null });
    t.match(svc.logs(), /draining/);
  });

  t.test('uses the given opsPort and escalates to SIGKILL when SIGTERM is ignored', async (t) => {
    const svc = startService('archive', {}, { entry: fixture('ignores-sigterm.ts'), opsPort: 1 });
    started.push(svc);
    t.equal(svc.opsPort, 1);
    t.match(await logsOnceIncluding(svc, 'up', 20_000), /up/, 'the service started');
    const exit = await svc.stop(500);
    t.strictSame(exit, { code: null, signal: 'SIGKILL' });
    t.match(svc.logs(), /ignoring SIGTERM/);
  });

  t.test('times out with the readiness answer when nothing listens', async (t) => {
    const svc = startService('notification', {}, { entry: fixture('ignores-sigterm.ts') });
    started.push(svc);
    await t.rejects(svc.waitReady(600), /notification was not ready within 600 ms \(http:\/\/127\.0\.0\.1:\d+\/readyz: .+\)/);
  });

  t.test('refuses a missing entry point with its path', async (t) => {
    t.throws(
      () => startService('annotator', {}, { entry: 'services/annotator/src/nope.ts' }),
      /services\/annotator\/src\/nope\.ts does not exist/,
    );
  });
});
