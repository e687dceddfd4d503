// The notification consumer's handler on GAS_EVENTS: each job and account event becomes an in-app
// notice and, if the user wants it, exactly one email (a sign-up attempt with a registered address,
// and the link that confirms an account's address: the email only, whatever the preference; a
// deleted job: its notices removed, none made again; a deleted account: all its notices removed, one
// last email whatever the preference, nothing for any event of it after; a password reset link,
// and word that the password changed; the link that changes an account's address, to the new
// address, and word that it changed, to the old, with the link that undoes it: emails only,
// whatever the preference). The order makes "exactly one" hold whatever
// fails: the notice is stored (idempotent by its id), the send is recorded as "sending" under the
// event id, the mail goes out, the record becomes "sent", and only then is the message acked. A
// redelivery finds the record: "sent" means done; "sending" means a crash mid-send, so it sends
// again with the same Message-ID for the receiving side to recognise. An address confirmation's,
// a password reset's, an address change's or a changed address's event, which carries (or may
// carry) a link's token, is then deleted from the stream (see forgetToken).
import type { JsMsg } from '@gas/messaging';
import type { HandlerContext, Outcome } from '@gas/messaging';
import { decodeProto, PoisonMessageError, subjects } from '@gas/messaging';
import type { Logger } from '@gas/runtime';
import {
  timestampDate,
  AccountEventKind,
  AccountEventSchema,
  EmailStatus,
  JobEventKind,
  JobEventSchema,
  NoticeKind,
  RpcError,
  Status,
} from '@gas/proto';
import type { Account, AccountEvent, AccountService, JobEvent, Notice, ServiceClient } from '@gas/proto';
import {
  composeAccountDeletedEmail,
  composeConfirmationEmail,
  composeEmail,
  composeEmailChangedEmail,
  composeEmailChangeEmail,
  composeEmailChangeUndoneEmail,
  composePasswordChangedEmail,
  composePasswordResetEmail,
  composeSignUpAttemptEmail,
} from './email-content.ts';
import type { OutgoingMail } from './email-content.ts';
import type { ErasureRequests } from './event-erasure.ts';
import type { Mailer } from './mailer.ts';
import type { NotificationMetrics } from './notification-metrics.ts';
import { accountNotice, emailPreference, jobFacts, jobNotice, wantsEmail } from './notice-content.ts';
import { USER_ID } from './notice-store.ts';
import type { NoticeStore } from './notice-store.ts';
import { classifySmtpFailure, maskAddress } from './smtp-failure.ts';
import { isFinal, SendLog } from './send-log.ts';
import type { SendRecord, SendState } from './send-log.ts';

/** Points where a fault test may stop the service dead (NOTIFICATION_TEST_STALL_AFTER). */
export type StallPoint = 'sent' | 'recorded';

export interface EventHandlerDeps {
  notices: NoticeStore;
  sends: SendLog;
  accounts: ServiceClient<typeof AccountService>;
  mailer: Mailer;
  publicUrl: string;
  metrics: NotificationMetrics;
  logger: Logger;
  /** Where a deleted account's events are filed for erasure from GAS_EVENTS. */
  erasures: Pick<ErasureRequests, 'request'>;
  /** Deletes the message with this stream sequence from GAS_EVENTS. */
  deleteEventMessage: (seq: number) => Promise<unknown>;
  stall?: (point: StallPoint) => Promise<void>;
}

/** The events that carry a link's token, by subject: what they are called in a log line, and their metrics kind. */
const TOKEN_EVENTS = new Map([
  [subjects.accountEvent('email_confirmation_requested'), { what: 'email confirmation', kind: 'email_confirmation' }],
  [subjects.accountEvent('password_reset_requested'), { what: 'password reset', kind: 'password_reset' }],
  [subjects.accountEvent('email_change_requested'), { what: 'email change', kind: 'email_change' }],
  // Also without an undo link (an undo itself): it still names both addresses, and which event holds
  // a token is known only once decoded, which a malformed one never is.
  [subjects.accountEvent('email_changed'), { what: 'email changed', kind: 'email_changed' }],
]);

