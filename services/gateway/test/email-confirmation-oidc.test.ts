// An OpenID Connect sign-in confirms the account's address only when the provider says it verified
// it (email_verified). The gateway is built in-process and listens on a free port, with a real
// provider (oidc-provider), job and notification services and nats-server; the test plays the
// browser through the provider's login and consent forms.
import t from 'tap';
import { create, AccountSchema } from '@gas/proto';
import { OidcProviderBrowser, startGasStack, startOidcProvider, WebClient } from '@gas/testing';
import { OidcSignIn } from '../src/oidc-sign-in.ts';
import { stackClients, stackGateway } from './stack-clients.ts';

// Never listened on: the provider redirects the browser here, and the test takes the query to the gateway.
const REDIRECT_URI = 'http://127.0.0.1:9/signin/oidc/callback';
const CLIENT = { clientId: 'gas', clientSecret: 'a-client-secret-for-tests-only', redirectUris: [REDIRECT_URI] };
const provider = await startOidcProvider({
  clients: [CLIENT],
  users: {
    olivia: { email: 'olivia@example.test', name: 'Olivia' },
    eve: { email: 'eve@example.test', name: 'Eve', emailVerified: false },
    // Accounts made before addresses were confirmed: one whose provider does not (now) verify it, one that does.
    pat: { email: 'pat@example.test', name: 'Pat', emailVerified: false },
    quinn: { email: 'quinn@example.test', name: 'Quinn' },
  },
});
t.teardown(() => provider.close());
const stack = await startGasStack({ store: 'filesystem', services: ['job', 'notification'] });
t.teardown(() => stack.stop());
const clients = await stackClients(stack, { name: 'email-confirmation-oidc-test', deadlineMs: 10_000 });
const { identity } = clients;
const signIn = await OidcSignIn.discover({
  issuer: new URL(provider.issuer),
  clientId: CLIENT.clientId,
  clientSecret: CLIENT.clientSecret,
  redirectUri: REDIRECT_URI,
});
const app = await stackGateway(stack, clients, {
  oidc: { signIn, name: 'Example University' },
  admin: { emails: ['olivia@example.test', 'eve@example.test', 'pat@example.test', 'quinn@example.test'] },
});
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

/** Signs in through the provider as `login`; the gateway's answer to the callback. */
async function oidcSignIn(login: string) {
  const web = new WebClient(base);
  const begin = await web.get('/signin/oidc');
  if (begin.status !== 303 || !begin.location) throw new Error(`/signin/oidc answered ${begin.status}`);
  const callback = await new OidcProviderBrowser(REDIRECT_URI).signIn(new URL(begin.location), login);
  const res = await web.get(`/signin/oidc/callback${callback.search}`);
  return { web, res };
}

/** An OIDC account as one made before addresses were confirmed: linked, with an account, not confirmed. */
async function oldAccount(login: string, email: string) {
  const { userId } = await identity.users.create(email, null);
  await identity.users.linkOidc(provider.issuer, login, userId);
  await clients.accounts.upsertAccount({ account: create(AccountSchema, { userId, email, name: login }) });
}
await oldAccount('pat', 'pat@example.test');
await oldAccount('quinn', 'quinn@example.test');

t.test('a first sign-in with a verified address makes a confirmed account: an admin at once', async (t) => {
  const { web, res } = await oidcSignIn('olivia');
  t.equal(res.status, 303);
  t.ok((await identity.users.byEmail('olivia@example.test'))?.emailConfirmedAt);
  t.equal((await web.get('/admin')).status, 200);
  t.notMatch((await web.get('/profile')).text, /not confirmed yet/);
});

t.test('email_verified=false: no account at a first sign-in, no confirmation and no admin for an old account', async (t) => {
  const eve = await oidcSignIn('eve');
  t.equal(eve.res.status, 403);
  t.match(eve.res.text, 'Example University has not verified your e-mail address.');
  t.equal(eve.web.cookies.has('gas_session'), false, 'not signed in');
  t.equal(await identity.users.byEmail('eve@example.test'), null, 'no account');

  const pat = await oidcSignIn('pat');
  t.equal(pat.res.status, 303, 'the old account signs in');
  t.notOk((await identity.users.byEmail('pat@example.test'))?.emailConfirmedAt, 'its address is not confirmed');
  const admin = await pat.web.get('/admin');
  t.equal(admin.status, 404);
  t.match(admin.text, /There is no page at this address/);
  t.notMatch((await pat.web.get('/jobs')).text, /href="\/admin"/);
  t.match((await pat.web.get('/profile')).text, 'Your e-mail address pat@example.test is not confirmed yet.');
});

t.test('an old account whose provider verifies the address is confirmed at its next sign-in', async (t) => {
  t.notOk((await identity.users.byEmail('quinn@example.test'))?.emailConfirmedAt, 'not confirmed before');
  const { web, res } = await oidcSignIn('quinn');
  t.equal(res.status, 303);
  t.ok((await identity.users.byEmail('quinn@example.test'))?.emailConfirmedAt);
  t.equal((await web.get('/admin')).status, 200);
});
