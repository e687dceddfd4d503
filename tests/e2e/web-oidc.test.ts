// OpenID Connect sign-in in a real Chromium against a real local provider (oidc-provider): the
// gateway sends the browser to the provider, the user signs in and consents there, and comes back
// signed in to GAS with an account made from the provider's claims.
import t from 'tap';
import {
  freePort,
  launchBrowser,
  newPage,
  pageErrors,
  screenshot,
  startGasStack,
  startOidcProvider,
  WebClient,
  DESKTOP,
} from '@gas/testing';
import type { Page } from '@gas/testing';

const gatewayPort = await freePort();
const redirectUri = `http://127.0.0.1:${gatewayPort}/signin/oidc/callback`;
const provider = await startOidcProvider({
  clients: [{ clientId: 'gas', clientSecret: 'a-client-secret-for-tests-only', redirectUris: [redirectUri] }],
  users: {
    alice: { email: 'alice@example.test', name: 'Alice Example' },
    bob: { email: 'bob@example.test', name: 'Bob Example' },
    // Addresses the provider has not verified: one registered here (bob's), one not.
    mallory: { email: 'bob@example.test', name: 'Mallory', emailVerified: false },
    eve: { email: 'eve@example.test', name: 'Eve', emailVerified: false },
  },
});
// Teardowns run last-added first: the browser, then the stack, then the provider.
t.teardown(() => provider.close());
const stack = await startGasStack({
  store: 'filesystem',
  services: ['job', 'gateway'],
  gatewayPort,
  env: {
    gateway: {
      OIDC_ISSUER: provider.issuer,
      OIDC_CLIENT_ID: 'gas',
      OIDC_CLIENT_SECRET: 'a-client-secret-for-tests-only',
      OIDC_REDIRECT_URI: redirectUri,
      OIDC_NAME: 'Example University',
    },
  },
});
t.teardown(() => stack.stop());
const browser = await launchBrowser();
t.teardown(() => browser.close());

const shot = (page: Page, step: string) => screenshot(page, import.meta.filename, step);

/** From the gateway's sign-in page through the provider's login and consent, back to GAS. */
async function signInAtProvider(page: Page, login: string, step: string): Promise<void> {
  await page.goto(`${stack.url}/signin`);
  await page.getByRole('link', { name: 'Sign in with Example University' }).click();
  // A provider that still has a session of its own sends the browser straight back.
  const back = page.waitForURL(`${stack.url}/**`).then(() => 'back' as const);
  const form = page
    .locator('input[name=login]')
    .waitFor()
    .then(() => 'login' as const);
  if ((await Promise.race([back, form])) === 'back') return;
  if (step) await shot(page, `${step} provider login`);
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('anything: the test provider does not check it');
  await page.locator('button[type=submit]').click();
  await page.waitForLoadState();
  // Consent is asked the first time only.
  if (!page.url().startsWith(stack.url)) await page.locator('button[type=submit]').click();
  await page.waitForURL(`${stack.url}/**`);
}

t.test('first sign-in through the provider makes an account from its claims; the second finds the same account', async (t) => {
  const page = await newPage(browser, DESKTOP);
  t.teardown(() => page.close());
  await signInAtProvider(page, 'alice', 'first');
  await page.waitForURL(/\/jobs$/);
  await shot(page, 'signed in');
  await page.goto(`${stack.url}/profile`);
  t.equal(await page.getByLabel('Name').inputValue(), 'Alice Example');
  t.equal(await page.getByLabel('E-mail').inputValue(), 'alice@example.test');
  await page.getByLabel('Institution').fill('Example University');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(/saved=1/);
  // Sign out, and in again through the provider: the same account, with what was saved.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(`${stack.url}/`);
  await signInAtProvider(page, 'alice', '');
  await page.goto(`${stack.url}/profile`);
  t.equal(await page.getByLabel('Institution').inputValue(), 'Example University');
  // The provider's own pages (fonts from the internet, no favicon) are not ours to judge.
  t.strictSame(
    pageErrors(page).filter((e) => e.includes(stack.url) || !e.includes('http')),
    [],
    'no script or console errors of ours',
  );
});

t.test('a provider account whose address already has a password account is not signed into it', async (t) => {
  const c = new WebClient(stack.url);
  await c.signUp({ email: 'bob@example.test', password: 'bob has a password', name: 'Bob (password)' });
  const page = await newPage(browser, DESKTOP);
  t.teardown(() => page.close());
  await signInAtProvider(page, 'bob', '');
  t.match(page.url(), /\/signin\/oidc\/callback/);
  t.match(await page.locator('p.error').innerText(), /exists already\. Sign in with its password/);
  await page.goto(`${stack.url}/jobs`);
  t.match(page.url(), /\/signin\?next=/, 'not signed in');
  await shot(page, 'refused takeover');
});

t.test('an address the provider has not verified is refused alike, registered or not, and gets no account', async (t) => {
  const refusals: string[] = [];
  for (const login of ['mallory', 'eve']) {
    const page = await newPage(browser, DESKTOP);
    t.teardown(() => page.close());
    await signInAtProvider(page, login, '');
    refusals.push(await page.locator('p.error').innerText());
    await page.goto(`${stack.url}/jobs`);
    t.match(page.url(), /\/signin\?next=/, `${login} is not signed in`);
  }
  t.equal(refusals[0], refusals[1], 'the same answer: whether bob@example.test has an account does not show');
  t.match(refusals[0]!, /has not verified your e-mail address/);
});

t.test('a callback without the attempt cookie, or with a forged state, signs nobody in', async (t) => {
  const c = new WebClient(stack.url);
  const res = await c.get('/signin/oidc/callback?code=stolen&state=guess');
  t.equal(res.status, 400);
  t.match(res.text, /took too long or was started in another browser/);
  t.equal(c.cookies.has('gas_session'), false);
  // A real attempt, then a callback with another state: refused by the state check.
  const start = await c.get('/signin/oidc');
  t.equal(start.status, 303);
  t.ok(start.location?.startsWith(provider.issuer), 'sends the browser to the provider', { location: start.location });
  const forged = await c.get('/signin/oidc/callback?code=stolen&state=not-the-one-issued');
  t.equal(forged.status, 400);
  t.equal(c.cookies.has('gas_session'), false);
});
