/**
 * Sign-in with an OpenID Connect identity provider (authorization code flow, PKCE S256, state and
 * nonce), on openid-client v6.
 *
 * Configuration the gateway exposes:
 *   OIDC_ISSUER         the provider's issuer URL, e.g. https://accounts.google.com; its discovery
 *                       document is read once at startup (`OidcSignIn.discover`). Must be https,
 *                       except on localhost / 127.0.0.1 for the local stack and tests.
 *   OIDC_CLIENT_ID      the client registered at the provider for the gateway
 *   OIDC_CLIENT_SECRET  its secret (sent with HTTP Basic authentication to the token endpoint)
 *   OIDC_REDIRECT_URI   the gateway's public callback URL, exactly as registered at the provider
 *
 * Use:
 *   const signIn = await OidcSignIn.discover({ issuer: new URL(OIDC_ISSUER), clientId, clientSecret, redirectUri });
 *   // GET /sign-in
 *   const { url, checks } = signIn.begin();   // keep `checks` in a short-lived signed, HttpOnly cookie
 *   redirect(url);
 *   // GET <redirect URI>?code=…&state=…
 *   const identity = await signIn.finish(requestUrl, checksFromCookie);  // then drop the cookie
 *   // OidcSignInError: show error.message to the user (it carries no provider internals), log error.cause
 *
 * What finish() validates before it returns an identity:
 *   - the response's `state` equals the one begin() issued (a response meant for another browser
 *     or another attempt is refused) and its `iss` is the configured issuer (mix-up defence);
 *   - an error response from the provider (`error=access_denied`, …) becomes an OidcSignInError;
 *   - the code is redeemed at the token endpoint with the client secret and the PKCE verifier, so a
 *     stolen or replayed code is refused by the provider;
 *   - the ID token: signature against the provider's published keys, `iss`, `aud` (this client),
 *     `exp`/`iat`, and `nonce` equal to the one begin() issued;
 *   - when the ID token carries no email, the claims come from UserInfo, whose `sub` must match
 *     the ID token's.
 * `emailVerified` is passed through: the gateway decides whether an unverified email may sign in.
 */
import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';

export interface OidcSignInOptions {
  issuer: URL;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** Per request to the provider; openid-client's default is 30 s, long for a user waiting on a redirect. */
  timeoutSeconds?: number;
}

/** What begin() issued for one sign-in attempt; finish() needs exactly these back. */
export interface OidcSignInChecks {
  state: string;
  nonce: string;
  codeVerifier: string;
  /**
   * A re-authentication (begin({ reauthenticate: true })): when it was asked for, in seconds since
   * the epoch. The ID token's auth_time must not be earlier.
   */
  authAfter?: number;
}

export interface OidcIdentity {
  issuer: string;
  subject: string;
  email: string;
  emailVerified: boolean;
  name?: string;
  /** When the user last authenticated at the provider (the ID token's auth_time), in seconds since the epoch. */
  authTime?: number;
}

export type OidcSignInFailure =
  /** The provider could not be reached, timed out, or answered with something unusable. */
  | 'provider-unavailable'
  /** The user (or the provider's policy) declined, e.g. `error=access_denied`. */
  | 'denied'
  /** The callback does not belong to this attempt (state), or the code was not accepted. */
  | 'rejected'
  /**
   * Tokens or claims failed validation or lack an email, or the provider refused this client
   * (`invalid_client`: a configuration problem for an operator).
   */
  | 'invalid';

/** `message` is safe to show the user; what went wrong in detail is in `cause`, for the log. */
export class OidcSignInError extends Error {
  readonly failure: OidcSignInFailure;
  readonly reason: string;

  constructor(failure: OidcSignInFailure, reason: string, options?: { cause?: unknown }) {
    super(`the sign-in with your identity provider did not complete: ${reason}`, options);
    this.name = 'OidcSignInError';
    this.failure = failure;
    this.reason = reason;
  }
}

const SCOPE = 'openid email profile';
/**
 * How far the provider's clock may be behind ours when auth_time is compared with the moment a
 * re-authentication was asked for; openid-client allows the same for the ID token's times.
 */
const CLOCK_TOLERANCE_SECONDS = 30;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1']);

