// Upgrading and cancelling with the Stripe adapter, through the real gateway and job service.
// Stripe's servers cannot be reached from here: its API is a local stand-in (named in each test)
// and its webhooks are signed locally with the documented scheme (HMAC-SHA256 over "t.payload").
import t from 'tap';
import { createHmac } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { startGasStack, stripeStandIn, WebClient } from '@gas/testing';

const WEBHOOK_SECRET = 'whsec_test_secret_for_the_gateway';
const CHECKOUT_URL = 'https://checkout.stripe.com/c/pay/cs_test_gas';

const api = await stripeStandIn((req) => {
  if (req.method === 'POST' && req.path === '/v1/checkout/sessions')
    return { status: 200, body: { id: 'cs_test_gas', object: 'checkout.session', url: CHECKOUT_URL } };
  if (req.method === 'GET' && req.path === '/v1/subscriptions') {
    return {
      status: 200,
      body: {
        object: 'list',
        has_more: false,
        url: '/v1/subscriptions',
        data: [{ id: 'sub_1', object: 'subscription', status: 'active', customer: req.query.get('customer') }],
      },
    };
  }
  if (req.method === 'DELETE' && req.path === '/v1/subscriptions/sub_1')
    return { status: 200, body: { id: 'sub_1', object: 'subscription', status: 'canceled' } };
  return { status: 404, body: { error: { type: 'invalid_request_error', message: 'not found' } } };
});
t.teardown(() => api.close());
const stack = await startGasStack({
  store: 'filesystem',
  services: ['job', 'gateway'],
  env: {
    gateway: {
      BILLING_PROVIDER: 'stripe',
      STRIPE_SECRET_KEY: 'sk_test_gas_secret_key',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_PRICE_ID: 'price_premium',
      STRIPE_API_BASE: api.url.href,
    },
  },
});
t.teardown(() => stack.stop());

function signedWebhook(event: object, secret = WEBHOOK_SECRET, at = Math.floor(Date.now() / 1000)) {
  const payload = JSON.stringify(event);
  const v1 = createHmac('sha256', secret).update(`${at}.${payload}`).digest('hex');
  return { body: payload, headers: { 'content-type': 'application/json', 'stripe-signature': `t=${at},v1=${v1}` } };
}

function checkoutCompleted(userId: string, id = 'evt_checkout_1') {
  return {
    id,
    object: 'event',
    type: 'checkout.session.completed',
    data: {
      object: {
        id: 'cs_test_gas',
        object: 'checkout.session',
        mode: 'subscription',
        payment_status: 'paid',
        client_reference_id: userId,
        customer: 'cus_gas_1',
        metadata: { userId },
      },
    },
  };
}

async function planOf(c: WebClient): Promise<string> {
  return /<h1>([^<]+)<\/h1>/.exec((await c.get('/subscribe')).text)![1]!;
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Every account event but the sign-up's address confirmation, which a new account also gets. */
const PLAN_EVENTS = (kind: string) => kind !== 'email_confirmation_requested';

/** The plan events the job service published for a user, read back from the GAS_EVENTS stream. */
async function accountEvents(userId: string): Promise<string[]> {
  const nc = await connect({ servers: stack.natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info('GAS_EVENTS', { subjects_filter: 'gas.events.account.>' });
    const kinds: string[] = [];
    for (let seq = 1; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage('GAS_EVENTS', { seq }).catch(() => null);
      if (m && m.subject.startsWith('gas.events.account.') && Buffer.from(m.data).includes(Buffer.from(userId)))
        kinds.push(m.subject.split('.').at(-1)!);
    }
    return kinds.filter(PLAN_EVENTS);
  } finally {
    await nc.close();
  }
}

t.test(
  'upgrade: checkout at Stripe (API mocked by a local server), then a signed webhook makes the account premium and publishes account.upgraded',
  async (t) => {
    const c = new WebClient(stack.url);
    const csrf = await c.signUp({ email: 'payer@example.org', password: 'paying customer 1', name: 'Payer' });
    t.equal(await planOf(c), 'Upgrade to premium');
    const start = await c.postForm('/subscribe', { _csrf: csrf });
    t.equal(start.status, 303);
    t.equal(start.location, CHECKOUT_URL);
    const session = api.requests.find((r) => r.path === '/v1/checkout/sessions')!;
    t.equal(session.form.get('customer_email'), 'payer@example.org');
    t.equal(session.form.get('line_items[0][price]'), 'price_premium');
    const payer = session.form.get('client_reference_id')!;
    t.match(payer, /^[0-9A-Z]{26}$/);
    // Coming back from Stripe changes nothing by itself.
    t.equal(await planOf(c), 'Upgrade to premium');

    const { body, headers } = signedWebhook(checkoutCompleted(payer));
    const hook = await fetch(`${stack.url}/billing/webhook`, { method: 'POST', body, headers });
    t.equal(hook.status, 200, 'the webhook is accepted', { body: await hook.clone().text() });
    t.equal(await planOf(c), 'You are on premium');
    // A redelivery of the same event is harmless.
    t.equal((await fetch(`${stack.url}/billing/webhook`, { method: 'POST', body, headers })).status, 200);
    const upgraded = await stack.eventually(
      () => accountEvents(payer),
      (kinds) => sameList(kinds, ['upgraded']),
    );
    t.strictSame(upgraded, ['upgraded'], 'account.upgraded published once');

    // Cancel: the subscription is cancelled at Stripe, new jobs use the free plan, account.downgraded.
    const cancel = await c.postForm('/subscribe/cancel', { _csrf: csrf });
    t.equal(cancel.status, 303);
    t.ok(api.requests.some((r) => r.method === 'DELETE' && r.path === '/v1/subscriptions/sub_1'));
    t.equal(api.requests.find((r) => r.method === 'GET' && r.path === '/v1/subscriptions')!.query.get('customer'), 'cus_gas_1');
    t.equal(await planOf(c), 'Upgrade to premium');
    const downgraded = await stack.eventually(
      () => accountEvents(payer),
      (kinds) => sameList(kinds, ['upgraded', 'downgraded']),
    );
    t.strictSame(downgraded, ['upgraded', 'downgraded'], 'then account.downgraded');
  },
);

t.test('webhooks with a bad, stale or missing signature are refused with 400 and change no plan', async (t) => {
  const c = new WebClient(stack.url);
  await c.signUp({ email: 'mallory@example.org', password: 'not paying at all', name: 'Mallory' });
  await c.postForm('/subscribe', { _csrf: WebClient.csrfOf((await c.get('/subscribe')).text) });
  const mallory = api.requests
    .filter((r) => r.path === '/v1/checkout/sessions')
    .at(-1)!
    .form.get('client_reference_id')!;
  const event = checkoutCompleted(mallory, 'evt_forged');
  const cases = {
    'wrong secret': signedWebhook(event, 'whsec_guessed'),
    'older than five minutes': signedWebhook(event, WEBHOOK_SECRET, Math.floor(Date.now() / 1000) - 3600),
    'tampered body': { ...signedWebhook(event), body: JSON.stringify({ ...event, id: 'evt_other' }) },
    'no signature': { body: JSON.stringify(event), headers: { 'content-type': 'application/json' } },
  };
  for (const [name, req] of Object.entries(cases)) {
    const res = await fetch(`${stack.url}/billing/webhook`, { method: 'POST', body: req.body, headers: req.headers });
    t.equal(res.status, 400, name);
    t.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, name);
    await res.body?.cancel();
  }
  t.equal(await planOf(c), 'Upgrade to premium');
});
