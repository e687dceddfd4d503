// Browser sessions: a random id in an HttpOnly cookie, its SHA-256 as the key of a record in the
// gateway's sessions bucket. The bucket's TTL ends idle sessions (activity rewrites the record);
// the record's own expiry ends every session after the absolute lifetime.
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

export class SessionStore {
  private readonly store: JsonKv<Session>;

  constructor(
    kv: KV,
    private readonly times: SessionTimes,
    private readonly now: () => number = Date.now,
  ) {
    this.store = new JsonKv(kv);
  }

  /** A new session; the id goes into the cookie and nowhere else. */
  async start(userId: string): Promise<{ id: string; session: Session }> {
    const id = randomBytes(32).toString('base64url');
    const at = this.now();
    const session: Session = {
      userId,
      csrfToken: randomBytes(32).toString('base64url'),
      createdAt: at,
      lastSeenAt: at,
      expiresAt: at + this.times.absoluteMs,
    };
    await this.store.put(digest(id), session);
    return { id, session };
  }

  /**
   * The live session for a cookie value, or null (unknown, tampered, idle too long or expired).
   * `touch: false` checks without counting as activity (a long-lived stream re-checking itself
   * must not keep an idle session alive).
   */
  async resume(id: string | undefined, { touch = true }: { touch?: boolean } = {}): Promise<Session | null> {
    if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
    const key = digest(id);
    const found = await this.store.get(key);
    if (!found) return null;
    const s = found.value;
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
    if (id && /^[A-Za-z0-9_-]{43}$/.test(id)) await this.store.delete(digest(id));
  }
}

/** Constant-time comparison of a submitted CSRF token with the session's. */
export function csrfTokenMatches(session: Session, submitted: unknown): boolean {
  if (typeof submitted !== 'string') return false;
  const a = Buffer.from(session.csrfToken);
  const b = Buffer.from(submitted);
  return a.length === b.length && timingSafeEqual(a, b);
}
