// Deleting an account through the gateway built in-process (buildGateway), driven with inject(),
// against a real nats-server, job service and notification service: an account that signs in only
// through OpenID Connect confirms by typing its address when the gateway has no provider configured
// (account-delete-oidc.test.ts: with one), and its provider links go; a session from
// before the keys named their user is ended too; a deletion cut short after the job service
// deleted the account is finished on a retry; a premium subscription is cancelled first (Stripe's
// API is a local stand-in, its webhooks signed locally: Stripe cannot be reached from here), a
// failed cancel stops the deletion, and Stripe's later events for the deleted account are answered
// 200 and change nothing; the notice on the home page is only the gateway's own; wrong passwords
// count against the sign-in budget.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { Kvm } from '@nats-io/kv';
import Stripe from 'stripe';
import { create, AccountSchema, Plan, RpcError, Status } from '@gas/proto';
import { jetstream } from '@gas/messaging';
import { startGasStack, stripeStandIn } from '@gas/testing';
import type { StripeAnswer } from '@gas/testing';
import { stackClients, stackGateway } from './stack-clients.ts';
import { hashPassword, identityBuckets } from '../src/identity/index.ts';
import { digest } from '../src/identity/digest.ts';
import { StripeBilling } from '../src/billing/stripe-billing.ts';

const stack = await startGasStack({ store: 'filesystem', services: ['job', 'notification'] });
t.teardown(() => stack.stop());
const clients = await stackClients(stack, { name: 'account-delete-test', deadlineMs: 10_000 });
const { identity, accounts, nc } = clients;
const app = await stackGateway(stack, clients);
const PASSWORD = 'the right password';

let n = 0;
/** A user made as sign-up or a first OIDC sign-in makes one, with a session; `oidc`: no password, one provider link. */
async function user(opts: { oidc?: boolean } = {}) {
  const email = `user${++n}@example.org`;
  const creds = await identity.users.create(email, opts.oidc ? null : await hashPassword(PASSWORD), { confirmed: opts.oidc });
  if (opts.oidc) await identity.users.linkOidc('https://idp.example', `subject-${n}`, creds.userId);
  await accounts.upsertAccount({ account: create(AccountSchema, { userId: creds.userId, email, name: `User ${n}` }) });
  const { id, session } = await identity.sessions.start(creds.userId);
  return { userId: creds.userId, email, cookie: `gas_session=${id}`, csrf: session.csrfToken, subject: `subject-${n}` };
}
type User = Awaited<ReturnType<typeof user>>;

const get = (url: string, cookie: string) => app.inject({ method: 'GET', url, headers: { cookie } });
const post = (u: Pick<User, 'cookie'>, fields: Record<string, string>, gateway = app) =>
  gateway.inject({
    method: 'POST',
    url: '/account/delete',
    headers: { cookie: u.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields).toString(),
  });

async function accountGone(userId: string): Promise<boolean> {
  return accounts.getAccount({ userId }).then(
    () => false,
    (err: unknown) => err instanceof RpcError && err.code === Status.NOT_FOUND,
  );
}

/** The flash cookie a response set, as a request's Cookie header. */
function noticeCookie(res: { headers: Record<string, unknown> }): string {
  const set = ([] as string[]).concat((res.headers['set-cookie'] as string | string[] | undefined) ?? []);
  const c = set.find((h) => h.startsWith('gas_notice='));
  return c ? c.split(';')[0]! : '';
}

