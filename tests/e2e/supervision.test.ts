// What the local stack does when a process dies or hangs: the supervisor starts it again (with the
// event reported), the gateway's readiness says whether an annotator takes jobs, and a job queued
// while no annotator runs is done once one is back.
import t from 'tap';
import { startGasStack, sharedDataPath, superviseStack, WebClient } from '@gas/testing';
import type { GasStack, SupervisorEvent } from '@gas/testing';

const stack: GasStack = await startGasStack({
  store: 'filesystem',
  // Quick heartbeats so "gone" is noticed in a second, not fifteen.
  env: { annotator: { ANNOTATOR_HEARTBEAT_MS: '100', ANNOTATOR_ACK_WAIT_MS: '3000' } },
});
const events: SupervisorEvent[] = [];
const supervisor = superviseStack(stack, {
  onEvent: (e) => events.push(e),
  // Generous for a loaded CI machine (three test files at a time): only a stopped process misses these.
  livenessIntervalMs: 500,
  livenessTimeoutMs: 1500,
  livenessFailures: 3,
  // Longer than an annotator takes to be counted gone (three 100 ms heartbeats, a 250 ms sweep), so
  // readiness is seen to drop before the restart.
  initialBackoffMs: 1000,
});
t.teardown(async () => {
  supervisor.stop();
  await stack.stop();
});
const user = stack.users[0]!;
const web = new WebClient(stack.url);
await web.signUp({ email: 'watcher@example.org', password: 'watching the queue', name: 'Watcher' });
const NO_ANNOTATOR = /No annotator is running right now/;

interface Readiness {
  status: number;
  checks: Record<string, boolean>;
}
async function gatewayReadiness(): Promise<Readiness> {
  const res = await fetch(`http://127.0.0.1:${stack.services.gateway!.opsPort}/readyz`);
  const body = (await res.json()) as { checks: Record<string, boolean> };
  return { status: res.status, checks: body.checks };
}
const eventsOf = (service: string) => events.filter((e) => e.service === service).map((e) => e.kind);

t.test('the ops ports listen on loopback only in the stack', async (t) => {
  // 127.0.0.2 is loopback too, but not the address the server bound: a refusal shows it is not 0.0.0.0.
  const other = await fetch(`http://127.0.0.2:${stack.services.job!.opsPort}/livez`).then(
    (r) => `answered ${r.status}`,
    (err: Error) => `refused: ${(err.cause as Error | undefined)?.message ?? err.message}`,
  );
  t.match(other, /^refused/);
  const own = await fetch(`http://127.0.0.1:${stack.services.job!.opsPort}/livez`);
  t.equal(own.status, 200);
});

t.test('a killed annotator: readiness drops, a job waits, the supervisor restarts it and the job is done', async (t) => {
  t.notMatch((await web.get('/jobs')).text, NO_ANNOTATOR, 'no notice while an annotator runs');
  const before = await gatewayReadiness();
  t.strictSame(before, { status: 200, checks: { nats: true, 'job-service': true, annotator: true } });
  const old = stack.services.annotator!;
  old.signal('SIGKILL');
  await old.exited;
  // Three missed heartbeats (300 ms), well before the supervisor's restart, decide this.
  const down = await stack.eventually(gatewayReadiness, (r) => r.status === 503, 10_000);
  t.equal(down.status, 503);
  t.equal(down.checks['annotator'], false, 'readiness names the missing annotator');
  t.match((await web.get('/jobs')).text, NO_ANNOTATOR, 'the jobs page says why jobs wait');

  const res = await stack.submit(user, sharedDataPath('vcf/gas_anntools/free_1.vcf'), { genomeBuild: 'GRCh37' });
  t.equal(res.status, 201, 'uploads are still taken while no annotator runs');
  const { id } = (await res.json()) as { id: string };

  const done = await stack.waitForJob(user, id, (j) => j.status === 'COMPLETED' || j.status === 'FAILED', 60_000);
  t.equal(done.status, 'COMPLETED');
  t.not(stack.services.annotator, old, 'a new annotator process');
  // The new annotator may finish the job before the supervisor's readiness poll sees it ready.
  const seen = await stack.eventually(
    async () => eventsOf('annotator'),
    (kinds) => kinds.length >= 2,
    10_000,
  );
  t.strictSame(seen, ['exited', 'restarted']);
  const exited = events.find((e) => e.service === 'annotator' && e.kind === 'exited');
  t.match(exited, { detail: 'killed by SIGKILL', restartInMs: 1000 });
  const up = await stack.eventually(gatewayReadiness, (r) => r.status === 200, 10_000);
  t.equal(up.status, 200);
  t.notMatch((await web.get('/jobs')).text, NO_ANNOTATOR);
});

t.test('a hung service (SIGSTOP) fails its liveness probe and is killed and restarted', async (t) => {
  const old = stack.services.notification!;
  old.signal('SIGSTOP');
  const exit = await old.exited;
  t.equal(exit.signal, 'SIGKILL');
  const kinds = await stack.eventually(
    async () => eventsOf('notification'),
    (k) => k.includes('restarted'),
    30_000,
  );
  t.strictSame(kinds, ['unresponsive', 'exited', 'restarted']);
  const res = await fetch(`http://127.0.0.1:${stack.services.notification!.opsPort}/readyz`);
  t.equal(res.status, 200);
});

t.test('nats-server going away is noticed and it is started again on its port and store', async (t) => {
  await stack.nats.halt();
  const kinds = await stack.eventually(
    async () => eventsOf('nats'),
    (k) => k.includes('restarted'),
    20_000,
  );
  t.strictSame(kinds, ['exited', 'restarted']);
  t.ok(stack.nats.isRunning());
  // The services reconnect on their own (readiness says when), and jobs flow again.
  const ready = await stack.eventually(gatewayReadiness, (r) => r.status === 200, 20_000);
  t.equal(ready.status, 200);
  // JetStream may still be recovering its streams for a moment: the API says 503, and a client
  // retries with the same Idempotency-Key, as this one does.
  const res = await stack.eventually(
    () =>
      stack.submit(user, sharedDataPath('vcf/gas_anntools/free_1.vcf'), { genomeBuild: 'GRCh37', idempotencyKey: 'after-nats-restart' }),
    (r) => r.status !== 503,
    20_000,
  );
  t.equal(res.status, 201, await res.clone().text());
  const { id } = (await res.json()) as { id: string };
  const done = await stack.waitForJob(user, id, (j) => j.status === 'COMPLETED' || j.status === 'FAILED', 60_000);
  t.equal(done.status, 'COMPLETED');
});

t.test('a service that keeps dying is restarted with growing delays', async (t) => {
  const delays: number[] = [];
  for (let i = 0; i < 3; i++) {
    const h = stack.services.archive!;
    h.signal('SIGKILL');
    await h.exited;
    await stack.eventually(
      async () => stack.services.archive !== h && events.filter((e) => e.service === 'archive' && e.kind === 'restarted').length > i,
      Boolean,
      30_000,
    );
    delays.push((events.filter((e) => e.service === 'archive' && e.kind === 'exited').at(-1) as { restartInMs: number }).restartInMs);
  }
  t.strictSame(delays, [1000, 2000, 4000], 'the delay doubles while restarts do not last');
});
