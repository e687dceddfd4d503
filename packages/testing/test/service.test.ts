import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startService } from '../src/index.ts';
import type { ServiceHandle } from '../src/index.ts';

const fixture = (name: string): string => new URL(`./fixtures/${name}`, import.meta.url).pathname;

describe('startService', () => {
  const started: ServiceHandle[] = [];
  after(async () => {
    await Promise.all(started.map((s) => s.stop(2_000)));
  });

  it('reports the exit code and the last 40 lines when the process exits before ready', async () => {
    const svc = startService('gateway', {}, { entry: fixture('exits-early.ts') });
    started.push(svc);
    await assert.rejects(svc.waitReady(20_000), (err: Error) => {
      assert.match(err.message, /gateway exited with code 3 before it was ready/);
      assert.match(err.message, /fatal: DATABASE_URL is not set/);
      assert.match(err.message, /starting step 60/);
      assert.doesNotMatch(err.message, /starting step 20\n/);
      return true;
    });
    assert.deepEqual(await svc.exited, { code: 3, signal: null });
    assert.match(svc.logs(), /starting step 1\n/);
  });

  it('passes env and OPS_PORT, waits for /readyz and stops with SIGTERM', async () => {
    const svc = startService('job', { GREETING: 'hello' }, { entry: fixture('ready-service.ts') });
    started.push(svc);
    assert.ok(svc.opsPort > 0);
    assert.ok(svc.pid > 0);
    await svc.waitReady(20_000);
    assert.match(svc.logs(), new RegExp(`listening on ${svc.opsPort} with GREETING=hello`));
    const exit = await svc.stop();
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.match(svc.logs(), /draining/);
  });

  it('uses the given opsPort and escalates to SIGKILL when SIGTERM is ignored', async () => {
    const svc = startService('archive', {}, { entry: fixture('ignores-sigterm.ts'), opsPort: 1 });
    started.push(svc);
    assert.equal(svc.opsPort, 1);
    while (!svc.logs().includes('up')) await new Promise((r) => setTimeout(r, 50));
    const exit = await svc.stop(500);
    assert.deepEqual(exit, { code: null, signal: 'SIGKILL' });
    assert.match(svc.logs(), /ignoring SIGTERM/);
  });

  it('times out with the readiness answer when nothing listens', async () => {
    const svc = startService('notification', {}, { entry: fixture('ignores-sigterm.ts') });
    started.push(svc);
    await assert.rejects(svc.waitReady(600), /notification was not ready within 600 ms \(http:\/\/127\.0\.0\.1:\d+\/readyz: .+\)/);
  });

  it('refuses a missing entry point with its path', () => {
    assert.throws(() => startService('annotator', {}, { entry: 'services/annotator/src/nope.ts' }), /services\/annotator\/src\/nope\.ts does not exist/);
  });
});
