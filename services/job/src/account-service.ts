import type { JetStreamClient } from '@nats-io/jetstream';
import type { Logger, Registry } from '@gas/runtime';
import { Counter } from '@gas/runtime';
import {
  create,
  isRpcError,
  rpcErrors,
  timestampFromDate,
  AccountSchema,
  AccountEventSchema,
  AccountEventKind,
  AccountService,
  EmailConfirmationSchema,
  PasswordResetSchema,
  Plan,
  NotificationPrefsSchema,
  JobStatus,
  ResultState,
  Status,
} from '@gas/proto';
import type {
  Account,
  EmailConfirmation,
  Job,
  PasswordReset,
  RequestEmailConfirmationRequest,
  RequestPasswordResetRequest,
  ServiceImpl,
} from '@gas/proto';
import { publishProto, subjects, DUPLICATE_WINDOW_MS } from '@gas/messaging';
import type { AccountEventKind as AccountEventName } from '@gas/messaging';
import type { AccountStore } from './account-store.ts';
import type { JobStore } from './job-store.ts';
import type { IdempotencyStore } from './idempotency-store.ts';
import type { DeleteJob } from './job-deletion.ts';
import { USER_ID } from './ids.ts';

/**
 * At most one sign-up-attempt event per account in this time: whoever keeps posting the sign-up
 * form with someone's address cannot flood that person's mailbox.
 */
export const SIGN_UP_NOTE_WINDOW_MS = 60 * 60 * 1000;

/** Jobs DeleteAccount deletes at once. */
const DELETE_CONCURRENCY = 8;
/** Listings DeleteAccount makes before it gives up on jobs that keep appearing. */
const DELETE_ROUNDS = 5;

/** Queued, running or restoring: DeleteJob refuses these (assertDeletable), so DeleteAccount does too. */
function activeState(job: Job): 'queued' | 'running' | 'restoring' | undefined {
  if (job.status === JobStatus.PENDING) return 'queued';
  if (job.status === JobStatus.RUNNING) return 'running';
  if (job.resultState === ResultState.RESTORING) return 'restoring';
  return undefined;
}

/** "2 jobs are still queued or running (1 queued, 1 running); wait until they finish, then delete the account". */
function refusal(active: Job[], deletedBefore: number): string {
  const counts = new Map<string, number>();
  for (const j of active) counts.set(activeState(j)!, (counts.get(activeState(j)!) ?? 0) + 1);
  const states = ['queued', 'running', 'restoring'].filter((s) => counts.has(s));
  const words = states.length === 1 ? states[0]! : `${states.slice(0, -1).join(', ')} or ${states[states.length - 1]}`;
  const n = active.length;
  let msg = `${n} job${n === 1 ? ' is' : 's are'} still ${words}`;
  if (states.length > 1) msg += ` (${states.map((s) => `${counts.get(s)} ${s}`).join(', ')})`;
  msg += `; wait until ${n === 1 ? 'it finishes' : 'they finish'}, then delete the account`;
  if (deletedBefore > 0)
    msg += ` (this call deleted ${deletedBefore} finished job${deletedBefore === 1 ? '' : 's'} first; the account is still there)`;
  return msg;
}

/** What UpsertAccount, RequestEmailChange and ChangeEmail take for an address. */
const ADDRESS = /^[^\s@]+@[^\s@]+$/;

const msOf = (t: { seconds: bigint; nanos: number } | undefined): number => (t ? Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6) : 0);

