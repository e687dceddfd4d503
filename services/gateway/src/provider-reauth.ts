// That a signed-in user has just signed in at their identity provider again: the proof an account
// without a password gives before it is deleted (a session alone is not enough, as it may be a
// hijacked one). Kept in a signed, short-lived cookie bound to the user and to this session, so it
// cannot be carried to another session or account, and it is used up by the deletion it allows.
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SignedStatements } from './signed-statement.ts';

/** Time to read the page again and press the button; a confirmation older than this is asked for again. */
const TTL_MS = 5 * 60_000;

interface Claims {
  /** The user id. */
  u: string;
  /** A digest of the session's id: the cookie holds no secret of the session. */
  s: string;
}

export class ProviderReauthentications {
  readonly #statements: SignedStatements<Claims>;
  readonly #secure: boolean;

  constructor(secret: Buffer, secure: boolean, now?: () => number) {
    this.#statements = new SignedStatements(secret, 'gas-provider-reauth-v1.', 'provider confirmation', TTL_MS, now);
    this.#secure = secure;
  }

  private get cookieName(): string {
    return this.#secure ? '__Host-gas_reauth' : 'gas_reauth';
  }

  private get options() {
    return { httpOnly: true, sameSite: 'lax' as const, secure: this.#secure, path: '/' };
  }

  /** Records that `userId`, signed in with session `sessionId`, has just signed in at the provider again. */
  confirm(reply: FastifyReply, userId: string, sessionId: string): void {
    void reply.setCookie(this.cookieName, this.#statements.sign({ u: userId, s: digest(sessionId) }), {
      ...this.options,
      maxAge: TTL_MS / 1000,
    });
  }

  /** Whether this request carries a confirmation, still fresh, for this user and session. */
  confirmed(req: FastifyRequest, userId: string, sessionId: string | undefined): boolean {
    const raw = req.cookies[this.cookieName];
    if (!raw || !sessionId) return false;
    try {
      const claims = this.#statements.verify(raw);
      return claims.u === userId && claims.s === digest(sessionId);
    } catch {
      return false;
    }
  }

  clear(reply: FastifyReply): void {
    void reply.clearCookie(this.cookieName, this.options);
  }
}

function digest(sessionId: string): string {
  return createHash('sha256').update(`gas-reauth\0${sessionId}`).digest('base64url').slice(0, 22);
}
