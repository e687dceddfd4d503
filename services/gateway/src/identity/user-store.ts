// Who may sign in, and how: the gateway's own bucket of credentials. The profile (name, plan, ...)
// is the job service's account record; this holds only what proves identity.
import type { KV } from '@nats-io/kv';
import { ulid } from 'ulid';
import { JsonKv } from './json-kv.ts';
import { digest, normalizeEmail } from './digest.ts';

export interface Credentials {
  userId: string;
  email: string;
  /** scrypt hash; null for users who only sign in through OpenID Connect. */
  passwordHash: string | null;
  createdAt: string;
  /**
   * When the account proved it owns `email` (it opened the link mailed there, or an identity
   * provider said it verified the address); absent: not confirmed. Records from before confirmation
   * existed have none. The record is keyed by the address, so a confirmation holds for this address only.
   */
  emailConfirmedAt?: string;
  /**
   * Set at sign-up: the account's job e-mails are off until the address is confirmed, then turned on
   * (the default everyone gets). Until then anyone could sign up with a stranger's address and have
   * GAS mail them about jobs, file names of their choosing included. Absent on records from before.
   */
  jobMailAfterConfirmation?: boolean;
  /** The confirmation link last mailed: the SHA-256 of its token, when it stops working, when links were sent. */
  confirmation?: PendingConfirmation;
  /** The password reset link last mailed, the same way; its token is used up when the password is set. */
  passwordReset?: PendingConfirmation;
  /** When the password was last changed (a reset link or the profile); absent: never since sign-up. */
  passwordChangedAt?: string;
  /**
   * A change of address the owner asked for: the new address and the link mailed to it, the same
   * way. `taken`: another account has that address, so no link went (the owner is told as if one had).
   */
  emailChange?: PendingConfirmation & { newEmail: string; taken?: boolean };
  /** On a record made by a change of address: the SHA-256 of the link that made it, so opening it again says so. */
  emailChangedBy?: string;
  /**
   * On a record made by a change of address: the links mailed to the addresses the account left,
   * each of which takes it back there (its SHA-256, when it stops working, that address) in case
   * the owner did not make the change. Those of earlier changes still working are carried along,
   * so changing the address again does not disarm the first owner's link.
   */
  emailUndo?: Array<{ tokenDigest: string; expiresAt: string; previousEmail: string }>;
  /** On a record made by taking the account back (the undo link): that link's SHA-256, so opening it again says so. */
  emailUndoneBy?: string;
  /**
   * On a record made by a change of address until the change is whole: the address it moved from,
   * whose record goes last. A change cut short keeps it, and the next look at the record finishes it.
   */
  movedFrom?: string;
}

/** A link mailed to the address (a confirmation, a password reset), as the record keeps it. */
export interface PendingConfirmation {
  tokenDigest: string;
  expiresAt: string;
  /** When each link of the last day was sent, oldest first: the resend limits count them. */
  sentAt: string[];
}

export interface OidcLink {
  userId: string;
  issuer: string;
  subject: string;
}

/**
 * Written when an account's deletion starts, removed when it ends: the address whose credentials go
 * last, so a deletion cut short after the account record went (and with it the address) can still
 * be finished by its owner.
 */
export interface DeletionMarker {
  email: string;
  startedAt: string;
}

export class EmailTakenError extends Error {
  constructor() {
    super('an account with this e-mail address already exists');
  }
}

/** Keys: `email.<sha256 of the address>`, `oidc.<sha256 of issuer and subject>` and `deletion.<user id>`. */
export class UserStore {
  private readonly store: JsonKv<Credentials | OidcLink | DeletionMarker>;

  constructor(private readonly kv: KV) {
    this.store = new JsonKv(kv);
  }

  private static emailKey(email: string): string {
    return `email.${digest(normalizeEmail(email))}`;
  }

  private static oidcKey(issuer: string, subject: string): string {
    return `oidc.${digest(`${issuer} ${subject}`)}`;
  }

  async byEmail(email: string): Promise<Credentials | null> {
    return ((await this.store.get(UserStore.emailKey(email)))?.value as Credentials | undefined) ?? null;
  }

  /**
   * A new user with a fresh id; EmailTakenError when the address is registered already. `confirmed`:
   * the address is proven at creation (an identity provider verified it); `jobMailAfterConfirmation`:
   * job e-mails wait for the confirmation (a password sign-up).
   */
  async create(
    email: string,
    passwordHash: string | null,
    opts: { confirmed?: boolean; jobMailAfterConfirmation?: boolean } = {},
  ): Promise<Credentials> {
    const createdAt = new Date().toISOString();
    const user: Credentials = {
      userId: ulid(),
      email: normalizeEmail(email),
      passwordHash,
      createdAt,
      ...(opts.confirmed ? { emailConfirmedAt: createdAt } : {}),
      ...(opts.jobMailAfterConfirmation && !opts.confirmed ? { jobMailAfterConfirmation: true } : {}),
    };
    if (!(await this.store.create(UserStore.emailKey(email), user))) throw new EmailTakenError();
    return user;
  }