t.test(
  'with no identity provider configured, an account without a password confirms with its address; its provider links go with it',
  async (t) => {
    const u = await user({ oidc: true });
    const asks = await get('/account/delete', u.cookie);
    t.equal(asks.statusCode, 200);
    t.match(asks.body, /type your account's e-mail address/);
    t.match(asks.body, /name="email"/);
    t.notMatch(asks.body, /name="password"/, 'no password is asked for: there is none');
    t.match(asks.body, /the link to your identity provider/);

    const wrong = await post(u, { _csrf: u.csrf, email: 'someone@example.org' });
    t.equal(wrong.statusCode, 401);
    t.match(wrong.body, /That is not the e-mail address of this account; nothing was deleted\./);
    t.equal(await identity.users.userForOidc('https://idp.example', u.subject), u.userId, 'the link stays');

    const res = await post(u, { _csrf: u.csrf, email: `  ${u.email.toUpperCase()} ` });
    t.equal(res.statusCode, 303);
    t.equal(res.headers.location, '/');
    t.equal(await identity.users.userForOidc('https://idp.example', u.subject), null, 'the provider link is gone');
    t.equal(await identity.users.byEmail(u.email), null, 'and the credentials');
    t.ok(await accountGone(u.userId), 'and the account');
    t.equal((await get('/jobs', u.cookie)).statusCode, 303, 'the session is over');

    const flash = noticeCookie(res);
    t.ok(flash, 'the notice travels in a cookie');
    const home = await get('/', flash);
    t.match(home.body, /<p class="notice" role="status">Your account and its data were deleted\.<\/p>/);
    t.match(noticeCookie(home), /^gas_notice=$/, 'and is used up');
    const [value, mac] = flash.slice('gas_notice='.length).split('.');
    for (const forged of [
      `gas_notice=${value}.${mac!.slice(1)}A`,
      'gas_notice=account-deleted',
      `gas_notice=${Buffer.from('{"k":"account-deleted","exp":9999999999999}').toString('base64url')}.${mac}`,
    ])
      t.notMatch((await get('/', forged)).body, /were deleted/, `not with a cookie the gateway did not sign: ${forged}`);
    t.notMatch((await get('/?deleted=1', '')).body, /were deleted/, 'nor from a link');
  },
);

t.test('a session of the old format (cookie without the user key) is ended by the deletion', async (t) => {
  const u = await user();
  const kv = await new Kvm(jetstream(nc)).open(identityBuckets.sessions);
  const old = randomBytes(32).toString('base64url');
  const at = Date.now();
  await kv.put(digest(old), JSON.stringify({ userId: u.userId, csrfToken: 'c', createdAt: at, lastSeenAt: at, expiresAt: at + 3_600_000 }));
  t.equal((await get('/jobs', `gas_session=${old}`)).statusCode, 200, 'the old cookie is signed in');
  t.equal((await post(u, { _csrf: u.csrf, password: PASSWORD })).statusCode, 303);
  const after = await get('/jobs', `gas_session=${old}`);
  t.equal(after.statusCode, 303, 'and no longer after the deletion');
  t.match(after.headers.location, /^\/signin/);
});

t.test('a deletion cut short after the job service deleted the account is finished on a retry', async (t) => {
  const u = await user();
  // What a gateway that stopped between steps (d) and (e) leaves: the marker, the credentials, the session.
  await identity.users.startDeletion(u.userId, u.email);
  await accounts.deleteAccount({ userId: u.userId });
  t.ok(await accountGone(u.userId));
  const asks = await get('/account/delete', u.cookie);
  t.equal(asks.statusCode, 200);
  t.match(asks.body, /A deletion of your account was started and did not finish/);
  t.match(asks.body, /0 jobs/);
  // A profile save meanwhile (another tab) would make the deleted account again, with nobody to sign in to it.
  const save = await app.inject({
    method: 'POST',
    url: '/profile',
    headers: { cookie: u.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: u.csrf, name: 'Back again', institution: '' }).toString(),
  });
  t.equal(save.statusCode, 409, 'a profile save is refused while the account is being deleted');
  t.match(save.body, /Your account is being deleted/);
  t.ok(await accountGone(u.userId), 'and makes no account');
  t.equal((await post(u, { _csrf: u.csrf, password: 'not it at all' })).statusCode, 401, 'the password is still asked for');
  const res = await post(u, { _csrf: u.csrf, password: PASSWORD });
  t.equal(res.statusCode, 303);
  t.equal(await identity.users.byEmail(u.email), null, 'the credentials are gone');
  t.equal(await identity.users.deletionOf(u.userId), null, 'and the marker');
  t.equal((await get('/account/delete', u.cookie)).statusCode, 303, 'and the session');
});

t.test('wrong passwords count against the sign-in budget of the address', async (t) => {
  const strict = await stackGateway(stack, clients, { rateLimit: { perMinute: 100_000, signInPerMinute: 2 } });
  const u = await user();
  t.equal((await post(u, { _csrf: u.csrf, password: 'wrong one' }, strict)).statusCode, 401);
  t.equal((await post(u, { _csrf: u.csrf, password: 'wrong two' }, strict)).statusCode, 401);
  const third = await post(u, { _csrf: u.csrf, password: PASSWORD }, strict);
  t.equal(third.statusCode, 429, 'the third attempt in the minute is refused, even with the right password');
  t.notOk(await accountGone(u.userId), 'nothing was deleted');
});

