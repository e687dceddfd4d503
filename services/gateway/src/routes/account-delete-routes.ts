// Deleting one's account, from the web only: GET /account/delete says what goes and asks again;
// POST /account/delete (the session's CSRF token, and the password; for an account without one, a
// fresh sign-in at its identity provider, or its e-mail address typed in when the gateway no longer
// has a provider configured) deletes. An API token is never enough: no API route deletes an account, and
// the pages need a browser session. The steps, and why they run in their order, are AccountDeletion's
// (src/account-deletion.ts); this route checks that the owner is there and says what happened.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Plan } from '@gas/proto';
import type { AccountDeletion, DeletionSubject } from '../account-deletion.ts';
import type { FlashNotices } from '../flash-notice.ts';
import type { ProviderReauthentications } from '../provider-reauth.ts';
import { normalizeEmail } from '../identity/digest.ts';
import { verifyPassword } from '../identity/index.ts';
import { Problem, asSentence } from '../problem.ts';
import { deleteAccountPage } from '../web/pages/delete-account-page.ts';
import type { AccountDeletionView } from '../web/pages/delete-account-page.ts';
import { sendPage } from '../web/send-page.ts';
import { signedIn } from '../web/viewer.ts';
import type { SignedIn } from '../web/viewer.ts';
import type { WebDeps } from './web-deps.ts';

type Form = Record<string, string | undefined>;

export function registerAccountDeleteRoutes(
  app: FastifyInstance,
  deps: WebDeps,
  opts: {
    deletion: AccountDeletion;
    flash: FlashNotices;
    /** The identity provider users sign in with, if one is configured: an account without a password confirms there. */
    oidc: { name: string; reauth: ProviderReauthentications } | null;
  },
): void {
  const { identity } = deps;
  const { deletion } = opts;
  const subjectOf = (who: SignedIn) => deletion.subjectOf(who.userId, who.account);

  /** How the owner shows it is them (see the page's `proof`). */
  function proofOf(s: DeletionSubject): AccountDeletionView['proof'] {
    if (!s.credentials || s.credentials.passwordHash !== null) return 'password';
    return opts.oidc ? 'provider' : 'email';
  }

  /** Whether this request shows the session's owner is there. */
  async function proven(req: FastifyRequest, who: SignedIn, s: DeletionSubject, f: Form): Promise<boolean> {
    const c = s.credentials;
    // Past step (e) only the sessions and the marker were left: ending them needs no more proof than the session.
    if (!c) return true;
    switch (proofOf(s)) {
      case 'password':
        return verifyPassword(f.password ?? '', c.passwordHash!);
      case 'provider':
        return opts.oidc!.reauth.confirmed(req, who.userId, deps.authn.sessionId(req));
      case 'email':
        return normalizeEmail(f.email ?? '') === c.email;
    }
  }

  async function viewOf(req: FastifyRequest, who: SignedIn, s: DeletionSubject): Promise<AccountDeletionView> {
    const [{ jobs, active }, tokens] = await Promise.all([deletion.census(who.userId), identity.tokens.list(who.userId)]);
    const proof = proofOf(s);
    return {
      jobs,
      activeJobs: active,
      tokens: tokens.length,
      premium: s.account?.plan === Plan.PREMIUM,
      proof,
      ...(proof === 'provider'
        ? { provider: { name: opts.oidc!.name, confirmed: opts.oidc!.reauth.confirmed(req, who.userId, deps.authn.sessionId(req)) } }
        : {}),
      unfinished: s.unfinished,
    };
  }

  const noAccount = () => new Problem(404, 'Not Found', 'There is no account here to delete.');

  app.get('/account/delete', async (req, reply) => {
    const who = await signedIn(req, reply, deps);
    if (!who) return reply;
    const s = await subjectOf(who);
    if (!s) throw noAccount();
    return sendPage(reply, deleteAccountPage({ viewer: who.viewer, view: await viewOf(req, who, s) }));
  });

  // The sign-in budget per address applies: the password is checked here as on /signin.
  app.post('/account/delete', { config: { signIn: true } }, async (req, reply) => {
    const who = await signedIn(req, reply, deps);
    if (!who) return reply;
    deps.authn.checkCsrf(req, who.session);
    const s = await subjectOf(who);
    if (!s) throw noAccount();
    const f = (req.body ?? {}) as Form;
    const again = async (status: number, error?: string) =>
      sendPage(reply, deleteAccountPage({ viewer: who.viewer, view: await viewOf(req, who, s), error }), status);

    if (!(await proven(req, who, s, f))) {
      req.log.info({ userId: who.userId }, 'account deletion refused: re-authentication failed');
      const why = {
        password: 'The password is not right; nothing was deleted.',
        provider: `Confirm at ${opts.oidc?.name ?? 'your identity provider'} that it is you first (it may have been more than 5 minutes ago); nothing was deleted.`,
        email: 'That is not the e-mail address of this account; nothing was deleted.',
      };
      return again(401, why[proofOf(s)]);
    }
    const done = await deletion.run(s, { by: 'owner', keepSession: deps.authn.sessionId(req) });
    switch (done.outcome) {
      case 'active_jobs':
        return again(409);
      case 'billing_unavailable':
        req.log.error(
          { err: done.err, details: done.err.details, userId: who.userId },
          'account deletion stopped: the subscription could not be cancelled',
        );
        return again(
          503,
          'Your premium subscription could not be cancelled right now, so nothing else was deleted (your API tokens were revoked and your other sessions signed out). Please try again in a few minutes.',
        );
      case 'jobs_refused':
        return again(409, asSentence(done.message));
      case 'job_service_unavailable':
        req.log.error({ err: done.err, userId: who.userId }, 'account deletion stopped: the job service did not answer');
        return again(
          503,
          'Your jobs and account could not be deleted right now (a service did not answer). Please try again in a few minutes; you are still signed in.',
        );
    }
    const { jobsDeleted, tokensRevoked, sessionsEnded, oidcLinks } = done;
    req.log.info({ userId: who.userId, jobsDeleted, tokensRevoked, sessionsEnded, oidcLinks }, 'account deleted');
    deps.authn.clearSessionCookie(reply);
    opts.oidc?.reauth.clear(reply);
    opts.flash.set(reply, 'account-deleted');
    return reply.redirect('/', 303);
  });
}
