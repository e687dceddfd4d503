// Sign-in through an OpenID Connect provider. The attempt's state, nonce and PKCE verifier wait in
// a signed, HttpOnly cookie for the provider to send the browser back. The same way in, for a user
// already signed in, confirms that it is them (POST /signin/oidc/reauthenticate): the provider is
// asked to sign them in again, and a fresh sign-in of the account's own provider identity is
// recorded for this session (ProviderReauthentications) — what an account without a password
// shows before it is deleted.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { create, AccountSchema } from '@gas/proto';
import { OidcSignInError } from '../oidc-sign-in.ts';
import type { OidcSignIn, OidcSignInChecks } from '../oidc-sign-in.ts';
import { Problem, asSentence } from '../problem.ts';
import type { ProviderReauthentications } from '../provider-reauth.ts';
import { signInPage } from '../web/pages/auth-pages.ts';
import { safeNext, signedIn } from '../web/viewer.ts';
import { sendPage } from '../web/send-page.ts';
import { SignedOutForms } from './signed-out-form.ts';
import type { WebDeps } from './web-deps.ts';

const CHECKS_COOKIE = 'gas_oidc';
const ATTEMPT_SECONDS = 600;

interface Attempt extends OidcSignInChecks {
  next: string;
  /** A re-authentication of this signed-in user, not a sign-in. */
  reauth?: string;
}

export function registerOidcRoutes(
  app: FastifyInstance,
  deps: WebDeps,
  o: { signIn: OidcSignIn; name: string; secureCookies: boolean; publicUrl: string; reauth: ProviderReauthentications },
): void {
  const { identity, authn } = deps;
  const cookieOptions = { httpOnly: true, sameSite: 'lax' as const, secure: o.secureCookies, path: '/signin/oidc' };

  const forms = new SignedOutForms(o.secureCookies);
  // The sign-in page again, with the reason, and a form that works for a password sign-in.
  const refuse = (req: FastifyRequest, reply: FastifyReply, status: number, error: string) =>
    sendPage(reply, signInPage({ formToken: forms.token(req, reply), error, oidc: { name: o.name } }), status);

  app.get('/signin/oidc', async (req, reply) => {
    const { url, checks } = o.signIn.begin();
    const attempt: Attempt = { ...checks, next: safeNext((req.query as Record<string, string | undefined>).next) };
    void reply.setCookie(CHECKS_COOKIE, JSON.stringify(attempt), { ...cookieOptions, signed: true, maxAge: ATTEMPT_SECONDS });
    return reply.redirect(url.href, 303);
  });

  // A post with the session's CSRF token: another site cannot send a signed-in user off to sign in again.
  app.post('/signin/oidc/reauthenticate', async (req, reply) => {
    const me = await signedIn(req, reply, deps);
    if (!me) return reply;
    authn.checkCsrf(req, me.session);
    const { url, checks } = o.signIn.begin({ reauthenticate: true });
    const attempt: Attempt = {
      ...checks,
      next: safeNext((req.body as Record<string, string | undefined> | undefined)?.next),
      reauth: me.userId,
    };
    void reply.setCookie(CHECKS_COOKIE, JSON.stringify(attempt), { ...cookieOptions, signed: true, maxAge: ATTEMPT_SECONDS });
    return reply.redirect(url.href, 303);
  });

  app.get('/signin/oidc/callback', async (req, reply) => {
    const raw = req.cookies[CHECKS_COOKIE];
    const unsigned = raw ? req.unsignCookie(raw) : null;
    void reply.clearCookie(CHECKS_COOKIE, cookieOptions);
    if (!unsigned?.valid || !unsigned.value)
      return refuse(req, reply, 400, 'The sign-in took too long or was started in another browser. Please try again.');
    const attempt = JSON.parse(unsigned.value) as Attempt;
    if (attempt.reauth) return reauthenticated(req, reply, attempt, attempt.reauth);
    let who;
    try {
      who = await o.signIn.finish(new URL(req.url, o.publicUrl || 'http://localhost'), attempt);
    } catch (err) {
      if (!(err instanceof OidcSignInError)) throw err;
      req.log.warn({ failure: err.failure, cause: err.cause }, 'OIDC sign-in failed');
      return refuse(req, reply, err.failure === 'provider-unavailable' ? 503 : 400, err.message);
    }
    let userId = await identity.users.userForOidc(who.issuer, who.subject);
    if (!userId) {
      // A first sign-in from this provider account. An address that already has a password account
      // is not taken over: the provider's word alone does not prove it is the same person.
      if (!who.email) return refuse(req, reply, 400, `${o.name} did not tell us your e-mail address, which GAS needs for notifications.`);
      // Only the owner of the address may learn that it has an account here (and only they may
      // claim it): an address the provider has not verified is refused before it is looked up.
      if (!who.emailVerified)
        return refuse(req, reply, 403, `${o.name} has not verified your e-mail address. Verify it there, then sign in again.`);
      const existing = await identity.users.byEmail(who.email);
      if (existing) return refuse(req, reply, 409, 'An account with this e-mail address exists already. Sign in with its password.');
      // The provider verified the address (checked above): that is the proof a mailed link gives.
      const created = await identity.users.create(who.email, null, { confirmed: true });
      userId = await identity.users.linkOidc(who.issuer, who.subject, created.userId);
      await deps.accounts.upsertAccount({
        account: create(AccountSchema, { userId, email: who.email.toLowerCase(), name: who.name ?? who.email, institution: '' }),
      });
      req.log.info({ userId }, 'account created through OIDC');
    } else if (who.emailVerified && (await deps.confirmations.markConfirmed(userId, who.email))) {
      // An account from before confirmation existed, or one whose provider had not verified the
      // address yet: the provider's word now confirms it. Only its own record's address, and only
      // when verified: an unverified address never counts.
      req.log.info({ userId }, 'e-mail address confirmed by the identity provider');
    }
    await authn.startSession(reply, userId, deps.sessionMaxMs);
    req.log.info({ userId }, 'signed in through OIDC');
    return reply.redirect(attempt.next, 303);
  });

  /** The provider's answer to a re-authentication: recorded only for the same user, still signed in with this session, and their own provider identity. */
  async function reauthenticated(req: FastifyRequest, reply: FastifyReply, attempt: Attempt, userId: string) {
    const me = await signedIn(req, reply, deps);
    if (!me) return reply;
    const notConfirmed = (status: number, why: string) =>
      new Problem(status, 'Not confirmed', `${why} Nothing was changed; go back and try again.`);
    if (me.userId !== userId) throw notConfirmed(400, 'You are now signed in to GAS as someone else than when you asked to confirm.');
    let who;
    try {
      who = await o.signIn.finish(new URL(req.url, o.publicUrl || 'http://localhost'), attempt);
    } catch (err) {
      if (!(err instanceof OidcSignInError)) throw err;
      req.log.warn({ userId, failure: err.failure, cause: err.cause }, 'OIDC re-authentication failed');
      throw notConfirmed(err.failure === 'provider-unavailable' ? 503 : 400, asSentence(err.message));
    }
    if ((await identity.users.userForOidc(who.issuer, who.subject)) !== userId) {
      req.log.warn({ userId }, 'OIDC re-authentication refused: another provider account');
      throw notConfirmed(403, `You signed in at ${o.name} with an account that is not the one linked to your GAS account.`);
    }
    o.reauth.confirm(reply, userId, authn.sessionId(req)!);
    req.log.info({ userId }, 'confirmed at the identity provider');
    return reply.redirect(attempt.next, 303);
  }
}
