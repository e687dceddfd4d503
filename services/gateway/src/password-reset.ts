// Setting a new password: with a link mailed to the account's address when the password is
// forgotten, or on the profile with the current one. As with the address confirmation link, the
// token is random, kept only as its SHA-256 on the user record, works once and expires, and the
// notification service mails it (the job service's RequestPasswordReset and the
// account.password_reset_requested event); the gateway sends no mail itself. Either way the owner
// is then told at the address (NotePasswordChanged), in case it was not them.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { RpcError, Status, timestampFromDate } from '@gas/proto';
import type { AccountService, ServiceClient } from '@gas/proto';
import { Counter } from '@gas/runtime';
import type { Logger, Registry } from '@gas/runtime';
import { digest } from './identity/digest.ts';
import { hashPassword, verifyPassword } from './identity/index.ts';
import type { Credentials, UserStore } from './identity/index.ts';
import { sentInLastDay, waitBeforeNextLink } from './mailed-link-limits.ts';
import type { MailedLinkTimes } from './mailed-link-limits.ts';

/** An hour: long enough to find the mail, short enough that a mailbox read later holds no usable link. */
export const PASSWORD_RESET_TIMES: MailedLinkTimes = { ttlMs: 3600_000, resendIntervalMs: 2 * 60_000, maxPerDay: 5 };

