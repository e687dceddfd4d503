// An admin deletes an account on its owner's request (the owner lost both password and mailbox, or
// asked by e-mail to be erased):
//   POST /admin/accounts                   looks an account up by address (a form post: the address
//                                          stays out of URLs, hence out of access logs);
//   GET  /admin/accounts/:userId/delete    says what goes and asks for the address again and the
//                                          admin's own password (an admin without one confirms at
//                                          the identity provider first, as an owner without one does);
//   POST /admin/accounts/:userId/delete    deletes through AccountDeletion, as the owner's page does.
// Like /admin, only for admins (AdminList.grants: listed and confirmed), with a browser session;
// everyone else gets the 404 of an address with no page, before any other check. An admin's own
// account is not deleted here: its owner's page asks for the owner's proof. Each deletion attempt
// is logged once, with user ids only.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Plan } from '@gas/proto';
import type { AccountDeletion, DeletionSubject } from '../account-deletion.ts';
import { normalizeEmail } from '../identity/digest.ts';
import { verifyPassword } from '../identity/index.ts';
import { accountOf } from '../plan-limits.ts';
import { Problem, asSentence } from '../problem.ts';
import { accountDeletedPage, accountLookupPage, adminDeleteAccountPage } from '../web/pages/admin-accounts-page.ts';
import type { AccountFacts, AdminDeletionBar, AdminProof } from '../web/pages/admin-accounts-page.ts';
import type { ProviderReauthentications } from '../provider-reauth.ts';
import { sendPage } from '../web/send-page.ts';
import { signedIn } from '../web/viewer.ts';
import type { SignedIn } from '../web/viewer.ts';
import type { WebDeps } from './web-deps.ts';

type Form = Record<string, string | undefined>;

/** What the not-found handler answers for a page address. */
const noSuchPage = () => new Problem(404, 'Not Found', 'There is no page at this address.');

/** User ids are ULIDs or operator-chosen names (`A-Z a-z 0-9 _ -`); anything else in the path names no account (and no KV key). */
const USER_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The constant message of the one log line per admin deletion attempt; `outcome` says what became of it. */
const LOG_MESSAGE = 'admin account deletion';

