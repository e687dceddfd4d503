// Whether an account has proven that it owns its e-mail address, and the links that prove it.
// Sign-up does not check the address, so only a confirmed address may carry rights that the
// address alone grants (the admin page, GATEWAY_ADMIN_EMAILS). A password account confirms by
// opening the link mailed to it; an OpenID Connect account is confirmed when the provider says it
// verified the address. The link's token is random, stored only as its SHA-256 on the user record,
// works once and expires; the notification service mails it (through the job service's
// RequestEmailConfirmation and the account.email_confirmation_requested event), the gateway sends
// no mail itself.
import { randomBytes } from 'node:crypto';
import { timestampFromDate } from '@gas/proto';
import { Counter } from '@gas/runtime';
import type { Registry } from '@gas/runtime';
import type { AccountService, ServiceClient } from '@gas/proto';
import { digest, digestsEqual } from './identity/digest.ts';
import type { Credentials, UserStore } from './identity/index.ts';
import { sentInLastDay, waitBeforeNextLink } from './mailed-link-limits.ts';
import type { MailedLinkTimes } from './mailed-link-limits.ts';

export type ConfirmationTimes = MailedLinkTimes;

export const CONFIRMATION_TIMES: ConfirmationTimes = { ttlMs: 24 * 3600_000, resendIntervalMs: 2 * 60_000, maxPerDay: 5 };

