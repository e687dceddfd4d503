// Browser sessions: `<user key>.<random id>` in an HttpOnly cookie, and `<user key>.<SHA-256 of the
// random id>` as the key of a record in the gateway's sessions bucket. The user key (a digest of the
// user id) puts a user's sessions under one prefix, so all of them can be found and ended (account
// deletion) by listing it, while a request still finds its session from the cookie alone, in one
// read. The bucket's TTL ends idle sessions (activity rewrites the record); the record's own expiry
// ends every session after the absolute lifetime.
//
// Sessions started before the prefix existed (cookie: the random id alone; key: its SHA-256, one
// token with no dot) keep working until they expire; endAll finds them by reading each such key.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import { JsonKv } from './json-kv.ts';
import { digest } from './digest.ts';

export interface Session {
  userId: string;
  /** The synchroniser token every form and unsafe request of this session must carry. */
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

export interface SessionTimes {
  idleMs: number;
  absoluteMs: number;
  /** Activity is written back at most this often, not on every request. */
  touchEveryMs: number;
}

/** A cookie of this version: the user key (32 hex digits), a dot, the random id (256 bits, base64url). */
const PREFIXED_ID = /^([0-9a-f]{32})\.([A-Za-z0-9_-]{43})$/;
/** A cookie from before the user key: the random id alone. */
const BARE_ID = /^[A-Za-z0-9_-]{43}$/;

/**
 * The prefix of a user's session keys: KV-safe whatever the user id holds, and a digest so the
 * cookie does not carry the user id itself.
 */
export function sessionUserKey(userId: string): string {
  return digest(`gas-session-user\0${userId}`).slice(0, 32);
}

/** The bucket key of a session cookie's value, and the user key it names (none for a cookie of the old format); null when malformed. */
function keyOf(id: string | undefined): { key: string; userKey: string | null } | null {
  if (!id) return null;
  const m = PREFIXED_ID.exec(id);
  if (m) return { key: `${m[1]}.${digest(m[2]!)}`, userKey: m[1]! };
  return BARE_ID.test(id) ? { key: digest(id), userKey: null } : null;
}

export class SessionStore {
  private readonly store: JsonKv<Session>;

  constructor(
    private readonly kv: KV,
    private readonly times: SessionTimes,
    private readonly now: () => number = Date.now,
  ) {
    this.store = new JsonKv(kv);
  }

  /** A new session; the id goes into the cookie and nowhere else. */
  async start(userId: string): Promise<{ id: string; session: Session }> {
    const userKey = sessionUserKey(userId);
    const secret = randomBytes(32).toString('base64url');
    const at = this.now();
    const session: Session = {
      userId,
      csrfToken: randomBytes(32).toString('base64url'),
      createdAt: at,
      lastSeenAt: at,
      expiresAt: at + this.times.absoluteMs,
    };
    await this.store.put(`${userKey}.${digest(secret)}`, session);
    return { id: `${userKey}.${secret}`, session };
  }

  /**
   * The live session for a cookie value, or null (unknown, tampered, idle too long or expired).
   * `touch: false` checks without counting as activity (a long-lived stream re-checking itself
   * must not keep an idle session alive).
   */
  async resume(id: string | undefined, { touch = true }: { touch?: boolean } = {}): Promise<Session | null> {
    const k = keyOf(id);
    if (!k) return null;
    const { key } = k;
    const found = await this.store.get(key);
    if (!found) return null;
    const s = found.value;
    // Only a record of the user its key names: endAll, which goes by the key, then ends it for sure.
    if (k.userKey !== null && sessionUserKey(s.userId) !== k.userKey) return null;
    const at = this.now();
    if (at >= s.expiresAt || at - s.lastSeenAt >= this.times.idleMs) {
      await this.store.delete(key);
      return null;
    }
    if (touch && at - s.lastSeenAt >= this.times.touchEveryMs) {
      // A lost race only means another request touched it first.
      await this.store.update(key, { ...s, lastSeenAt: at }, found.revision);
    }
    return s;
  }

  async end(id: string | undefined): Promise<void> {
    const k = keyOf(id);
    if (k) await this.store.delete(k.key);
  }

  /**
   * The user's live sessions (of this version: the keys under their user key), newest activity
   * first; `current` marks the one of the cookie value given. What the profile shows; old-format
   * sessions are not listed (endAll still ends them).
   */
  async list(userId: string, current?: string): Promise<Array<Session & { current: boolean }>> {
    const keys: string[] = [];
    for await (const key of await this.kv.keys(`${sessionUserKey(userId)}.*`)) keys.push(key);
    const mine = keyOf(current)?.key;
    const at = this.now();
    const live: Array<Session & { current: boolean }> = [];
    for (const key of keys) {
      const s = (await this.store.get(key))?.value;
      if (!s || s.userId !== userId || at >= s.expiresAt || at - s.lastSeenAt >= this.times.idleMs) continue;
      live.push({ ...s, current: key === mine });
    }
    return live.sort((a, b) => b.lastSeenAt - a.lastSeenAt);
  }

  /**
   * Ends every session of `userId` but the one of the cookie value `except`, if given; answers how
   * many it ended. The user's sessions of this version are the keys under their user key: one
   * listing. Those of the old format carry no user key: every old-format key still in the bucket is
   * read to find the user's (one read each, for all users' old sessions; there are none left once
   * the sessions from before this version have expired, within the absolute lifetime). A rare
   * operation (account deletion), so the cost stays off the requests.
   */
  async endAll(userId: string, { except }: { except?: string } = {}): Promise<number> {
    const keep = keyOf(except)?.key;
    // Listed in full before deleting: a deletion is itself a message on the keys being listed.
    const listed = async (filter: string) => {
      const keys: string[] = [];
      for await (const key of await this.kv.keys(filter)) keys.push(key);
      return keys.filter((key) => key !== keep);
    };
    let ended = 0;
    for (const key of await listed(`${sessionUserKey(userId)}.*`)) {
      await this.store.delete(key);
      ended++;
    }
    // A one-token key is an old-format session: `*` matches exactly one token.
    for (const key of await listed('*')) {
      if ((await this.store.get(key))?.value.userId !== userId) continue;
      await this.store.delete(key);
      ended++;
    }
    return ended;
  }
}

/** Constant-time comparison of a submitted CSRF token with the session's. */
export function csrfTokenMatches(session: Session, submitted: unknown): boolean {
  if (typeof submitted !== 'string') return false;
  const a = Buffer.from(session.csrfToken);
  const b = Buffer.from(submitted);
  return a.length === b.length && timingSafeEqual(a, b);
}
