// A forgotten password (GET/POST /password/forgot asks for a link, GET/POST /password/reset uses
// it) and the profile's change (POST /profile/password, with the current password). Both count
// against the sign-in attempt budget; a change signs out the account's other sessions (all of them
// after a reset, which is how someone who took over the account is put out; API tokens stay, the
// owner revokes them on /tokens), and the owner is told by mail either way.
import type { FastifyInstance } from 'fastify';
import { hashPassword, passwordProblem } from '../identity/index.ts';
import type { PasswordResets } from '../password-reset.ts';
import { profilePage } from '../web/pages/account-pages.ts';
import { signInPage } from '../web/pages/auth-pages.ts';
import { RESET_LINK_ASKED, forgotPasswordPage, resetPasswordPage } from '../web/pages/password-pages.ts';
import { sendPage } from '../web/send-page.ts';
import { signedIn } from '../web/viewer.ts';
import { profileOf, saveProfile } from './account-routes.ts';
import { SignedOutForms } from './signed-out-form.ts';
import type { WebDeps } from './web-deps.ts';

type Form = Record<string, string | undefined>;

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}$/;

/** What is wrong with a new password and its repetition, as a sentence; null when it will do. */
function newPasswordProblem(f: Form): string | null {
  const weak = passwordProblem(f.password ?? '');
  if (weak) return `Choose another password: ${weak}.`;
  if (f.password !== f.repeat) return 'The two new passwords are not the same.';
  return null;
}

export function registerPasswordRoutes(
  app: FastifyInstance,
  deps: WebDeps,
  opts: { resets: PasswordResets; secureCookies: boolean; oidc: { name: string } | null },
): void {
  const { authn, identity } = deps;
  const { resets } = opts;
  const forms = new SignedOutForms(opts.secureCookies);

  /**
   * Job e-mails were off until the address was confirmed (sign-up), and the reset link confirmed it:
   * on, as everyone starts, and as a confirmation link turns them on. Should this fail, the address
   * stays confirmed and the profile lets the user turn them on.
   */
  async function jobMailOn(userId: string): Promise<void> {
    const account = (await deps.accounts.getAccount({ userId })).account;
    if (!account) return;
    await saveProfile({ accounts: deps.accounts, users: identity.users }, userId, {
      name: account.name,
      email: account.email,
      institution: account.institution,
      emailOnCompletion: true,
      emailOnFailure: true,
    });
  }

  app.get('/password/forgot', async (req, reply) =>
    sendPage(reply, forgotPasswordPage({ formToken: forms.token(req, reply), email: (req.query as Form).email ?? '' })),
  );

  app.post('/password/forgot', { config: { signIn: true } }, async (req, reply) => {
    const email = ((req.body as Form | undefined)?.email ?? '').trim();
    const again = (status: number, error: string | null, notice: string | null = null) =>
      sendPage(reply, forgotPasswordPage({ formToken: forms.token(req, reply), email, error, notice }), status);
    if (!forms.ok(req)) return again(403, 'The form had expired. Please try again.');
    if (!EMAIL.test(email)) return again(400, 'Enter the e-mail address of your account.');
    // Asked for after the answer, which is the same for every address: neither the words nor the
    // time taken tell whether it has an account. A failure is logged; the user can ask again.
    void resets
      .request(email)
      .then((outcome) => req.log.info({ outcome }, 'password reset link asked for'))
      .catch((err: unknown) => req.log.warn({ err }, 'the password reset link could not be requested'));
    return again(200, null, RESET_LINK_ASKED);
  });

  app.get('/password/reset', async (req, reply) => {
    const token = (req.query as Form).token ?? '';
    const outcome = await resets.check(token);
    // The token is in this page's URL: kept out of caches (and, by the site's policy, of referrers).
    void reply.header('Cache-Control', 'private, no-store');
    return sendPage(reply, resetPasswordPage({ formToken: forms.token(req, reply), token, outcome }), outcome === 'valid' ? 200 : 400);
  });

  app.post('/password/reset', { config: { signIn: true } }, async (req, reply) => {
    const f = (req.body ?? {}) as Form;
    const token = f.token ?? '';
    void reply.header('Cache-Control', 'private, no-store');
    const again = (status: number, error: string) =>
      sendPage(reply, resetPasswordPage({ formToken: forms.token(req, reply), token, outcome: 'valid', error }), status);
    if (!forms.ok(req)) return again(403, 'The form had expired. Please enter the new password again.');
    const problem = newPasswordProblem(f);
    if (problem) {
      const outcome = await resets.check(token);
      return outcome === 'valid'
        ? again(400, problem)
        : sendPage(reply, resetPasswordPage({ formToken: forms.token(req, reply), token, outcome }), 400);
    }
    const { outcome, userId, jobMailReleased } = await resets.reset(token, await hashPassword(f.password!));
    if (outcome !== 'changed') {
      req.log.info({ outcome }, 'password reset refused');
      return sendPage(reply, resetPasswordPage({ formToken: forms.token(req, reply), token, outcome }), 400);
    }
    if (jobMailReleased)
      await jobMailOn(userId!).catch((err: unknown) => req.log.warn({ err, userId }, 'job e-mails could not be turned on'));
    // Whoever else was signed in (perhaps the reason for the reset) is signed out, this browser too.
    const sessionsEnded = await identity.sessions.endAll(userId!);
    authn.clearSessionCookie(reply);
    req.log.info({ userId, sessionsEnded }, 'password set through a reset link');
    return sendPage(
      reply,
      signInPage({
        formToken: forms.token(req, reply),
        oidc: opts.oidc,
        notice: 'Your password was changed, and every session of the account was signed out. Sign in with the new password.',
      }),
    );
  });

  app.post('/profile/password', { config: { signIn: true } }, async (req, reply) => {
    const who = await signedIn(req, reply, deps);
    if (!who) return reply;
    authn.checkCsrf(req, who.session);
    const f = (req.body ?? {}) as Form;
    const email = who.account?.email ?? '';
    const again = async (status: number, error: string) => {
      const { confirmed: emailConfirmed, jobMailHeld } = await deps.confirmations.addressState(who.userId, email);
      return sendPage(
        reply,
        profilePage({ viewer: who.viewer, profile: profileOf(who), emailConfirmed, jobMailHeld, hasPassword: true, error }),
        status,
      );
    };
    const problem = newPasswordProblem(f);
    if (problem) return again(400, problem);
    const outcome = await resets.change(who.userId, email, f.current ?? '', f.password!);
    if (outcome === 'no-password')
      return again(409, 'Your account signs in through an identity provider and has no password here to change.');
    if (outcome === 'wrong-password') {
      req.log.info({ userId: who.userId }, 'password change refused: the current password is not right');
      return again(401, 'The current password is not right; the password was not changed.');
    }
    const sessionsEnded = await identity.sessions.endAll(who.userId, { except: authn.sessionId(req) });
    req.log.info({ userId: who.userId, sessionsEnded }, 'password changed on the profile');
    return reply.redirect('/profile?password=changed#password', 303);
  });
}