t.test(
  'premium with Stripe (its API a local stand-in): cancelled first; a failed cancel stops with 503; later webhooks change nothing',
  async (t) => {
    let stripeDown = true;
    const api = await stripeStandIn((req): StripeAnswer => {
      if (stripeDown) return { status: 401, body: { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } } };
      if (req.method === 'GET' && req.path === '/v1/subscriptions')
        return {
          status: 200,
          body: {
            object: 'list',
            url: '/v1/subscriptions',
            has_more: false,
            data: [{ id: 'sub_9', object: 'subscription', status: 'active' }],
          },
        };
      if (req.method === 'DELETE' && req.path === '/v1/subscriptions/sub_9')
        return { status: 200, body: { id: 'sub_9', object: 'subscription', status: 'canceled' } };
      return { status: 404, body: { error: { type: 'invalid_request_error', message: 'not found' } } };
    });
    t.teardown(() => api.close());
    const WEBHOOK_SECRET = 'whsec_account_delete_test';
    const billing = new StripeBilling({
      secretKey: 'sk_test_account_delete',
      webhookSecret: WEBHOOK_SECRET,
      priceId: 'price_x',
      apiBase: api.url,
    });
    const stripeGateway = await stackGateway(stack, clients, { billing });
    const u = await user();
    await accounts.setPlan({ userId: u.userId, plan: Plan.PREMIUM, billingCustomerId: 'cus_9' });
    const { token } = await identity.tokens.create(u.userId, 'script');
    const other = await identity.sessions.start(u.userId);

    const asks = await stripeGateway.inject({ method: 'GET', url: '/account/delete', headers: { cookie: u.cookie } });
    t.match(asks.body, /Your premium subscription is cancelled: nothing more is charged\./);

    const failed = await post(u, { _csrf: u.csrf, password: PASSWORD }, stripeGateway);
    t.equal(failed.statusCode, 503);
    t.match(failed.body, /Your premium subscription could not be cancelled right now, so nothing else was deleted/);
    t.notOk(await accountGone(u.userId), 'the account stays');
    t.ok(await identity.users.byEmail(u.email), 'and its credentials');
    t.equal(
      (await stripeGateway.inject({ method: 'GET', url: '/jobs', headers: { cookie: u.cookie } })).statusCode,
      200,
      'the session lives: a retry is possible',
    );
    t.equal(await identity.tokens.userOf(token), null, 'the tokens were revoked before (step b), as the page says');
    t.equal(await identity.sessions.resume(other.id), null, 'and the other sessions ended');

    stripeDown = false;
    api.requests.length = 0;
    const res = await post(u, { _csrf: u.csrf, password: PASSWORD }, stripeGateway);
    t.equal(res.statusCode, 303);
    t.strictSame(
      api.requests.map((r) => `${r.method} ${r.path}`),
      ['GET /v1/subscriptions', 'DELETE /v1/subscriptions/sub_9'],
      'the subscription was cancelled',
    );
    t.equal(api.requests[0]!.query.get('customer'), 'cus_9');
    t.ok(await accountGone(u.userId));

    // Stripe then tells of the cancellation (and, say, of a checkout finished in another tab).
    const webhook = (type: string, object: object) => {
      const payload = JSON.stringify({ id: `evt_${type}`, object: 'event', type, data: { object } });
      const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
      return stripeGateway.inject({
        method: 'POST',
        url: '/billing/webhook',
        headers: { 'content-type': 'application/json', 'stripe-signature': header },
        payload,
      });
    };
    const cancelled = await webhook('customer.subscription.deleted', {
      id: 'sub_9',
      object: 'subscription',
      status: 'canceled',
      customer: 'cus_9',
      metadata: { userId: u.userId },
    });
    t.equal(cancelled.statusCode, 200, 'the cancellation of a deleted account is acknowledged');
    t.same(cancelled.json(), { received: true });
    const subscribed = await webhook('checkout.session.completed', {
      id: 'cs_1',
      object: 'checkout.session',
      mode: 'subscription',
      payment_status: 'paid',
      client_reference_id: u.userId,
      customer: 'cus_9',
      metadata: { userId: u.userId },
    });
    t.equal(subscribed.statusCode, 200, 'and so is a checkout of it (logged for the operator to refund)');
    t.ok(await accountGone(u.userId), 'neither brings the account back');

    // Premium given by an operator (SetPlan without a billing customer): nothing to cancel at Stripe.
    const given = await user();
    await accounts.setPlan({ userId: given.userId, plan: Plan.PREMIUM });
    api.requests.length = 0;
    t.equal((await post(given, { _csrf: given.csrf, password: PASSWORD }, stripeGateway)).statusCode, 303);
    t.same(api.requests, [], 'Stripe is not asked');
    t.ok(await accountGone(given.userId));
  },
);
