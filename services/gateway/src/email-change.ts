// Changing an account's e-mail address. The owner asks on the profile, proving it is them (the
// current password, or a fresh sign-in at the identity provider for an account without one); a
// link goes to the new address (through the job service's RequestEmailChange and the
// account.email_change_requested event: the gateway sends no mail itself), and opening it while
// signed in moves the account there. The sign-in record is keyed by the address, so the move writes
// the record under the new address first, then changes the account's address (ChangeEmail, which
// tells the old address), then removes the old record: a move cut short at any step is finished by
// opening the link again, or by the next look at the record (`movedFrom`). Until the link is opened
// nothing changes, so a typo costs nothing and a stranger's address never becomes the account's.
import { createHmac, randomBytes } from 'node:crypto';
import { RpcError, Status, timestampFromDate } from '@gas/proto';
import type { AccountService, ServiceClient } from '@gas/proto';
import { Counter } from '@gas/runtime';
import type { Registry } from '@gas/runtime';
import { digest, digestsEqual, normalizeEmail } from './identity/digest.ts';
import { dummyHash, verifyPassword } from './identity/index.ts';
import type { Credentials, UserStore } from './identity/index.ts';
import { sentInLastDay, waitBeforeNextLink } from './mailed-link-limits.ts';
import type { MailedLinkTimes } from './mailed-link-limits.ts';

export const EMAIL_CHANGE_TIMES: MailedLinkTimes = { ttlMs: 24 * 3600_000, resendIntervalMs: 2 * 60_000, maxPerDay: 5 };

/** How long the link mailed to the address an account left takes it back there. */
export const UNDO_TTL_MS = 7 * 24 * 3600_000;

