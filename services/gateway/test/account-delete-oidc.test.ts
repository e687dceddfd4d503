// An account that signs in only through OpenID Connect confirms its deletion, or a change of its
// address, by signing in at the provider again (prompt=login, max_age=0), not with anything a
// session alone can give; so does an admin without a password who deletes an account on its
// owner's request. The gateway
// is built in-process and listens on a free port, with a real provider (oidc-provider), job and
// notification services and nats-server; the test plays the browser, keeping its cookies at the
// provider between sign-ins, so the provider has a session the re-authentication must not reuse.
import t from 'tap';
import { create, AccountSchema, RpcError, Status } from '@gas/proto';
import { OidcProviderBrowser, startOidcProvider, WebClient } from '@gas/testing';
import { OidcSignIn } from '../src/oidc-sign-in.ts';
import { hashPassword } from '../src/identity/index.ts';
import { mailingGatewayStack } from './stack-clients.ts';

// Never listened on: the provider redirects the browser here, and the test takes the query to the gateway.
const REDIRECT_URI = 'http://127.0.0.1:9/signin/oidc/callback';
const CLIENT = { clientId: 'gas', clientSecret: 'a-client-secret-for-tests-only', redirectUris: [REDIRECT_URI] };
const provider = await startOidcProvider({
  clients: [CLIENT],
  users: {
    olivia: { email: 'olivia@example.test', name: 'Olivia' },
    mallory: { email: 'mallory@example.test', name: 'Mallory' },
    nadia: { email: 'nadia@example.test', name: 'Nadia' },
    ada: { email: 'ada@example.test', name: 'Ada Admin' },
    pia: { email: 'pia@example.test', name: 'Pia' },
  },
});
t.teardown(() => provider.close());
const signIn = await OidcSignIn.discover({
  issuer: new URL(provider.issuer),
  clientId: CLIENT.clientId,
  clientSecret: CLIENT.clientSecret,
  redirectUri: REDIRECT_URI,
});
const { smtp, clients, base } = await mailingGatewayStack('account-delete-oidc-test', {
  oidc: { signIn, name: 'Example University' },
  admin: { emails: ['ada@example.test'] },
});
const { identity, accounts } = clients;

/** One browser: its cookies at the gateway (a WebClient) and at the provider, and the provider forms it was shown. */
class Browser {
  readonly web = new WebClient(base);
  readonly provider = new OidcProviderBrowser(REDIRECT_URI);

  /** Follows the provider from `start` to its redirect to REDIRECT_URI, signing in as `login` when asked. */
  atProvider(start: URL, login: string): Promise<URL> {
    return this.provider.signIn(start, login);
  }

  /** Signs in to GAS through the provider; a first sign-in makes the account. */
  async signIn(login: string): Promise<void> {
    const begin = await this.web.get('/signin/oidc');
    const res = await this.web.get(`/signin/oidc/callback${(await this.atProvider(new URL(begin.location!), login)).search}`);
    if (res.status !== 303) throw new Error(`the OIDC sign-in answered ${res.status}: ${res.text.slice(0, 300)}`);
  }

  /** Presses "Confirm at …" on the page at `next` and signs in at the provider as `login`; the gateway's answer to the callback. */
  async confirmAtProvider(login: string, next = '/account/delete') {
    const page = await this.web.get(next);
    const begin = await this.web.postForm('/signin/oidc/reauthenticate', { _csrf: WebClient.csrfOf(page.text), next });
    if (begin.status !== 303 || !begin.location) throw new Error(`/signin/oidc/reauthenticate answered ${begin.status}: ${begin.text}`);
    this.provider.prompts.length = 0;
    const callback = await this.atProvider(new URL(begin.location), login);
    return { begin, res: await this.web.get(`/signin/oidc/callback${callback.search}`) };
  }

  async deleteAccount(fields: Record<string, string> = {}) {
    const page = await this.web.get('/account/delete');
    return this.web.postForm('/account/delete', { _csrf: WebClient.csrfOf(page.text), ...fields });
  }
}

const accountExists = (userId: string) =>
  accounts.getAccount({ userId }).then(
    () => true,
    (err: unknown) => !(err instanceof RpcError && err.code === Status.NOT_FOUND),
  );

