// Admin rights need a confirmed address. The gateway is built in-process (buildGateway) and listens
// on a free port; the job and notification services, nats-server and the SMTP server are real
// processes, so the confirmation link travels the way it does in production: the gateway asks the
// job service, which publishes account.email_confirmation_requested, and the notification service
// mails it. A test clock in the gateway stands in for waiting 2 minutes or a day.
import t from 'tap';
import { WebClient } from '@gas/testing';
import type { ReceivedMail } from '@gas/testing';
import { mailingGatewayStack, stackGateway } from './stack-clients.ts';
import { createRegistry } from '@gas/runtime';

const PASSWORD = 'a password long enough for the form';
const SUBJECT = 'GAS: Confirm your email address';
const NOT_FOUND = /There is no page at this address/;

// The gateway's clock: real time plus what a test moves it on by.
let skewMs = 0;
const registry = createRegistry('email-confirmation-test');
/** gas_gateway_email_confirmations_total by outcome, as /metrics has it. */
async function confirmationCounts(): Promise<Record<string, number>> {
  const m = await registry.getSingleMetric('gas_gateway_email_confirmations_total')!.get();
  return Object.fromEntries(m.values.map((v) => [String(v.labels['outcome']), v.value]));
}
const gateway = await mailingGatewayStack('email-confirmation-test', {
  registry,
  admin: { emails: ['Dana@Example.org', 'frank@example.org', 'gina@example.org', 'hana@example.org'] },
  emailConfirmation: { now: () => Date.now() + skewMs },
  rateLimit: { perMinute: 100_000, signInPerMinute: 1000 },
});
const { stack, clients, base, eventsHandled } = gateway;
const { identity } = clients;

const mailsTo = (email: string) => gateway.mailsTo(email, SUBJECT);
/** The n-th (1-based) confirmation mail to `email`, once it has come. */
const mail = (email: string, n = 1) => gateway.mail(email, SUBJECT, n);

/** The link in a confirmation mail, as a path on this gateway, and its token. */
function linkOf(m: ReceivedMail): { path: string; token: string } {
  const href = /^(http\S+\/confirm-email\?token=\S+)$/m.exec(m.text)?.[1];
  if (!href) throw new Error(`no confirmation link in:\n${m.text}`);
  const url = new URL(href);
  return { path: url.pathname + url.search, token: url.searchParams.get('token')! };
}

/** Signs up and in through the forms; the sign-up asks for the first link. */
async function account(email: string, name: string) {
  const web = new WebClient(base);
  const csrf = await web.signUp({ email, password: PASSWORD, name });
  const user = await identity.users.byEmail(email);
  return { web, csrf, userId: user!.userId };
}

const confirmedAt = async (email: string) => (await identity.users.byEmail(email))?.emailConfirmedAt;

