// The profile's "Where you are signed in": each browser session of the account, and the button that
// signs out the others. The gateway is built in-process on the real job service and nats-server.
import t from 'tap';
import { startGasStack, WebClient } from '@gas/testing';
import { stackClients, stackGateway } from './stack-clients.ts';

const PASSWORD = 'a password long enough for the form';

const stack = await startGasStack({ store: 'filesystem', services: ['job'] });
t.teardown(() => stack.stop());
const clients = await stackClients(stack, { name: 'sessions-test', deadlineMs: 10_000 });
const app = await stackGateway(stack, clients, { rateLimit: { perMinute: 100_000, signInPerMinute: 1000 } });
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

const browsersOn = (text: string) =>
  [...text.matchAll(/<li>(<strong>This browser<\/strong>|Another browser): signed in <time/g)].map((m) => m[1]);

t.test('the profile lists the browsers signed in, and signs out the others but not this one', async (t) => {
  const here = new WebClient(base);
  await here.signUp({ email: 'kim@example.org', password: PASSWORD, name: 'Kim' });
  const there = new WebClient(base);
  const third = new WebClient(base);
  t.equal((await there.signIn('kim@example.org', PASSWORD)).status, 303);
  t.equal((await third.signIn('kim@example.org', PASSWORD)).status, 303);
  const someoneElse = new WebClient(base);
  await someoneElse.signUp({ email: 'lee@example.org', password: PASSWORD, name: 'Lee' });

  const profile = await here.get('/profile');
  t.same(
    browsersOn(profile.text).sort(),
    ['<strong>This browser</strong>', 'Another browser', 'Another browser'].sort(),
    "three of Kim's, none of Lee's",
  );
  t.match(profile.text, /Sign out the other 2 browsers/);
  t.equal(browsersOn((await someoneElse.get('/profile')).text).length, 1, 'Lee sees only their own');

  const noCsrf = await here.postForm('/profile/sessions/end-others', {});
  t.equal(noCsrf.status, 403, 'the button needs the CSRF token');
  t.equal((await there.get('/jobs')).status, 200, 'and changed nothing');

  const ended = await here.postForm('/profile/sessions/end-others', { _csrf: WebClient.csrfOf(profile.text) });
  t.equal(ended.status, 303);
  t.equal(ended.headers.get('location'), '/profile?sessions=ended#sessions');
  t.equal((await there.get('/jobs')).status, 303, 'the other browsers are signed out');
  t.equal((await third.get('/jobs')).status, 303);
  t.equal((await someoneElse.get('/jobs')).status, 200, "another account's session goes on");
  const after = await here.get('/profile?sessions=ended');
  t.equal(after.status, 200, 'this one goes on');
  t.match(after.text, /Your other browsers were signed out\./);
  t.same(browsersOn(after.text), ['<strong>This browser</strong>']);
  t.match(after.text, /No other browser is signed in\./);

  // The notice needs the state it reports: with another browser signed in again, a crafted link says nothing.
  t.equal((await there.signIn('kim@example.org', PASSWORD)).status, 303);
  t.notMatch((await here.get('/profile?sessions=ended')).text, /Your other browsers were signed out/);
});
