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
}

export interface OidcLink {
  userId: string;
  issuer: string;
  subject: string;
}

export class EmailTakenError extends Error {
  constructor() {
    super('an account with this e-mail address already exists');
  }
}

/** Keys: `email.<sha256 of the address>` and `oidc.<sha256 of issuer and subject>`. */
export class UserStore {
  private readonly store: JsonKv<Credentials | OidcLink>;

  constructor(kv: KV) {
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

  /** A new user with a fresh id; EmailTakenError when the address is registered already. */
  async create(email: string, passwordHash: string | null): Promise<Credentials> {
    const user: Credentials = { userId: ulid(), email: normalizeEmail(email), passwordHash, createdAt: new Date().toISOString() };
    if (!(await this.store.create(UserStore.emailKey(email), user))) throw new EmailTakenError();
    return user;
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