/** A network failure surfaces from fetch as a TypeError whose cause carries the errno code. */
function isNetworkFailure(err: unknown): boolean {
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) return true;
  return err instanceof TypeError && err.cause instanceof Error && 'code' in err.cause;
}

// Provider error codes are ASCII per RFC 6749, but they arrive in a URL anyone can craft; only a
// plain code is echoed to the user.
function safeCode(code: string): string {
  return /^[A-Za-z0-9_.-]{1,64}$/.test(code) ? code : 'unknown_error';
}

function toSignInError(err: unknown): OidcSignInError {
  if (err instanceof OidcSignInError) return err;
  if (err instanceof oidc.AuthorizationResponseError) {
    const code = safeCode(err.error);
    if (code === 'access_denied')
      return new OidcSignInError('denied', 'access was denied at the identity provider (access_denied)', { cause: err });
    return new OidcSignInError('denied', `the identity provider refused the request (${code})`, { cause: err });
  }
  if (err instanceof oidc.ResponseBodyError) {
    // invalid_grant covers a code that was already used, has expired, or fails the PKCE check.
    if (err.error === 'invalid_grant')
      return new OidcSignInError(
        'rejected',
        'the sign-in code was not accepted (it may have been used already or expired), please sign in again',
        { cause: err },
      );
    return new OidcSignInError('invalid', `the identity provider refused the request (${safeCode(err.error)})`, { cause: err });
  }
  if (err instanceof oidc.WWWAuthenticateChallengeError) {
    // How a token endpoint answers a client it does not authenticate (wrong secret, unknown client).
    // The response body is left unread by openid-client, and would hold its connection until GC.
    err.response.body?.cancel().catch(() => {});
    const code = err.cause[0]?.parameters.error;
    return new OidcSignInError('invalid', `the identity provider refused the request (${code ? safeCode(code) : `HTTP ${err.status}`})`, {
      cause: err,
    });
  }
  if (isNetworkFailure(err)) {
    return new OidcSignInError('provider-unavailable', 'the identity provider could not be reached, please try again later', {
      cause: err,
    });
  }
  if (err instanceof oidc.ClientError) {
    switch (err.code) {
      case 'OAUTH_RESPONSE_IS_NOT_CONFORM':
      case 'OAUTH_RESPONSE_IS_NOT_JSON':
      case 'OAUTH_PARSE_ERROR':
        return new OidcSignInError('provider-unavailable', 'the identity provider sent an unexpected response, please try again later', {
          cause: err,
        });
    }
  }
  return new OidcSignInError('invalid', "the identity provider's response could not be verified", { cause: err });
}

export class OidcSignIn {
  private constructor(
    private readonly config: oidc.Configuration,
    private readonly redirectUri: string,
  ) {}

  /**
   * Reads the provider's discovery document. Throws an Error for an issuer URL that is not allowed,
   * an OidcSignInError when discovery fails.
   */
  static async discover(opts: OidcSignInOptions): Promise<OidcSignIn> {
    const loopback = LOOPBACK_HOSTS.has(opts.issuer.hostname);
    if (opts.issuer.protocol !== 'https:' && !(opts.issuer.protocol === 'http:' && loopback)) {
      // openid-client would refuse it too, but with "only requests to HTTPS are allowed" from deep
      // inside discovery; this names the setting.
      throw new Error(`the OIDC issuer must be an https URL (plain http only on localhost or 127.0.0.1), got ${opts.issuer.href}`);
    }
    const execute: Array<(config: oidc.Configuration) => void> = [
      // openid-client v6 trusts an ID token from the token endpoint on the strength of TLS alone.
      // Checking its signature as well costs one cached JWKS fetch, and is what makes the ID token
      // trustworthy on the plain-http loopback allowed below.
      oidc.enableNonRepudiationChecks,
    ];
    // openid-client refuses http issuers. Plain http is allowed only on the loopback interface,
    // where the client secret and tokens never cross a network (the local stack and the tests run
    // a provider there); anywhere else it would hand them to whoever can watch the traffic.
    if (opts.issuer.protocol === 'http:' && loopback) execute.push(oidc.allowInsecureRequests);
    let config: oidc.Configuration;
    try {
      config = await oidc.discovery(opts.issuer, opts.clientId, undefined, oidc.ClientSecretBasic(opts.clientSecret), {
        execute,
        timeout: opts.timeoutSeconds ?? 10,
      });
    } catch (err) {
      const e = toSignInError(err);
      // This surfaces at startup, where the operator needs to know which issuer failed.
      throw new OidcSignInError(e.failure, `${e.reason} (discovery at ${opts.issuer.href})`, { cause: err });
    }
    return new OidcSignIn(config, opts.redirectUri);
  }