const KIND_LABEL: Record<NoticeKind, string> = {
  [NoticeKind.UNSPECIFIED]: 'unspecified',
  [NoticeKind.JOB_COMPLETED]: 'job_completed',
  [NoticeKind.JOB_FAILED]: 'job_failed',
  [NoticeKind.RESULTS_ARCHIVED]: 'results_archived',
  [NoticeKind.RESULTS_RESTORED]: 'results_restored',
  [NoticeKind.PLAN_UPGRADED]: 'plan_upgraded',
  [NoticeKind.PLAN_DOWNGRADED]: 'plan_downgraded',
};

const ack: Outcome = { kind: 'ack' };

const MAIL_ONLY = new Set([
  AccountEventKind.SIGN_UP_ATTEMPTED,
  AccountEventKind.EMAIL_CONFIRMATION_REQUESTED,
  AccountEventKind.PASSWORD_RESET_REQUESTED,
  AccountEventKind.PASSWORD_CHANGED,
  AccountEventKind.EMAIL_CHANGE_REQUESTED,
  AccountEventKind.EMAIL_CHANGED,
]);

/** The link events: their subject's name and their metrics kind. */
const LINKS = new Map([
  [AccountEventKind.EMAIL_CONFIRMATION_REQUESTED, { name: 'email_confirmation_requested', kind: 'email_confirmation' }],
  [AccountEventKind.PASSWORD_RESET_REQUESTED, { name: 'password_reset_requested', kind: 'password_reset' }],
  [AccountEventKind.EMAIL_CHANGE_REQUESTED, { name: 'email_change_requested', kind: 'email_change' }],
]);

