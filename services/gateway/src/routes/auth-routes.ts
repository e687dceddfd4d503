// Sign up, sign in and sign out with e-mail and password. The signed-out forms carry a token that
// must match a cookie (double submit), so another site cannot sign a visitor into its own account.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { create, AccountSchema } from '@gas/proto';
import { EmailTakenError, hashPassword, verifyPassword, passwordProblem, dummyHash } from '../identity/index.ts';
import { signInPage, signUpPage } from '../web/pages/auth-pages.ts';
import { safeNext } from '../web/viewer.ts';
import type { WebDeps } from './web-deps.ts';

const FORM_COOKIE = 'gas_form';
const EMAIL = /^[^\s@<>()[\]\\,;:"]{1,64}@[^\s@<>()[\]\\,;:"]{1,190}\.[^\s@<>()[\]\\,;:".]{2,}$/;

type Form = Record<string, string | undefined>;

export interface AuthRouteOptions {
  /** Offered on the sign-in page when OpenID Connect is configured. */
  oidc: { name: string } | null;
  secureCookies: boolean;
}

export function registerAuthRoutes(app: FastifyInstance, deps: WebDeps, opts: AuthRouteOptions): void {
  const { authn, identity } = deps;

  function formToken(req: FastifyRequest, reply: FastifyReply): string {
    const have = req.cookies[FORM_COOKIE];
    if (have && /^[A-Za-z0-9_-]{32}$/.test(have)) return have;
    const token = randomBytes(24).toString('base64url');
    void reply.setCookie(FORM_COOKIE, token, { httpOnly: true, sameSite: 'strict', secure: opts.secureCookies, path: '/', maxAge: 3600 });
    return token;
  }

  function formTokenOk(req: FastifyRequest): boolean {
    const cookie = req.cookies[FORM_COOKIE];
    const sent = (req.body as Form | undefined)?._csrf;
    if (!cookie || typeof sent !== 'string' || cookie.length !== sent.length) return false;
    return timingSafeEqual(Buffer.from(cookie), Buffer.from(sent));
  }

  async function startSession(reply: FastifyReply, userId: string, next: string) {
    const { id } = await identity.sessions.start(userId);
    authn.setSessionCookie(reply, id, deps.sessionMaxMs);
    return reply.redirect(next, 303);
  }

  const html = (reply: FastifyReply, status: number, body: { text: string }) => reply.code(status).type('text/html; charset=utf-8').send(body.text);

  app.get('/signin', async (req, reply) => {
    if ((await authn.identify(req))?.via === 'session') return reply.redirect('/jobs', 303);
    const next = (req.query as Form).next;
    return html(reply, 200, signInPage({ formToken: formToken(req, reply), next: next ? safeNext(next) : undefined, oidc: opts.oidc }));
  });

  app.post('/signin', { config: { signIn: true } }, async (req, reply) => {
    const f = (req.body ?? {}) as Form;
    const email = (f.email ?? '').trim();
    const next = safeNext(f.next);
    const again = (status: number, error: string) =>
      html(reply, status, signInPage({ formToken: formToken(req, reply), email, next, error, oidc: opts.oidc }));
    if (!formTokenOk(req)) return again(403, 'The form had expired. Please sign in again.');
    const user = email ? await identity.users.byEmail(email) : null;
    // The same work whether or not the address exists, so timing does not tell.
    const ok = await verifyPassword(f.password ?? '', user?.passwordHash ?? (await dummyHash()));
    if (!user || !user.passwordHash || !ok) {
      req.log.info({ userId: user?.userId }, 'sign-in refused');
      return again(401, 'The e-mail address or the password is not right.');
    }
    req.log.info({ userId: user.userId }, 'signed in');
    return startSession(reply, user.userId, next);
  });

  app.get('/signup', async (req, reply) => {
    if ((await authn.identify(req))?.via === 'session') return reply.redirect('/jobs', 303);
    return html(reply, 200, signUpPage({ formToken: formToken(req, reply), oidc: opts.oidc }));
  });

  app.post('/signup', { config: { signIn: true } }, async (req, reply) => {
    const f = (req.body ?? {}) as Form;
    const email = (f.email ?? '').trim();
    const name = (f.name ?? '').trim();
    const institution = (f.institution ?? '').trim();
    const again = (status: number, error: string) =>
      html(reply, status, signUpPage({ formToken: formToken(req, reply), email, name, institution, error, oidc: opts.oidc }));
    if (!formTokenOk(req)) return again(403, 'The form had expired. Please try again.');
    if (!EMAIL.test(email)) return again(400, 'Enter a valid e-mail address.');
    if (!name || name.length > 200) return again(400, 'Enter your name (at most 200 characters).');
    if (institution.length > 200) return again(400, 'The institution may have at most 200 characters.');
    const weak = passwordProblem(f.password ?? '');
    if (weak) return again(400, `Choose another password: ${weak}.`);
    let userId: string;
    try {
      userId = (await identity.users.create(email, await hashPassword(f.password!))).userId;
    } catch (err) {
      if (err instanceof EmailTakenError) return again(409, 'An account with this e-mail address exists already. Sign in instead.');
      throw err;
    }
    await deps.accounts.upsertAccount({ account: create(AccountSchema, { userId, email: email.toLowerCase(), name, institution }) });
    req.log.info({ userId }, 'account created');
    return startSession(reply, userId, '/jobs?welcome=1');
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
