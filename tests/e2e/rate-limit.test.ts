// Rate limits on the real gateway, with small budgets: requests per minute per credential (per
// address without one), and a stricter budget for sign-in and sign-up attempts per address.
import t from 'tap';
import type { Test } from 'tap';
import { startGasStack, WebClient } from '@gas/testing';
import type { GasStack } from '@gas/testing';

const PER_MINUTE = 20;
const SIGNIN_PER_MINUTE = 3;

const stack: GasStack = await startGasStack({
  store: 'filesystem',
  services: ['job', 'gateway'],
  env: { gateway: { GATEWAY_RATE_LIMIT_PER_MINUTE: String(PER_MINUTE), GATEWAY_SIGNIN_ATTEMPTS_PER_MINUTE: String(SIGNIN_PER_MINUTE) } },
});
t.teardown(() => stack.stop());

function expectTooMany(t: Test, res: Response): string {
  t.equal(res.status, 429);
  const retryAfter = res.headers.get('retry-after') ?? '';
  t.match(retryAfter, /^\d+$/, 'Retry-After is a number of seconds');
  t.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 60, `Retry-After ${retryAfter} is within the minute`);
  return retryAfter;
}

t.test('past its budget an API token gets 429 as problem+json with Retry-After; other tokens and addresses are not affected', async (t) => {
  const [alice, bob] = stack.users as [(typeof stack.users)[0], (typeof stack.users)[0]];
  for (let i = 1; i <= PER_MINUTE; i++) {
    const res = await stack.api(alice, '/api/v1/jobs');
    t.equal(res.status, 200, `request ${i}`);
    t.equal(res.headers.get('x-ratelimit-limit'), String(PER_MINUTE));
    t.equal(res.headers.get('x-ratelimit-remaining'), String(PER_MINUTE - i));
    t.match(res.headers.get('x-ratelimit-reset') ?? '', /^\d+$/);
    await res.body?.cancel();
  }
  const res = await stack.api(alice, '/api/v1/jobs');
  const retryAfter = expectTooMany(t, res);
  t.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  const body = (await res.json()) as Record<string, unknown>;
  t.strictSame(Object.keys(body).sort(), ['detail', 'status', 'title', 'type']);
  t.equal(body['type'], 'about:blank');
  t.equal(body['title'], 'Too Many Requests');
  t.equal(body['status'], 429);
  t.match(String(body['detail']), /^too many requests; try again in \d+ s$/);
  t.ok(Math.abs(Number(/in (\d+) s/.exec(String(body['detail']))![1]) - Number(retryAfter)) <= 1, 'the detail and Retry-After agree');
  // Every route of the API shares the token's budget.
  expectTooMany(t, await stack.api(alice, `/api/v1/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV`));

  const other = await stack.api(bob, '/api/v1/jobs');
  t.equal(other.status, 200, 'another token has its own budget');
  await other.body?.cancel();
  const anonymous = await fetch(`${stack.url}/api/v1/jobs`);
  t.equal(anonymous.status, 401, 'a request without credentials is counted by its address, not by the token');
  await anonymous.body?.cancel();
});

t.test('the fourth sign-in attempt from one address within a minute gets 429, whoever tries; sign-up has such a budget too', async (t) => {
  const c = new WebClient(stack.url);
  const csrf = WebClient.csrfOf((await c.get('/signin')).text);
  const signIn = (client: WebClient, token: string) =>
    client.postForm('/signin', { _csrf: token, email: 'nobody@example.org', password: 'not the password at all' });
  for (let i = 1; i <= SIGNIN_PER_MINUTE; i++) t.equal((await signIn(c, csrf)).status, 401, `attempt ${i}`);
  const fourth = await signIn(c, csrf);
  t.equal(fourth.status, 429, fourth.text.slice(0, 300));
  t.match(fourth.headers.get('retry-after') ?? '', /^\d+$/);
  t.match(fourth.headers.get('content-type') ?? '', /^text\/html/, 'a form post gets an error page');
  // A fresh browser from the same address is still refused: the budget is the address's.
  const fresh = new WebClient(stack.url);
  t.equal((await signIn(fresh, WebClient.csrfOf((await fresh.get('/signin')).text))).status, 429);

  // Sign-up counts its attempts the same way (each form has a budget of its own).
  const signUpCsrf = WebClient.csrfOf((await fresh.get('/signup')).text);
  const signUp = () => fresh.postForm('/signup', { _csrf: signUpCsrf, email: 'new@example.org', password: 'short', name: 'N' });
  for (let i = 1; i <= SIGNIN_PER_MINUTE; i++) t.equal((await signUp()).status, 400, `sign-up ${i}`);
  t.equal((await signUp()).status, 429);

  // Only the attempts are limited: the pages and the API still answer.
  t.equal((await fresh.get('/signin')).status, 200);
  const api = await stack.api(stack.users[1]!, '/api/v1/jobs');
  t.equal(api.status, 200);
  await api.body?.cancel();
});
