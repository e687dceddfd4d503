// OidcSignIn against a real OpenID Connect provider (oidc-provider in this process), signing in the
// way a browser would: follow the provider's redirects, submit its login and consent forms.
import t from 'tap';
import type { Test } from 'tap';
import { freePort, startOidcProvider } from '@gas/testing';
import type { OidcProviderHandle } from '@gas/testing';
import { OidcSignIn, OidcSignInError } from '../src/oidc-sign-in.ts';

// Never listened on: the provider redirects the browser here, and the test stops at that redirect.
const REDIRECT_URI = 'http://127.0.0.1:9/auth/oidc/callback';
const CLIENT = { clientId: 'gas-gateway', clientSecret: 'a-test-client-secret-of-some-length', redirectUris: [REDIRECT_URI] };
const USERS = { alice: { email: 'alice@example.test', name: 'Alice Example' } };

const provider: OidcProviderHandle = await startOidcProvider({ clients: [CLIENT], users: USERS });
t.teardown(() => provider.close());
const signIn: OidcSignIn = await discover(provider);

function discover(p: { issuer: string }): Promise<OidcSignIn> {
  return OidcSignIn.discover({
    issuer: new URL(p.issuer),
    clientId: CLIENT.clientId,
    clientSecret: CLIENT.clientSecret,
    redirectUri: REDIRECT_URI,
  });
}

/** Just enough of a browser's cookie handling for oidc-provider: name, value and Path. */
class CookieJar {
  private readonly cookies = new Map<string, { value: string; path: string }>();

  store(res: Response): void {
    for (const header of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = header.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const path = attrs.find((a) => /^path=/i.test(a))?.slice(5) ?? '/';
      const expired = attrs.some((a) => /^max-age=0$/i.test(a) || /^expires=thu, 01 jan 1970/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, { value, path });
    }
  }

  header(url: URL): string {
    return [...this.cookies]
      .filter(([, c]) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
  }
}

interface Form {
  action: URL;
  fields: URLSearchParams;
}

function formIn(html: string, base: URL): Form {
  const form = html.match(/<form\b[^>]*\baction="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i);
  // The browser cannot go on without a form: the test ends here with what the provider sent.
  if (!form) throw new Error(`expected an HTML form from the provider, got:\n${html.slice(0, 500)}`);
  const fields = new URLSearchParams();
  for (const input of form[2]!.matchAll(/<input\b[^>]*>/gi)) {
    const name = input[0].match(/\bname="([^"]*)"/)?.[1];
    if (name) fields.set(name, input[0].match(/\bvalue="([^"]*)"/)?.[1] ?? '');
  }
  return { action: new URL(form[1]!.replaceAll('&amp;', '&'), base), fields };
}

/**
 * Plays the browser from the authorization URL until the provider redirects to the gateway's
 * callback, and returns that callback URL. `login` signs in as that account and consents;
 * `abort` cancels at the login form, as a user pressing "cancel" would.
 */
async function browse(
  start: URL,
  how: { login: string } | { abort: true },
  /** The browser's cookies at the provider: a jar kept from an earlier sign-in carries the provider's session. */
  jar = new CookieJar(),
  /** Each form the provider showed, by its prompt (login, consent), is added here. */
  prompts: string[] = [],
): Promise<URL> {
  let url = start;
  let method = 'GET';
  let body: URLSearchParams | undefined;
  for (let step = 0; step < 20; step++) {
    if (url.href.startsWith(REDIRECT_URI)) return url;
    const cookie = jar.header(url);
    const res = await fetch(url, {
      method,
      redirect: 'manual',
      headers: { ...(cookie ? { cookie } : {}) },
      ...(body ? { body } : {}),
    });
    jar.store(res);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      url = new URL(location, url);
      method = 'GET';
      body = undefined;
      continue;
    }
    const html = await res.text();
    if (res.status !== 200) throw new Error(`unexpected ${res.status} from ${url.href}:\n${html.slice(0, 500)}`);
    const form = formIn(html, url);
    const prompt = form.fields.get('prompt');
    prompts.push(String(prompt));
    if ('abort' in how) {
      url = new URL(`${form.action.pathname}/abort`, form.action);
      continue;
    }
    if (prompt === 'login') {
      form.fields.set('login', how.login);
      form.fields.set('password', 'any password: the dev login does not check it');
    } else if (prompt !== 'consent') {
      throw new Error(`unexpected form from the provider (prompt ${String(prompt)}):\n${html.slice(0, 500)}`);
    }
    url = form.action;
    method = 'POST';
    body = form.fields;
  }
  throw new Error('the provider did not redirect to the callback within 20 steps');
}