t.test('sign-up with an admin address: 404 until the mailed link is followed, then the admin page', async (t) => {
  const { web, csrf, userId } = await account('dana@example.org', 'Dana');
  for (const path of ['/admin', '/admin/state.json']) {
    const res = await web.get(path);
    t.equal(res.status, 404, `${path}: not an admin yet`);
    t.match(res.text, NOT_FOUND, `${path}: the same not-found page as anywhere`);
  }
  t.notMatch((await web.get('/jobs')).text, /href="\/admin"/, 'no admin link in the header');
  const profile = await web.get('/profile');
  t.match(profile.text, 'Your e-mail address dana@example.org is not confirmed yet.');
  t.match(profile.text, /<form method="post" action="\/profile\/confirm-email"/, 'with a button for a new link');
  t.notMatch((await web.get('/profile?confirmed=1')).text, 'Your e-mail address is confirmed.', 'a crafted query says nothing untrue');
  const badSave = await web.postForm('/profile', { _csrf: csrf, name: '', institution: '' });
  t.equal(badSave.status, 400);
  t.match(badSave.text, 'is not confirmed yet', 'a profile sent back for a fix still says so');

  // Job e-mails wait for the confirmation: off, shown off, and the form cannot turn them on.
  const prefs = async () => {
    const n = (await clients.accounts.getAccount({ userId })).account?.notifications;
    return { completion: n?.emailOnCompletion, failure: n?.emailOnFailure };
  };
  t.strictSame(await prefs(), { completion: false, failure: false }, 'job e-mails off at sign-up');
  t.match(profile.text, /<fieldset id="notifications" disabled>/);
  t.match(profile.text, 'Job e-mails start once your address is confirmed');
  t.equal((await web.postForm('/profile', { _csrf: csrf, name: 'Dana', institution: '', email: 'all' })).status, 303);
  t.strictSame(await prefs(), { completion: false, failure: false }, 'the form does not turn them on before the confirmation');

  const m = await mail('dana@example.org');
  t.strictSame(m.envelope.to, ['dana@example.org']);
  t.notMatch(m.text + m.html, /Dana\b/, 'no greeting by name');
  const link = linkOf(m);
  t.match(link.token, new RegExp(`^${userId}\\.[A-Za-z0-9_-]{43}$`));
  t.match(m.html, `href="http://`);
  t.match(m.headers.get('x-gas-event-id') ?? '', new RegExp(`^${userId}\\.email_confirmation_requested\\.\\d+$`));
  for (const service of ['notification', 'job'] as const)
    t.notOk(stack.services[service]!.logs().includes(link.token.split('.')[1]!), `the ${service} service does not log the token`);

  // Signed out, the link leads through the sign-in page and back.
  const stranger = await new WebClient(base).get(link.path);
  t.equal(stranger.status, 303);
  t.equal(stranger.location, `/signin?next=${encodeURIComponent(link.path)}`);

  // Opening it shows a button; a GET changes nothing.
  const opened = await web.get(link.path);
  t.equal(opened.status, 200);
  t.match(opened.text, 'Confirm that <strong>dana@example.org</strong> is the address of your GAS account.');
  t.match(opened.text, `name="token" value="${link.token}"`);
  t.notOk(await confirmedAt('dana@example.org'), 'opening the link confirms nothing by itself');
  t.equal((await web.get('/admin')).status, 404);

  const noCsrf = await web.postForm('/confirm-email', { token: link.token });
  t.equal(noCsrf.status, 403, 'the POST needs the session CSRF token');
  t.notOk(await confirmedAt('dana@example.org'));

  const confirmed = await web.postForm('/confirm-email', { _csrf: csrf, token: link.token });
  t.equal(confirmed.status, 303);
  t.equal(confirmed.location, '/profile?confirmed=1');
  t.ok(await confirmedAt('dana@example.org'), 'the record has the time of confirmation');
  const after = await web.get('/profile?confirmed=1');
  t.match(after.text, 'Your e-mail address is confirmed.');
  t.notMatch(after.text, /not confirmed yet/);
  t.strictSame(await prefs(), { completion: true, failure: true }, 'job e-mails on once confirmed, as everyone starts');
  t.match(after.text, /<fieldset id="notifications">/, 'and the choice is the user’s again');
  t.notMatch(after.text, 'Job e-mails start once');

  const admin = await web.get('/admin');
  t.equal(admin.status, 200, 'an admin now');
  t.match(admin.text, '<a href="/admin" aria-current="page">Admin</a>', 'the header links the admin page');
  t.equal((await web.get('/admin/state.json')).status, 200);

  // The link is used up: opening it again says the address is confirmed, and changes nothing.
  const again = await web.get(link.path);
  t.equal(again.status, 200);
  t.match(again.text, 'Your e-mail address dana@example.org is confirmed.');
});

