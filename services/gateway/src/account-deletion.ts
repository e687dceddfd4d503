// Deleting an account, whoever asked: its owner (POST /account/delete) or an admin on the owner's
// request (POST /admin/accounts/:userId/delete). The routes check who may and how they proved it;
// this runs the steps, in an order a retry can always finish:
//   (a) jobs queued, running or restoring: refused, nothing deleted;
//   (b) the user's API tokens revoked and their sessions ended (the owner's own one kept until the
//       end), so nothing new starts meanwhile;
//   (c) a premium subscription cancelled at the billing provider (a failure stops here);
//   (d) the job service's DeleteAccount: every job with its files and notices, then the account
//       (which publishes account.deleted: the notification service mails the owner once, however the
//       deletion was asked for);
//   (e) the sign-in credentials, this gateway's job cache of the user, the last sessions.
// A marker written before (b) and removed after (e) keeps the account's address, so a deletion cut
// short after (d), when the account record and its address are gone, can still be finished.
import { JobStatus, Plan, ResultState, RpcError, Status } from '@gas/proto';
import type { Account, AccountService, JobService, ServiceClient } from '@gas/proto';
import { Counter } from '@gas/runtime';
import type { Registry } from '@gas/runtime';
import { BillingUnavailableError } from './billing/billing-provider.ts';
import type { BillingProvider } from './billing/billing-provider.ts';
import type { Credentials, IdentityStores } from './identity/index.ts';
import type { JobCache } from './job-cache.ts';
import { accountOf } from './plan-limits.ts';

const LIST_PAGE = 100;

/** The account being deleted: its record (gone after step d), its address, and how its owner signs in. */
export interface DeletionSubject {
  userId: string;
  account: Account | null;
  email: string;
  /** Null once step (e) has removed them (a retry of a deletion cut short after that). */
  credentials: Credentials | null;
  /** A deletion was started before and did not finish. */
  unfinished: boolean;
}

/** Who asked: counted apart (`by` on gas_gateway_accounts_deleted_total). */
export type DeletionBy = 'owner' | 'admin';

/** What became of a deletion; every outcome but `deleted` leaves the account (steps b and c may have run, see above). */
export type DeletionResult =
  | { outcome: 'deleted'; jobsDeleted: number; tokensRevoked: number; sessionsEnded: number; oidcLinks: number }
  /** (a): jobs queued, running or restoring; nothing was done. */
  | { outcome: 'active_jobs'; active: number }
  /** (c): the provider could not cancel the subscription; tokens and sessions went already. */
  | { outcome: 'billing_unavailable'; err: BillingUnavailableError }
  /** (d): the job service found a job that cannot go now (one started meanwhile); its message says which. */
  | { outcome: 'jobs_refused'; message: string }
  /** (d): the job service did not answer; a retry finishes. */
  | { outcome: 'job_service_unavailable'; err: RpcError };

export class AccountDeletion {
  private readonly deleted: Counter<'by'>;

  constructor(
    private readonly deps: {
      identity: IdentityStores;
      jobs: ServiceClient<typeof JobService>;
      accounts: ServiceClient<typeof AccountService>;
      billing: BillingProvider;
      jobCache?: JobCache;
      registry: Registry;
    },
  ) {
    this.deleted = new Counter({
      name: 'gas_gateway_accounts_deleted_total',
      help: 'Accounts deleted, by who asked (owner, admin); a deletion finished on a retry counts once',
      labelNames: ['by'],
      registers: [deps.registry],
    });
    // Both series exist from the start, so a rate over them is 0 rather than absent.
    for (const by of ['owner', 'admin'] as const) this.deleted.inc({ by }, 0);
  }

  /**
   * The account of `userId` whose record is `account` (null when it has none, e.g. after step d),
   * or null when there is nothing the gateway could find to delete (no record, no address, no
   * unfinished deletion).
   */
  async subjectOf(userId: string, account: Account | null): Promise<DeletionSubject | null> {
    const marker = await this.deps.identity.users.deletionOf(userId);
    const email = account?.email || marker?.email;
    if (!email) return null;
    const found = await this.deps.identity.users.byEmail(email);
    const credentials = found?.userId === userId ? found : null;
    // An account record without credentials is one nobody can sign in to; a session of it outlived them.
    if (!credentials && !marker) return null;
    return { userId, account, email, credentials, unfinished: marker !== null };
  }

