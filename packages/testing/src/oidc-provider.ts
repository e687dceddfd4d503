import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { freePort } from './free-port.ts';

export interface OidcTestClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}

export interface OidcTestUser {
  email: string;
  name: string;
  /** The provider's `email_verified` claim; true unless set. */
  emailVerified?: boolean;
}

export interface StartOidcProviderOptions {
  clients: OidcTestClient[];
  /** Account id (what the login form's `login` field takes) → claims. */
  users?: Record<string, OidcTestUser>;
  /**
   * Put email and name into the ID token and turn UserInfo off, so a relying party that depends on
   * UserInfo fails. By default (oidc-provider's, and the spec's preference) they come only from
   * UserInfo when an access token is issued; many hosted providers put them in the ID token.
   */
  claimsInIdToken?: boolean;
}

export interface OidcProviderHandle {
  issuer: string;
  close(): Promise<void>;
}

export const DEFAULT_OIDC_USERS: Readonly<Record<string, OidcTestUser>> = Object.freeze({
  alice: { email: 'alice@example.test', name: 'Alice Example' },
});

const PORT_ATTEMPTS = 3;

// Every one of these is oidc-provider telling a production deployment what to replace (or, for the
// runtime, that 9.x is only supported on Node 22+; the repository runs Node 20 and the tests
// exercise the paths it uses). In a test helper they are expected, and repeated in every test
// file's output they would only teach people to skip warnings.
const EXPECTED_NOTICES = [
  'Unsupported runtime',
  'a quick start development-only feature devInteractions is enabled',
  'a quick start development-only in-memory adapter is used',
];

// oidc-provider prints its notices with console.warn at import and construction time, which is
// synchronous apart from the import; filtering only for that span leaves every later warning alone.
async function withoutExpectedNotices<T>(fn: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    const text = String(args[0]);
    // includes, not startsWith: on a terminal the text comes wrapped in colour codes.
    if (text.includes('oidc-provider WARNING:') && EXPECTED_NOTICES.some((n) => text.includes(n))) return;
    warn.apply(console, args);
  };
  try {
    return await fn();
  } finally {
    console.warn = warn;
  }
}

function signingKeys(): { keys: object[] } {
  // Without our own keys oidc-provider signs with a development keystore that is published in its
  // source (and warns about it); a fresh key per provider also means no test can pass against
  // another provider's tokens.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { keys: [{ ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256', kid: randomBytes(8).toString('hex') }] };
}

