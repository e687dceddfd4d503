// Who is making a request: an API token (Authorization: Bearer) or a browser session (cookie).
// Requests that ride on the session cookie and change something must also carry the session's
// CSRF token; token requests need none, since no browser attaches a token on its own.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiTokenAuth } from './api-token-auth.ts';
import { csrfTokenMatches } from './identity/index.ts';
import { digest } from './identity/digest.ts';
import type { ApiTokenStore, Session, SessionStore } from './identity/index.ts';
import { Problem } from './problem.ts';

export interface Identity {
  userId: string;
  via: 'session' | 'token';
  session?: Session;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const BEARER = /^Bearer\s+(\S+)\s*$/i;

export interface SessionCookie {
  name: string;
  secure: boolean;
}

export class Authenticator {
  constructor(
    private readonly deps: { sessions: SessionStore; tokens: ApiTokenStore; staticTokens: ApiTokenAuth; cookie: SessionCookie },
  ) {}

  get cookieName(): string {
    return this.deps.cookie.name;
  }

  sessionId(req: FastifyRequest): string | undefined {
    return req.cookies[this.deps.cookie.name];
  }

  /**
   * The identity of the request, or null when it carries none. A Bearer header that is present
   * but wrong is a 401: it never falls back to the cookie.
   */
  async identify(req: FastifyRequest): Promise<Identity | null> {
    if (req.identity !== undefined) return req.identity;
    let identity: Identity | null = null;
    if (req.headers.authorization !== undefined) {
      const d = this.credentialDigest(req);
      if (!d.token)
        throw new Problem(401, 'Unauthorized', 'send an API token as "Authorization: Bearer <token>"', { 'WWW-Authenticate': 'Bearer' });
      const userId = this.deps.staticTokens.lookupDigest(d.digest) ?? (await this.deps.tokens.userOfDigest(d.digest));
      if (!userId)
        throw new Problem(401, 'Unauthorized', 'the API token is not valid', { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
      identity = { userId, via: 'token' };
    } else {
      const session = await this.deps.sessions.resume(this.sessionId(req));
      if (session) identity = { userId: session.userId, via: 'session', session };
    }
    req.identity = identity;
    return identity;
  }

  /**
   * The SHA-256 (hex) of the request's credential, computed once per request: the rate limit counts
   * by it and the token lookup finds by it. The token's own digest for a well-formed Bearer header
   * (`token: true`), else the whole header's; the session id's without one; undefined with neither.
   */
  credentialDigest(req: FastifyRequest): { digest: string; token: boolean } | { digest: undefined; token: false } {
    if (req.credential !== undefined) return req.credential;
    const header = req.headers.authorization;
    let credential: FastifyRequest['credential'];
    if (header !== undefined) {
      const token = BEARER.exec(header)?.[1];
      credential = { digest: digest(token ?? header), token: token !== undefined };
    } else {
      // The rate limit asks before anything else: cookies are parsed by then, but never assumed.
      const session = req.cookies?.[this.deps.cookie.name];
      credential = session ? { digest: digest(session), token: false } : { digest: undefined, token: false };
    }
    return (req.credential = credential);
  }

  /**
   * Whether the credentials a request was identified by still hold: the session not ended, expired
   * or idle too long, the API token not revoked. For long-lived requests (the live stream); a
   * check is not activity, so it does not keep an idle session alive.
   */
  async stillValid(req: FastifyRequest, identity: Identity): Promise<boolean> {
    if (identity.via === 'session')
      return (await this.deps.sessions.resume(this.sessionId(req), { touch: false }))?.userId === identity.userId;
    const token = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!token) return false;
    return (this.deps.staticTokens.lookup(token) ?? (await this.deps.tokens.userOf(token))) === identity.userId;
  }

  /**
   * The user of an API call: 401 without credentials, 403 when a session request that changes
   * something lacks its CSRF token (header X-CSRF-Token, or the `_csrf` form field).
   */
  async apiUser(req: FastifyRequest, formToken?: string): Promise<string> {
    const identity = await this.identify(req);
    if (!identity)
      throw new Problem(401, 'Unauthorized', 'sign in, or send an API token as "Authorization: Bearer <token>"', {
        'WWW-Authenticate': 'Bearer',
      });
    if (identity.via === 'session' && !SAFE_METHODS.has(req.method)) this.checkCsrf(req, identity.session!, formToken);
    return identity.userId;
  }

  checkCsrf(req: FastifyRequest, session: Session, formToken?: string): void {
    const submitted = req.headers['x-csrf-token'] ?? formToken ?? (req.body as Record<string, unknown> | undefined)?._csrf;
    if (!csrfTokenMatches(session, submitted)) {
      throw new Problem(403, 'Forbidden', 'the form has expired or did not come from this site; reload the page and try again');
    }
  }

  /** A new session for `userId` (never a reused id, against session fixation) and its cookie. */
  async startSession(reply: FastifyReply, userId: string, maxAgeMs: number): Promise<void> {
    const { id } = await this.deps.sessions.start(userId);
    this.setSessionCookie(reply, id, maxAgeMs);
  }

  private setSessionCookie(reply: FastifyReply, id: string, maxAgeMs: number): void {
    void reply.setCookie(this.deps.cookie.name, id, {
      httpOnly: true,
      sameSite: 'lax',
      secure: this.deps.cookie.secure,
      path: '/',
      maxAge: Math.floor(maxAgeMs / 1000),
    });
  }

  clearSessionCookie(reply: FastifyReply): void {
    void reply.clearCookie(this.deps.cookie.name, { httpOnly: true, sameSite: 'lax', secure: this.deps.cookie.secure, path: '/' });
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by Authenticator.identify; undefined until then. */
    identity?: Identity | null;
    /** Set by Authenticator.credentialDigest; undefined until then. */
    credential?: ReturnType<Authenticator['credentialDigest']>;
  }
}