/** `promise` rejects with an OidcSignInError whose message says `message`; resolves to it (undefined if it is not one). */
async function rejects(t: Test, promise: Promise<unknown>, message: RegExp): Promise<OidcSignInError | undefined> {
  const error: unknown = await t.rejects(promise, OidcSignInError, 'rejects with an OidcSignInError');
  if (!(error instanceof OidcSignInError)) return undefined;
  t.match(error.message, /^the sign-in with your identity provider did not complete: /);
  t.match(error.message, message);
  return error;
}

t.test('the code flow signs in and returns the subject, email and name', async (t) => {
  const { url, checks } = signIn.begin();
  t.equal(url.searchParams.get('code_challenge_method'), 'S256');
  t.equal(url.searchParams.get('scope'), 'openid email profile');
  const callback = await browse(url, { login: 'alice' });
  t.ok(callback.searchParams.get('code'), `no code in ${callback.href}`);

  const identity = await signIn.finish(callback, checks);
  t.strictSame(identity, {
    issuer: provider.issuer,
    subject: 'alice',
    email: 'alice@example.test',
    emailVerified: true,
    name: 'Alice Example',
  });
});

t.test('a re-authentication makes the provider ask for the sign-in again, and its auth_time must be from after the request', async (t) => {
  const jar = new CookieJar();
  const first = signIn.begin();
  await signIn.finish(await browse(first.url, { login: 'alice' }, jar), first.checks);
  const ordinary = signIn.begin();
  const ordinaryPrompts: string[] = [];
  await signIn.finish(await browse(ordinary.url, { login: 'alice' }, jar, ordinaryPrompts), ordinary.checks);
  t.notOk(
    ordinaryPrompts.includes('login'),
    `an ordinary sign-in goes through on the provider's session (forms: ${ordinaryPrompts.join(', ')})`,
  );

  const again = signIn.begin({ reauthenticate: true });
  t.equal(again.url.searchParams.get('prompt'), 'login');
  t.equal(again.url.searchParams.get('max_age'), '0');
  t.type(again.checks.authAfter, 'number');
  const prompts: string[] = [];
  const who = await signIn.finish(await browse(again.url, { login: 'alice' }, jar, prompts), again.checks);
  t.ok(prompts.includes('login'), 'the provider asked for the sign-in although it had a session');
  t.equal(who.subject, 'alice');
  t.ok(who.authTime !== undefined && who.authTime >= again.checks.authAfter! - 1, `auth_time ${who.authTime} is that new sign-in`);

  // As if the answer's sign-in were from before the request (a provider that ignored prompt=login
  // and max_age=0 and answered from its session): shifted by two minutes, past the 30 s tolerance.
  const late = signIn.begin({ reauthenticate: true });
  const callback = await browse(late.url, { login: 'alice' }, jar);
  const err = await rejects(
    t,
    signIn.finish(callback, { ...late.checks, authAfter: late.checks.authAfter! + 120 }),
    /did not ask you to sign in again, so it could not confirm that it is you/,
  );
  t.equal(err?.failure, 'rejected');
});

t.test('claims from the ID token are used when the provider puts them there', async (t) => {
  const inToken = await startOidcProvider({
    clients: [CLIENT],
    users: { bob: { email: 'bob@example.test', name: 'Bob Example' } },
    claimsInIdToken: true,
  });
  try {
    const client = await discover(inToken);
    const { url, checks } = client.begin();
    const identity = await client.finish(await browse(url, { login: 'bob' }), checks);
    t.strictSame(identity, { issuer: inToken.issuer, subject: 'bob', email: 'bob@example.test', emailVerified: true, name: 'Bob Example' });
  } finally {
    await inToken.close();
  }
});

