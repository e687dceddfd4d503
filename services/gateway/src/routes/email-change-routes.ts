// Changing the account's e-mail address: the profile's form (GET/POST /profile/email, with the
// current password or a fresh sign-in at the identity provider), the link mailed to the new
// address (GET /change-email shows, POST moves, with the session's CSRF token like every change),
// and the link mailed to the address it left, which takes the account back (GET/POST
// /undo-email-change, signed out, with the signed-out forms' token).
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isEmailAddress } from '../identity/email-address.ts';
import { hashPassword } from '../identity/index.ts';
import type { Credentials } from '../identity/index.ts';
import type { PasswordResets } from '../password-reset.ts';
import { SignedOutForms } from './signed-out-form.ts';
import type { EmailChanges } from '../email-change.ts';
import type { BillingProvider } from '../billing/billing-provider.ts';
import type { ProviderReauthentications } from '../provider-reauth.ts';
import { Problem } from '../problem.ts';
import { waitWords } from '../time-words.ts';
import {
  CHANGE_LINK_REFUSALS,
  UNDO_LINK_REFUSALS,
  changeEmailLinkPage,
  changeEmailPage,
  undoEmailChangePage,
} from '../web/pages/email-change-pages.ts';
import type { ChangeProof } from '../web/pages/email-change-pages.ts';
import { sendPage } from '../web/send-page.ts';
import { signedIn } from '../web/viewer.ts';
import type { SignedIn } from '../web/viewer.ts';
import type { WebDeps } from './web-deps.ts';
import { profileOf, saveProfile } from './account-routes.ts';

type Form = Record<string, string | undefined>;