export function registerAdminAccountRoutes(
  app: FastifyInstance,
  deps: WebDeps,
  deletion: AccountDeletion,
  /** The identity provider users sign in with, if one is configured: an admin without a password confirms there. */
  oidc: { name: string; reauth: ProviderReauthentications } | null,
): void {
  const { identity } = deps;

  /** The signed-in admin, or a 404 for everyone else, as /admin does (a bad API token is a 404 here too, not a 401). */
  async function admin(req: FastifyRequest, reply: FastifyReply): Promise<SignedIn> {
    const via = await deps.authn.identify(req).then(
      (i) => i?.via,
      () => undefined,
    );
    if (via !== 'session' || !deps.admins?.size) throw noSuchPage();
    const who = await signedIn(req, reply, deps);
    if (!who?.viewer.admin) throw noSuchPage();
    return who;
  }

  async function factsOf(s: DeletionSubject, adminId: string): Promise<AccountFacts> {
    const [{ jobs, active }, tokens] = await Promise.all([deletion.census(s.userId), identity.tokens.list(s.userId)]);
    const premium = s.account?.plan === Plan.PREMIUM;
    return {
      userId: s.userId,
      plan: s.account ? (premium ? 'premium' : 'free') : null,
      subscription: premium && Boolean(s.account?.billingCustomerId),
      // A first provider sign-in with an address that has a password account is refused, so an account has one or the other.
      signIn: !s.credentials ? 'none' : s.credentials.passwordHash === null ? 'provider' : 'password',
      confirmedAt: s.credentials?.emailConfirmedAt ?? null,
      createdAt: s.credentials?.createdAt ?? '',
      jobs,
      activeJobs: active,
      tokens: tokens.length,
      unfinished: s.unfinished,
      own: s.userId === adminId,
    };
  }

  /** The account of the path's user id, or a 404 that says there is none. */
  async function subjectOf(userId: string): Promise<DeletionSubject> {
    const s = USER_ID.test(userId) ? await deletion.subjectOf(userId, await accountOf(deps.accounts, userId)) : null;
    if (!s) throw new Problem(404, 'Not Found', 'There is no account with that user id (it may have been deleted).');
    return s;
  }

  /**
   * The admin's own password hash, or null for an admin account without one (it signs in through a
   * provider; an operator-token user has no credentials at all).
   */
  async function adminPasswordHash(who: SignedIn): Promise<string | null> {
    const email = who.account?.email;
    const c = email ? await identity.users.byEmail(email) : null;
    return c?.userId === who.userId ? c.passwordHash : null;
  }

  /**
   * Why `who` cannot delete `s` here, if they cannot; else how they prove it is them: the password
   * hash to check, or a fresh confirmation at the identity provider (for an admin without a password).
   */
  async function barOf(
    req: FastifyRequest,
    who: SignedIn,
    s: DeletionSubject,
  ): Promise<{ bar: AdminDeletionBar; hash: string | null; proof: AdminProof }> {
    const password: AdminProof = { kind: 'password' };
    if (s.userId === who.userId) return { bar: 'own-account', hash: null, proof: password };
    const hash = await adminPasswordHash(who);
    if (hash !== null) return { bar: null, hash, proof: password };
    if (!oidc) return { bar: 'no-admin-password', hash: null, proof: password };
    const confirmed = oidc.reauth.confirmed(req, who.userId, deps.authn.sessionId(req));
    return { bar: null, hash: null, proof: { kind: 'provider', name: oidc.name, confirmed } };
  }

  app.post('/admin/accounts', async (req, reply) => {
    const who = await admin(req, reply);
    deps.authn.checkCsrf(req, who.session);
    const email = normalizeEmail((req.body as Form | undefined)?.email ?? '');
    const s = email ? await deletion.subjectByEmail(email) : null;
    const facts = s ? await factsOf(s, who.userId) : null;
    return sendPage(reply, accountLookupPage({ viewer: who.viewer, email, facts }), facts ? 200 : 404);
  });

  app.get<{ Params: { userId: string } }>('/admin/accounts/:userId/delete', async (req, reply) => {
    const who = await admin(req, reply);
    const s = await subjectOf(req.params.userId);
    const { bar, proof } = await barOf(req, who, s);
    return sendPage(
      reply,
      adminDeleteAccountPage({ viewer: who.viewer, facts: await factsOf(s, who.userId), bar, proof }),
      bar ? 403 : 200,
    );
  });

  // The sign-in budget per address applies: the admin's password is checked here as on /signin.
  app.post('/admin/accounts/:userId/delete', { config: { signIn: true } }, async (req, reply) => {
    const who = await admin(req, reply);
    deps.authn.checkCsrf(req, who.session);
    const s = await subjectOf((req.params as { userId: string }).userId);
    const f = (req.body ?? {}) as Form;
    const logged = (outcome: string, extra: object = {}) =>
      req.log.info({ adminUserId: who.userId, targetUserId: s.userId, outcome, ...extra }, LOG_MESSAGE);
    const { bar, hash, proof } = await barOf(req, who, s);
    const again = async (status: number, error?: string) =>
      sendPage(reply, adminDeleteAccountPage({ viewer: who.viewer, facts: await factsOf(s, who.userId), bar, proof, error }), status);

    if (bar) {
      logged(bar === 'own-account' ? 'own_account' : 'no_admin_password');
      return again(403);
    }
    // The admin's proof first: a wrong typed address then tells nothing to someone guessing it.
    if (proof.kind === 'provider' && !proof.confirmed) {
      logged('not_confirmed_at_provider');
      return again(401, `Confirm at ${proof.name} that it is you first (it may have been more than 5 minutes ago); nothing was deleted.`);
    }
    if (proof.kind === 'password' && !(await verifyPassword(f.password ?? '', hash!))) {
      logged('wrong_password');
      return again(401, 'Your password is not right; nothing was deleted.');
    }
    if (normalizeEmail(f.email ?? '') !== s.email) {
      logged('wrong_address');
      return again(400, "That is not this account's e-mail address; nothing was deleted.");
    }

    const done = await deletion.run(s, { by: 'admin' });
    switch (done.outcome) {
      case 'active_jobs':
        logged(done.outcome, { active: done.active });
        return again(409);
      case 'billing_unavailable':
        req.log.error(
          { adminUserId: who.userId, targetUserId: s.userId, outcome: done.outcome, err: done.err, details: done.err.details },
          LOG_MESSAGE,
        );
        return again(
          503,
          "The account's premium subscription could not be cancelled right now, so nothing else was deleted (its API tokens were revoked and its sessions signed out). Try again in a few minutes.",
        );
      case 'jobs_refused':
        logged(done.outcome);
        return again(409, asSentence(done.message));
      case 'job_service_unavailable':
        req.log.error({ adminUserId: who.userId, targetUserId: s.userId, outcome: done.outcome, err: done.err }, LOG_MESSAGE);
        return again(503, 'The jobs and account could not be deleted right now (a service did not answer). Try again in a few minutes.');
    }
    const { jobsDeleted, tokensRevoked, sessionsEnded, oidcLinks } = done;
    logged(done.outcome, { jobsDeleted, tokensRevoked, sessionsEnded, oidcLinks });
    // A confirmation at the provider allows one deletion.
    if (proof.kind === 'provider') oidc?.reauth.clear(reply);
    return sendPage(reply, accountDeletedPage({ viewer: who.viewer, userId: s.userId, jobsDeleted, tokensRevoked, sessionsEnded }));
  });
}
