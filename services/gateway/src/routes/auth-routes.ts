// Sign up, sign in and sign out with e-mail and password.
import type { FastifyInstance } from 'fastify';
import { create, AccountSchema, NotificationPrefsSchema, RpcError, Status } from '@gas/proto';
import type { AccountService, ServiceClient } from '@gas/proto';
import { EmailTakenError, hashPassword, verifyPassword, passwordProblem, dummyHash } from '../identity/index.ts';
import { isEmailAddress } from '../identity/email-address.ts';
import { signInPage, signUpPage } from '../web/pages/auth-pages.ts';
import { safeNext } from '../web/viewer.ts';
import { sendPage } from '../web/send-page.ts';
import { SignedOutForms } from './signed-out-form.ts';
import type { WebDeps } from './web-deps.ts';

type Form = Record<string, string | undefined>;

/** The answer to every well-formed sign-up, whether the address was new or not. */
export const SIGNED_UP =
  'If this address is new, your account is ready: sign in with the password you chose. ' +
  'If it already had an account, that account is unchanged: sign in with its password.';

/** An identity without an account record (a sign-up cut short before its account write) has nobody to email. */
async function noteSignUpAttempt(accounts: ServiceClient<typeof AccountService>, userId: string): Promise<void> {
  try {
    await accounts.noteSignUpAttempt({ userId });
  } catch (err) {
    if (!(err instanceof RpcError && err.code === Status.NOT_FOUND)) throw err;
  }
}

export interface AuthRouteOptions {
  /** Offered on the sign-in page when OpenID Connect is configured. */
  oidc: { name: string } | null;
  secureCookies: boolean;
}

export function registerAuthRoutes(app: FastifyInstance, deps: WebDeps, opts: AuthRouteOptions): void {
  const { authn, identity } = deps;

  const forms = new SignedOutForms(opts.secureCookies);

  app.get('/signin', async (req, reply) => {
    if ((await authn.identify(req))?.via === 'session') return reply.redirect('/jobs', 303);
    const next = (req.query as Form).next;
    return sendPage(reply, signInPage({ formToken: forms.token(req, reply), next: next ? safeNext(next) : undefined, oidc: opts.oidc }));
  });

  app.post('/signin', { config: { signIn: true } }, async (req, reply) => {
    const f = (req.body ?? {}) as Form;
    const email = (f.email ?? '').trim();
    const next = safeNext(f.next);
    const again = (status: number, error: string) =>
      sendPage(reply, signInPage({ formToken: forms.token(req, reply), email, next, error, oidc: opts.oidc }), status);
    if (!forms.ok(req)) return again(403, 'The form had expired. Please sign in again.');
    const user = email ? await identity.users.byEmail(email) : null;
    // The same work whether or not the address exists, so timing does not tell.
    const ok = await verifyPassword(f.password ?? '', user?.passwordHash ?? (await dummyHash()));
    if (!user || !user.passwordHash || !ok) {
      req.log.info({ userId: user?.userId }, 'sign-in refused');
      return again(401, 'The e-mail address or the password is not right.');
    }
    req.log.info({ userId: user.userId }, 'signed in');
    await authn.startSession(reply, user.userId, deps.sessionMaxMs);
    return reply.redirect(next, 303);
  });

  app.get('/signup', async (req, reply) => {
    if ((await authn.identify(req))?.via === 'session') return reply.redirect('/jobs', 303);
    return sendPage(reply, signUpPage({ formToken: forms.token(req, reply), oidc: opts.oidc }));
  });

  app.post('/signup', { config: { signIn: true } }, async (req, reply) => {
    const f = (req.body ?? {}) as Form;
    const email = (f.email ?? '').trim();
    const name = (f.name ?? '').trim();
    const institution = (f.institution ?? '').trim();
    const again = (status: number, error: string) =>
      sendPage(reply, signUpPage({ formToken: forms.token(req, reply), email, name, institution, error, oidc: opts.oidc }), status);
    if (!forms.ok(req)) return again(403, 'The form had expired. Please try again.');
    if (!isEmailAddress(email)) return again(400, 'Enter a valid e-mail address.');
    if (!name || name.length > 200) return again(400, 'Enter your name (at most 200 characters).');
    if (institution.length > 200) return again(400, 'The institution may have at most 200 characters.');
    const weak = passwordProblem(f.password ?? '');
    if (weak) return again(400, `Choose another password: ${weak}.`);
    // From here on a new and a registered address get the same answer after about the same work
    // (a password hash, a write attempt, one call to the job service), so sign-up cannot be used
    // to find out who has an account. Nobody is signed in: the owner of the address signs in.
    const passwordHash = await hashPassword(f.password!);
    try {
      // Job e-mails wait for the address to be confirmed: the address is only what the form said.
      const { userId } = await identity.users.create(email, passwordHash, { jobMailAfterConfirmation: true });
      await deps.accounts.upsertAccount({
        account: create(AccountSchema, {
          userId,
          email: email.toLowerCase(),
          name,
          institution,
          notifications: create(NotificationPrefsSchema, { emailOnCompletion: false, emailOnFailure: false }),
        }),
      });
      req.log.info({ userId }, 'account created');
      // The link that confirms the address is asked for after the answer, so a new address costs
      // no more time than a registered one; should it fail, the profile offers to send it again.
      void deps.confirmations.request(userId, email.toLowerCase()).catch((err: unknown) => {
        req.log.warn({ err, userId }, 'the e-mail confirmation link could not be requested; the profile offers it again');
      });
    } catch (err) {
      if (!(err instanceof EmailTakenError)) throw err;
      // The existing account is left as it is (name, password, plan). The job service notes the
      // attempt, and the notification service emails the address's owner (at most once an hour).
      // Nothing the stranger typed goes along. The call also stands in for the new account's write,
      // for the timing and so that a job service outage answers 503 in both cases.
      const existing = await identity.users.byEmail(email);
      if (existing) await noteSignUpAttempt(deps.accounts, existing.userId);
      req.log.info({ userId: existing?.userId }, 'sign-up for a registered address; account unchanged');
    }
    return sendPage(
      reply,
      signInPage({ formToken: forms.token(req, reply), email, next: '/jobs?welcome=1', oidc: opts.oidc, notice: SIGNED_UP }),
    );
  });

  app.post('/signout', async (req, reply) => {
    const identity = await authn.identify(req);
    if (identity?.via === 'session') {
      authn.checkCsrf(req, identity.session!);
      await deps.identity.sessions.end(authn.sessionId(req));
    }
    authn.clearSessionCookie(reply);
    return reply.redirect('/', 303);
  });
}