t.test('the session alone, or the address typed in, does not delete an account without a password', async (t) => {
  const b = new Browser();
  await b.signIn('olivia');
  const userId = (await identity.users.userForOidc(provider.issuer, 'olivia'))!;
  t.ok(userId, 'the first sign-in made the account');

  const page = await b.web.get('/account/delete');
  t.equal(page.status, 200);
  t.match(page.text, /sign in at Example University again/);
  t.match(page.text, /action="\/signin\/oidc\/reauthenticate"/);
  t.notMatch(page.text, /Delete my account and all its data/, 'no delete button before the confirmation');
  t.notMatch(page.text, /name="email"/, 'no address to type in');

  const typed = await b.deleteAccount({ email: 'olivia@example.test' });
  t.equal(typed.status, 401);
  t.match(typed.text, /Confirm at Example University that it is you first/);
  t.ok(await accountExists(userId), 'nothing was deleted');

  const noCsrf = await b.web.postForm('/signin/oidc/reauthenticate', { next: '/account/delete' });
  t.equal(noCsrf.status, 403, 'the confirmation starts only from the page (CSRF token)');
});

t.test('signing in at the provider again unlocks the deletion for this session, and it goes through', async (t) => {
  const b = new Browser();
  await b.signIn('nadia');
  const userId = (await identity.users.userForOidc(provider.issuer, 'nadia'))!;

  const { begin, res } = await b.confirmAtProvider('nadia');
  const asked = new URL(begin.location!);
  t.equal(asked.searchParams.get('prompt'), 'login');
  t.equal(asked.searchParams.get('max_age'), '0');
  t.ok(
    b.provider.prompts.includes('login'),
    `the provider asked for the sign-in again, though it had a session (forms: ${b.provider.prompts.join(', ')})`,
  );
  t.equal(res.status, 303);
  t.equal(res.location, '/account/delete');

  // Another session of the same user does not share the confirmation, even with its cookie.
  const other = new Browser();
  await other.signIn('nadia');
  for (const [name, value] of b.web.cookies) if (name === 'gas_reauth') other.web.cookies.set(name, value);
  t.ok(other.web.cookies.has('gas_reauth'), 'the other browser carries the copied confirmation');
  t.notMatch((await other.web.get('/account/delete')).text, /Delete my account and all its data/);
  t.equal((await other.deleteAccount()).status, 401, 'and cannot delete with it');

  const page = await b.web.get('/account/delete');
  t.match(page.text, /You have just confirmed at Example University that it is you/);
  t.match(page.text, /Delete my account and all its data/);
  const done = await b.deleteAccount();
  t.equal(done.status, 303);
  t.equal(done.location, '/');
  t.notOk(await accountExists(userId), 'the account is gone');
  t.equal(await identity.users.userForOidc(provider.issuer, 'nadia'), null, 'and its provider link');
  t.notOk(b.web.cookies.has('gas_reauth'), 'the confirmation is used up');
  t.equal((await other.web.get('/jobs')).status, 303, "the other browser's session is over too");
});

t.test('a confirmation by another provider account, or for another GAS user, is refused', async (t) => {
  const b = new Browser();
  await b.signIn('mallory');
  const mallory = (await identity.users.userForOidc(provider.issuer, 'mallory'))!;
  // At the provider, someone else signs in (the browser's provider session is mallory's, but the login form is asked again).
  const { res } = await b.confirmAtProvider('olivia');
  t.equal(res.status, 403);
  t.match(res.text, /not the one linked to your GAS account/);
  t.notOk(b.web.cookies.has('gas_reauth'), 'nothing was recorded');
  t.equal((await b.deleteAccount()).status, 401);
  t.ok(await accountExists(mallory));

  // Started as one GAS user, finished after signing in to GAS as another (with a password) in the same browser.
  const page = await b.web.get('/account/delete');
  const begin = await b.web.postForm('/signin/oidc/reauthenticate', { _csrf: WebClient.csrfOf(page.text), next: '/account/delete' });
  const callback = await b.atProvider(new URL(begin.location!), 'mallory');
  const { userId: pamId } = await identity.users.create('pam@example.test', await hashPassword('pam’s password'), { confirmed: true });
  await accounts.upsertAccount({ account: create(AccountSchema, { userId: pamId, email: 'pam@example.test', name: 'Pam' }) });
  await b.web.postForm('/signout', { _csrf: WebClient.csrfOf((await b.web.get('/jobs')).text) });
  t.equal((await b.web.signIn('pam@example.test', 'pam’s password')).status, 303);
  const switched = await b.web.get(`/signin/oidc/callback${callback.search}`);
  t.equal(switched.status, 400);
  t.match(switched.text, /signed in to GAS as someone else/);
  t.notOk(b.web.cookies.has('gas_reauth'));
});