/** `<user id>.<43 base64url characters: 256 random bits>`: the user id lets a wrong account be told apart from a forgery. */
const TOKEN = /^([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{43})$/;

/** What opening a link amounts to; only `valid` (on a check) and `confirmed` change or would change anything. */
export type LinkOutcome = 'valid' | 'confirmed' | 'already' | 'expired' | 'invalid' | 'other-account';

export type RequestOutcome =
  | { sent: true; expiresAt: Date }
  | { sent: false; reason: 'already' }
  | { sent: false; reason: 'no-record' }
  | { sent: false; reason: 'too-soon'; retryInMs: number };

export class EmailConfirmations {
  private readonly times: ConfirmationTimes;
  private readonly now: () => number;

  constructor(
    private readonly deps: {
      users: UserStore;
      accounts: Pick<ServiceClient<typeof AccountService>, 'requestEmailConfirmation'>;
      /**
       * Operator-issued token users (GATEWAY_API_TOKENS: the local stack's "local", load tests): the
       * operator made both their token and their account with its address, and they have no record
       * here to confirm, so they count as confirmed.
       */
      operatorUsers: ReadonlySet<string>;
      times?: Partial<ConfirmationTimes>;
      now?: () => number;
      /** Where `gas_gateway_email_confirmations_total` goes; none: not counted. */
      registry?: Registry;
    },
  ) {
    this.times = { ...CONFIRMATION_TIMES, ...deps.times };
    this.now = deps.now ?? Date.now;
    this.counted = deps.registry
      ? new Counter({
          name: 'gas_gateway_email_confirmations_total',
          help: 'Address confirmation links asked for (sent, too_soon, send_failed) and used (confirmed, expired, invalid, other_account)',
          labelNames: ['outcome'],
          registers: [deps.registry],
        })
      : undefined;
  }

  private readonly counted: Counter<'outcome'> | undefined;

  private count(outcome: string): void {
    this.counted?.inc({ outcome: outcome.replace('-', '_') });
  }

  /** The record of `email` if it is `userId`'s: another account's record (or none) confirms nothing for this one. */
  private async recordOf(userId: string, email: string): Promise<Credentials | null> {
    if (!email) return null;
    const user = await this.deps.users.byEmail(email);
    return user?.userId === userId ? user : null;
  }

  /** Whether `userId` has proven it owns `email`, its account's address. */
  async isConfirmed(userId: string, email: string | undefined | null): Promise<boolean> {
    return (await this.addressState(userId, email)).confirmed;
  }

  /**
   * From one read of the record: whether the address is confirmed, whether the account's job
   * e-mails wait for that (a password sign-up that has not confirmed yet), and the account's
   * password: whether it has one (an OIDC-only or operator user has none) and when it last changed;
   * and whether the address came from a change of address.
   */
  async addressState(
    userId: string,
    email: string | undefined | null,
  ): Promise<{ confirmed: boolean; jobMailHeld: boolean; hasPassword: boolean; passwordChangedAt?: string; changedByLink?: boolean }> {
    if (!email) return { confirmed: false, jobMailHeld: false, hasPassword: false };
    if (this.deps.operatorUsers.has(userId)) return { confirmed: true, jobMailHeld: false, hasPassword: false };
    const record = await this.recordOf(userId, email);
    const confirmed = Boolean(record?.emailConfirmedAt);
    return {
      confirmed,
      jobMailHeld: !confirmed && record?.jobMailAfterConfirmation === true,
      hasPassword: Boolean(record?.passwordHash),
      ...(record?.passwordChangedAt ? { passwordChangedAt: record.passwordChangedAt } : {}),
      // The address came from a change of address (the link mailed to it was opened).
      ...(record?.emailChangedBy ? { changedByLink: true } : {}),
    };
  }

  /** Marks the address confirmed without a link (an identity provider verified it); true when it was not before. */
  async markConfirmed(userId: string, email: string): Promise<boolean> {
    const res = await this.deps.users.update(email, (cur) =>
      cur.userId !== userId || cur.emailConfirmedAt
        ? null
        : { ...cur, emailConfirmedAt: new Date(this.now()).toISOString(), confirmation: undefined },
    );
    return res?.changed ?? false;
  }

  /**
   * Makes a new link and has it mailed to `email`, within the resend limits. The new link replaces
   * any earlier one. Throws when the job service cannot take the request (then no link is kept, and
   * the user may ask again at once).
   */
  async request(userId: string, email: string): Promise<RequestOutcome> {
    if (this.deps.operatorUsers.has(userId)) return { sent: false, reason: 'already' };
    const now = this.now();
    const secret = randomBytes(32).toString('base64url');
    const token = `${userId}.${secret}`;
    const expiresAt = new Date(now + this.times.ttlMs);
    // Set by the last run of the change below (it runs again after a concurrent write).
    const decided: { refusal: RequestOutcome | null } = { refusal: null };
    const refuse = (r: RequestOutcome) => {
      decided.refusal = r;
      return null;
    };
    const res = await this.deps.users.update(email, (cur) => {
      decided.refusal = null;
      if (cur.userId !== userId) return refuse({ sent: false, reason: 'no-record' });
      if (cur.emailConfirmedAt) return refuse({ sent: false, reason: 'already' });
      const sent = sentInLastDay(cur.confirmation?.sentAt, now);
      const retryInMs = waitBeforeNextLink(sent, now, this.times);
      if (retryInMs > 0) return refuse({ sent: false, reason: 'too-soon', retryInMs });
      return {
        ...cur,
        confirmation: { tokenDigest: digest(token), expiresAt: expiresAt.toISOString(), sentAt: [...sent, new Date(now).toISOString()] },
      };
    });
    if (!res) return { sent: false, reason: 'no-record' };
    if (decided.refusal) {
      if (decided.refusal.sent === false && decided.refusal.reason === 'too-soon') this.count('too-soon');
      return decided.refusal;
    }
    try {
      await this.deps.accounts.requestEmailConfirmation({
        userId,
        email,
        token,
        expiresAt: timestampFromDate(expiresAt),
        // The time of the link names its event, so a retried call is dropped as a duplicate.
        requestId: String(now),
      });
    } catch (err) {
      // Not mailed: the link is dropped and does not count against the limits.
      await this.deps.users.update(email, (cur) =>
        cur.confirmation?.tokenDigest === digest(token)
          ? { ...cur, confirmation: { ...cur.confirmation, tokenDigest: '', sentAt: cur.confirmation.sentAt.slice(0, -1) } }
          : null,
      );
      this.count('send-failed');
      throw err;
    }
    this.count('sent');
    return { sent: true, expiresAt };
  }

  /** What opening `token` would do for `userId` (signed in, its account's address `email`); changes nothing. */
  async check(userId: string, email: string, token: string): Promise<LinkOutcome> {
    return this.judge(userId, token, await this.recordOf(userId, email));
  }

  /**
   * Opens the link: confirms the address when the token is this account's current, unexpired one, and
   * uses it up. `jobMailReleased`: the account's job e-mails were waiting for this (the caller turns
   * them on).
   */
  async confirm(userId: string, email: string, token: string): Promise<{ outcome: LinkOutcome; jobMailReleased: boolean }> {
    const decided: { outcome: LinkOutcome; released: boolean } = { outcome: 'invalid', released: false };
    const res = await this.deps.users.update(email, (cur) => {
      decided.outcome = this.judge(userId, token, cur.userId === userId ? cur : null);
      decided.released = false;
      if (decided.outcome !== 'valid') return null;
      decided.outcome = 'confirmed';
      decided.released = cur.jobMailAfterConfirmation === true;
      return {
        ...cur,
        emailConfirmedAt: new Date(this.now()).toISOString(),
        confirmation: undefined,
        jobMailAfterConfirmation: undefined,
      };
    });
    const outcome = res ? decided.outcome : this.judge(userId, token, null);
    if (outcome !== 'already') this.count(outcome);
    return { outcome, jobMailReleased: outcome === 'confirmed' && decided.released };
  }

  private judge(userId: string, token: string, record: Credentials | null): LinkOutcome {
    const m = TOKEN.exec(token);
    if (m && m[1] !== userId) return 'other-account';
    if (this.deps.operatorUsers.has(userId) || record?.emailConfirmedAt) return 'already';
    const pending = record?.confirmation;
    if (!m || !pending?.tokenDigest) return 'invalid';
    if (!digestsEqual(digest(token), pending.tokenDigest)) return 'invalid';
    return Date.parse(pending.expiresAt) <= this.now() ? 'expired' : 'valid';
  }
}
