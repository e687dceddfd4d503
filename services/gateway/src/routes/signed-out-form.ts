// The forms of signed-out visitors (sign in, sign up) carry a token that must match a cookie
// (double submit), so another site cannot sign a visitor into an account of its choosing.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

const FORM_COOKIE = 'gas_form';

export class SignedOutForms {
  constructor(private readonly secureCookies: boolean) {}

  /** The token for a form on this response, setting the cookie when the visitor has none. */
  token(req: FastifyRequest, reply: FastifyReply): string {
    const have = req.cookies[FORM_COOKIE];
    if (have && /^[A-Za-z0-9_-]{32}$/.test(have)) return have;
    const token = randomBytes(24).toString('base64url');
    void reply.setCookie(FORM_COOKIE, token, { httpOnly: true, sameSite: 'strict', secure: this.secureCookies, path: '/', maxAge: 3600 });
    return token;
  }

  /** True when the posted `_csrf` field matches the cookie. */
  ok(req: FastifyRequest): boolean {
    const cookie = req.cookies[FORM_COOKIE];
    const sent = (req.body as Record<string, unknown> | undefined)?._csrf;
    if (!cookie || typeof sent !== 'string' || cookie.length !== sent.length) return false;
    return timingSafeEqual(Buffer.from(cookie), Buffer.from(sent));
  }
}