t.test('an admin without a password confirms at the provider before deleting an account on request', async (t) => {
  const { userId: targetId } = await identity.users.create('quinn@example.test', await hashPassword('quinn’s password'), {
    confirmed: true,
  });
  await accounts.upsertAccount({ account: create(AccountSchema, { userId: targetId, email: 'quinn@example.test', name: 'Quinn' }) });
  const b = new Browser();
  await b.signIn('ada');
  const url = `/admin/accounts/${targetId}/delete`;
  const page = await b.web.get(url);
  t.equal(page.status, 200);
  t.match(page.text, /action="\/signin\/oidc\/reauthenticate"/);
  t.match(page.text, `name="next" value="${url}"`, 'the confirmation comes back to this page');
  t.notMatch(page.text, /Delete this account and all its data/, 'no delete button before the confirmation');
  const unconfirmed = await b.web.postForm(url, { _csrf: WebClient.csrfOf(page.text), email: 'quinn@example.test' });
  t.equal(unconfirmed.status, 401);
  t.match(unconfirmed.text, /Confirm at Example University that it is you first/);
  t.ok(await accountExists(targetId), 'the session alone deletes nothing');

  const begin = await b.web.postForm('/signin/oidc/reauthenticate', { _csrf: WebClient.csrfOf(page.text), next: url });
  t.equal(new URL(begin.location!).searchParams.get('prompt'), 'login');
  const res = await b.web.get(`/signin/oidc/callback${(await b.atProvider(new URL(begin.location!), 'ada')).search}`);
  t.equal(res.status, 303);
  t.equal(res.location, url, 'back to the deletion page');
  const confirmed = await b.web.get(url);
  t.match(confirmed.text, /You have just confirmed at Example University that it is you/);
  t.notMatch(confirmed.text, /name="password"/, 'no password asked');
  const deleted = await b.web.postForm(url, { _csrf: WebClient.csrfOf(confirmed.text), email: 'quinn@example.test' });
  t.equal(deleted.status, 200);
  t.match(deleted.text, /Account deleted/);
  t.notOk(await accountExists(targetId), 'the account is gone');
  t.notOk(b.web.cookies.has('gas_reauth'), 'the confirmation is used up');
});

t.test('an account without a password changes its address after confirming at the provider, and still signs in there', async (t) => {
  const b = new Browser();
  await b.signIn('pia');
  const userId = (await identity.users.userForOidc(provider.issuer, 'pia'))!;
  const ask = async () => {
    const page = await b.web.get('/profile/email');
    return b.web.postForm('/profile/email', { _csrf: WebClient.csrfOf(page.text), new_email: 'pia@elsewhere.test' });
  };

  const form = await b.web.get('/profile/email');
  t.match(form.text, /sign in at Example University again; you come back here to change your address/);
  t.notMatch(form.text, /name="password"/, 'no password to give');
  const unconfirmed = await ask();
  t.equal(unconfirmed.status, 401);
  t.match(unconfirmed.text, /Confirm at Example University that it is you first/);
  t.notOk((await identity.users.byEmail('pia@example.test'))?.emailChange, 'nothing was asked for');

  const { res } = await b.confirmAtProvider('pia', '/profile/email');
  t.equal(res.status, 303);
  t.equal(res.location, '/profile/email');
  t.match((await b.web.get('/profile/email')).text, /You confirmed at Example University that it is you/);
  t.equal((await ask()).status, 303);
  t.notOk(b.web.cookies.has('gas_reauth'), 'the confirmation is used up');

  const sent = await smtp.waitFor((ms) => ms.some((m) => m.envelope.to.includes('pia@elsewhere.test')), 30_000);
  const href = /(http\S+\/change-email\?token=[A-Za-z0-9._%-]+)/.exec(
    sent.find((m) => m.envelope.to.includes('pia@elsewhere.test'))!.text,
  )![1]!;
  const link = await b.web.get(new URL(href).pathname + new URL(href).search);
  const moved = await b.web.postForm('/change-email', {
    _csrf: WebClient.csrfOf(link.text),
    token: /name="token" value="([^"]*)"/.exec(link.text)![1]!,
  });
  t.equal(moved.status, 303);
  t.equal((await accounts.getAccount({ userId })).account?.email, 'pia@elsewhere.test');
  t.equal(await identity.users.byEmail('pia@example.test'), null);
  t.equal((await identity.users.byEmail('pia@elsewhere.test'))?.passwordHash, null, 'still no password');

  // The provider still says pia@example.test; the link to the provider account is by its subject.
  const later = new Browser();
  await later.signIn('pia');
  t.equal(await identity.users.userForOidc(provider.issuer, 'pia'), userId, 'the same account signs in through the provider');
  t.match((await later.web.get('/profile')).text, /value="pia@elsewhere\.test"/, 'with the address it chose');
});