/** `<user id>.<43 base64url characters: 256 random bits>`, as the confirmation links. */
const TOKEN = /^([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{43})$/;

/** What asking for a change came to. `taken`: another account has the address; no link was sent. */
export type ChangeRequestOutcome =
  | { sent: true; expiresAt: Date }
  | { sent: false; reason: 'same' | 'taken' | 'no-record' | 'wrong-password' | 'needs-provider' }
  | { sent: false; reason: 'too-soon'; retryInMs: number };

/**
 * What opening a link amounts to. `valid` (on a check) names the new address; `changed` and
 * `already` (the link was used) mean the account has it; `taken` means another account took the
 * address since the link was sent, and the change is dropped.
 */
export type ChangeLinkOutcome =
  { outcome: 'valid' | 'changed' | 'already'; newEmail: string } | { outcome: 'expired' | 'invalid' | 'other-account' | 'taken' };

/**
 * What opening the undo link (mailed to the address an account left) amounts to. `valid` (on a
 * check) names both addresses; `undone` and `already` mean the account is back at `email`; `taken`
 * means another account has that address now.
 */
export type UndoLinkOutcome =
  | { outcome: 'valid'; userId: string; email: string; from: string }
  | { outcome: 'undone' | 'already'; userId: string; email: string; hadPassword: boolean }
  | { outcome: 'expired' | 'invalid' | 'taken' };

export class EmailChanges {
  private readonly times: MailedLinkTimes;
  private readonly now: () => number;
  private readonly counted: Counter<'outcome'> | undefined;

  constructor(
    private readonly deps: {
      users: UserStore;
      accounts: Pick<ServiceClient<typeof AccountService>, 'requestEmailChange' | 'changeEmail' | 'getAccount'>;
      /** Derives the undo link of a change from its link, so a change tried again mails the same one. */
      secret: Buffer;
      times?: Partial<MailedLinkTimes>;
      now?: () => number;
      /** Where `gas_gateway_email_changes_total` goes; none: not counted. */
      registry?: Registry;
    },
  ) {
    this.times = { ...EMAIL_CHANGE_TIMES, ...deps.times };
    this.now = deps.now ?? Date.now;
    this.counted = deps.registry
      ? new Counter({
          name: 'gas_gateway_email_changes_total',
          help: 'Address changes asked for (sent, taken, too_soon, wrong_password, send_failed), links used (changed, expired, invalid, other_account, taken), and changes taken back (undone, undo_expired, undo_invalid, undo_taken)',
          labelNames: ['outcome'],
          registers: [deps.registry],
        })
      : undefined;
  }

  private count(outcome: string): void {
    this.counted?.inc({ outcome: outcome.replace('-', '_') });
  }

  /**
   * The record of the account's address `email`, if it is `userId`'s, with a move cut short
   * finished first (its old record removed). What the profile and the link pages read.
   */
  async recordOf(userId: string, email: string): Promise<Credentials | null> {
    if (!email) return null;
    const record = await this.deps.users.byEmail(email);
    if (record?.userId !== userId) return null;
    if (!record.movedFrom) return record;
    await this.deps.users.removeRecord(userId, record.movedFrom);
    const res = await this.deps.users.update(email, (cur) => (cur.movedFrom ? { ...cur, movedFrom: undefined } : null));
    return res?.user ?? null;
  }

  /** The change waiting for its link to be opened: the new address and when the link stops working. */
  pendingOf(record: Credentials | null): { newEmail: string; expiresAt: string } | null {
    const change = record?.emailChange;
    if (!change || (!change.tokenDigest && !change.taken) || Date.parse(change.expiresAt) <= this.now()) return null;
    return { newEmail: change.newEmail, expiresAt: change.expiresAt };
  }

  /**
   * Mails a link to `newEmail` that moves `userId` (whose address is `email`) there, within the
   * resend limits; a new link replaces any earlier one. `password`: the current password, for an
   * account that has one; `providerConfirmed`: the owner of an account without one has just signed
   * in at the identity provider again. An address another account has gets no link (`taken`; the
   * caller says the same as for `sent`). Throws when the job service
   * cannot take the request (no link is kept then).
   */
  async request(o: {
    userId: string;
    email: string;
    newEmail: string;
    password?: string;
    providerConfirmed?: boolean;
  }): Promise<ChangeRequestOutcome> {
    const newEmail = normalizeEmail(o.newEmail);
    const before = await this.recordOf(o.userId, o.email);
    if (!before) return { sent: false, reason: 'no-record' };
    // The proof first, so a wrong password is told as such whatever address was typed.
    if (before.passwordHash !== null) {
      if (!(await verifyPassword(o.password ?? '', before.passwordHash))) return this.refused('wrong-password');
    } else {
      // As long as a wrong password takes, so the answer's time does not say which kind of account this is.
      await verifyPassword(o.password ?? '', await dummyHash());
      if (!o.providerConfirmed) return { sent: false, reason: 'needs-provider' };
    }
    if (newEmail === normalizeEmail(o.email)) return { sent: false, reason: 'same' };
    // Another account's address gets no link, but the change is kept as if one went (and counts
    // against the limits): the form and the profile then say the same either way, so they cannot be
    // used to learn which addresses have accounts.
    const taken = (await this.deps.users.byEmail(newEmail)) !== null;

    const now = this.now();
    const token = `${o.userId}.${randomBytes(32).toString('base64url')}`;
    const expiresAt = new Date(now + this.times.ttlMs);
    const decided: { refusal: ChangeRequestOutcome | null } = { refusal: null };
    const res = await this.deps.users.update(o.email, (cur) => {
      decided.refusal = null;
      if (cur.userId !== o.userId) {
        decided.refusal = { sent: false, reason: 'no-record' };
        return null;
      }
      const sent = sentInLastDay(cur.emailChange?.sentAt, now);
      const retryInMs = waitBeforeNextLink(sent, now, this.times);
      if (retryInMs > 0) {
        decided.refusal = { sent: false, reason: 'too-soon', retryInMs };
        return null;
      }
      return {
        ...cur,
        emailChange: {
          newEmail,
          tokenDigest: taken ? '' : digest(token),
          expiresAt: expiresAt.toISOString(),
          sentAt: [...sent, new Date(now).toISOString()],
          ...(taken ? { taken: true } : {}),
        },
      };
    });
    if (!res) return { sent: false, reason: 'no-record' };
    if (decided.refusal) {
      if (decided.refusal.sent === false && decided.refusal.reason === 'too-soon') this.count('too-soon');
      return decided.refusal;
    }
    if (taken) return this.refused('taken');
    try {
      await this.deps.accounts.requestEmailChange({
        userId: o.userId,
        newEmail,
        token,
        expiresAt: timestampFromDate(expiresAt),
        // The time of the link names its event, so a retried call is dropped as a duplicate.
        requestId: String(now),
      });
    } catch (err) {
      // Not mailed: the link is dropped and does not count against the limits.
      await this.deps.users.update(o.email, (cur) =>
        cur.emailChange?.tokenDigest === digest(token)
          ? { ...cur, emailChange: { ...cur.emailChange, tokenDigest: '', sentAt: cur.emailChange.sentAt.slice(0, -1) } }
          : null,
      );
      this.count('send-failed');
      throw err;
    }
    this.count('sent');
    return { sent: true, expiresAt };
  }

  private refused(reason: 'wrong-password' | 'taken'): ChangeRequestOutcome & { sent: false } {
    this.count(reason);
    return { sent: false, reason };
  }

  /** What opening `token` would do for `userId`, whose account's address is `email`; changes nothing but a move cut short. */
  async check(userId: string, email: string, token: string): Promise<ChangeLinkOutcome> {
    return this.judge(userId, token, await this.recordOf(userId, email));
  }

  /**
   * Opens the link: moves the account to the new address when `token` is its current, unexpired
   * one. `jobMailReleased`: job e-mails were waiting for the old address to be confirmed; the new
   * one is proven now, so the caller turns them on.
   */
  async confirm(userId: string, email: string, token: string): Promise<ChangeLinkOutcome & { jobMailReleased?: boolean }> {
    const record = await this.recordOf(userId, email);
    const judged = this.judge(userId, token, record);
    if (judged.outcome !== 'valid') {
      if (judged.outcome !== 'already') this.count(judged.outcome);
      return judged;
    }
    const { newEmail } = judged;
    const old = record!;
    const undoToken = this.undoTokenOf(userId, token);
    const moved: Credentials = {
      userId,
      email: newEmail,
      passwordHash: old.passwordHash,
      createdAt: old.createdAt,
      // The link proved the new address.
      emailConfirmedAt: new Date(this.now()).toISOString(),
      ...(old.passwordChangedAt ? { passwordChangedAt: old.passwordChangedAt } : {}),
      movedFrom: old.email,
      emailChangedBy: digest(token),
      emailUndo: [
        ...(old.emailUndo ?? []).filter((u) => Date.parse(u.expiresAt) > this.now()),
        { tokenDigest: digest(undoToken), expiresAt: new Date(this.now() + UNDO_TTL_MS).toISOString(), previousEmail: old.email },
      ],
    };
    const created = await this.deps.users.createMoved(moved);
    if (created === 'taken') {
      // Another account took the address since the link was sent: the change can never be made.
      await this.deps.users.update(email, (cur) => (cur.emailChange ? { ...cur, emailChange: undefined } : null));
      this.count('taken');
      return { outcome: 'taken' };
    }
    // A change tried again keeps the undo link's time from its first try (the token is the same).
    const mine = (r: Credentials | null) => r?.emailUndo?.find((u) => u.tokenDigest === digest(undoToken))?.expiresAt;
    const undoExpiresAt = (created === 'same-user' && mine(await this.deps.users.byEmail(newEmail))) || mine(moved)!;
    await this.deps.accounts.changeEmail({
      userId,
      email: newEmail,
      previousEmail: old.email,
      requestId: digest(token).slice(0, 32),
      undoToken,
      undoExpiresAt: timestampFromDate(new Date(undoExpiresAt)),
    });
    // The old record goes last (recordOf): with it the old address's pending links (a reset, a confirmation).
    await this.recordOf(userId, newEmail);
    this.count('changed');
    return { outcome: 'changed', newEmail, jobMailReleased: old.jobMailAfterConfirmation === true && !old.emailConfirmedAt };
  }

  /** The undo link of the change made by `linkToken`: `<user id>.<HMAC of that link>`, the form of every link. */
  private undoTokenOf(userId: string, linkToken: string): string {
    const mac = createHmac('sha256', this.deps.secret)
      .update(`gas-email-change-undo\0${digest(linkToken)}`)
      .digest('base64url');
    return `${userId}.${mac}`;
  }

  /**
   * What opening the undo link would do; changes nothing but a move cut short. Needs no session:
   * whoever changed the address may have signed the owner out of everything.
   */
  async checkUndo(token: string): Promise<UndoLinkOutcome> {
    const found = await this.undoRecordOf(token);
    if ('outcome' in found) return found;
    return { outcome: 'valid', userId: found.record.userId, email: found.undo.previousEmail, from: found.record.email };
  }

  /**
   * Takes the account back to the address the link was mailed to: a record there (confirmed: the
   * link came to it) with `passwordHash` in place of the old password, which whoever changed the
   * address knew (an account without a password stays without), then ChangeEmail (`undoing`, no
   * undo link of its own), then the record of the address it leaves goes. The caller ends the
   * sessions and tokens and mails a password link.
   */
  async undo(token: string, passwordHash: string): Promise<UndoLinkOutcome> {
    const found = await this.undoRecordOf(token);
    if ('outcome' in found) {
      if (found.outcome !== 'already') this.count(`undo-${found.outcome}`);
      return found;
    }
    const { record } = found;
    const back = found.undo.previousEmail;
    const now = new Date(this.now()).toISOString();
    const restored: Credentials = {
      userId: record.userId,
      email: back,
      passwordHash: record.passwordHash === null ? null : passwordHash,
      createdAt: record.createdAt,
      emailConfirmedAt: now,
      ...(record.passwordHash === null ? {} : { passwordChangedAt: now }),
      movedFrom: record.email,
      emailUndoneBy: digest(token),
    };
    if ((await this.deps.users.createMoved(restored)) === 'taken') {
      this.count('undo-taken');
      return { outcome: 'taken' };
    }
    await this.deps.accounts.changeEmail({
      userId: record.userId,
      email: back,
      previousEmail: record.email,
      requestId: `undo-${digest(token).slice(0, 32)}`,
      undoing: true,
    });
    await this.recordOf(record.userId, back);
    this.count('undone');
    return { outcome: 'undone', userId: record.userId, email: back, hadPassword: record.passwordHash !== null };
  }

  /** The record whose undo link `token` is, from the token's user id and that account's address; or why there is none. */
  private async undoRecordOf(
    token: string,
  ): Promise<
    { record: Credentials; undo: NonNullable<Credentials['emailUndo']>[number] } | Exclude<UndoLinkOutcome, { outcome: 'valid' }>
  > {
    const userId = TOKEN.exec(token)?.[1];
    if (!userId) return { outcome: 'invalid' };
    const email = await this.deps.accounts.getAccount({ userId }).then(
      (res) => res.account?.email ?? '',
      // No such account (deleted, or a made-up id): a link to nothing. Any other failure is the caller's 503.
      (err: unknown) => {
        if (err instanceof RpcError && err.code === Status.NOT_FOUND) return '';
        throw err;
      },
    );
    const record = await this.recordOf(userId, email);
    if (!record) return { outcome: 'invalid' };
    if (record.emailUndoneBy && digestsEqual(digest(token), record.emailUndoneBy))
      return { outcome: 'already', userId, email: record.email, hadPassword: record.passwordHash !== null };
    const undo = record.emailUndo?.find((u) => digestsEqual(digest(token), u.tokenDigest));
    if (!undo) return { outcome: 'invalid' };
    if (Date.parse(undo.expiresAt) <= this.now()) return { outcome: 'expired' };
    return { record, undo };
  }

  private judge(userId: string, token: string, record: Credentials | null): ChangeLinkOutcome {
    const m = TOKEN.exec(token);
    if (m && m[1] !== userId) return { outcome: 'other-account' };
    if (!m || !record) return { outcome: 'invalid' };
    if (record.emailChangedBy && digestsEqual(digest(token), record.emailChangedBy)) return { outcome: 'already', newEmail: record.email };
    const pending = record.emailChange;
    if (!pending?.tokenDigest || !digestsEqual(digest(token), pending.tokenDigest)) return { outcome: 'invalid' };
    return Date.parse(pending.expiresAt) <= this.now() ? { outcome: 'expired' } : { outcome: 'valid', newEmail: pending.newEmail };
  }
}