async function listen(server: Server, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * A real OpenID Connect provider (oidc-provider, in this process) for sign-in tests: authorization
 * code flow with PKCE required, scopes `openid email profile`, and oidc-provider's built-in
 * development interactions, so a test signs in by fetching the authorization URL and submitting
 * the HTML forms it is sent to: a login form whose `login` field is the account id (any password),
 * then a consent form. `<issuer>/interaction/<uid>/abort` makes the provider answer the client
 * with `error=access_denied`.
 */
export async function startOidcProvider(opts: StartOidcProviderOptions): Promise<OidcProviderHandle> {
  const users = opts.users ?? DEFAULT_OIDC_USERS;
  for (let attempt = 1; ; attempt++) {
    // The issuer URL (with its port) is a constructor argument and ends up in every token, so the
    // port has to be chosen before the provider exists rather than by listening on port 0.
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const provider = await withoutExpectedNotices(async () => {
      const { default: Provider } = await import('oidc-provider');
      return new Provider(issuer, {
        clients: opts.clients.map((c) => ({
          client_id: c.clientId,
          client_secret: c.clientSecret,
          redirect_uris: c.redirectUris,
        })),
        pkce: { required: () => true },
        scopes: ['openid', 'email', 'profile'],
        claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
        conformIdTokenClaims: !opts.claimsInIdToken,
        features: { userinfo: { enabled: !opts.claimsInIdToken } },
        jwks: signingKeys(),
        cookies: { keys: [randomBytes(32).toString('base64url')] },
        // Explicit lifetimes: the defaults work but log a "you SHOULD change" notice when first used.
        ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
        async findAccount(_ctx: unknown, sub: string) {
          const user = users[sub];
          if (!user) return undefined;
          return {
            accountId: sub,
            async claims() {
              return { sub, email: user.email, email_verified: user.emailVerified ?? true, name: user.name };
            },
          };
        },
        async renderError(ctx: { type: string; body: string }, out: Record<string, string>) {
          // The default error page logs a notice the first time; tests read the error, not the page.
          ctx.type = 'text/plain';
          ctx.body = Object.entries(out)
            .map(([k, v]) => `${k}: ${v}`)
            .join('\n');
        },
      });
    });

    const server = createServer(provider.callback());
    try {
      await listen(server, port);
    } catch (err) {
      // freePort cannot reserve the port, so another process may have taken it in the meantime.
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < PORT_ATTEMPTS) continue;
      throw err;
    }
    // Nothing to hand to the cleanup registry: there is no child process or temp dir, and the
    // server dies with this process. Unref'd so a test that forgets close() still exits.
    server.unref();

    let closing: Promise<void> | undefined;
    return {
      issuer,
      close() {
        closing ??= new Promise<void>((resolve, reject) => {
          server.close((err) => (err ? reject(err) : resolve()));
          // fetch keeps idle keep-alive sockets open; close() would otherwise wait for them.
          server.closeAllConnections();
        });
        return closing;
      },
    };
  }
}

/**
 * A browser at the test provider: from an authorization URL it follows the redirects, fills the
 * login form as `login` (any password: the development login does not check it), consents, and
 * stops at the redirect to the relying party's `redirectUri`, which it returns (the test takes its
 * query to the gateway). Its cookies at the provider are kept between sign-ins, as a browser's are,
 * so a second sign-in finds the provider's session; `prompts` lists the forms it was shown.
 */
export class OidcProviderBrowser {
  readonly prompts: string[] = [];
  private readonly cookies = new Map<string, string>();

  constructor(private readonly redirectUri: string) {}

  async signIn(start: URL, login: string): Promise<URL> {
    let url = start;
    let init: RequestInit = {};
    for (let step = 0; step < 20; step++) {
      if (url.href.startsWith(this.redirectUri)) return url;
      const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const res = await fetch(url, { ...init, redirect: 'manual', headers: cookie ? { cookie } : {} });
      for (const line of res.headers.getSetCookie()) {
        const [pair = ''] = line.split(';');
        const i = pair.indexOf('=');
        const value = pair.slice(i + 1).trim();
        if (value) this.cookies.set(pair.slice(0, i).trim(), value);
        else this.cookies.delete(pair.slice(0, i).trim());
      }
      const location = res.headers.get('location');
      if (location) {
        await res.body?.cancel();
        url = new URL(location, url);
        init = {};
        continue;
      }
      const html = await res.text();
      const form = /<form\b[^>]*\baction="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
      if (!form) throw new Error(`expected a form from the provider, got ${res.status}:\n${html.slice(0, 500)}`);
      const fields = new URLSearchParams();
      for (const input of form[2]!.matchAll(/<input\b[^>]*>/gi)) {
        const name = /\bname="([^"]*)"/.exec(input[0])?.[1];
        if (name) fields.set(name, /\bvalue="([^"]*)"/.exec(input[0])?.[1] ?? '');
      }
      this.prompts.push(fields.get('prompt') ?? '');
      if (fields.get('prompt') === 'login') {
        fields.set('login', login);
        fields.set('password', 'anything: the test provider does not check it');
      }
      url = new URL(form[1]!.replaceAll('&amp;', '&'), url);
      init = { method: 'POST', body: fields };
    }
    throw new Error('the provider did not redirect to the callback within 20 steps');
  }
}
