import Stripe from 'stripe';
import { BillingUnavailableError, WebhookSignatureError } from './billing-provider.ts';
import type { BillingEvent, BillingProvider } from './billing-provider.ts';

export interface StripeBillingOptions {
  secretKey: string;
  webhookSecret: string;
  priceId: string;
  /** Where the Stripe API is; tests point it at a local stand-in. Only scheme, host and port count. */
  apiBase?: URL;
}

/** Subscriptions in these states have nothing left to cancel (Stripe refuses to cancel them). */
const ENDED = new Set(['canceled', 'incomplete_expired']);

/** Billing through Stripe Checkout; the plan follows Stripe's webhooks, never the browser's return. */
export class StripeBilling implements BillingProvider {
  readonly name = 'stripe' as const;
  // Private fields, so logging or inspecting the provider cannot print the client and its key.
  readonly #stripe: Stripe;
  readonly #webhookSecret: string;
  readonly #priceId: string;

  constructor(opts: StripeBillingOptions) {
    const missing = (['secretKey', 'webhookSecret', 'priceId'] as const).filter((k) => !opts[k]?.trim());
    if (missing.length > 0) throw new Error(`Stripe billing needs ${missing.join(', ')}`);
    this.#stripe = new Stripe(opts.secretKey, {
      ...apiAddress(opts.apiBase),
      // A browser waits on startCheckout; the SDK's 80 s default outlasts any proxy in front of us.
      timeout: 15_000,
      // The SDK's default of 2 retries stays: it puts an Idempotency-Key on every POST, so a retried
      // create cannot open a second Checkout Session.
    });
    this.#webhookSecret = opts.webhookSecret;
    this.#priceId = opts.priceId;
  }

  async startCheckout(input: { userId: string; email: string; successUrl: string; cancelUrl: string }): Promise<{ redirectUrl: string }> {
    let session: Stripe.Checkout.Session;
    try {
      session = await this.#stripe.checkout.sessions.create({
        mode: 'subscription',
        line_items: [{ price: this.#priceId, quantity: 1 }],
        client_reference_id: input.userId,
        customer_email: input.email,
        success_url: input.successUrl,
        cancel_url: input.cancelUrl,
        metadata: { userId: input.userId },
        // customer.subscription.deleted carries the subscription, not the session: without this the
        // cancellation could not be traced back to a GAS user.
        subscription_data: { metadata: { userId: input.userId } },
      });
    } catch (err) {
      throw unavailable('could not start a checkout', err);
    }
    // Only embedded/custom UI modes come back without a url, and GAS asks for neither.
    if (!session.url)
      throw new BillingUnavailableError('billing is unavailable: Stripe returned a checkout session without a payment page');
    return { redirectUrl: session.url };
  }

  async updateEmail(input: { customerId: string; email: string }): Promise<void> {
    try {
      await this.#stripe.customers.update(input.customerId, { email: input.email });
    } catch (err) {
      throw unavailable("could not update the customer's address", err);
    }
  }

  async cancel(input: { userId: string; customerId: string }): Promise<void> {
    try {
      // Collected before cancelling: cancelling removes a subscription from the list being paged.
      const ids: string[] = [];
      // Not only status=active: a trialing or past_due subscription would otherwise keep running.
      for await (const sub of this.#stripe.subscriptions.list({ customer: input.customerId, limit: 100 })) {
        if (!ENDED.has(sub.status)) ids.push(sub.id);
      }
      for (const id of ids) await this.#stripe.subscriptions.cancel(id);
    } catch (err) {
      throw unavailable('could not cancel the subscription', err);
    }
  }

  parseWebhook(rawBody: Buffer, headers: Record<string, string | string[] | undefined>): BillingEvent | null {
    const signature = headerValue(headers, 'stripe-signature');
    if (!signature) throw new WebhookSignatureError('Stripe webhook rejected: no Stripe-Signature header');
    let event: Stripe.Event;
    try {
      event = this.#stripe.webhooks.constructEvent(rawBody, signature, this.#webhookSecret);
    } catch (err) {
      // Covers a bad signature, a stale timestamp, and a correctly signed body that is not JSON.
      const reason = err instanceof Error ? err.message.split('\n')[0]!.trim() : String(err);
      throw new WebhookSignatureError(`Stripe webhook rejected: ${reason}`, { cause: err });
    }

    switch (event.type) {
      case 'checkout.session.completed':
      case 'checkout.session.async_payment_succeeded': {
        const session = event.data.object;
        if (session.mode !== 'subscription') return null;
        // With a delayed payment method (SEPA, ACH) the session completes before the money arrives;
        // async_payment_succeeded follows when it does.
        if (event.type === 'checkout.session.completed' && session.payment_status === 'unpaid') return null;
        return billingEvent(event.id, 'subscribed', session.client_reference_id, session.customer);
      }
      case 'customer.subscription.deleted': {
        const sub = event.data.object;
        return billingEvent(event.id, 'cancelled', sub.metadata?.userId, sub.customer);
      }
      default:
        return null;
    }
  }
}

/** Without both ids the event is not about a GAS checkout (e.g. made by hand in the dashboard). */
function billingEvent(
  eventId: string,
  kind: BillingEvent['kind'],
  userId: string | null | undefined,
  customer: string | { id: string } | null,
): BillingEvent | null {
  const customerId = typeof customer === 'string' ? customer : customer?.id;
  if (!userId || !customerId) return null;
  return { eventId, kind, userId, customerId };
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : headers[key];
  // The SDK throws a plain Error on an array, which would surface as a 500 instead of a 400.
  if (Array.isArray(value)) {
    if (value.length === 1) return value[0];
    throw new WebhookSignatureError('Stripe webhook rejected: more than one Stripe-Signature header');
  }
  return value;
}

function unavailable(what: string, err: unknown): BillingUnavailableError {
  // Stripe's own message is left out on purpose: an authentication error quotes the API key.
  const e = err instanceof Stripe.errors.StripeError ? err : undefined;
  return new BillingUnavailableError(
    `billing is unavailable: Stripe ${what}`,
    e
      ? { statusCode: e.statusCode, type: e.type, code: e.code, requestId: e.requestId }
      : { type: err instanceof Error ? err.name : typeof err },
  );
}

function apiAddress(apiBase: URL | undefined): Pick<Stripe.StripeConfig, 'host' | 'port' | 'protocol'> {
  if (!apiBase) return {};
  if (apiBase.protocol !== 'http:' && apiBase.protocol !== 'https:')
    throw new Error(`Stripe apiBase must be http or https, not ${apiBase.protocol}`);
  const protocol = apiBase.protocol === 'http:' ? 'http' : 'https';
  return {
    // URL keeps the brackets of an IPv6 literal; node:http wants the bare address.
    host: apiBase.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: apiBase.port || (protocol === 'http' ? 80 : 443),
    protocol,
  };
}
