// The billing port's two adapters. Stripe is never reached: webhooks are signed locally with the
// SDK's own test signer, and API calls go to a node:http server standing in for api.stripe.com.
import t from 'tap';
import type { Test } from 'tap';
import { inspect } from 'node:util';
import Stripe from 'stripe';
import { stripeStandIn } from '@gas/testing';
import type { StripeAnswer as Answer, StripeRequest as Recorded } from '@gas/testing';
import { BillingUnavailableError, WebhookSignatureError } from '../src/billing/billing-provider.ts';
import { StripeBilling } from '../src/billing/stripe-billing.ts';
import { BuiltinBilling } from '../src/billing/builtin-billing.ts';
import { createBillingProvider } from '../src/billing/create-billing-provider.ts';

const SECRET_KEY = 'sk_test_51GasBillingDoNotLeak0123456789';
const WEBHOOK_SECRET = 'whsec_gasBillingTestSecret';
const PRICE_ID = 'price_1GasPro';

// ---------------------------------------------------------------- Stripe webhooks

const stripeBilling = (apiBase?: URL) =>
  new StripeBilling({ secretKey: SECRET_KEY, webhookSecret: WEBHOOK_SECRET, priceId: PRICE_ID, ...(apiBase ? { apiBase } : {}) });

function signed(event: object, opts: { secret?: string; timestamp?: number } = {}) {
  const payload = JSON.stringify(event, null, 2);
  const header = Stripe.webhooks.generateTestHeaderString({
    payload,
    secret: opts.secret ?? WEBHOOK_SECRET,
    ...(opts.timestamp !== undefined ? { timestamp: opts.timestamp } : {}),
  });
  return { body: Buffer.from(payload), headers: { 'stripe-signature': header, 'content-type': 'application/json' } };
}

function stripeEvent(id: string, type: string, object: object) {
  return {
    id,
    object: 'event',
    api_version: Stripe.API_VERSION,
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: { object },
  };
}

const checkoutSession = (over: object = {}) => ({
  id: 'cs_test_a1',
  object: 'checkout.session',
  mode: 'subscription',
  status: 'complete',
  payment_status: 'paid',
  client_reference_id: 'u-42',
  customer: 'cus_Q1',
  customer_email: 'ada@example.org',
  subscription: 'sub_S1',
  metadata: { userId: 'u-42' },
  ...over,
});

const subscription = (over: object = {}) => ({
  id: 'sub_S1',
  object: 'subscription',
  status: 'canceled',
  customer: 'cus_Q1',
  metadata: { userId: 'u-42' },
  ...over,
});

t.test('Stripe webhook: a signed checkout.session.completed means subscribed, with the user and customer ids', async (t) => {
  const { body, headers } = signed(stripeEvent('evt_checkout_1', 'checkout.session.completed', checkoutSession()));
  t.strictSame(stripeBilling().parseWebhook(body, headers), {
    eventId: 'evt_checkout_1',
    kind: 'subscribed',
    userId: 'u-42',
    customerId: 'cus_Q1',
  });
});

t.test(
  'Stripe webhook: a signed customer.subscription.deleted means cancelled, the user taken from the subscription metadata',
  async (t) => {
    const { body, headers } = signed(stripeEvent('evt_deleted_1', 'customer.subscription.deleted', subscription()));
    t.strictSame(stripeBilling().parseWebhook(body, headers), {
      eventId: 'evt_deleted_1',
      kind: 'cancelled',
      userId: 'u-42',
      customerId: 'cus_Q1',
    });
  },
);

t.test('Stripe webhook: a delayed payment subscribes only when async_payment_succeeded arrives', async (t) => {
  const billing = stripeBilling();
  const pending = signed(stripeEvent('evt_checkout_2', 'checkout.session.completed', checkoutSession({ payment_status: 'unpaid' })));
  t.equal(billing.parseWebhook(pending.body, pending.headers), null);
  const paid = signed(stripeEvent('evt_async_2', 'checkout.session.async_payment_succeeded', checkoutSession()));
  t.strictSame(billing.parseWebhook(paid.body, paid.headers), {
    eventId: 'evt_async_2',
    kind: 'subscribed',
    userId: 'u-42',
    customerId: 'cus_Q1',
  });
});