/** `<user id>.<43 base64url characters: 256 random bits>`: the user id finds the record (keyed by address). */
const TOKEN = /^([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{43})$/;

export type ResetRequestOutcome = 'sent' | 'no-account' | 'no-password' | 'too-soon';
export type ResetLinkOutcome = 'valid' | 'expired' | 'invalid';

export class PasswordResets {
  private readonly times: MailedLinkTimes;
  private readonly now: () => number;
  private readonly counted: Counter<'outcome'>;
  private readonly changes: Counter<'how'>;

  constructor(
    private readonly deps: {
      users: UserStore;
      accounts: Pick<ServiceClient<typeof AccountService>, 'getAccount' | 'requestPasswordReset' | 'notePasswordChanged'>;
      registry: Registry;
      logger: Logger;
      times?: Partial<MailedLinkTimes>;
      now?: () => number;
    },
  ) {
    this.times = { ...PASSWORD_RESET_TIMES, ...deps.times };
    this.now = deps.now ?? Date.now;
    this.counted = new Counter({
      name: 'gas_gateway_password_resets_total',
      help: 'Password reset links asked for (sent, no_account, no_password, too_soon, send_failed) and used (changed, expired, invalid)',
      labelNames: ['outcome'],
      registers: [deps.registry],
    });
    this.changes = new Counter({
      name: 'gas_gateway_password_changes_total',
      help: 'Passwords changed, by how (reset_link, profile)',
      labelNames: ['how'],
      registers: [deps.registry],
    });
  }

  /**
   * Makes a link for the account of `email` and has it mailed there, within the limits. Nothing is
   * sent for an address without an account or without a password (an account that signs in through
   * an identity provider); the caller answers all cases alike. Throws when the job service cannot
   * take the request (then no link is kept).
   */
  async request(email: string): Promise<ResetRequestOutcome> {
    const now = this.now();
    const secret = randomBytes(32).toString('base64url');
    const expiresAt = new Date(now + this.times.ttlMs);
    // Set by the last run of the change below (it runs again after a concurrent write).
    const decided: { outcome: ResetRequestOutcome; token: string } = { outcome: 'no-account', token: '' };
    const res = await this.deps.users.update(email, (cur) => {
      const sent = sentInLastDay(cur.passwordReset?.sentAt, now);
      decided.outcome = cur.passwordHash === null ? 'no-password' : waitBeforeNextLink(sent, now, this.times) > 0 ? 'too-soon' : 'sent';
      if (decided.outcome !== 'sent') return null;
      decided.token = `${cur.userId}.${secret}`;
      return {
        ...cur,
        passwordReset: {
          tokenDigest: digest(decided.token),
          expiresAt: expiresAt.toISOString(),
          sentAt: [...sent, new Date(now).toISOString()],
        },
      };
    });
    const outcome = res ? decided.outcome : 'no-account';
    if (outcome !== 'sent') {
      this.count(outcome);
      return outcome;
    }
    const { token } = decided;
    const user = res!.user;
    try {
      await this.deps.accounts.requestPasswordReset({
        userId: user.userId,
        email: user.email,
        token,
        expiresAt: timestampFromDate(expiresAt),
        // The time of the link names its event, so a retried call is dropped as a duplicate.
        requestId: String(now),
      });
    } catch (err) {
      // Not mailed: the link is dropped and does not count against the limits.
      await this.deps.users.update(user.email, (cur) =>
        cur.passwordReset?.tokenDigest === digest(token)
          ? { ...cur, passwordReset: { ...cur.passwordReset, tokenDigest: '', sentAt: cur.passwordReset.sentAt.slice(0, -1) } }
          : null,
      );
      this.count('send-failed');
      throw err;
    }
    this.count('sent');
    return 'sent';
  }

  /** What opening `token` would do; changes nothing. */
  async check(token: string): Promise<ResetLinkOutcome> {
    const found = await this.recordOf(token);
    return found ? judge(token, found, this.now()) : 'invalid';
  }

  /**
   * Sets the password of the token's account to `passwordHash` when the token is its current,
   * unexpired link, and uses the link up. The link came to the address, so opening it proves the
   * account owns it, as a confirmation link would: an unconfirmed address is confirmed.
   * `userId`: whose password it was, when changed; `jobMailReleased`: the account's job e-mails
   * were waiting for that confirmation (the caller turns them on, as after a confirmation link).
   */
  async reset(
    token: string,
    passwordHash: string,
  ): Promise<{ outcome: ResetLinkOutcome | 'changed'; userId?: string; jobMailReleased?: boolean }> {
    const found = await this.recordOf(token);
    if (!found) return this.used('invalid');
    const decided: { outcome: ResetLinkOutcome; released: boolean } = { outcome: 'invalid', released: false };
    const res = await this.deps.users.update(found.email, (cur) => {
      decided.outcome = cur.userId === found.userId ? judge(token, cur, this.now()) : 'invalid';
      if (decided.outcome !== 'valid') return null;
      const at = new Date(this.now()).toISOString();
      decided.released = !cur.emailConfirmedAt && cur.jobMailAfterConfirmation === true;
      return {
        ...cur,
        passwordHash,
        passwordReset: undefined,
        passwordChangedAt: at,
        ...(cur.emailConfirmedAt ? {} : { emailConfirmedAt: at, confirmation: undefined, jobMailAfterConfirmation: undefined }),
      };
    });
    if (!res?.changed) return this.used(decided.outcome === 'valid' ? 'invalid' : decided.outcome);
    this.count('changed');
    await this.told(found.userId, true);
    return { outcome: 'changed', userId: found.userId, jobMailReleased: decided.released };
  }

  /**
   * The profile's change to `password`: `current` must be the account's password. A reset link still pending
   * stops working. 'no-password': the account signs in through an identity provider.
   */
  async change(userId: string, email: string, current: string, password: string): Promise<'changed' | 'wrong-password' | 'no-password'> {
    const before = await this.deps.users.byEmail(email);
    if (!before || before.userId !== userId || before.passwordHash === null) return 'no-password';
    if (!(await verifyPassword(current, before.passwordHash))) return 'wrong-password';
    // Hashed only once the current password is right: a wrong guess costs one scrypt, not two.
    const passwordHash = await hashPassword(password);
    // Only over the password just checked: one changed meanwhile (a reset link) is not overwritten.
    const res = await this.deps.users.update(email, (cur) =>
      cur.userId === userId && cur.passwordHash === before.passwordHash
        ? { ...cur, passwordHash, passwordReset: undefined, passwordChangedAt: new Date(this.now()).toISOString() }
        : null,
    );
    if (!res?.changed) return 'wrong-password';
    await this.told(userId, false);
    return 'changed';
  }

  /** The record the token names: its user id, then that account's address, then the record of the address. */
  private async recordOf(token: string): Promise<Credentials | null> {
    const userId = TOKEN.exec(token)?.[1];
    if (!userId) return null;
    const email = await this.deps.accounts.getAccount({ userId }).then(
      (res) => res.account?.email ?? '',
      // No such account (deleted, or a made-up id): a link to nothing. Any other failure is the caller's 503.
      (err: unknown) => {
        if (err instanceof RpcError && err.code === Status.NOT_FOUND) return '';
        throw err;
      },
    );
    const record = email ? await this.deps.users.byEmail(email) : null;
    return record?.userId === userId ? record : null;
  }

  /**
   * The owner is told at the address. The change stands when that cannot be asked for now (the job
   * service away): the user who just changed it is on the page, and a mail is not worth a failure.
   */
  private async told(userId: string, throughResetLink: boolean): Promise<void> {
    this.changes.inc({ how: throughResetLink ? 'reset_link' : 'profile' });
    try {
      await this.deps.accounts.notePasswordChanged({ userId, requestId: String(this.now()), throughResetLink });
    } catch (err) {
      this.deps.logger.warn({ err, userId }, 'password changed, but the mail telling the owner could not be asked for');
    }
  }

  private used(outcome: ResetLinkOutcome): { outcome: ResetLinkOutcome } {
    this.count(outcome);
    return { outcome };
  }

  private count(outcome: string): void {
    this.counted.inc({ outcome: outcome.replace('-', '_') });
  }
}

function judge(token: string, record: Credentials, now: number): ResetLinkOutcome {
  const pending = record.passwordReset;
  if (record.passwordHash === null || !pending?.tokenDigest) return 'invalid';
  const [a, b] = [Buffer.from(digest(token), 'hex'), Buffer.from(pending.tokenDigest, 'hex')];
  if (a.length !== b.length || !timingSafeEqual(a, b)) return 'invalid';
  return Date.parse(pending.expiresAt) <= now ? 'expired' : 'valid';
}
