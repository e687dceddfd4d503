import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
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
// Binds the MAC to this use, so a value signed with the same key for another purpose is not a token.
const MAC_CONTEXT = 'gas-builtin-checkout-v1.';

/**
 * Billing for the local stack: "checkout" is a page of the gateway that grants the plan with no
 * payment. The checkout token is a signed, expiring statement of the user id, so the gateway keeps
 * no state between starting and completing a checkout.
 */
export class BuiltinBilling implements BillingProvider {
  readonly name = 'builtin' as const;
  readonly #secret: Buffer;
  readonly #baseUrl: string;
  readonly #now: () => number;

  constructor(opts: BuiltinBillingOptions) {
    if (opts.secret.length < 32) throw new Error('builtin billing needs a secret of at least 32 bytes');
    this.#secret = Buffer.from(opts.secret);
    this.#baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.#now = opts.now ?? Date.now;
  }

  async startCheckout(input: { userId: string; email: string; successUrl: string; cancelUrl: string }): Promise<{ redirectUrl: string }> {
    const payload = Buffer.from(JSON.stringify({ u: input.userId, exp: this.#now() + TOKEN_TTL_MS })).toString('base64url');
    const token = `${payload}.${this.#mac(payload)}`;
    return { redirectUrl: `${this.#baseUrl}/billing/builtin/checkout?token=${token}` };
  }

  /** The user a checkout token was issued to; throws if it was altered, is malformed or has expired. */
  verifyCheckoutToken(token: string): { userId: string } {
    const [payload, mac, ...rest] = token.split('.');
    if (!payload || !mac || rest.length > 0) throw new Error('malformed checkout token');
    // Compared as text: Node's base64url decoder skips stray characters, so decoding first would
    // accept more than one spelling of the same MAC.
    const given = Buffer.from(mac);
    const expected = Buffer.from(this.#mac(payload));
    // timingSafeEqual throws on unequal lengths, and a length says nothing about the key.
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new Error('checkout token signature does not match');
    let claims: unknown;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw new Error('malformed checkout token');
    }
    const { u, exp } = (claims ?? {}) as { u?: unknown; exp?: unknown };
    if (typeof u !== 'string' || u === '' || typeof exp !== 'number') throw new Error('malformed checkout token');
    if (this.#now() >= exp) throw new Error('checkout token has expired');
    return { userId: u };
  }

  /** What the gateway records when the user confirms the builtin checkout page. */
  completeCheckout(token: string): BillingEvent {
    const { userId } = this.verifyCheckoutToken(token);
    return { eventId: `builtin-${randomUUID()}`, kind: 'subscribed', userId, customerId: `builtin-${userId}` };
  }

  /** Nothing to ask anyone: the gateway downgrades at once for builtin billing. */
  async cancel(_input: { userId: string; customerId: string }): Promise<void> {}

  parseWebhook(_rawBody: Buffer, _headers: Record<string, string | string[] | undefined>): BillingEvent | null {
    // A webhook route left open while builtin is configured must not accept anything.
    throw new WebhookSignatureError('builtin billing has no webhooks');
  }

  #mac(payload: string): string {
    return createHmac('sha256', this.#secret).update(MAC_CONTEXT).update(payload).digest('base64url');
  }
}