  /**
   * The account that signs in with `email`, or whose unfinished deletion holds it (cut short after
   * its sign-in record went), or null. Operator-token users have no credentials: they are never found.
   */
  async subjectByEmail(email: string): Promise<DeletionSubject | null> {
    const credentials = await this.deps.identity.users.byEmail(email);
    if (!credentials) {
      const left = await this.deps.identity.users.unfinishedDeletionOf(email);
      if (!left) return null;
      const account = await accountOf(this.deps.accounts, left.userId);
      return { userId: left.userId, account, email: left.marker.email, credentials: null, unfinished: true };
    }
    const [account, marker] = await Promise.all([
      accountOf(this.deps.accounts, credentials.userId),
      this.deps.identity.users.deletionOf(credentials.userId),
    ]);
    return { userId: credentials.userId, account, email: credentials.email, credentials, unfinished: marker !== null };
  }

  /** How many jobs the user has, and how many of them cannot be deleted now (step a). */
  async census(userId: string): Promise<{ jobs: number; active: number }> {
    let jobs = 0;
    let active = 0;
    let pageToken = '';
    do {
      const res = await this.deps.jobs.listJobs({ userId, pageSize: LIST_PAGE, pageToken, status: JobStatus.UNSPECIFIED });
      for (const j of res.jobs) {
        jobs++;
        if (j.status === JobStatus.PENDING || j.status === JobStatus.RUNNING || j.resultState === ResultState.RESTORING) active++;
      }
      pageToken = res.nextPageToken;
    } while (pageToken);
    return { jobs, active };
  }

  /**
   * Runs steps (a) to (e) for `s`. `keepSession`: the cookie value of the session asking (the
   * owner's), ended only in step (e), so a deletion stopped before then can be retried from it.
   * Throws on what no retry mends (an unexpected job service or store error).
   */
  async run(s: DeletionSubject, opts: { by: DeletionBy; keepSession?: string }): Promise<DeletionResult> {
    const { identity } = this.deps;
    // (a)
    const { active } = await this.census(s.userId);
    if (active > 0) return { outcome: 'active_jobs', active };

    await identity.users.startDeletion(s.userId, s.email);
    // (b)
    const tokensRevoked = await identity.tokens.revokeAll(s.userId);
    const sessionsEnded = await identity.sessions.endAll(s.userId, { except: opts.keepSession });

    // (c) Only while the account record says premium: after (d) it is gone, and a retry has
    // cancelled before reaching (d). The plan itself changes when the provider's webhook confirms
    // (for the deleted account it then changes nothing). Premium without a billing customer (set
    // by an operator, not bought) has nothing to cancel at the provider.
    if (s.account?.plan === Plan.PREMIUM && s.account.billingCustomerId) {
      try {
        await this.deps.billing.cancel({ userId: s.userId, customerId: s.account.billingCustomerId });
      } catch (err) {
        if (!(err instanceof BillingUnavailableError)) throw err;
        return { outcome: 'billing_unavailable', err };
      }
    }

    // (d)
    let jobsDeleted: number;
    try {
      jobsDeleted = (await this.deps.accounts.deleteAccount({ userId: s.userId, byAdmin: opts.by === 'admin' })).jobsDeleted;
    } catch (err) {
      if (!(err instanceof RpcError)) throw err;
      if (err.code === Status.FAILED_PRECONDITION) return { outcome: 'jobs_refused', message: err.message };
      if (err.code === Status.UNAVAILABLE || err.code === Status.DEADLINE_EXCEEDED) return { outcome: 'job_service_unavailable', err };
      throw err;
    }

    // (e)
    const { oidcLinks } = await identity.users.deleteCredentials(s.userId, s.email);
    // A change of address cut short leaves the user a second record: the one it was moving to (the
    // account's record still names it) or the one it moved from. Only this user's is removed.
    for (const other of [s.credentials?.emailChange?.newEmail, s.credentials?.movedFrom])
      if (other) await identity.users.removeRecord(s.userId, other);
    this.deps.jobCache?.forgetUser(s.userId);
    await identity.sessions.endAll(s.userId);
    await identity.users.finishDeletion(s.userId);
    this.deleted.inc({ by: opts.by });
    return { outcome: 'deleted', jobsDeleted, tokensRevoked, sessionsEnded, oidcLinks };
  }
}
