// NATS restarts under a running stack: every service's readiness follows the connection, and once
// NATS is back (same port, same store) jobs flow again without restarting any service.
import t from 'tap';
import { startGasStack, startNatsServer, sharedDataPath } from '@gas/testing';
import type { GasStack, NatsServerHandle } from '@gas/testing';

let restarted: NatsServerHandle | undefined;
// Registered first, so it runs last: after the stack's own stop.
t.teardown(() => restarted?.stop());
const stack: GasStack = await startGasStack({ store: 'filesystem' });
t.teardown(() => stack.stop());

const readyz = async (port: number) => (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
// The gateway too: its sessions and API tokens live in KV buckets of its own.
const natsServices = ['job', 'annotator', 'notification', 'archive', 'gateway'] as const;
/** Each NATS-using service's /readyz status, by name. */
const readiness = async () => {
  const statuses: Record<string, number> = {};
  for (const name of natsServices) statuses[name] = await readyz(stack.services[name]!.opsPort);
  return statuses;
};
const all = (status: number) => Object.fromEntries(natsServices.map((name) => [name, status]));
const allAre = (status: number) => (statuses: Record<string, number>) => natsServices.every((name) => statuses[name] === status);
const is = (status: number) => (s: number) => s === status;

t.test('services go not-ready while NATS is down and recover when it returns', async (t) => {
  const user = stack.users[0]!;
  const { port, storeDir } = stack.nats;
  await stack.nats.stop();
  const down = await stack.eventually(readiness, allAre(503), 20_000);
  t.strictSame(down, all(503), 'every service is not ready while NATS is down');

  // The job store is down: the API answers 503 with a problem, not a 500 and not a hang.
  const noStore = await stack.api(user, '/api/v1/jobs');
  t.equal(noStore.status, 503, await noStore.clone().text());
  t.equal(noStore.headers.get('content-type'), 'application/problem+json; charset=utf-8');

  restarted = await startNatsServer({ port, storeDir });
  const up = await stack.eventually(readiness, allAre(200), 30_000);
  t.strictSame(up, all(200), 'every service is ready again once NATS is back');

  const res = await stack.submit(user, sharedDataPath('vcf/gas_anntools/free_1.vcf'), { genomeBuild: 'GRCh37' });
  t.equal(res.status, 201, await res.clone().text());
  const { id } = (await res.json()) as { id: string };
  const job = await stack.waitForJob(user, id, (j) => j.status === 'COMPLETED' || j.status === 'FAILED', 60_000);
  t.equal(job.status, 'COMPLETED');
});

t.test('the gateway is not ready while the job service is down, and ready again when it is back', async (t) => {
  const gateway = stack.services.gateway!;
  const job = stack.services.job!;
  const gatewayReadyz = () => readyz(gateway.opsPort);
  await job.stop();
  t.equal(await stack.eventually(gatewayReadyz, is(503), 15_000), 503);
  const res = await stack.api(stack.users[0]!, '/api/v1/jobs');
  t.equal(res.status, 503);
  await stack.startService('job');
  t.equal(await stack.eventually(gatewayReadyz, is(200), 30_000), 200);
  const back = await stack.api(stack.users[0]!, '/api/v1/jobs');
  t.equal(back.status, 200, await back.text());
});