t.test('Stripe webhook: event types GAS ignores, and events not from a GAS checkout, give null', async (t) => {
  const billing = stripeBilling();
  const cases = [
    stripeEvent('evt_inv', 'invoice.paid', { id: 'in_1', object: 'invoice', customer: 'cus_Q1' }),
    stripeEvent('evt_upd', 'customer.subscription.updated', subscription({ status: 'active' })),
    stripeEvent('evt_pay', 'checkout.session.completed', checkoutSession({ mode: 'payment' })),
    stripeEvent('evt_nouser', 'customer.subscription.deleted', subscription({ metadata: {} })),
  ];
  for (const event of cases) {
    const { body, headers } = signed(event);
    t.equal(billing.parseWebhook(body, headers), null, (event as { id: string }).id);
  }
});

t.test('Stripe webhook: a tampered body, a wrong secret, a stale or missing signature are WebhookSignatureError', async (t) => {
  const billing = stripeBilling();
  const event = stripeEvent('evt_checkout_3', 'checkout.session.completed', checkoutSession());
  const rejects = (body: Buffer, headers: Record<string, string | string[] | undefined>, why: RegExp) =>
    t.throws(() => billing.parseWebhook(body, headers), { name: 'WebhookSignatureError', message: why });

  const good = signed(event);
  t.ok(billing.parseWebhook(good.body, good.headers), 'the untouched delivery is accepted');

  const tampered = Buffer.from(good.body.toString().replace('"u-42"', '"u-43"'));
  t.strictNotSame(tampered, good.body);
  rejects(tampered, good.headers, /No signatures found matching/);

  const wrongSecret = signed(event, { secret: 'whsec_someoneElse' });
  rejects(wrongSecret.body, wrongSecret.headers, /No signatures found matching/);

  const stale = signed(event, { timestamp: Math.floor(Date.now() / 1000) - 301 });
  rejects(stale.body, stale.headers, /tolerance/);
  const withinTolerance = signed(event, { timestamp: Math.floor(Date.now() / 1000) - 240 });
  t.ok(billing.parseWebhook(withinTolerance.body, withinTolerance.headers), 'four minutes old is still accepted');

  rejects(good.body, { 'content-type': 'application/json' }, /no Stripe-Signature header/);
  rejects(good.body, { 'stripe-signature': '' }, /no Stripe-Signature header/);
  rejects(good.body, { 'stripe-signature': [good.headers['stripe-signature'], good.headers['stripe-signature']] }, /more than one/);
  rejects(good.body, { 'stripe-signature': 'garbage' }, /Unable to extract timestamp/);
});

t.test('Stripe webhook: a correctly signed body that is not JSON is WebhookSignatureError, not a crash', async (t) => {
  const payload = '{"id": "evt_truncated", "type": "checkout.sess';
  const headers = { 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET }) };
  t.throws(() => stripeBilling().parseWebhook(Buffer.from(payload), headers), WebhookSignatureError);
});

t.test('Stripe webhook: the header is found whatever the case of its name', async (t) => {
  const { body, headers } = signed(stripeEvent('evt_case', 'checkout.session.completed', checkoutSession()));
  t.equal(stripeBilling().parseWebhook(body, { 'Stripe-Signature': headers['stripe-signature'] })?.kind, 'subscribed');
});

// ---------------------------------------------------------------- Stripe API (local stand-in)