export function createEventHandler(deps: EventHandlerDeps) {
  const stall = deps.stall ?? (async () => undefined);

  async function accountOf(userId: string, fromEvent?: Account): Promise<Account | null> {
    if (fromEvent?.email) return fromEvent;
    try {
      return (await deps.accounts.getAccount({ userId })).account ?? null;
    } catch (err) {
      if (err instanceof RpcError && err.code === Status.NOT_FOUND) return null;
      throw err;
    }
  }

  /** `mailOnly`: an account event that is an email and no notice (a sign-up attempt, a link, a password or address change). */
  function decode(msg: JsMsg): {
    notice: Notice | null;
    facts: Array<[string, string]>;
    account?: Account;
    mailOnly?: AccountEvent;
    deleted?: JobEvent;
    accountDeleted?: AccountEvent;
  } {
    if (msg.subject.startsWith('gas.events.job.')) {
      const e = decodeProto(JobEventSchema, msg.data);
      if (e.kind === JobEventKind.DELETED) return { notice: null, facts: [], deleted: e };
      return { notice: jobNotice(e), facts: jobFacts(e) };
    }
    if (msg.subject.startsWith('gas.events.account.')) {
      const e = decodeProto(AccountEventSchema, msg.data);
      if (MAIL_ONLY.has(e.kind)) return { notice: null, facts: [], mailOnly: e };
      if (e.kind === AccountEventKind.DELETED) return { notice: null, facts: [], accountDeleted: e };
      return { notice: accountNotice(e), facts: [], account: e.account };
    }
    return { notice: null, facts: [] };
  }

  /**
   * Someone tried to sign up with the address of an account: an email to the address, and no
   * notice (the owner did nothing, and a notice would only repeat the email in the list of their
   * jobs). Without a notice, the send record alone makes it exactly once.
   */
  async function signUpAttempted(e: AccountEvent, ctx: HandlerContext): Promise<Outcome> {
    const userId = e.account?.userId;
    if (!userId) return { kind: 'term', reason: 'account.sign_up_attempted without an account' };
    const kind = 'sign_up_attempted';
    // Handled after the account's deletion: "this address already has an account" is no longer true.
    const pending = await pendingSend(e.eventId, userId, kind);
    if ('done' in pending) return pending.done;
    const { record } = pending;
    // The preference (every email, failures only, none) is not asked: it is about news of jobs and
    // plans, and this is a security notice about the account itself, which the owner needs to know
    // of even with every email turned off. The job service publishes at most one an hour.
    const account = await accountOf(userId, e.account);
    if (!account?.email) {
      deps.metrics.emails.inc({ kind, outcome: 'no_address' });
      return ack;
    }
    const occurredAt = e.occurredAt ? timestampDate(e.occurredAt) : new Date();
    const mail = composeSignUpAttemptEmail({ eventId: e.eventId, to: account.email, occurredAt, publicUrl: deps.publicUrl });
    const log = deps.logger.child({ eventId: e.eventId, userId });
    return send({ eventId: e.eventId, kind, mail, record, ctx, log, settle: async () => undefined });
  }

  /**
   * For an email without a notice, whose send record alone makes it exactly once: the record, or
   * the outcome when nothing is to be sent (done before, or the account is deleted meanwhile).
   */
  async function pendingSend(eventId: string, userId: string, kind: string): Promise<{ done: Outcome } | { record: SendRecord | null }> {
    const record = await deps.sends.get(eventId);
    if (isFinal(record)) {
      deps.metrics.duplicates.inc({ kind });
      return { done: ack };
    }
    if ((await deps.notices.deletion(userId)) === 'account') return { done: eventOfDeletedAccount(eventId, userId, kind) };
    return { record };
  }

  /**
   * A single-use link to the address in the event: the one that confirms the address, or the one
   * that sets a new password (to the account's address, which the job service checked), or the one
   * that changes the account's address (to the new address, which the job service checked is not
   * the account's: following it proves the owner holds it). Always sent, no notice, exactly once
   * like the sign-up notice. A link that has expired by the time its event is handled (a long mail
   * outage) is not sent: it could do nothing, and the gateway offers a new one. Nor is one for an
   * account that is gone; its event is deleted all the same.
   */
  async function linkRequested(e: AccountEvent, ctx: HandlerContext): Promise<Outcome> {
    const reset = e.kind === AccountEventKind.PASSWORD_RESET_REQUESTED;
    const change = e.kind === AccountEventKind.EMAIL_CHANGE_REQUESTED;
    const { name, kind } = LINKS.get(e.kind)!;
    const userId = e.account?.userId;
    const c = reset ? e.passwordReset : e.emailConfirmation;
    if (!userId || !c?.token || !c.email || !c.expiresAt)
      return { kind: 'term', reason: `account.${name} without an account, address, token or expiry` };
    const pending = await pendingSend(e.eventId, userId, kind);
    if ('done' in pending) return pending.done;
    const expiresAt = timestampDate(c.expiresAt);
    const log = deps.logger.child({ eventId: e.eventId, userId });
    if (expiresAt.getTime() <= Date.now()) {
      deps.metrics.emails.inc({ kind, outcome: 'expired' });
      log.warn({ link: kind }, 'link expired before it could be sent; not sent');
      return ack;
    }
    const link = { eventId: e.eventId, to: c.email, token: c.token, expiresAt, publicUrl: deps.publicUrl };
    const requestedAt = e.occurredAt ? timestampDate(e.occurredAt) : new Date();
    const mail = reset
      ? composePasswordResetEmail({ ...link, requestedAt })
      : change
        ? composeEmailChangeEmail({ ...link, requestedAt })
        : composeConfirmationEmail(link);
    return send({ eventId: e.eventId, kind, mail, record: pending.record, ctx, log, settle: async () => undefined });
  }

  /**
   * The account's password was changed: an email to the account's address, always (the owner who
   * did not change it must hear of it even with every email turned off), no notice, exactly once by
   * the send record. Not for an account that is gone.
   */
  async function passwordChanged(e: AccountEvent, ctx: HandlerContext): Promise<Outcome> {
    const userId = e.account?.userId;
    if (!userId) return { kind: 'term', reason: 'account.password_changed without an account' };
    const kind = 'password_changed';
    const pending = await pendingSend(e.eventId, userId, kind);
    if ('done' in pending) return pending.done;
    const account = await accountOf(userId, e.account);
    if (!account?.email) {
      deps.metrics.emails.inc({ kind, outcome: 'no_address' });
      return ack;
    }
    const mail = composePasswordChangedEmail({
      eventId: e.eventId,
      to: account.email,
      occurredAt: e.occurredAt ? timestampDate(e.occurredAt) : new Date(),
      throughResetLink: e.passwordChangedThroughResetLink,
      publicUrl: deps.publicUrl,
    });
    const log = deps.logger.child({ eventId: e.eventId, userId });
    return send({ eventId: e.eventId, kind, mail, record: pending.record, ctx, log, settle: async () => undefined });
  }

  /**
   * The account's address was changed: an email to the address it had (the event's previous_email;
   * the account, in the event and at the job service, has the new one), always, no notice (as for a
   * password change), exactly once by the send record. Not for an account that is gone. With the
   * undo link (email_confirmation, for that same address) the email carries it, unless it has expired
   * by now: then the change is told without it, as it must be told all the same. An undo
   * (email_change_undone) tells the address the account left that it went back. The event is
   * deleted from GAS_EVENTS afterwards either way (TOKEN_EVENTS).
   */
  async function emailChanged(e: AccountEvent, ctx: HandlerContext): Promise<Outcome> {
    const userId = e.account?.userId;
    const to = e.previousEmail;
    const newEmail = e.account?.email;
    if (!userId || !to || !newEmail)
      return { kind: 'term', reason: 'account.email_changed without an account, its new address or the previous one' };
    const kind = 'email_changed';
    const pending = await pendingSend(e.eventId, userId, kind);
    if ('done' in pending) return pending.done;
    const log = deps.logger.child({ eventId: e.eventId, userId });
    const occurredAt = e.occurredAt ? timestampDate(e.occurredAt) : new Date();
    const told = { eventId: e.eventId, to, occurredAt, publicUrl: deps.publicUrl };
    const mail = e.emailChangeUndone
      ? composeEmailChangeUndoneEmail({ ...told, email: newEmail })
      : composeEmailChangedEmail({ ...told, newEmail, undo: undoLink(e, to, log) });
    return send({ eventId: e.eventId, kind, mail, record: pending.record, ctx, log, settle: async () => undefined });
  }

  /** The event's undo link if it can still be used, and only to the address it was made for. Never logs the token. */
  function undoLink(e: AccountEvent, to: string, log: Logger): { token: string; expiresAt: Date } | undefined {
    const c = e.emailConfirmation;
    if (!c?.token) return undefined;
    if (c.email.trim().toLowerCase() !== to.trim().toLowerCase()) {
      log.warn('the undo link is for another address than the one the account had; the change is told without it');
      return undefined;
    }
    const expiresAt = c.expiresAt ? timestampDate(c.expiresAt) : undefined;
    if (!expiresAt || expiresAt.getTime() <= Date.now()) {
      log.warn({ link: 'undo_email_change' }, 'undo link expired before it could be sent; the change is told without it');
      return undefined;
    }
    return { token: c.token, expiresAt };
  }

  async function handle(msg: JsMsg, ctx: HandlerContext): Promise<Outcome> {
    const { notice: fresh, facts, account: fromEvent, mailOnly, deleted, accountDeleted: gone } = decode(msg);
    if (gone) return accountDeleted(gone, ctx);
    if (mailOnly?.kind === AccountEventKind.SIGN_UP_ATTEMPTED) return signUpAttempted(mailOnly, ctx);
    if (mailOnly?.kind === AccountEventKind.PASSWORD_CHANGED) return passwordChanged(mailOnly, ctx);
    if (mailOnly?.kind === AccountEventKind.EMAIL_CHANGED) return emailChanged(mailOnly, ctx);
    if (mailOnly) return linkRequested(mailOnly, ctx);
    if (deleted) return jobDeleted(deleted, msg.seq);
    if (!fresh) return { kind: 'term', reason: `no notice for ${msg.subject}` };
    const kind = KIND_LABEL[fresh.kind];
    // An event of a deleted job or account (redelivered, or late) makes no notice and no email.
    // Checked before the notice is stored, so a live page shows no toast for it, and again after: a
    // deletion handled meanwhile may have looked for the notices before this one was stored.
    const before = await deps.notices.deletion(fresh.userId, fresh.jobId || undefined);
    if (before) return eventOfDeleted(fresh, kind, before);
    const { notice, created } = await deps.notices.ensure(fresh);
    const after = await deps.notices.deletion(notice.userId, notice.jobId || undefined);
    if (after) {
      await deps.notices.remove(notice.userId, notice.noticeId);
      return eventOfDeleted(notice, kind, after);
    }
    const log = deps.logger.child({ eventId: notice.eventId, userId: notice.userId, noticeId: notice.noticeId });
    const finalStatuses = [EmailStatus.SENT, EmailStatus.NOT_WANTED, EmailStatus.REFUSED, EmailStatus.GAVE_UP, EmailStatus.NO_ADDRESS];
    if (finalStatuses.includes(notice.emailStatus)) {
      deps.metrics.duplicates.inc({ kind });
      return ack;
    }

    // A notice made just now means no earlier delivery got as far as recording a send.
    const record = created ? null : await deps.sends.get(notice.eventId);
    if (isFinal(record)) {
      // Recorded, but the notice was not updated before the process stopped.
      const status = record!.state === 'sent' ? EmailStatus.SENT : record!.state === 'refused' ? EmailStatus.REFUSED : EmailStatus.GAVE_UP;
      await deps.notices.setEmail(notice, status, record!.detail);
      deps.metrics.duplicates.inc({ kind });
      return ack;
    }

    const account = await accountOf(notice.userId, fromEvent);
    if (!wantsEmail(notice.kind, account?.notifications)) {
      await deps.notices.setEmail(notice, EmailStatus.NOT_WANTED);
      deps.metrics.emails.inc({ kind, outcome: 'not_wanted' });
      return ack;
    }
    if (!account?.email) {
      await deps.notices.setEmail(notice, EmailStatus.NO_ADDRESS);
      deps.metrics.emails.inc({ kind, outcome: 'no_address' });
      return ack;
    }

    const mail = composeEmail({
      notice,
      to: account.email,
      recipientName: account.name,
      publicUrl: deps.publicUrl,
      facts,
      preference: emailPreference(account.notifications),
    });
    return send({
      eventId: notice.eventId,
      kind,
      mail,
      record,
      ctx,
      log,
      settle: (status, detail) => deps.notices.setEmail(notice, status, detail),
    });
  }

  /**
   * The user deleted the job: every notice of it goes (their titles name the file, their links lead
   * to a 404 page). The tombstone is written first, so an event of the job handled at the same time
   * either sees it or stored its notice before the search below began. It is written again once the
   * notices are gone, so a WatchNotices stream counts the unread notices anew. A redelivery finds
   * nothing more to remove. Emails already sent stay sent, and their send records (event id,
   * Message-ID, state: no file name) stay, as what makes a redelivered event's email once only.
   */
  async function jobDeleted(e: JobEvent, seq: number): Promise<Outcome> {
    const job = e.job;
    if (!job?.userId || !job.jobId) return { kind: 'term', reason: 'job.deleted without a job' };
    const createdAt = job.createdAt ? timestampDate(job.createdAt) : undefined;
    await deps.notices.markJobDeleted(job.userId, job.jobId);
    const removed = await deps.notices.removeJob(job.userId, job.jobId, createdAt);
    // Also when none were left: a delivery cut short after removing them is not followed by one that does.
    await deps.notices.markJobDeleted(job.userId, job.jobId);
    await deps.erasures.request({ userId: job.userId, jobId: job.jobId }, { since: createdAt, until: seq });
    for (const n of removed) deps.metrics.noticesDeleted.inc({ kind: KIND_LABEL[n.kind] });
    deps.logger.info(
      { eventId: e.eventId, userId: job.userId, jobId: job.jobId, removed: removed.length },
      'job deleted: its notices removed',
    );
    return ack;
  }

  /**
   * The user deleted their account. Every notice of theirs goes, the account's own (plan changes)
   * and any of a job whose job.deleted is not handled yet, and the read mark with them; the account's
   * tombstone makes any later event of the user nothing. As for a job, the tombstone is written before
   * the purge and again after it (WatchNotices streams then count anew: zero). Then one last email to
   * the address the event carries (the account record is gone by now), whatever the preference was:
   * a security notice, like the sign-up one, exactly once by its send record. The purge and the
   * tombstone are done again on a redelivery; they are idempotent.
   */
  async function accountDeleted(e: AccountEvent, ctx: HandlerContext): Promise<Outcome> {
    const userId = e.account?.userId ?? '';
    // The purge is by the user's key prefix: a wildcard or a dot there would reach other users.
    if (!USER_ID.test(userId)) return { kind: 'term', reason: 'account.deleted without a valid user id' };
    const kind = 'account_deleted';
    const log = deps.logger.child({ eventId: e.eventId, userId });
    await deps.notices.markAccountDeleted(userId);
    const removed = await deps.notices.removeUser(userId);
    await deps.notices.markAccountDeleted(userId);
    await deps.erasures.request({ userId }, { since: e.account?.createdAt ? timestampDate(e.account.createdAt) : undefined });
    for (const n of removed) deps.metrics.noticesDeleted.inc({ kind: KIND_LABEL[n.kind] });
    const record = await deps.sends.get(e.eventId);
    if (isFinal(record)) {
      deps.metrics.duplicates.inc({ kind });
      return ack;
    }
    if (!record) deps.metrics.accountsDeleted.inc();
    log.info({ removed: removed.length }, 'account deleted: its notices removed, later events of it make nothing');
    const to = e.account?.email;
    if (!to) {
      deps.metrics.emails.inc({ kind, outcome: 'no_address' });
      return ack;
    }
    const occurredAt = e.occurredAt ? timestampDate(e.occurredAt) : new Date();
    const mail = composeAccountDeletedEmail({ eventId: e.eventId, to, occurredAt, publicUrl: deps.publicUrl, byAdmin: e.deletedByAdmin });
    return send({ eventId: e.eventId, kind, mail, record, ctx, log, settle: async () => undefined });
  }

  function eventOfDeleted(notice: Notice, kind: string, deletion: 'account' | 'job'): Outcome {
    if (deletion === 'account') return eventOfDeletedAccount(notice.eventId, notice.userId, kind);
    deps.metrics.deletedJobEvents.inc({ kind });
    deps.logger.info(
      { eventId: notice.eventId, userId: notice.userId, jobId: notice.jobId },
      'event of a deleted job: no notice and no email',
    );
    return ack;
  }

  function eventOfDeletedAccount(eventId: string, userId: string, kind: string): Outcome {
    deps.metrics.deletedAccountEvents.inc({ kind });
    deps.logger.info({ eventId, userId }, 'event of a deleted account: no notice and no email');
    return ack;
  }

  /**
   * Records `sending`, sends, and records what became of it, then `settle` (the notice's email
   * status). On a transient failure it throws, so the consumer redelivers with backoff.
   */
  async function send(o: {
    eventId: string;
    kind: string;
    mail: OutgoingMail;
    record: SendRecord | null;
    ctx: HandlerContext;
    log: Logger;
    settle: (status: EmailStatus, detail?: string) => Promise<unknown>;
  }): Promise<Outcome> {
    const { eventId, kind, mail, record, ctx, log } = o;
    const attempts = (record?.attempts ?? 0) + 1;
    if (record?.state === 'sending') {
      deps.metrics.resends.inc({ kind });
      log.warn({ messageId: mail.messageId }, 'an earlier send of this email was cut short; sending it again with the same Message-ID');
    }
    if (record) deps.metrics.retries.inc({ kind });
    const recordSend = (state: SendState, detail?: string) =>
      deps.sends.put(eventId, {
        state,
        at: new Date().toISOString(),
        messageId: mail.messageId,
        attempts,
        ...(detail ? { detail } : {}),
      });
    await recordSend('sending');

    const started = performance.now();
    let response: string;
    try {
      ({ response } = await deps.mailer.send(mail, SendLog.key(eventId)));
    } catch (err) {
      const failure = classifySmtpFailure(err);
      const to = maskAddress(mail.to);
      if (failure.permanent) {
        await recordSend('refused', failure.detail);
        await o.settle(EmailStatus.REFUSED, failure.detail);
        deps.metrics.emails.inc({ kind, outcome: 'refused' });
        deps.metrics.permanentFailures.inc({ kind });
        log.warn({ to, detail: failure.detail }, 'email refused for good; not retried');
        return { kind: 'term', reason: `email refused: ${failure.detail}` };
      }
      if (ctx.maxDeliver > 0 && ctx.deliveryCount >= ctx.maxDeliver) {
        await recordSend('gave-up', failure.detail);
        await o.settle(EmailStatus.GAVE_UP, failure.detail);
        deps.metrics.emails.inc({ kind, outcome: 'gave_up' });
        log.error({ to, detail: failure.detail, attempts }, 'email given up after the last retry');
        return ack;
      }
      // Known not sent: the next delivery is a plain retry, not a resend.
      await recordSend('retrying', failure.detail);
      deps.metrics.emails.inc({ kind, outcome: 'retry' });
      log.warn({ to, detail: failure.detail, attempts }, 'email not sent; the consumer retries it with backoff');
      throw new Error(failure.detail, { cause: err });
    }
    deps.metrics.sendSeconds.observe((performance.now() - started) / 1000);
    await stall('sent');
    await recordSend('sent', response.slice(0, 200));
    await o.settle(EmailStatus.SENT);
    deps.metrics.emails.inc({ kind, outcome: 'sent' });
    log.info({ messageId: mail.messageId, attempts, via: deps.mailer.kind, response: response.slice(0, 200) }, 'email sent');
    await stall('recorded');
    return ack;
  }

  /**
   * The stream would keep the link's token for GAS_EVENTS_MAX_AGE_DAYS, often long after the link
   * expires (a day for an address confirmation, an hour for a password reset; what the gateway chose
   * for an address change and its undo) or is used. So once the event's outcome is final (mailed, a
   * duplicate of one mailed, expired, refused, given up, malformed) its message is deleted. Never on
   * a handler error: that event is redelivered and must still be there to be mailed. This runs just
   * before the loop acks; a crash in between loses nothing, as the server drops the pending delivery
   * of a deleted message rather than redelivering it, and confirms the ack all the same. A failed
   * delete is only logged, never a reason to redeliver: the email is done, and the token stops
   * working when its link expires anyway.
   */
  async function forgetToken(msg: JsMsg, of: { what: string; kind: string }): Promise<void> {
    try {
      await deps.deleteEventMessage(msg.seq);
      deps.metrics.confirmationDeletes.inc({ kind: of.kind, outcome: 'deleted' });
    } catch (err) {
      deps.metrics.confirmationDeletes.inc({ kind: of.kind, outcome: 'failed' });
      // The error is the NATS API's or the connection's: it holds no payload, so no token.
      deps.logger.warn(
        { seq: msg.seq, subject: msg.subject, err },
        `could not delete the ${of.what} event from GAS_EVENTS; its token stays there until the stream drops it`,
      );
    }
  }

  return async (msg: JsMsg, ctx: HandlerContext): Promise<Outcome> => {
    let outcome: Outcome;
    try {
      outcome = await handle(msg, ctx);
    } catch (err) {
      if (!(err instanceof PoisonMessageError)) throw err;
      outcome = { kind: 'term', reason: err.message };
    }
    const tokenEvent = TOKEN_EVENTS.get(msg.subject);
    if (tokenEvent && outcome.kind !== 'nak') await forgetToken(msg, tokenEvent);
    return outcome;
  };
}
