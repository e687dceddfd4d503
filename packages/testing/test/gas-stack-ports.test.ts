// freePort cannot hold a port until a service binds it, so a parallel test can take it in between
// (seen in CI as a gateway exiting with EADDRINUSE). The stack then starts the service again on a
// fresh port of its own choosing.
import t from 'tap';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { freePort, startGasStack } from '../src/index.ts';

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