export function registerEmailChangeRoutes(
  app: FastifyInstance,
  deps: WebDeps,
  opts: {
    changes: EmailChanges;
    /** The payment provider's customer (a premium account's) gets the new address too. */
    billing: BillingProvider;
    /** Taking an account back mails a link to set a new password. */
    resets: PasswordResets;
    secureCookies: boolean;
    /** The identity provider users sign in with, if one is configured: an account without a password confirms there. */
    oidc: { name: string; reauth: ProviderReauthentications } | null;
  },
): void {
  const { authn, identity } = deps;
  const { changes } = opts;
  const forms = new SignedOutForms(opts.secureCookies);

  function proofOf(req: FastifyRequest, who: SignedIn, record: Credentials | null): ChangeProof {
    if (record && record.passwordHash !== null) return { kind: 'password' };
    if (!record || !opts.oidc) return { kind: 'none' };
    return { kind: 'provider', name: opts.oidc.name, confirmed: opts.oidc.reauth.confirmed(req, who.userId, authn.sessionId(req)) };
  }

  async function formPage(
    req: FastifyRequest,
    reply: FastifyReply,
    who: SignedIn,
    status = 200,
    o: { error?: string; newEmail?: string } = {},
  ) {
    const email = who.account?.email ?? '';
    const record = await changes.recordOf(who.userId, email);
    const page = changeEmailPage({ viewer: who.viewer, email, proof: proofOf(req, who, record), pending: changes.pendingOf(record), ...o });
    return sendPage(reply, page, status);
  }

  app.get('/profile/email', async (req, reply) => {
    const who = await signedIn(req, reply, deps);
    if (!who) return reply;
    return formPage(req, reply, who);
  });

  // The sign-in budget per address applies: the password is checked here as on /signin.
  app.post('/profile/email', { config: { signIn: true } }, async (req, reply) => {
    const who = await signedIn(req, reply, deps);
    if (!who) return reply;
    authn.checkCsrf(req, who.session);
    if (await identity.users.deletionOf(who.userId))
      throw new Problem(409, 'Conflict', 'Your account is being deleted; finish deleting it from your profile, or sign out.');
    const f = (req.body ?? {}) as Form;
    const newEmail = (f.new_email ?? '').trim();
    const again = (status: number, error: string) => formPage(req, reply, who, status, { error, newEmail });
    if (!isEmailAddress(newEmail)) return again(400, 'Enter a valid e-mail address.');
    const email = who.account?.email ?? '';
    const providerConfirmed = opts.oidc?.reauth.confirmed(req, who.userId, authn.sessionId(req)) ?? false;
    const res = await changes.request({ userId: who.userId, email, newEmail, password: f.password, providerConfirmed });
    if (res.sent || res.reason === 'taken') {
      // Logged the same way either way, as the page says the same: the log is read by operators, not the user.
      req.log.info({ userId: who.userId, outcome: res.sent ? 'sent' : 'taken' }, 'e-mail address change asked for');
      opts.oidc?.reauth.clear(reply);
      return reply.redirect('/profile/email', 303);
    }
    switch (res.reason) {
      case 'same':
        return again(400, 'That is already the address of your account.');
      case 'wrong-password':
        req.log.info({ userId: who.userId }, 'e-mail address change refused: the password is not right');
        return again(401, 'The password is not right; nothing was changed.');
      case 'needs-provider':
        return again(
          401,
          `Confirm at ${opts.oidc?.name ?? 'your identity provider'} that it is you first (it may have been more than 5 minutes ago).`,
        );
      case 'too-soon':
        void reply.header('Retry-After', String(Math.ceil(res.retryInMs / 1000)));
        return again(429, `A link was sent a short while ago; check that mailbox. You can ask again in ${waitWords(res.retryInMs)}.`);
      case 'no-record':
        return again(409, 'This account has no sign-in record of its own here, so its address cannot be changed.');
    }
  });

  // Signed out, the visitor signs in first and comes back here (next= keeps the token).
  app.get('/change-email', async (req, reply) => {
    const who = await signedIn(req, reply, deps);
    if (!who) return reply;
    const token = (req.query as Form).token ?? '';
    const email = who.account?.email ?? '';
    const link = await changes.check(who.userId, email, token);
    const status =
      link.outcome === 'valid' || link.outcome === 'already'
        ? 200
        : CHANGE_LINK_REFUSALS[link.outcome as keyof typeof CHANGE_LINK_REFUSALS].status;
    return sendPage(reply, changeEmailLinkPage({ viewer: who.viewer, email, token, link }), status);
  });

  app.post('/change-email', async (req, reply) => {
    const who = await signedIn(req, reply, deps);
    if (!who) return reply;
    authn.checkCsrf(req, who.session);
    if (await identity.users.deletionOf(who.userId))
      throw new Problem(409, 'Conflict', 'Your account is being deleted; finish deleting it from your profile, or sign out.');
    const token = (req.body as Form | undefined)?.token ?? '';
    const email = who.account?.email ?? '';
    const link = await changes.confirm(who.userId, email, token);
    if (link.outcome === 'changed') {
      req.log.info({ userId: who.userId }, 'e-mail address changed');
      const customerId = who.account?.billingCustomerId;
      // Should this fail, receipts go to the old address until the next checkout; the change stands.
      if (customerId)
        await opts.billing
          .updateEmail({ customerId, email: link.newEmail })
          .catch((err: unknown) => req.log.warn({ err, userId: who.userId }, "the payment provider's customer keeps the old address"));
      if (link.jobMailReleased) {
        // Job e-mails waited for the old address to be confirmed; the new one is proven. Should this
        // fail, the address stays changed and the profile lets the user turn them on.
        await saveProfile({ accounts: deps.accounts, users: identity.users }, who.userId, {
          ...profileOf(who),
          email: link.newEmail,
          emailOnCompletion: true,
          emailOnFailure: true,
        }).catch((err: unknown) => req.log.warn({ err, userId: who.userId }, 'job e-mails could not be turned on after an address change'));
      }
      return reply.redirect('/profile?email=changed', 303);
    }
    if (link.outcome === 'already') return reply.redirect('/profile?email=changed', 303);
    req.log.info({ userId: who.userId, outcome: link.outcome }, 'e-mail address change refused');
    return sendPage(
      reply,
      changeEmailLinkPage({ viewer: who.viewer, email, token: '', link }),
      CHANGE_LINK_REFUSALS[link.outcome as keyof typeof CHANGE_LINK_REFUSALS].status,
    );
  });

  app.get('/undo-email-change', async (req, reply) => {
    const token = (req.query as Form).token ?? '';
    const link = await changes.checkUndo(token);
    const status =
      link.outcome === 'valid' || link.outcome === 'already'
        ? 200
        : UNDO_LINK_REFUSALS[link.outcome as keyof typeof UNDO_LINK_REFUSALS].status;
    return sendPage(reply, undoEmailChangePage({ formToken: forms.token(req, reply), token, link }), status);
  });

  // The sign-in budget per address applies: the token is a credential of sorts.
  app.post('/undo-email-change', { config: { signIn: true } }, async (req, reply) => {
    const token = (req.body as Form | undefined)?.token ?? '';
    if (!forms.ok(req)) {
      const link = await changes.checkUndo(token);
      return sendPage(
        reply,
        undoEmailChangePage({
          formToken: forms.token(req, reply),
          token,
          link,
          error: 'The form had expired. Please press the button again.',
        }),
        403,
      );
    }
    // Whoever changed the address knew the password: it is replaced by one nobody knows.
    const link = await changes.undo(token, await hashPassword(randomBytes(32).toString('base64url')));
    if (link.outcome === 'undone') {
      const [sessionsEnded, tokensRevoked] = await Promise.all([
        identity.sessions.endAll(link.userId),
        identity.tokens.revokeAll(link.userId),
      ]);
      deps.jobCache?.forgetUser(link.userId);
      authn.clearSessionCookie(reply);
      req.log.info({ userId: link.userId, sessionsEnded, tokensRevoked }, 'e-mail address change undone');
      if (link.hadPassword)
        await opts.resets
          .request(link.email)
          .then((outcome) => req.log.info({ userId: link.userId, outcome }, 'password link mailed after an undone address change'))
          .catch((err: unknown) =>
            req.log.warn({ err, userId: link.userId }, 'the password link could not be mailed after an undone address change'),
          );
    } else if (link.outcome !== 'already') {
      req.log.info({ outcome: link.outcome }, 'e-mail address change undo refused');
    }
    const status =
      link.outcome === 'undone' || link.outcome === 'already'
        ? 200
        : UNDO_LINK_REFUSALS[link.outcome as keyof typeof UNDO_LINK_REFUSALS].status;
    return sendPage(reply, undoEmailChangePage({ formToken: forms.token(req, reply), token: '', link }), status);
  });
}
