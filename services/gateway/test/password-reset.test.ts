// A forgotten password, and a change on the profile. The gateway is built in-process (buildGateway)
// and listens on a free port; the job and notification services, nats-server and the SMTP server
// are real processes, so the reset link travels the way it does in production: the gateway asks the
// job service, which publishes account.password_reset_requested, and the notification service mails
// it. A test clock in the gateway stands in for waiting 2 minutes or an hour.
import t from 'tap';
import { WebClient } from '@gas/testing';
import type { ReceivedMail } from '@gas/testing';
import { createRegistry } from '@gas/runtime';
import { mailingGatewayStack } from './stack-clients.ts';

const PASSWORD = 'a password long enough for the form';
const NEW_PASSWORD = 'another password, also long enough';
const RESET = 'GAS: Reset your password';
const CHANGED = 'GAS: Your password was changed';

// The gateway's clock for reset links: real time plus what a test moves it on by.
let skewMs = 0;
const registry = createRegistry('password-reset-test');
const { clients, base, mail, mailsTo, eventsHandled } = await mailingGatewayStack('password-reset-test', {
  registry,
  passwordReset: { now: () => Date.now() + skewMs },
  rateLimit: { perMinute: 100_000, signInPerMinute: 1000 },
});
const { identity } = clients;

/** The link in a reset mail, as a path on this gateway. */
function linkOf(m: ReceivedMail): string {
  const href = /^(http\S+\/password\/reset\?token=\S+)$/m.exec(m.text)?.[1];
  if (!href) throw new Error(`no reset link in:\n${m.text}`);
  const url = new URL(href);
  return url.pathname + url.search;
}

async function resetCounts(): Promise<Record<string, number>> {
  const m = await registry.getSingleMetric('gas_gateway_password_resets_total')!.get();
  return Object.fromEntries(m.values.map((v) => [String(v.labels['outcome']), v.value]));
}

/** An account signed up and in through the forms. */
async function account(email: string) {
  const web = new WebClient(base);
  const csrf = await web.signUp({ email, password: PASSWORD, name: email.split('@')[0]! });
  return { web, csrf, userId: (await identity.users.byEmail(email))!.userId };
}

/** Asks for a link on the "Forgot your password?" form, signed out, as a visitor would. */
async function askForLink(email: string) {
  const visitor = new WebClient(base);
  const form = await visitor.get('/password/forgot');
  return visitor.postForm('/password/forgot', { _csrf: WebClient.csrfOf(form.text), email });
}

/** Opens a reset link and posts the new password on its form; the answer to the post. */
async function useLink(path: string, password: string, repeat = password) {
  const visitor = new WebClient(base);
  const page = await visitor.get(path);
  const token = /name="token" value="([^"]*)"/.exec(page.text)?.[1];
  if (!token) return { page, res: page };
  return { page, res: await visitor.postForm('/password/reset', { _csrf: WebClient.csrfOf(page.text), token, password, repeat }) };
}

t.test('every address gets the same answer; only an account with a password gets a link', async (t) => {
  const { web } = await account('rosa@example.org');
  t.match((await web.get('/profile')).text, /Change your password/, 'the profile offers the change');
  const signInPage = await new WebClient(base).get('/signin');
  t.match(signInPage.text, /<a href="\/password\/forgot">Forgot your password\?<\/a>/);

  const oidcOnly = await identity.users.create('oskar@example.org', null, { confirmed: true });
  await identity.users.linkOidc('https://idp.example', 'oskar', oidcOnly.userId);
  const answers = await Promise.all(['rosa@example.org', 'nobody@example.org', 'oskar@example.org'].map(askForLink));
  for (const a of answers) {
    t.equal(a.status, 200);
    t.match(a.text, /If GAS has an account with a password for this address, a link to set a new password is on its way there/);
  }
  t.equal(answers[0]!.text.replace(/value="[^"]*"/g, ''), answers[1]!.text.replace(/value="[^"]*"/g, ''), 'word for word the same');

  const m = await mail('rosa@example.org', RESET);
  t.match(m.text, /password\/reset\?token=/);
  t.notMatch(m.text, /rosa\b(?!@)/i, 'greets nobody by name');
  await eventsHandled();
  t.equal(mailsTo('nobody@example.org', RESET).length, 0, 'no mail to an address without an account');
  t.equal(mailsTo('oskar@example.org', RESET).length, 0, 'nor to an account without a password');
  const counts = await resetCounts();
  t.equal(counts['no_account'], 1);
  t.equal(counts['no_password'], 1);

  const noForm = await new WebClient(base).postForm('/password/forgot', { email: 'rosa@example.org' });
  t.equal(noForm.status, 403, 'the form needs its token');
});