const notFound = (req: Recorded): Answer => ({
  status: 404,
  body: { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${req.method}: ${req.path})` } },
});

const checkoutInput = {
  userId: 'u-42',
  email: 'ada@example.org',
  successUrl: 'https://gas.example.org/account?checkout=done',
  cancelUrl: 'https://gas.example.org/account?checkout=cancelled',
};

t.test('startCheckout creates a subscription Checkout Session and returns its url (Stripe API mocked by a local server)', async (t) => {
  const sessionUrl = 'https://checkout.stripe.com/c/pay/cs_test_standin#fidkdWxOYHwnPyd1blpxYHZxWjA0';
  const api = await stripeStandIn((req) =>
    req.method === 'POST' && req.path === '/v1/checkout/sessions'
      ? { status: 200, body: { id: 'cs_test_standin', object: 'checkout.session', mode: 'subscription', url: sessionUrl } }
      : notFound(req),
  );
  try {
    const { redirectUrl } = await stripeBilling(api.url).startCheckout(checkoutInput);
    t.equal(redirectUrl, sessionUrl);

    t.equal(api.requests.length, 1);
    const [req] = api.requests;
    t.equal(req!.headers.authorization, `Bearer ${SECRET_KEY}`);
    t.match(String(req!.headers['content-type']), /^application\/x-www-form-urlencoded/);
    t.ok(req!.headers['idempotency-key'], 'the SDK sends an Idempotency-Key, which makes its retries safe');
    t.strictSame(Object.fromEntries(req!.form), {
      mode: 'subscription',
      'line_items[0][price]': PRICE_ID,
      'line_items[0][quantity]': '1',
      client_reference_id: 'u-42',
      customer_email: 'ada@example.org',
      success_url: checkoutInput.successUrl,
      cancel_url: checkoutInput.cancelUrl,
      'metadata[userId]': 'u-42',
      'subscription_data[metadata][userId]': 'u-42',
    });
  } finally {
    await api.close();
  }
});

t.test("updateEmail sets the Stripe customer's address (Stripe API mocked by a local server)", async (t) => {
  const api = await stripeStandIn((req) =>
    req.method === 'POST' && req.path === '/v1/customers/cus_Q1'
      ? { status: 200, body: { id: 'cus_Q1', object: 'customer' } }
      : notFound(req),
  );
  try {
    await stripeBilling(api.url).updateEmail({ customerId: 'cus_Q1', email: 'ada@lovelace.example' });
    t.equal(api.requests.length, 1);
    t.strictSame(Object.fromEntries(api.requests[0]!.form), { email: 'ada@lovelace.example' });
    t.equal(api.requests[0]!.headers.authorization, `Bearer ${SECRET_KEY}`);
    await t.rejects(stripeBilling(api.url).updateEmail({ customerId: 'cus_gone', email: 'x@example.org' }), {
      name: 'BillingUnavailableError',
      message: "billing is unavailable: Stripe could not update the customer's address",
    });
  } finally {
    await api.close();
  }
});

t.test("cancel lists the customer's subscriptions and cancels every one still running (Stripe API mocked by a local server)", async (t) => {
  const subs = [
    { id: 'sub_active', object: 'subscription', status: 'active', customer: 'cus_Q1' },
    { id: 'sub_pastdue', object: 'subscription', status: 'past_due', customer: 'cus_Q1' },
    { id: 'sub_expired', object: 'subscription', status: 'incomplete_expired', customer: 'cus_Q1' },
    { id: 'sub_gone', object: 'subscription', status: 'canceled', customer: 'cus_Q1' },
  ];
  const api = await stripeStandIn((req) => {
    if (req.method === 'GET' && req.path === '/v1/subscriptions') {
      // Like Stripe: no status means every subscription not yet canceled.
      const status = req.query.get('status');
      const data = subs.filter((s) => (status && status !== 'all' ? s.status === status : s.status !== 'canceled'));
      return { status: 200, body: { object: 'list', url: '/v1/subscriptions', has_more: false, data } };
    }
    const m = req.path.match(/^\/v1\/subscriptions\/(sub_\w+)$/);
    if (req.method === 'DELETE' && m)
      return { status: 200, body: { id: m[1], object: 'subscription', status: 'canceled', customer: 'cus_Q1' } };
    return notFound(req);
  });
  try {
    await stripeBilling(api.url).cancel({ userId: 'u-42', customerId: 'cus_Q1' });
    t.strictSame(
      api.requests.map((r) => `${r.method} ${r.path}`),
      ['GET /v1/subscriptions', 'DELETE /v1/subscriptions/sub_active', 'DELETE /v1/subscriptions/sub_pastdue'],
    );
    t.equal(api.requests[0]!.query.get('customer'), 'cus_Q1');
    for (const r of api.requests) t.equal(r.headers.authorization, `Bearer ${SECRET_KEY}`);
  } finally {
    await api.close();
  }
});

t.test('cancel with no subscriptions left does nothing and resolves (Stripe API mocked by a local server)', async (t) => {
  const api = await stripeStandIn((req) =>
    req.method === 'GET' && req.path === '/v1/subscriptions'
      ? { status: 200, body: { object: 'list', url: '/v1/subscriptions', has_more: false, data: [] } }
      : notFound(req),
  );
  try {
    await stripeBilling(api.url).cancel({ userId: 'u-42', customerId: 'cus_Q1' });
    t.strictSame(
      api.requests.map((r) => r.method),
      ['GET'],
    );
  } finally {
    await api.close();
  }
});

/**
 * `promise` rejects with a BillingUnavailableError that says billing is unavailable and shows the
 * secret key nowhere; resolves to that error (undefined if it is not one) for further checks.
 */
async function rejectsUnavailableWithoutKey(t: Test, promise: Promise<unknown>): Promise<BillingUnavailableError | undefined> {
  const err: unknown = await t.rejects(promise, BillingUnavailableError, 'rejects with BillingUnavailableError');
  if (!(err instanceof BillingUnavailableError)) return undefined;
  t.match(err.message, /billing is unavailable/);
  for (const text of [err.message, String(err), err.stack ?? '', inspect(err, { depth: 10, showHidden: true }), JSON.stringify(err)]) {
    t.notMatch(text, SECRET_KEY, 'the secret key does not leak');
  }
  return err;
}

t.test('a 401 from Stripe becomes "billing is unavailable" without the secret key (Stripe API mocked by a local server)', async (t) => {
  // Stripe's real 401 quotes the key back (masked); the stand-in quotes it whole to make a leak visible.
  const api = await stripeStandIn(() => ({
    status: 401,
    body: { error: { type: 'invalid_request_error', message: `Invalid API Key provided: ${SECRET_KEY}` } },
  }));
  try {
    const err = await rejectsUnavailableWithoutKey(t, stripeBilling(api.url).startCheckout(checkoutInput));
    t.equal(err?.details.statusCode, 401);
    t.equal(api.requests.length, 1, 'a 401 is not retried');
    await rejectsUnavailableWithoutKey(t, stripeBilling(api.url).cancel({ userId: 'u-42', customerId: 'cus_Q1' }));
  } finally {
    await api.close();
  }
});

t.test(
  'a 500 from Stripe is retried with the same Idempotency-Key, then becomes "billing is unavailable" without the key (Stripe API mocked by a local server)',
  async (t) => {
    const api = await stripeStandIn(() => ({
      status: 500,
      body: { error: { type: 'api_error', message: `Something went wrong for ${SECRET_KEY}` } },
    }));
    try {
      const err = await rejectsUnavailableWithoutKey(t, stripeBilling(api.url).startCheckout(checkoutInput));
      t.equal(err?.details.statusCode, 500);
      t.equal(api.requests.length, 3, 'the SDK tries once and retries twice');
      t.equal(new Set(api.requests.map((r) => r.headers['idempotency-key'])).size, 1);
    } finally {
      await api.close();
    }
  },
);

t.test('an unreachable Stripe becomes "billing is unavailable"', async (t) => {
  const api = await stripeStandIn(notFound);
  const gone = api.url;
  await api.close();
  await rejectsUnavailableWithoutKey(t, stripeBilling(gone).cancel({ userId: 'u-42', customerId: 'cus_Q1' }));
});

t.test('StripeBilling does not show its key when inspected or logged', async (t) => {
  const billing = stripeBilling();
  t.notMatch(inspect(billing, { depth: 10, showHidden: true }), SECRET_KEY);
  t.notMatch(JSON.stringify(billing), SECRET_KEY);
});

// ---------------------------------------------------------------- builtin

const BUILTIN_SECRET = Buffer.alloc(32, 7);

function builtin(opts: { secret?: Buffer; now?: () => number; baseUrl?: string } = {}) {
  return new BuiltinBilling({
    secret: opts.secret ?? BUILTIN_SECRET,
    baseUrl: opts.baseUrl ?? 'http://localhost:8080',
    ...(opts.now ? { now: opts.now } : {}),
  });
}

async function tokenOf(t: Test, billing: BuiltinBilling, userId = 'u-7') {
  const { redirectUrl } = await billing.startCheckout({
    userId,
    email: 'u7@example.org',
    successUrl: 'http://x/ok',
    cancelUrl: 'http://x/no',
  });
  const url = new URL(redirectUrl);
  t.equal(`${url.origin}${url.pathname}`, 'http://localhost:8080/billing/builtin/checkout');
  return url.searchParams.get('token')!;
}

t.test('builtin: the checkout token round-trips to the user it was issued to', async (t) => {
  const billing = builtin();
  const token = await tokenOf(t, billing, 'u-7');
  t.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  t.strictSame(billing.verifyCheckoutToken(token), { userId: 'u-7' });
  // Stateless: another instance with the same secret (another gateway replica) accepts it.
  t.strictSame(builtin().verifyCheckoutToken(token), { userId: 'u-7' });
  const slash = await builtin({ baseUrl: 'http://localhost:8080/' }).startCheckout({
    userId: 'u-7',
    email: '',
    successUrl: '',
    cancelUrl: '',
  });
  t.match(slash.redirectUrl, /^http:\/\/localhost:8080\/billing\/builtin\/checkout\?token=/);
});

t.test('builtin: a tampered, foreign or malformed token is refused', async (t) => {
  const billing = builtin();
  const token = await tokenOf(t, billing, 'u-7');
  const [payload, mac] = token.split('.') as [string, string];

  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { exp: number };
  const otherUser = Buffer.from(JSON.stringify({ ...claims, u: 'u-8' })).toString('base64url');
  const longer = Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 86_400_000 })).toString('base64url');
  const flipped = mac.slice(0, 10) + (mac[10] === 'A' ? 'B' : 'A') + mac.slice(11);
  // The last character of a 32-byte MAC carries 2 unused bits: this spelling decodes to the same bytes.
  const b64url = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const respelt = mac.slice(0, -1) + b64url[b64url.indexOf(mac.at(-1)!) ^ 1];
  t.strictSame(Buffer.from(respelt, 'base64url'), Buffer.from(mac, 'base64url'));
  const foreign = await tokenOf(t, builtin({ secret: Buffer.alloc(32, 8) }), 'u-7');

  for (const bad of [
    `${otherUser}.${mac}`,
    `${longer}.${mac}`,
    `${payload}.${flipped}`,
    `${payload}.${respelt}`,
    `${payload}.${mac}x`,
    `${payload}.${mac.slice(0, -1)}`,
    foreign,
    '',
    'abc',
    `${payload}.`,
    `${token}.x`,
  ]) {
    t.throws(() => billing.verifyCheckoutToken(bad), /checkout token/, JSON.stringify(bad));
    t.throws(() => billing.completeCheckout(bad), /checkout token/);
  }
});

t.test('builtin: a token expires after 15 minutes', async (t) => {
  let now = Date.parse('2026-11-02T10:00:00Z');
  const billing = builtin({ now: () => now });
  const token = await tokenOf(t, billing, 'u-7');
  now += 15 * 60 * 1000 - 1;
  t.strictSame(billing.verifyCheckoutToken(token), { userId: 'u-7' });
  now += 1;
  t.throws(() => billing.verifyCheckoutToken(token), /expired/);
  t.throws(() => billing.completeCheckout(token), /expired/);
});

t.test("builtin: completeCheckout gives a subscribed event for the token's user, each with a fresh event id", async (t) => {
  const billing = builtin();
  const token = await tokenOf(t, billing, 'u-7');
  const first = billing.completeCheckout(token);
  const second = billing.completeCheckout(token);
  t.equal(first.kind, 'subscribed');
  t.equal(first.userId, 'u-7');
  t.equal(first.customerId, 'builtin-u-7');
  t.ok(first.eventId.length > 0);
  t.not(first.eventId, second.eventId);
  t.equal(billing.completeCheckout(await tokenOf(t, billing, 'u-9')).userId, 'u-9');
});

t.test('builtin: cancel resolves, webhooks are always refused, a short secret is refused', async (t) => {
  const billing = builtin();
  await billing.cancel({ userId: 'u-7', customerId: 'builtin-u-7' });
  const { body, headers } = signed(stripeEvent('evt_x', 'checkout.session.completed', checkoutSession()));
  t.throws(() => billing.parseWebhook(body, headers), WebhookSignatureError);
  t.throws(() => builtin({ secret: Buffer.alloc(31, 1) }), /32 bytes/);
});

// ---------------------------------------------------------------- factory

t.test('createBillingProvider picks the adapter and names missing Stripe variables', async (t) => {
  const base = { builtinSecret: BUILTIN_SECRET, publicUrl: 'http://localhost:8080' };
  const local = createBillingProvider({ ...base, provider: 'builtin' });
  t.ok(local instanceof BuiltinBilling);
  t.equal(local.name, 'builtin');
  const { redirectUrl } = await local.startCheckout({ userId: 'u-7', email: '', successUrl: '', cancelUrl: '' });
  t.ok(redirectUrl.startsWith('http://localhost:8080/billing/builtin/checkout?token='));
  const stripe = createBillingProvider({
    ...base,
    provider: 'stripe',
    stripeSecretKey: SECRET_KEY,
    stripeWebhookSecret: WEBHOOK_SECRET,
    stripePriceId: PRICE_ID,
  });
  t.ok(stripe instanceof StripeBilling);
  t.equal(stripe.name, 'stripe');
  t.throws(() => createBillingProvider({ ...base, provider: 'stripe', stripeSecretKey: SECRET_KEY, stripeWebhookSecret: ' ' }), {
    message: /^BILLING_PROVIDER=stripe needs STRIPE_WEBHOOK_SECRET, STRIPE_PRICE_ID$/,
  });
});