t.test('a callback whose state was tampered with is refused', async (t) => {
  const { url, checks } = signIn.begin();
  const callback = await browse(url, { login: 'alice' });
  callback.searchParams.set('state', `${checks.state}x`);
  const err = await rejects(t, signIn.finish(callback, checks), /does not belong to this sign-in attempt/);
  t.equal(err?.failure, 'rejected');
});

t.test('checks from another sign-in attempt are refused', async (t) => {
  const { url } = signIn.begin();
  const other = signIn.begin().checks;
  const callback = await browse(url, { login: 'alice' });
  await rejects(t, signIn.finish(callback, other), /does not belong to this sign-in attempt/);
});

t.test('a wrong PKCE verifier is refused by the provider', async (t) => {
  const { url, checks } = signIn.begin();
  const callback = await browse(url, { login: 'alice' });
  const err = await rejects(
    t,
    signIn.finish(callback, { ...checks, codeVerifier: signIn.begin().checks.codeVerifier }),
    /code was not accepted/,
  );
  t.equal(err?.failure, 'rejected');
});

t.test('a wrong nonce fails the ID token check', async (t) => {
  const { url, checks } = signIn.begin();
  const callback = await browse(url, { login: 'alice' });
  const err = await rejects(t, signIn.finish(callback, { ...checks, nonce: `${checks.nonce}x` }), /could not be verified/);
  t.equal(err?.failure, 'invalid');
});

t.test('a code used a second time is refused', async (t) => {
  const { url, checks } = signIn.begin();
  const callback = await browse(url, { login: 'alice' });
  await signIn.finish(callback, checks);
  const err = await rejects(t, signIn.finish(callback, checks), /code was not accepted \(it may have been used already/);
  t.equal(err?.failure, 'rejected');
});

t.test('the provider answering access_denied ends the sign-in with a clear message', async (t) => {
  const { url, checks } = signIn.begin();
  const callback = await browse(url, { abort: true });
  t.equal(callback.searchParams.get('error'), 'access_denied');
  const err = await rejects(t, signIn.finish(callback, checks), /access was denied at the identity provider \(access_denied\)$/);
  t.equal(err?.failure, 'denied');
});

t.test('a wrong client secret is reported as the provider refusing the request', async (t) => {
  const misconfigured = await OidcSignIn.discover({
    issuer: new URL(provider.issuer),
    clientId: CLIENT.clientId,
    clientSecret: 'not-the-secret',
    redirectUri: REDIRECT_URI,
  });
  const { url, checks } = misconfigured.begin();
  const callback = await browse(url, { login: 'alice' });
  const err = await rejects(t, misconfigured.finish(callback, checks), /the identity provider refused the request \(invalid_client\)$/);
  t.equal(err?.failure, 'invalid');
});

t.test('a provider that goes down before the code is redeemed is reported as unreachable', async (t) => {
  const shortLived = await startOidcProvider({ clients: [CLIENT], users: USERS });
  const client = await discover(shortLived);
  const { url, checks } = client.begin();
  const callback = await browse(url, { login: 'alice' });
  await shortLived.close();
  const err = await rejects(t, client.finish(callback, checks), /the identity provider could not be reached/);
  t.equal(err?.failure, 'provider-unavailable');
});

t.test('discovery against a closed port says the provider could not be reached, and where', async (t) => {
  const issuer = `http://127.0.0.1:${await freePort()}`;
  const err = await rejects(t, discover({ issuer }), /the identity provider could not be reached/);
  t.match(err?.message, `discovery at ${issuer}/`);
  t.equal(err?.failure, 'provider-unavailable');
});

t.test('an http issuer is refused unless it is on the loopback interface', async (t) => {
  await t.rejects(
    OidcSignIn.discover({ issuer: new URL('http://idp.example.test'), clientId: 'x', clientSecret: 'y', redirectUri: REDIRECT_URI }),
    /must be an https URL/,
  );
});