  /**
   * Changes the record of `email` with compare-and-set, retrying on a concurrent write: `change` gets
   * the current record and answers the new one, or null to leave it. Answers the record as it is
   * afterwards, and whether it changed; null when there is no record.
   */
  async update(email: string, change: (cur: Credentials) => Credentials | null): Promise<{ user: Credentials; changed: boolean } | null> {
    const key = UserStore.emailKey(email);
    for (let attempt = 0; attempt < 20; attempt++) {
      const cur = await this.store.get(key);
      if (!cur) return null;
      const next = change(cur.value as Credentials);
      if (!next) return { user: cur.value as Credentials, changed: false };
      if (await this.store.update(key, next, cur.revision)) return { user: next, changed: true };
    }
    throw new Error('the user record kept changing; try again');
  }

  /**
   * Writes `record` under its own address, for a change of address: 'created', 'same-user' when a
   * record of the same user is there already (a change cut short and tried again), 'taken' when
   * another account has the address.
   */
  async createMoved(record: Credentials): Promise<'created' | 'same-user' | 'taken'> {
    if (await this.store.create(UserStore.emailKey(record.email), record)) return 'created';
    return (await this.byEmail(record.email))?.userId === record.userId ? 'same-user' : 'taken';
  }

  /** Removes the record of `email` if it is `userId`'s (compare-and-delete); true when one went. */
  async removeRecord(userId: string, email: string): Promise<boolean> {
    const key = UserStore.emailKey(email);
    for (let attempt = 0; attempt < 20; attempt++) {
      const found = await this.store.get(key);
      if (!found || (found.value as Credentials).userId !== userId) return false;
      if (await this.store.deleteIf(key, found.revision)) return true;
    }
    throw new Error('the user record kept changing; try again');
  }

  /** The deletion of `userId`'s account that was started and has not finished, if any. */
  async deletionOf(userId: string): Promise<DeletionMarker | null> {
    return ((await this.store.get(`deletion.${userId}`))?.value as DeletionMarker | undefined) ?? null;
  }

  /**
   * The user whose unfinished deletion holds `email`, if any: how an admin finds a deletion cut short
   * after its sign-in record went, when only the marker still knows the address. Reads every marker;
   * there are only as many as deletions under way or cut short.
   */
  async unfinishedDeletionOf(email: string): Promise<{ userId: string; marker: DeletionMarker } | null> {
    const wanted = normalizeEmail(email);
    const keys: string[] = [];
    for await (const k of await this.kv.keys('deletion.*')) keys.push(k);
    for (const key of keys) {
      const marker = (await this.store.get(key))?.value as DeletionMarker | undefined;
      if (marker?.email === wanted) return { userId: key.slice('deletion.'.length), marker };
    }
    return null;
  }

  async startDeletion(userId: string, email: string): Promise<void> {
    await this.store.put(`deletion.${userId}`, { email: normalizeEmail(email), startedAt: new Date().toISOString() });
  }

  async finishDeletion(userId: string): Promise<void> {
    await this.store.delete(`deletion.${userId}`);
  }

  /**
   * Removes how `userId` signs in: first the links of identity-provider accounts to them, then the
   * record of `email` if it is theirs (another user's record there is left alone). Only an account
   * without a password can have links (a first provider sign-in with a registered address is
   * refused), and the links are keyed by issuer and subject, which the gateway does not keep per
   * user: for such an account, or when the record is gone already, every link in the bucket is
   * read to find theirs (one read per provider-linked account in the deployment).
   */
  async deleteCredentials(userId: string, email: string, attempt = 0): Promise<{ credentials: boolean; oidcLinks: number }> {
    const key = UserStore.emailKey(email);
    const found = await this.store.get(key);
    const record = found && (found.value as Credentials).userId === userId ? (found.value as Credentials) : null;
    let oidcLinks = 0;
    if (!record || record.passwordHash === null) {
      const keys: string[] = [];
      for await (const k of await this.kv.keys('oidc.*')) keys.push(k);
      for (const k of keys) {
        if (((await this.store.get(k))?.value as OidcLink | undefined)?.userId !== userId) continue;
        await this.store.delete(k);
        oidcLinks++;
      }
    }
    if (!record) return { credentials: false, oidcLinks };
    // Compare-and-delete, so a record written since it was read (by nobody else than this user) is
    // never removed unseen; a lost race reads it again.
    if (!(await this.store.deleteIf(key, found!.revision))) {
      if (attempt >= 20) throw new Error('the user record kept changing; try again');
      return this.deleteCredentials(userId, email, attempt + 1);
    }
    return { credentials: true, oidcLinks };
  }

  async userForOidc(issuer: string, subject: string): Promise<string | null> {
    return ((await this.store.get(UserStore.oidcKey(issuer, subject)))?.value as OidcLink | undefined)?.userId ?? null;
  }

  /** Links an identity-provider account to a user; the first link wins if two race. */
  async linkOidc(issuer: string, subject: string, userId: string): Promise<string> {
    const key = UserStore.oidcKey(issuer, subject);
    if (await this.store.create(key, { userId, issuer, subject })) return userId;
    return (await this.userForOidc(issuer, subject)) ?? userId;
  }
}