t.test('forged, expired and other accounts’ links are refused with the reason, and change nothing', async (t) => {
  t.teardown(() => {
    skewMs = 0;
  });
  const frank = await account('frank@example.org', 'Frank');
  const gina = await account('gina@example.org', 'Gina');
  const frankLink = linkOf(await mail('frank@example.org'));
  const ginaLink = linkOf(await mail('gina@example.org'));
  const recordBefore = JSON.stringify(await identity.users.byEmail('frank@example.org'));
  const countsBefore = await confirmationCounts();

  const refusals: Array<[string, string, number, RegExp]> = [
    ['forged', `${frank.userId}.${'A'.repeat(43)}`, 400, /This confirmation link is not valid/],
    ['cut short', frankLink.token.slice(0, -1), 400, /This confirmation link is not valid/],
    ['garbage', 'not-a-token', 400, /This confirmation link is not valid/],
    ["another account's", ginaLink.token, 403, /This confirmation link belongs to another GAS account/],
  ];
  for (const [what, token, status, text] of refusals) {
    const shown = await frank.web.get(`/confirm-email?token=${encodeURIComponent(token)}`);
    t.equal(shown.status, status, `${what}: shown`);
    t.match(shown.text, text, `${what}: says why`);
    t.notMatch(shown.text, /name="token"/, `${what}: no button`);
    const posted = await frank.web.postForm('/confirm-email', { _csrf: frank.csrf, token });
    t.equal(posted.status, status, `${what}: posted`);
    t.match(posted.text, text);
  }
  t.equal(JSON.stringify(await identity.users.byEmail('frank@example.org')), recordBefore, "frank's record is unchanged");
  t.notOk(await confirmedAt('gina@example.org'), "gina's address is not confirmed by frank's session");
  t.equal((await frank.web.get('/admin')).status, 404);

  // A day later frank's own link has expired.
  skewMs = 24 * 3600_000 + 60_000;
  const expired = await frank.web.get(frankLink.path);
  t.equal(expired.status, 400);
  t.match(expired.text, 'This confirmation link has expired: a link works for 24 hours.');
  const postedExpired = await frank.web.postForm('/confirm-email', { _csrf: frank.csrf, token: frankLink.token });
  t.equal(postedExpired.status, 400);
  t.equal(JSON.stringify(await identity.users.byEmail('frank@example.org')), recordBefore, 'still unchanged');
  const counts = await confirmationCounts();
  const grew = (outcome: string) => (counts[outcome] ?? 0) - (countsBefore[outcome] ?? 0);
  t.strictSame(
    { invalid: grew('invalid'), other_account: grew('other_account'), expired: grew('expired'), confirmed: grew('confirmed') },
    { invalid: 3, other_account: 1, expired: 1, confirmed: 0 },
    'each refused link counted by its reason (opening a link to look at it counts nothing)',
  );
  t.equal((await frank.web.get('/admin')).status, 404);

  // A new link works; gina's own link (still within its day on her clock) works for her.
  skewMs = 0;
  const ginaConfirms = await gina.web.postForm('/confirm-email', { _csrf: gina.csrf, token: ginaLink.token });
  t.equal(ginaConfirms.status, 303, "gina's link still works for gina");
  skewMs = 24 * 3600_000 + 60_000;
  const resent = await frank.web.postForm('/profile/confirm-email', { _csrf: frank.csrf });
  t.equal(resent.status, 303);
  t.equal(resent.location, '/profile?sent=1');
  t.match((await frank.web.get('/profile?sent=1')).text, 'A new confirmation link is on its way to frank@example.org');
  const fresh = linkOf(await mail('frank@example.org', 2));
  t.equal((await frank.web.postForm('/confirm-email', { _csrf: frank.csrf, token: fresh.token })).status, 303);
  t.equal((await frank.web.get('/admin')).status, 200);
});

t.test('a new link at most every 2 minutes and 5 a day; each replaces the one before', async (t) => {
  t.teardown(() => {
    skewMs = 0;
  });
  const hana = await account('hana@example.org', 'Hana');
  const first = linkOf(await mail('hana@example.org'));
  const resend = () => hana.web.postForm('/profile/confirm-email', { _csrf: hana.csrf });

  const tooSoon = await resend();
  t.equal(tooSoon.status, 429);
  const wait = Number(tooSoon.headers.get('retry-after'));
  t.ok(wait > 100 && wait <= 120, `Retry-After ${wait} s`);
  t.match(
    tooSoon.text,
    'A link was sent a short while ago; check your mailbox (and its spam folder). You can ask for another in 2 minutes.',
  );
  t.match(tooSoon.text, 'is not confirmed yet', 'the profile, still offering a link');

  for (let n = 2; n <= 5; n++) {
    skewMs += 2 * 60_000;
    const res = await resend();
    t.equal(res.status, 303, `link ${n} two minutes after the last`);
    await mail('hana@example.org', n);
  }
  skewMs += 2 * 60_000;
  const sixth = await resend();
  t.equal(sixth.status, 429, 'the sixth within a day');
  t.match(sixth.text, 'You can ask for another in 24 hours.');
  await eventsHandled();
  t.equal(mailsTo('hana@example.org').length, 5, 'five mails, no more');

  const replaced = await hana.web.get(first.path);
  t.equal(replaced.status, 400, 'the first link was replaced by the newer ones');
  t.match(replaced.text, 'a newer link replaced it');
  const newest = linkOf(mailsTo('hana@example.org')[4]!);
  t.equal((await hana.web.postForm('/confirm-email', { _csrf: hana.csrf, token: newest.token })).status, 303, 'the newest works');
  t.equal((await hana.web.get('/admin')).status, 200);
});

t.test("an operator-token user counts as confirmed: the local stack's admin reads the JSON with its token", async (t) => {
  const [alice] = stack.users;
  const listed = await stackGateway(stack, clients, { admin: { emails: [`${alice!.userId}@example.org`] } });
  const res = await listed.inject({ method: 'GET', url: '/admin/state.json', headers: { authorization: `Bearer ${alice!.token}` } });
  t.equal(res.statusCode, 200);
});
