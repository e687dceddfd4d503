import type { BillingProvider } from './billing-provider.ts';
import { BuiltinBilling } from './builtin-billing.ts';
import { StripeBilling } from './stripe-billing.ts';

export interface BillingConfig {
  provider: 'builtin' | 'stripe';
  stripeSecretKey?: string;
  stripeWebhookSecret?: string;
  stripePriceId?: string;
  /** A stand-in for Stripe's API, for tests. */
  stripeApiBase?: string;
  builtinSecret: Buffer;
  publicUrl: string;
}

/** The configured adapter; throws at startup, naming the variables, when Stripe is half configured. */
export function createBillingProvider(config: BillingConfig): BillingProvider {
  if (config.provider === 'builtin') return new BuiltinBilling({ secret: config.builtinSecret, baseUrl: config.publicUrl });

  const missing = [
    ['STRIPE_SECRET_KEY', config.stripeSecretKey],
    ['STRIPE_WEBHOOK_SECRET', config.stripeWebhookSecret],
    ['STRIPE_PRICE_ID', config.stripePriceId],
  ].flatMap(([name, value]) => (value?.trim() ? [] : [name]));
  if (missing.length > 0) throw new Error(`BILLING_PROVIDER=stripe needs ${missing.join(', ')}`);
  return new StripeBilling({
    secretKey: config.stripeSecretKey!,
    webhookSecret: config.stripeWebhookSecret!,
    priceId: config.stripePriceId!,
    ...(config.stripeApiBase ? { apiBase: new URL(config.stripeApiBase) } : {}),
  });
}
