// freePort cannot hold a port until a service binds it, so a parallel test can take it in between
// (seen in CI as a gateway exiting with EADDRINUSE). The stack then starts the service again on a
// fresh port of its own choosing. When the port taken is an ops port, another service's ops server
// answers there (seen in CI: the gateway's /readyz answered by a parallel test's job service), so a
// service is ready only when the process that answers is its own.
import t from 'tap';
import { createServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort, startGasStack, startService } from '../src/index.ts';

t.test('a gateway port taken between choosing and binding: the stack moves to a fresh one', async (t) => {
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
  const taken = (squatter.address() as AddressInfo).port;
  // The job service's port first, then the gateway's (the taken one), then the notification service's.
  const picks = [await freePort(), taken];
  let asked = 0;
  const stack = await startGasStack({
    store: 'filesystem',
    services: ['job', 'gateway'],
    pickPort: async () => {
      asked++;
      return picks.shift() ?? freePort();
    },
  });
  t.teardown(() => stack.stop());
  t.not(new URL(stack.url).port, String(taken), 'not on the taken port');
  t.equal(asked, 4, 'a fourth port was picked after the gateway met the taken one');
  const res = await stack.api(stack.users[0]!, '/api/v1/jobs');
  t.equal(res.status, 200, 'the API answers at the new URL');
});

t.test('an ops port answered by another process: not ready, but EADDRINUSE, so the stack moves on', async (t) => {
  // Another GAS service's ops server, as far as /readyz says: ready, with its own pid.
  const other = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ready: true, started: true, shuttingDown: false, checks: {}, pid: 1 }));
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => other.close(() => resolve())));
  const opsPort = (other.address() as AddressInfo).port;
  const job = startService('job', { NATS_URL: 'nats://127.0.0.1:1' }, { opsPort });
  t.teardown(() => job.stop(5000));
  await t.rejects(job.waitReady(10_000), /ops port \d+ is answered by another process \(pid 1\): EADDRINUSE/);
});