export function createAccountService(deps: {
  accounts: AccountStore;
  /** DeleteAccount lists the account's jobs here and deletes each as DeleteJob does. */
  jobs: JobStore;
  deleteJob: DeleteJob;
  idempotency: IdempotencyStore;
  js: JetStreamClient;
  logger: Logger;
  registry: Registry;
  now?: () => Date;
}): ServiceImpl<typeof AccountService> {
  const now = deps.now ?? (() => new Date());
  const accountsDeleted = new Counter({
    name: 'gas_job_accounts_deleted_total',
    help: 'Accounts deleted by their users (DeleteAccount; a repeat that finds no account is not counted)',
    registers: [deps.registry],
  });

  /** Every job of the user, from the job index (all pages). */
  async function allJobs(userId: string): Promise<Job[]> {
    const all: Job[] = [];
    let before = '';
    for (;;) {
      const { jobs, more } = await deps.jobs.list(userId, before, 100, () => true);
      all.push(...jobs);
      if (!more || jobs.length === 0) return all;
      before = jobs[jobs.length - 1]!.jobId;
    }
  }

  /**
   * Deletes the jobs as DeleteJob does; resolves with how many this call deleted. One deleted
   * meanwhile by another call (NOT_FOUND) is skipped; one that became undeletable meanwhile
   * (FAILED_PRECONDITION: archived results being restored) is left for the next listing to refuse.
   */
  async function deleteJobs(userId: string, jobs: Job[]): Promise<number> {
    let n = 0;
    for (let i = 0; i < jobs.length; i += DELETE_CONCURRENCY) {
      const settled = await Promise.allSettled(jobs.slice(i, i + DELETE_CONCURRENCY).map((j) => deps.deleteJob(userId, j.jobId)));
      for (const r of settled) {
        if (r.status === 'fulfilled') n++;
        else if (!isRpcError(r.reason, Status.NOT_FOUND) && !isRpcError(r.reason, Status.FAILED_PRECONDITION)) throw r.reason;
      }
    }
    return n;
  }

  const check = (userId: string) => {
    if (!USER_ID.test(userId)) throw rpcErrors.invalidArgument('user_id must be 1-64 characters of A-Z a-z 0-9 _ -');
  };

  /** The caller names the event with request_id, so it must fit in a subject token. */
  const checkRequest = (req: { userId: string; requestId: string }) => {
    check(req.userId);
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(req.requestId))
      throw rpcErrors.invalidArgument('request_id must be 1-64 characters of A-Z a-z 0-9 _ -');
  };

  async function existing(userId: string): Promise<Account> {
    const found = await deps.accounts.get(userId);
    if (!found) throw rpcErrors.notFound(`account ${userId} not found`);
    return found.account;
  }

  /** What an event says beyond its id, account and time. */
  type EventFields = {
    kind: AccountEventKind;
    emailConfirmation?: EmailConfirmation;
    passwordReset?: PasswordReset;
    passwordChangedThroughResetLink?: boolean;
  };

  /** Publishes `<userId>.<name>.<requestId>`: a retried call publishes the same id, which JetStream drops. */
  async function publishRequested(name: AccountEventName, account: Account, requestId: string, fields: EventFields): Promise<string> {
    const eventId = `${account.userId}.${name}.${requestId}`;
    await publishProto(
      deps.js,
      subjects.accountEvent(name),
      AccountEventSchema,
      create(AccountEventSchema, { ...fields, eventId, account, occurredAt: timestampFromDate(now()) }),
      eventId,
    );
    return eventId;
  }

  /**
   * Publishes the event that has the notification service mail a link the gateway made to the
   * account's own address, and logs it without the token: whoever holds that can use the link.
   */
  async function publishLink(
    req: RequestEmailConfirmationRequest | RequestPasswordResetRequest,
    name: 'email_confirmation_requested' | 'password_reset_requested',
    fields: (link: { email: string; token: string; expiresAt: NonNullable<RequestPasswordResetRequest['expiresAt']> }) => EventFields,
  ): Promise<void> {
    checkRequest(req);
    if (!req.token || !req.expiresAt) throw rpcErrors.invalidArgument('token and expires_at are required');
    const account = await existing(req.userId);
    // The link goes to the address it is mailed to; mailing it anywhere but the account's own
    // address would let the caller prove an address it does not hold, or take over the account.
    if (!account.email || account.email.toLowerCase() !== req.email.trim().toLowerCase())
      throw rpcErrors.failedPrecondition("email is not the account's address");
    const link = { email: account.email, token: req.token, expiresAt: req.expiresAt };
    const eventId = await publishRequested(name, account, req.requestId, fields(link));
    deps.logger.info({ userId: req.userId, eventId, event: name }, 'link to the account address requested');
  }

  return {
    async getAccount(req) {
      check(req.userId);
      return { account: await existing(req.userId) };
    },

    async upsertAccount(req) {
      const a = req.account;
      if (!a) throw rpcErrors.invalidArgument('account is required');
      check(a.userId);
      if (a.email && !ADDRESS.test(a.email)) throw rpcErrors.invalidArgument('email is not an address');
      const at = timestampFromDate(now());
      const res = await deps.accounts.upsert(a.userId, (cur) =>
        create(AccountSchema, {
          userId: a.userId,
          plan: cur?.plan ?? Plan.FREE,
          // An existing account's address changes only through ChangeEmail: a profile form read
          // before a change of address finished must not write the old address back.
          email: cur?.email || a.email,
          name: a.name,
          institution: a.institution,
          notifications:
            a.notifications ?? cur?.notifications ?? create(NotificationPrefsSchema, { emailOnCompletion: true, emailOnFailure: true }),
          billingCustomerId: cur?.billingCustomerId ?? '',
          createdAt: cur?.createdAt ?? at,
          updatedAt: at,
          planChangedAt: cur?.planChangedAt,
          signUpAttemptNotedAt: cur?.signUpAttemptNotedAt,
        }),
      );
      return { account: res.account, created: res.created };
    },

    async setPlan(req) {
      check(req.userId);
      if (req.plan !== Plan.FREE && req.plan !== Plan.PREMIUM) throw rpcErrors.invalidArgument('plan must be FREE or PREMIUM');
      const res = await deps.accounts.upsert(req.userId, (cur) => {
        if (!cur) throw rpcErrors.notFound(`account ${req.userId} not found`);
        if (cur.plan === req.plan) return null;
        return create(AccountSchema, {
          ...cur,
          plan: req.plan,
          billingCustomerId: req.billingCustomerId || cur.billingCustomerId,
          updatedAt: timestampFromDate(now()),
          planChangedAt: timestampFromDate(now()),
        });
      });
      // A repeated call republishes only inside JetStream's duplicate window, where the same event id
      // is dropped: that covers a retry after a failed publish without announcing old changes again.
      const changedAt = Number(res.account.planChangedAt?.seconds ?? 0n) * 1000;
      if (!res.changed && now().getTime() - changedAt > DUPLICATE_WINDOW_MS) return { account: res.account };
      const kind = req.plan === Plan.PREMIUM ? AccountEventKind.UPGRADED : AccountEventKind.DOWNGRADED;
      const name = kind === AccountEventKind.UPGRADED ? 'upgraded' : 'downgraded';
      // One event per plan change: the time of the change makes the id unique and stable.
      const eventId = `${req.userId}.${name}.${res.account.planChangedAt?.seconds ?? 0}`;
      await publishProto(
        deps.js,
        subjects.accountEvent(name),
        AccountEventSchema,
        create(AccountEventSchema, { eventId, kind, account: res.account, occurredAt: timestampFromDate(now()) }),
        eventId,
      );
      if (res.changed) deps.logger.info({ userId: req.userId, plan: Plan[req.plan] }, 'plan changed');
      return { account: res.account };
    },

    async noteSignUpAttempt(req) {
      check(req.userId);
      const at = now();
      const res = await deps.accounts.upsert(req.userId, (cur) => {
        if (!cur) throw rpcErrors.notFound(`account ${req.userId} not found`);
        if (at.getTime() - msOf(cur.signUpAttemptNotedAt) < SIGN_UP_NOTE_WINDOW_MS) return null;
        return create(AccountSchema, { ...cur, signUpAttemptNotedAt: timestampFromDate(at) });
      });
      // As in SetPlan: inside JetStream's duplicate window a repeat re-publishes the same event id
      // (a retry after a failed publish; the copy is dropped); later in the hour nothing is published.
      const notedAt = res.account.signUpAttemptNotedAt;
      if (!res.changed && at.getTime() - msOf(notedAt) > DUPLICATE_WINDOW_MS) return { noted: false };
      const eventId = `${req.userId}.sign_up_attempted.${notedAt?.seconds ?? 0}`;
      await publishProto(
        deps.js,
        subjects.accountEvent('sign_up_attempted'),
        AccountEventSchema,
        // The time of the noted attempt, not of a re-publish, so every copy says the same.
        create(AccountEventSchema, { eventId, kind: AccountEventKind.SIGN_UP_ATTEMPTED, account: res.account, occurredAt: notedAt }),
        eventId,
      );
      if (res.changed) deps.logger.info({ userId: req.userId }, 'sign-up attempt with a registered address noted');
      return { noted: res.changed };
    },

    async requestEmailConfirmation(req) {
      await publishLink(req, 'email_confirmation_requested', (link) => ({
        kind: AccountEventKind.EMAIL_CONFIRMATION_REQUESTED,
        emailConfirmation: create(EmailConfirmationSchema, link),
      }));
      return {};
    },

    async requestPasswordReset(req) {
      await publishLink(req, 'password_reset_requested', (link) => ({
        kind: AccountEventKind.PASSWORD_RESET_REQUESTED,
        passwordReset: create(PasswordResetSchema, link),
      }));
      return {};
    },

    async notePasswordChanged(req) {
      checkRequest(req);
      const account = await existing(req.userId);
      const eventId = await publishRequested('password_changed', account, req.requestId, {
        kind: AccountEventKind.PASSWORD_CHANGED,
        passwordChangedThroughResetLink: req.throughResetLink,
      });
      deps.logger.info({ userId: req.userId, eventId, throughResetLink: req.throughResetLink }, 'password change noted');
      return {};
    },

    async requestEmailChange(req) {
      checkRequest(req);
      const newEmail = req.newEmail.trim().toLowerCase();
      if (!ADDRESS.test(newEmail)) throw rpcErrors.invalidArgument('new_email is not an address');
      if (!req.token || !req.expiresAt) throw rpcErrors.invalidArgument('token and expires_at are required');
      const account = await existing(req.userId);
      if (account.email.trim().toLowerCase() === newEmail)
        throw rpcErrors.failedPrecondition("new_email is already the account's address; there is nothing to change");
      // The link goes to the new address, never the account's: following it proves that the owner
      // holds that address. The account itself stays as it is until ChangeEmail.
      const eventId = await publishRequested('email_change_requested', account, req.requestId, {
        kind: AccountEventKind.EMAIL_CHANGE_REQUESTED,
        emailConfirmation: create(EmailConfirmationSchema, { email: newEmail, token: req.token, expiresAt: req.expiresAt }),
      });
      // Neither address nor the token: the user id and the event id say which request this was.
      deps.logger.info({ userId: req.userId, eventId, event: 'email_change_requested' }, 'link to a new address requested');
      return {};
    },

    async changeEmail(req) {
      checkRequest(req);
      const email = req.email.trim().toLowerCase();
      const previous = req.previousEmail.trim().toLowerCase();
      if (!ADDRESS.test(email)) throw rpcErrors.invalidArgument('email is not an address');
      if (!previous) throw rpcErrors.invalidArgument('previous_email is required');
      if (previous === email) throw rpcErrors.invalidArgument('email and previous_email are the same address');
      if (req.undoToken && !req.undoExpiresAt) throw rpcErrors.invalidArgument('undo_expires_at is required with undo_token');
      const at = now();
      let from = '';
      const res = await deps.accounts.upsert(req.userId, (cur) => {
        if (!cur) throw rpcErrors.notFound(`account ${req.userId} not found`);
        const has = cur.email.trim().toLowerCase();
        if (has === email) return null;
        // Neither address: the account changed since this call was asked for (another change won),
        // and going on would undo that. No address in the message: callers may log it.
        if (has !== previous)
          throw rpcErrors.failedPrecondition(
            "the account's address is no longer previous_email (it was changed since); nothing was changed",
          );
        from = cur.email;
        return create(AccountSchema, { ...cur, email, updatedAt: timestampFromDate(at) });
      });
      // Stored first, then published, as SetPlan does: published first, the event would tell the old
      // address of a change that a write conflict or a stale previous_email may still refuse. A call
      // cut short in between leaves the change made without its event; its retry (same request_id)
      // finds the new address and publishes the event then, under the same id. Unlike SetPlan, every
      // repeat publishes, not only one inside JetStream's duplicate window: this event is how the old
      // address hears that someone took the account over, so a retry that comes late must still
      // publish it. A copy outside the window reaches the stream but makes no second email: the
      // notification service keeps its send record by event id for 90 days.
      const eventId = `${req.userId}.email_changed.${req.requestId}`;
      const told = res.changed ? from : previous;
      await publishProto(
        deps.js,
        subjects.accountEvent('email_changed'),
        AccountEventSchema,
        create(AccountEventSchema, {
          eventId,
          kind: AccountEventKind.EMAIL_CHANGED,
          account: res.account,
          // A repeat says when the change was stored (unless a profile edit came since), as the original did.
          occurredAt: res.changed ? timestampFromDate(at) : (res.account.updatedAt ?? timestampFromDate(at)),
          previousEmail: told,
          // The undo link goes to the address the account left, in this event only (the notification
          // service mails it, then erases the event). A repeat carries what its request gives.
          emailConfirmation: req.undoToken
            ? create(EmailConfirmationSchema, { email: told, token: req.undoToken, expiresAt: req.undoExpiresAt })
            : undefined,
          emailChangeUndone: req.undoing,
        }),
        eventId,
      );
      // Never an address nor the undo token: the user id and the outcome only.
      deps.logger.info(
        { userId: req.userId, eventId, changed: res.changed, undoLink: Boolean(req.undoToken), undoing: req.undoing },
        res.changed ? 'account address changed' : 'account address already changed; its event published again',
      );
      return { account: res.account, changed: res.changed };
    },

    async deleteAccount(req) {
      check(req.userId);
      // The jobs first, each with its own job.deleted (the archive service deletes its files, the
      // notification service its notices), and only when none is queued, running or restoring.
      // The listing is repeated after each round of deletions: a job created while the deletion
      // runs would otherwise be left behind. The gateway revokes the user's tokens and ends their
      // other sessions before it calls, so only an upload already in flight can do that: a finished
      // one is deleted in the next round, a queued one refuses the call, and one created after the
      // last listing outlives the account until DeleteAccount is called again (account_found false).
      let jobsDeleted = 0;
      for (let round = 0; ; round++) {
        const left = await allJobs(req.userId);
        if (left.length === 0) break;
        const active = left.filter((j) => activeState(j));
        if (active.length > 0) throw rpcErrors.failedPrecondition(refusal(active, jobsDeleted));
        if (round === DELETE_ROUNDS) throw rpcErrors.aborted('jobs of the account keep changing while it is being deleted; try again');
        jobsDeleted += await deleteJobs(req.userId, left);
      }
      // Claims of jobs that were never created: their ids would otherwise outlive the account until the TTL.
      await deps.idempotency.forgetUser(req.userId);
      // As in deleteJob, the event goes out before the record goes, with the record as it was: a
      // call cut short in between leaves the account, and the retry publishes the same event id
      // (the record's creation time makes it unique and stable), which JetStream drops. With the
      // record already gone its event went out before (or there never was an account), so nothing
      // is published then.
      const account = await deps.accounts.remove(req.userId, async (a) => {
        const eventId = `${req.userId}.deleted.${a.createdAt?.seconds ?? 0}`;
        await publishProto(
          deps.js,
          subjects.accountEvent('deleted'),
          AccountEventSchema,
          create(AccountEventSchema, {
            eventId,
            kind: AccountEventKind.DELETED,
            account: a,
            occurredAt: timestampFromDate(now()),
            deletedByAdmin: req.byAdmin,
          }),
          eventId,
        );
      });
      if (account) accountsDeleted.inc();
      // Never the address: the account is being erased.
      deps.logger.info({ userId: req.userId, jobsDeleted, accountFound: !!account }, 'account deleted');
      return { jobsDeleted, accountFound: !!account };
    },
  };
}
