// Upgrading and cancelling: the billing provider takes the payment (Stripe) or stands in for it
// (built-in, local stack); every plan change goes through the job service's SetPlan, which
// publishes the account event.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Plan, RpcError, Status } from '@gas/proto';
import { BillingUnavailableError, WebhookSignatureError } from '../billing/billing-provider.ts';
import type { BillingEvent, BillingProvider } from '../billing/billing-provider.ts';
import type { BuiltinBilling } from '../billing/builtin-billing.ts';
import { Problem } from '../problem.ts';
import { FREE_RETENTION_DEFAULT_SECONDS } from '../archived-results.ts';
import { builtinCheckoutPage, subscribePage } from '../web/pages/plan-pages.ts';
import { sendPage } from '../web/send-page.ts';
import { signedIn } from '../web/viewer.ts';
import type { SignedIn } from '../web/viewer.ts';
import type { WebDeps } from './web-deps.ts';

type Form = Record<string, string | undefined>;

export function registerBillingRoutes(app: FastifyInstance, deps: WebDeps, billing: BillingProvider, publicUrl: string): void {
  const { authn } = deps;

  async function apply(event: BillingEvent, req: FastifyRequest): Promise<void> {
    const plan = event.kind === 'subscribed' ? Plan.PREMIUM : Plan.FREE;
    await deps.accounts.setPlan({ userId: event.userId, plan, billingCustomerId: event.customerId });
    req.log.info({ userId: event.userId, eventId: event.eventId, kind: event.kind, provider: billing.name }, 'billing event applied');
  }

  const page = (who: SignedIn, o: { notice?: string | null; error?: string | null } = {}) =>
    subscribePage({
      viewer: who.viewer,
      freeLimit: deps.limits.freeMaxUploadBytes,
      cap: deps.limits.maxUploadBytes,
      retentionSeconds: deps.limits.freeRetentionSeconds ?? FREE_RETENTION_DEFAULT_SECONDS,
      provider: billing.name,
      ...o,
    });

  app.get('/subscribe', async (req, reply) => {
    const who = await signedIn(req, reply, deps);
    if (!who) return reply;
    const q = req.query as Form;
    const notice = q.upgraded
      ? 'Welcome to premium. Larger files are accepted from now on, and results in cold storage are being brought back.'
      : q.cancelled
        ? 'Premium was cancelled; new jobs use the free plan.'
        : q.returned
          ? 'Thank you. Your plan changes as soon as the payment is confirmed.'
          : null;
    return sendPage(reply, page(who, { notice }));
  });

  app.post('/subscribe', async (req, reply) => {
    const who = await signedIn(req, reply, deps);
    if (!who) return reply;
    authn.checkCsrf(req, who.session);
    if (who.viewer.plan === 'premium') return reply.redirect('/subscribe', 303);
    try {
      const { redirectUrl } = await billing.startCheckout({
        userId: who.userId,
        email: who.viewer.email,
        successUrl: `${publicUrl}/subscribe?returned=1`,
        cancelUrl: `${publicUrl}/subscribe`,
      });
      return reply.redirect(redirectUrl, 303);
    } catch (err) {
      if (!(err instanceof BillingUnavailableError)) throw err;
      req.log.error({ err, details: err.details }, 'checkout could not start');
      return sendPage(reply, page(who, { error: 'Payments are unavailable right now. Please try again in a few minutes.' }), 503);
    }
  });

  app.post('/subscribe/cancel', async (req, reply) => {
    const who = await signedIn(req, reply, deps);
    if (!who) return reply;
    authn.checkCsrf(req, who.session);
    if (who.viewer.plan !== 'premium') return reply.redirect('/subscribe', 303);
    const customerId = who.account?.billingCustomerId ?? '';
    try {
      await billing.cancel({ userId: who.userId, customerId });
    } catch (err) {
      if (!(err instanceof BillingUnavailableError)) throw err;
      req.log.error({ err, details: err.details }, 'cancel failed');
      return sendPage(
        reply,
        page(who, { error: 'The subscription could not be cancelled right now. Please try again in a few minutes.' }),
        503,
      );
    }
    // The provider has ended the subscription: future jobs use the free plan now, not when the
    // provider's confirmation arrives (applying it again then changes nothing).
    await apply({ eventId: `cancel-${who.userId}-${Date.now()}`, kind: 'cancelled', userId: who.userId, customerId }, req);
    return reply.redirect('/subscribe?cancelled=1', 303);
  });

  // Stripe calls this; it is authenticated by the signature over the raw body, not by a session.
  void app.register(async (webhook) => {
    webhook.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: 256 * 1024 }, (_req, body, done) => done(null, body));
    webhook.post('/billing/webhook', async (req, reply) => {
      let event: BillingEvent | null;
      try {
        event = billing.parseWebhook(req.body as Buffer, req.headers);
      } catch (err) {
        if (err instanceof WebhookSignatureError) {
          req.log.warn({ reason: err.message }, 'billing webhook refused');
          throw new Problem(400, 'Bad Request', 'the webhook signature is not valid');
        }
        throw err;
      }
      if (event) {
        try {
          await apply(event, req);
        } catch (err) {
          // The account was deleted (its owner deleted it, which cancelled the subscription first):
          // nothing to change, and an error would only have the provider deliver it again for days.
          if (!(err instanceof RpcError && err.code === Status.NOT_FOUND)) throw err;
          const log = { userId: event.userId, eventId: event.eventId, kind: event.kind, provider: billing.name };
          if (event.kind === 'cancelled') req.log.info(log, 'billing event for a deleted account ignored');
          // Paid after the account was deleted: only the operator can refund it.
          else
            req.log.error(
              log,
              'billing event for a deleted account ignored: a subscription started for no account; refund it at the provider',
            );
        }
      }
      return reply.code(200).send({ received: true });
    });
  });

  if (billing.name !== 'builtin') return;
  const builtin = billing as BuiltinBilling;

  /** The checkout statement for the signed-in user only: a link is not transferable. */
  function tokenFor(who: SignedIn, token: string | undefined): string {
    try {
      if (token && builtin.verifyCheckoutToken(token).userId === who.userId) return token;
    } catch {
      // Falls through to the answer below.
    }
    throw new Problem(403, 'Forbidden', 'this checkout link has expired or belongs to another account; start the upgrade again');
  }

  app.get('/billing/builtin/checkout', async (req, reply) => {
    const who = await signedIn(req, reply, deps);
    if (!who) return reply;
    return sendPage(reply, builtinCheckoutPage({ viewer: who.viewer, token: tokenFor(who, (req.query as Form).token) }));
  });

  app.post('/billing/builtin/checkout', async (req, reply) => {
    const who = await signedIn(req, reply, deps);
    if (!who) return reply;
    authn.checkCsrf(req, who.session);
    const token = tokenFor(who, (req.body as Form | undefined)?.token);
    await apply(builtin.completeCheckout(token), req);
    return reply.redirect('/subscribe?upgraded=1', 303);
  });
}
