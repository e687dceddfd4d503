// A notice a response leaves for the next page when that page cannot check it itself: after an
// account's deletion nobody is signed in whose state could say it is true. It travels in a signed,
// short-lived cookie, so a crafted link cannot make a page show it, and the page that shows it
// clears it.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SignedStatements } from './signed-statement.ts';

const NOTICES = { 'account-deleted': 'Your account and its data were deleted.' } as const;
export type FlashKind = keyof typeof NOTICES;

/** Long enough for the redirect that follows, short enough that a copied cookie soon says nothing. */
const TTL_MS = 60_000;

export class FlashNotices {
  readonly #statements: SignedStatements<{ k: string }>;
  readonly #secure: boolean;

  constructor(secret: Buffer, secure: boolean, now?: () => number) {
    this.#statements = new SignedStatements(secret, 'gas-flash-notice-v1.', 'notice', TTL_MS, now);
    this.#secure = secure;
  }

  private get cookieName(): string {
    return this.#secure ? '__Host-gas_notice' : 'gas_notice';
  }

  private get options() {
    return { httpOnly: true, sameSite: 'lax' as const, secure: this.#secure, path: '/' };
  }

  set(reply: FastifyReply, kind: FlashKind): void {
    void reply.setCookie(this.cookieName, this.#statements.sign({ k: kind }), { ...this.options, maxAge: TTL_MS / 1000 });
  }

  /** The notice left for this request, if a valid one is there; used up either way. */
  take(req: FastifyRequest, reply: FastifyReply): string | null {
    const raw = req.cookies[this.cookieName];
    if (!raw) return null;
    void reply.clearCookie(this.cookieName, this.options);
    try {
      const { k } = this.#statements.verify(raw);
      return Object.hasOwn(NOTICES, k) ? NOTICES[k as FlashKind] : null;
    } catch {
      return null;
    }
  }
}