  /**
   * The URL to send the browser to, and the values finish() must be given back for this attempt.
   * `reauthenticate`: the user must sign in at the provider again, whatever session they have
   * there (before an account is deleted): the request says `prompt=login` and `max_age=0`, and
   * finish() refuses an ID token whose auth_time is older than this call.
   */
  begin(opts: { reauthenticate?: boolean } = {}): { url: URL; checks: OidcSignInChecks } {
    const checks: OidcSignInChecks = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
      ...(opts.reauthenticate ? { authAfter: Math.floor(Date.now() / 1000) } : {}),
    };
    // S256 by hand: openid-client's calculatePKCECodeChallenge is async (WebCrypto), node's hash is
    // not, which keeps begin() synchronous for the route handler.
    const codeChallenge = createHash('sha256').update(checks.codeVerifier).digest('base64url');
    const url = oidc.buildAuthorizationUrl(this.config, {
      redirect_uri: this.redirectUri,
      scope: SCOPE,
      state: checks.state,
      nonce: checks.nonce,
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
      // Both: a provider that ignores prompt=login must still honour max_age=0, which also makes
      // it send auth_time (OIDC Core 3.1.2.1), the only evidence the sign-in really happened again.
      ...(opts.reauthenticate ? { prompt: 'login', max_age: '0' } : {}),
    });
    return { url, checks };
  }

  /**
   * Completes the attempt from the provider's redirect. Only the query of `callbackUrl` is read:
   * openid-client sends the URL it is given (minus the query) as the token request's redirect_uri,
   * which must equal the registered one, and behind a proxy the request's own URL may not.
   */
  async finish(callbackUrl: URL, checks: OidcSignInChecks): Promise<OidcIdentity> {
    const current = new URL(this.redirectUri);
    current.search = callbackUrl.search;
    // openid-client compares state too; this earlier check only gives the user a specific reason
    // instead of the generic one its error would map to.
    const state = current.searchParams.get('state');
    if (state !== checks.state) {
      throw new OidcSignInError('rejected', 'the response does not belong to this sign-in attempt, please sign in again');
    }
    try {
      const tokens = await oidc.authorizationCodeGrant(this.config, current, {
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        pkceCodeVerifier: checks.codeVerifier,
        idTokenExpected: true,
      });
      const idToken = tokens.claims();
      if (!idToken) throw new OidcSignInError('invalid', 'the identity provider did not send an ID token');
      // openid-client's maxAge check measures auth_time against now; a re-authentication needs it
      // measured against the moment it was asked for (the user may take a while at the provider),
      // so the check is here, with openid-client's own clock tolerance.
      const authTime = typeof idToken.auth_time === 'number' ? idToken.auth_time : undefined;
      if (checks.authAfter !== undefined && (authTime === undefined || authTime < checks.authAfter - CLOCK_TOLERANCE_SECONDS))
        throw new OidcSignInError(
          'rejected',
          'the identity provider did not ask you to sign in again, so it could not confirm that it is you',
        );
      let claims: Record<string, unknown> = idToken;
      if (typeof idToken['email'] !== 'string') {
        // Providers that follow the spec's preference send profile claims only from UserInfo when
        // an access token is issued; fetchUserInfo checks its `sub` against the ID token's.
        claims = { ...(await oidc.fetchUserInfo(this.config, tokens.access_token, idToken.sub)), ...idToken };
      }
      const email = claims['email'];
      if (typeof email !== 'string' || email === '') {
        throw new OidcSignInError('invalid', 'the identity provider did not share an email address; allow access to it and sign in again');
      }
      const name = claims['name'];
      return {
        issuer: idToken.iss,
        subject: idToken.sub,
        email,
        emailVerified: claims['email_verified'] === true,
        ...(typeof name === 'string' && name !== '' ? { name } : {}),
        ...(authTime !== undefined ? { authTime } : {}),
      };
    } catch (err) {
      throw toSignInError(err);
    }
  }
}
