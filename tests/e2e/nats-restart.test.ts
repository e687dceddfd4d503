// NATS restarts under a running stack: every service's readiness follows the connection, and once
// NATS is back (same port, same store) jobs flow again without restarting any service.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGasStack, startNatsServer, sharedDataPath } from '@gas/testing';
import type { GasStack, NatsServerHandle } from '@gas/testing';

let stack: GasStack;
let restarted: NatsServerHandle | undefined;
before(async () => {
  stack = await startGasStack({ store: 'filesystem' });
});
after(async () => {
  await stack?.stop();
  await restarted?.stop();
});

const readyz = async (port: number) => (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
// The gateway too: its sessions and API tokens live in KV buckets of its own.
const natsServices = ['job', 'annotator', 'notification', 'archive', 'gateway'] as const;

test('services go not-ready while NATS is down and recover when it returns', async () => {
  const user = stack.users[0]!;
  const { port, storeDir } = stack.nats;
  await stack.nats.stop();
  await stack.eventually(async () => {
    for (const name of natsServices) assert.equal(await readyz(stack.services[name]!.opsPort), 503, `${name} still ready`);
  }, 20_000);

  // The job store is down: the API answers 503 with a problem, not a 500 and not a hang.
  const down = await stack.api(user, '/api/v1/jobs');
  assert.equal(down.status, 503, await down.clone().text());
  assert.equal(down.headers.get('content-type'), 'application/problem+json; charset=utf-8');

  restarted = await startNatsServer({ port, storeDir });
  await stack.eventually(async () => {
    for (const name of natsServices) assert.equal(await readyz(stack.services[name]!.opsPort), 200, `${name} not ready again`);
  }, 30_000);

  const res = await stack.submit(user, sharedDataPath('vcf/gas_anntools/free_1.vcf'), { genomeBuild: 'GRCh37' });
  assert.equal(res.status, 201, await res.clone().text());
  const { id } = (await res.json()) as { id: string };
  const job = await stack.waitForJob(user, id, (j) => j.status === 'COMPLETED' || j.status === 'FAILED', 60_000);
  assert.equal(job.status, 'COMPLETED');
});

test('the gateway is not ready while the job service is down, and ready again when it is back', async () => {
  const gateway = stack.services.gateway!;
  const job = stack.services.job!;
  await job.stop();
  await stack.eventually(async () => assert.equal(await readyz(gateway.opsPort), 503), 15_000);
  const res = await stack.api(stack.users[0]!, '/api/v1/jobs');
  assert.equal(res.status, 503);
  await stack.startService('job');
  await stack.eventually(async () => assert.equal(await readyz(gateway.opsPort), 200), 30_000);
  const back = await stack.api(stack.users[0]!, '/api/v1/jobs');
  assert.equal(back.status, 200, await back.text());
});
