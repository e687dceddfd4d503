// Deleting one's account, from the web only: GET /account/delete says what goes and asks again;
// POST /account/delete (the session's CSRF token, and the password; for an account without one, a
// fresh sign-in at its identity provider, or its e-mail address typed in when the gateway no longer
// has a provider configured) deletes. An API token is never enough: no API route deletes an account, and
// the pages need a browser session. The steps run in an order that a retry can always finish:
//   (a) jobs queued, running or restoring: refused (409), nothing deleted;
//   (b) the user's API tokens revoked and their other sessions ended, so nothing new starts meanwhile;
//   (c) a premium subscription cancelled at the billing provider (a failure stops here: 503);
//   (d) the job service's DeleteAccount: every job with its files and notices, then the account;
//   (e) the sign-in credentials, this gateway's job cache of the user, the last session.
// A marker written before (b) and removed after (e) keeps the account's address, so a deletion cut
// short after (d), when the account record and its address are gone, can still be finished.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { JobStatus, Plan, ResultState, RpcError, Status } from '@gas/proto';
import type { Account } from '@gas/proto';
import { Counter } from '@gas/runtime';
import type { Registry } from '@gas/runtime';
import { BillingUnavailableError } from '../billing/billing-provider.ts';
import type { BillingProvider } from '../billing/billing-provider.ts';
import type { FlashNotices } from '../flash-notice.ts';
import type { ProviderReauthentications } from '../provider-reauth.ts';
import { normalizeEmail } from '../identity/digest.ts';
import { verifyPassword } from '../identity/index.ts';
import type { Credentials } from '../identity/index.ts';
import { Problem, asSentence } from '../problem.ts';
import { deleteAccountPage } from '../web/pages/delete-account-page.ts';
import type { AccountDeletionView } from '../web/pages/delete-account-page.ts';
import { sendPage } from '../web/send-page.ts';
import { signedIn } from '../web/viewer.ts';
import type { SignedIn } from '../web/viewer.ts';
import type { WebDeps } from './web-deps.ts';

type Form = Record<string, string | undefined>;

const LIST_PAGE = 100;

/** The account being deleted: its record (gone after step d), its address, and how its owner signs in. */
interface Subject {
  account: Account | null;
  email: string;
  /** Null once step (e) has removed them (a retry of a deletion cut short after that). */
  credentials: Credentials | null;
  unfinished: boolean;
}

export function registerAccountDeleteRoutes(
  app: FastifyInstance,
  deps: WebDeps,
  opts: {
    billing: BillingProvider;
    registry: Registry;
    flash: FlashNotices;
    /** The identity provider users sign in with, if one is configured: an account without a password confirms there. */
    oidc: { name: string; reauth: ProviderReauthentications } | null;
  },
): void {
  const { identity } = deps;
  const deleted = new Counter({
    name: 'gas_gateway_accounts_deleted_total',
    help: 'Accounts deleted by their owners (a deletion finished on a retry counts once)',
    registers: [opts.registry],
  });

  /** Null when there is nothing the gateway could find to delete (no record, no address, no unfinished deletion). */
  async function subjectOf(who: SignedIn): Promise<Subject | null> {
    const marker = await identity.users.deletionOf(who.userId);
    const email = who.account?.email || marker?.email;
    if (!email) return null;
    const found = await identity.users.byEmail(email);
    const credentials = found?.userId === who.userId ? found : null;
    // An account record without credentials is one nobody can sign in to; a session of it outlived them.
    if (!credentials && !marker) return null;
    return { account: who.account, email, credentials, unfinished: marker !== null };
  }

  /** How many jobs the user has, and how many of them cannot be deleted now. */
  async function census(userId: string): Promise<{ jobs: number; active: number }> {
    let jobs = 0;
    let active = 0;
    let pageToken = '';
    do {
      const res = await deps.jobs.listJobs({ userId, pageSize: LIST_PAGE, pageToken, status: JobStatus.UNSPECIFIED });
      for (const j of res.jobs) {
        jobs++;
        if (j.status === JobStatus.PENDING || j.status === JobStatus.RUNNING || j.resultState === ResultState.RESTORING) active++;
      }
      pageToken = res.nextPageToken;
    } while (pageToken);
    return { jobs, active };
  }

  /** How the owner shows it is them (see the page's `proof`). */
  function proofOf(s: Subject): AccountDeletionView['proof'] {
    if (!s.credentials || s.credentials.passwordHash !== null) return 'password';
    return opts.oidc ? 'provider' : 'email';
  }

  /** Whether this request shows the session's owner is there. */
  async function proven(req: FastifyRequest, who: SignedIn, s: Subject, f: Form): Promise<boolean> {
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

  async function viewOf(req: FastifyRequest, who: SignedIn, s: Subject): Promise<AccountDeletionView> {
    const [{ jobs, active }, tokens] = await Promise.all([census(who.userId), identity.tokens.list(who.userId)]);
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
    // (a)
    const { active } = await census(who.userId);
    if (active > 0) return again(409);

    await identity.users.startDeletion(who.userId, s.email);
    // (b)
    const tokensRevoked = await identity.tokens.revokeAll(who.userId);
    const sessionsEnded = await identity.sessions.endAll(who.userId, { except: deps.authn.sessionId(req) });

    // (c) Only while the account record says premium: after (d) it is gone, and a retry has
    // cancelled before reaching (d). The plan itself changes when the provider's webhook confirms
    // (for the deleted account it then changes nothing). Premium without a billing customer (set
    // by an operator, not bought) has nothing to cancel at the provider.
    if (s.account?.plan === Plan.PREMIUM && s.account.billingCustomerId) {
      try {
        await opts.billing.cancel({ userId: who.userId, customerId: s.account.billingCustomerId });
      } catch (err) {
        if (!(err instanceof BillingUnavailableError)) throw err;
        req.log.error(
          { err, details: err.details, userId: who.userId },
          'account deletion stopped: the subscription could not be cancelled',
        );
        return again(
          503,
          'Your premium subscription could not be cancelled right now, so nothing else was deleted (your API tokens were revoked and your other sessions signed out). Please try again in a few minutes.',
        );
      }
    }

    // (d)
    let jobsDeleted: number;
    try {
      jobsDeleted = (await deps.accounts.deleteAccount({ userId: who.userId })).jobsDeleted;
    } catch (err) {
      if (!(err instanceof RpcError)) throw err;
      if (err.code === Status.FAILED_PRECONDITION) return again(409, asSentence(err.message));
      if (err.code === Status.UNAVAILABLE || err.code === Status.DEADLINE_EXCEEDED) {
        req.log.error({ err, userId: who.userId }, 'account deletion stopped: the job service did not answer');
        return again(
          503,
          'Your jobs and account could not be deleted right now (a service did not answer). Please try again in a few minutes; you are still signed in.',
        );
      }
      throw err;
    }

    // (e)
    const { oidcLinks } = await identity.users.deleteCredentials(who.userId, s.email);
    deps.jobCache?.forgetUser(who.userId);
    await identity.sessions.endAll(who.userId);
    await identity.users.finishDeletion(who.userId);
    deleted.inc();
    req.log.info({ userId: who.userId, jobsDeleted, tokensRevoked, sessionsEnded, oidcLinks }, 'account deleted');
    deps.authn.clearSessionCookie(reply);
    opts.oidc?.reauth.clear(reply);
    opts.flash.set(reply, 'account-deleted');
    return reply.redirect('/', 303);
  });
}
