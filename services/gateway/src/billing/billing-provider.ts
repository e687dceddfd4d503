// The billing port: what the gateway asks of a payment provider, so routes never import a provider SDK.

export interface BillingEvent {
  /** The provider's event id, so a repeated delivery is recognised. */
  eventId: string;
  kind: 'subscribed' | 'cancelled';
  userId: string;
  customerId: string;
}

export interface BillingProvider {
  readonly name: 'stripe' | 'builtin';
  /** Where to send the browser to pay. */
  startCheckout(input: { userId: string; email: string; successUrl: string; cancelUrl: string }): Promise<{ redirectUrl: string }>;
  /** The account's address changed: the provider's customer gets it too, so its receipts and invoices go there. */
  updateEmail(input: { customerId: string; email: string }): Promise<void>;
  /** Asks the provider to end the subscription; the plan changes when the provider confirms. */
  cancel(input: { userId: string; customerId: string }): Promise<void>;
  /** Verifies a webhook delivery and says what it means; null for event types GAS ignores. Throws WebhookSignatureError on a bad or stale signature or an unreadable body. */
  parseWebhook(rawBody: Buffer, headers: Record<string, string | string[] | undefined>): BillingEvent | null;
}

/** The delivery is not provably from the provider (or not readable): answer 400 and change nothing. */
export class WebhookSignatureError extends Error {
  override name = 'WebhookSignatureError';
}

/**
 * The provider could not be reached or refused the call. The message is safe to show and never
 * carries the provider's own message (which may quote the API key); the fields are for the logs.
 */
export class BillingUnavailableError extends Error {
  override name = 'BillingUnavailableError';
  constructor(
    message: string,
    readonly details: { statusCode?: number; type?: string; code?: string; requestId?: string } = {},
  ) {
    super(message);
  }
}
