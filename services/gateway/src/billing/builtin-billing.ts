import { randomUUID } from 'node:crypto';
import { SignedStatements } from '../signed-statement.ts';
import { WebhookSignatureError } from './billing-provider.ts';
import type { BillingEvent, BillingProvider } from './billing-provider.ts';

export interface BuiltinBillingOptions {
  /** HMAC key for checkout tokens; at least 32 bytes. */
  secret: Buffer;
  /** The gateway's public URL; the checkout page lives under it. */
  baseUrl: string;
  /** Milliseconds since the epoch; tests move it to expire tokens. */
  now?: () => number;
}

const TOKEN_TTL_MS = 15 * 60 * 1000;

/**
 * Billing for the local stack: "checkout" is a page of the gateway that grants the plan with no
 * payment. The checkout token is a signed, expiring statement of the user id, so the gateway keeps
 * no state between starting and completing a checkout.
 */
export class BuiltinBilling implements BillingProvider {
  readonly name = 'builtin' as const;
  readonly #tokens: SignedStatements<{ u: string }>;
  readonly #baseUrl: string;

  constructor(opts: BuiltinBillingOptions) {
    if (opts.secret.length < 32) throw new Error('builtin billing needs a secret of at least 32 bytes');
    this.#tokens = new SignedStatements(opts.secret, 'gas-builtin-checkout-v1.', 'checkout token', TOKEN_TTL_MS, opts.now);
    this.#baseUrl = opts.baseUrl.replace(/\/+$/, '');
  }

  async startCheckout(input: { userId: string; email: string; successUrl: string; cancelUrl: string }): Promise<{ redirectUrl: string }> {
    return { redirectUrl: `${this.#baseUrl}/billing/builtin/checkout?token=${this.#tokens.sign({ u: input.userId })}` };
  }

  /** The user a checkout token was issued to; throws if it was altered, is malformed or has expired. */
  verifyCheckoutToken(token: string): { userId: string } {
    const { u } = this.#tokens.verify(token);
    if (typeof u !== 'string' || u === '') throw new Error('malformed checkout token');
    return { userId: u };
  }

  /** What the gateway records when the user confirms the builtin checkout page. */
  completeCheckout(token: string): BillingEvent {
    const { userId } = this.verifyCheckoutToken(token);
    return { eventId: `builtin-${randomUUID()}`, kind: 'subscribed', userId, customerId: `builtin-${userId}` };
  }

  /** The built-in provider keeps no customers' addresses. */
  async updateEmail(_input: { customerId: string; email: string }): Promise<void> {}

  /** Nothing to ask anyone: the gateway downgrades at once for builtin billing. */
  async cancel(_input: { userId: string; customerId: string }): Promise<void> {}

  parseWebhook(_rawBody: Buffer, _headers: Record<string, string | string[] | undefined>): BillingEvent | null {
    // A webhook route left open while builtin is configured must not accept anything.
    throw new WebhookSignatureError('builtin billing has no webhooks');
  }
}