t.test('the link sets a new password once, signs every session out, and the owner is told', async (t) => {
  const { web, userId } = await account('sam@example.org');
  t.notOk((await identity.users.byEmail('sam@example.org'))?.emailConfirmedAt, 'a sign-up has not confirmed its address');
  t.equal((await askForLink('sam@example.org')).status, 200);
  const path = linkOf(await mail('sam@example.org', RESET));

  const opened = await new WebClient(base).get(path);
  t.equal(opened.status, 200);
  t.match(opened.text, /Choose a new password/);
  t.equal(opened.headers.get('cache-control'), 'private, no-store');

  const mismatch = await useLink(path, NEW_PASSWORD, `${NEW_PASSWORD}!`);
  t.equal(mismatch.res.status, 400);
  t.match(mismatch.res.text, /The two new passwords are not the same\./);
  const short = await useLink(path, 'short');
  t.equal(short.res.status, 400);
  t.match(short.res.text, /Choose another password: the password must have at least 10 characters\./);

  const done = await useLink(path, NEW_PASSWORD);
  t.equal(done.res.status, 200);
  t.match(done.res.text, /Your password was changed, and every session of the account was signed out\./);
  t.equal((await web.get('/jobs')).status, 303, 'the session from before is over');
  t.equal((await new WebClient(base).signIn('sam@example.org', PASSWORD)).status, 401, 'the old password is refused');
  t.equal((await new WebClient(base).signIn('sam@example.org', NEW_PASSWORD)).status, 303, 'the new one works');
  // The link came to the address: like a confirmation link, it proves the account owns it.
  t.ok((await identity.users.byEmail('sam@example.org'))?.emailConfirmedAt, 'the address is confirmed');
  const prefs = (await clients.accounts.getAccount({ userId })).account?.notifications;
  t.same([prefs?.emailOnCompletion, prefs?.emailOnFailure], [true, true], 'and the job e-mails that waited for it are on');

  const again = await useLink(path, 'yet another long password');
  t.equal(again.page.status, 400, 'the link works once');
  t.match(again.page.text, /This link is not valid/);
  t.equal((await new WebClient(base).signIn('sam@example.org', NEW_PASSWORD)).status, 303, 'and changed nothing');

  const told = await mail('sam@example.org', CHANGED);
  t.match(told.text, /password\/forgot/, 'the mail says what to do if it was not them');
  t.notMatch(told.text, /token=/, 'and carries no link that changes anything');
});

t.test('a link expires after an hour, and a newer link replaces an older one', async (t) => {
  t.teardown(() => {
    skewMs = 0;
  });
  await account('tara@example.org');
  await askForLink('tara@example.org');
  const first = linkOf(await mail('tara@example.org', RESET));
  // A second request within 2 minutes sends nothing.
  await askForLink('tara@example.org');
  await eventsHandled();
  t.equal(mailsTo('tara@example.org', RESET).length, 1, 'one link within the resend interval');

  skewMs = 3 * 60_000;
  await askForLink('tara@example.org');
  const second = linkOf(await mail('tara@example.org', RESET, 2));
  t.not(second, first);
  const old = await useLink(first, NEW_PASSWORD);
  t.equal(old.page.status, 400);
  t.match(old.page.text, /a newer link replaced it/);

  skewMs += 61 * 60_000;
  const late = await useLink(second, NEW_PASSWORD);
  t.equal(late.page.status, 400);
  t.match(late.page.text, /This link has expired: a link works for one hour\./);
  t.equal((await new WebClient(base).signIn('tara@example.org', PASSWORD)).status, 303, 'the password is unchanged');

  const forged = await useLink('/password/reset?token=not-a-token', NEW_PASSWORD);
  t.equal(forged.page.status, 400);
  t.match(forged.page.text, /This link is not valid/);
});

t.test('the profile changes the password with the current one, and ends the other sessions only', async (t) => {
  const me = await account('uma@example.org');
  const elsewhere = new WebClient(base);
  t.equal((await elsewhere.signIn('uma@example.org', PASSWORD)).status, 303);
  await askForLink('uma@example.org');
  const pending = linkOf(await mail('uma@example.org', RESET));

  const profile = await me.web.get('/profile');
  t.match(profile.text, /<h2>Change your password<\/h2>/);
  const post = (fields: Record<string, string>) => me.web.postForm('/profile/password', { _csrf: me.csrf, ...fields });

  const wrong = await post({ current: 'not the password at all', password: NEW_PASSWORD, repeat: NEW_PASSWORD });
  t.equal(wrong.status, 401);
  t.match(wrong.text, /The current password is not right; the password was not changed\./);
  t.equal(
    (await me.web.postForm('/profile/password', { current: PASSWORD, password: NEW_PASSWORD, repeat: NEW_PASSWORD })).status,
    403,
    'CSRF',
  );

  const res = await post({ current: PASSWORD, password: NEW_PASSWORD, repeat: NEW_PASSWORD });
  t.equal(res.status, 303);
  t.equal(res.location, '/profile?password=changed#password');
  t.match((await me.web.get('/profile?password=changed')).text, /Your password was changed; your other sessions were signed out\./);
  t.equal((await elsewhere.get('/jobs')).status, 303, 'the other session is over');
  t.equal((await me.web.get('/jobs')).status, 200, 'this one goes on');
  t.equal((await new WebClient(base).signIn('uma@example.org', NEW_PASSWORD)).status, 303);
  t.match((await mail('uma@example.org', CHANGED)).text, /profile/);

  const stale = await useLink(pending, 'a third long password here');
  t.equal(stale.page.status, 400, 'a link asked for before the change no longer works');

  // A crafted link does not make another account's profile say so.
  const other = await account('vic@example.org');
  t.notMatch((await other.web.get('/profile?password=changed')).text, /Your password was changed/);
});
