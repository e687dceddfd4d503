// Changing an account's e-mail address. The gateway is built in-process (buildGateway) and listens
// on a free port; the job and notification services, nats-server and the SMTP server are real
// processes, so the link travels the way it does in production: the gateway asks the job service,
// which publishes account.email_change_requested, and the notification service mails the new
// address; ChangeEmail's account.email_changed has the old address told. A test clock in the
// gateway stands in for waiting.
import t from 'tap';
import { WebClient } from '@gas/testing';
import type { ReceivedMail } from '@gas/testing';
import { createRegistry } from '@gas/runtime';
import { Plan } from '@gas/proto';
import { BuiltinBilling } from '../src/billing/builtin-billing.ts';
import { mailingGatewayStack } from './stack-clients.ts';

const PASSWORD = 'a password long enough for the form';
const LINK_SUBJECT = /^GAS: Confirm your new email address$/;
const CHANGED_SUBJECT = /^GAS: The address of your account was changed$/;

/** The built-in provider (it keeps no addresses), recording what the gateway asks of it. */
class RecordingBilling extends BuiltinBilling {
  readonly emailUpdates: Array<{ customerId: string; email: string }> = [];
  override async updateEmail(input: { customerId: string; email: string }): Promise<void> {
    this.emailUpdates.push(input);
  }
}
const billing = new RecordingBilling({ secret: Buffer.alloc(32, 7), baseUrl: 'http://gateway.test' });

let skewMs = 0;
const registry = createRegistry('email-change-test');
const { clients, base, mail, mailsTo, eventsHandled } = await mailingGatewayStack('email-change-test', {
  registry,
  emailChange: { now: () => Date.now() + skewMs },
  billing,
  rateLimit: { perMinute: 100_000, signInPerMinute: 1000 },
});
const { identity } = clients;

/** The link in a change mail, as a path on this gateway. */
function linkOf(m: ReceivedMail): string {
  const href = /(http\S+\/change-email\?token=[A-Za-z0-9._%-]+)/.exec(m.text)?.[1];
  if (!href) throw new Error(`no change link in:\n${m.text}`);
  const url = new URL(href);
  return url.pathname + url.search;
}

async function changeCounts(): Promise<Record<string, number>> {
  const m = await registry.getSingleMetric('gas_gateway_email_changes_total')!.get();
  return Object.fromEntries(m.values.map((v) => [String(v.labels['outcome']), v.value]));
}

async function account(email: string) {
  const web = new WebClient(base);
  const csrf = await web.signUp({ email, password: PASSWORD, name: email.split('@')[0]! });
  return { web, csrf, userId: (await identity.users.byEmail(email))!.userId };
}

/** Posts the profile's change form. */
async function ask(web: WebClient, newEmail: string, password = PASSWORD) {
  const form = await web.get('/profile/email');
  return web.postForm('/profile/email', { _csrf: WebClient.csrfOf(form.text), new_email: newEmail, password });
}

/** Opens a change link as `web` and presses its button; the page and the answer to the post. */
async function useLink(web: WebClient, path: string) {
  const page = await web.get(path);
  const token = /name="token" value="([^"]*)"/.exec(page.text)?.[1];
  if (!token) return { page, res: page };
  return { page, res: await web.postForm('/change-email', { _csrf: WebClient.csrfOf(page.text), token }) };
}

t.test('the link mailed to the new address moves the account there, and the old address is told', async (t) => {
  const { web, userId } = await account('ada@example.org');
  const profile = await web.get('/profile');
  t.match(profile.text, /href="\/profile\/email"/, 'the profile offers the change');
  const jobMailBefore = (await clients.accounts.getAccount({ userId })).account!.notifications;
  t.same([jobMailBefore?.emailOnCompletion, jobMailBefore?.emailOnFailure], [false, false], 'job mail waits for a confirmed address');

  const wrong = await ask(web, 'ada@lovelace.example', 'not the password at all');
  t.equal(wrong.status, 401);
  t.match(wrong.text, /The password is not right; nothing was changed\./);
  t.match(wrong.text, /value="ada@lovelace\.example"/, 'the typed address is kept');
  t.equal((await ask(web, 'not an address')).status, 400);
  const same = await ask(web, ' ADA@example.org ');
  t.equal(same.status, 400);
  t.match(same.text, /That is already the address of your account\./);
  const noCsrf = await web.postForm('/profile/email', { new_email: 'ada@lovelace.example', password: PASSWORD });
  t.equal(noCsrf.status, 403, 'the form needs its CSRF token');
  t.notOk((await identity.users.byEmail('ada@example.org'))?.emailChange, 'nothing was asked for yet');

  const asked = await ask(web, 'Ada@Lovelace.example');
  t.equal(asked.status, 303);
  t.equal(asked.headers.get('location'), '/profile/email');
  const pending = await web.get('/profile/email');
  t.match(pending.text, /A link to move your account to <strong>ada@lovelace\.example<\/strong> is on its way/);
  t.equal((await ask(web, 'ada@lovelace.example')).status, 429, 'a second link within 2 minutes is refused');

  const m = await mail('ada@lovelace.example', LINK_SUBJECT);
  const path = linkOf(m);
  t.notOk((await identity.users.byEmail('ada@lovelace.example'))?.userId, 'nothing moves before the link is opened');

  const signedOut = await new WebClient(base).get(path);
  t.equal(signedOut.status, 303, 'signed out, the link asks to sign in first');
  t.match(signedOut.headers.get('location') ?? '', /^\/signin\?next=%2Fchange-email%3Ftoken%3D/);

  const { page, res } = await useLink(web, path);
  t.equal(page.status, 200);
  t.equal(page.headers.get('cache-control'), 'private, no-store');
  t.match(page.text, /Move your GAS account from <strong>ada@example\.org<\/strong> to <strong>ada@lovelace\.example<\/strong>\?/);
  t.equal(res.status, 303);
  t.equal(res.headers.get('location'), '/profile?email=changed');
  t.match((await web.get('/profile?email=changed')).text, /Your e-mail address is now ada@lovelace\.example; we told your old address/);

  const account2 = (await clients.accounts.getAccount({ userId })).account!;
  t.equal(account2.email, 'ada@lovelace.example', "the account's address is the new one");
  t.same(
    [account2.notifications?.emailOnCompletion, account2.notifications?.emailOnFailure],
    [true, true],
    'job mail is on: the new address is proven',
  );
  const moved = await identity.users.byEmail('ada@lovelace.example');
  t.equal(moved?.userId, userId);
  t.ok(moved?.emailConfirmedAt, 'the new address is confirmed by its link');
  t.notOk(moved?.movedFrom, 'the move is whole');
  t.equal(await identity.users.byEmail('ada@example.org'), null, 'the old sign-in record is gone');
  t.equal((await new WebClient(base).signIn('ada@example.org', PASSWORD)).status, 401, 'the old address no longer signs in');
  t.equal((await new WebClient(base).signIn('ada@lovelace.example', PASSWORD)).status, 303, 'the new one does, with the same password');
  t.equal((await web.get('/jobs')).status, 200, 'the session goes on');

  const told = await mail('ada@example.org', CHANGED_SUBJECT);
  t.match(told.text, /ada@lovelace\.example/, 'the old address is told where the account went');
  t.notMatch(told.text, /change-email\?token=/, 'and no link that moves the account');
  t.match(told.text, /undo-email-change\?token=/, 'only the one that takes it back');
  t.notMatch(m.text, /ada@example\.org/, 'the link mail does not name the old address to whoever has the new mailbox');

  const again = await useLink(web, path);
  t.equal(again.page.status, 200, 'opening the link again says the address is changed');
  t.match(again.page.text, /Your address is ada@lovelace\.example\./);
  t.notOk(again.page.text.includes('name="token"'), 'with nothing to press');
  const counts = await changeCounts();
  t.equal(counts['sent'], 1);
  t.equal(counts['changed'], 1);
  t.equal(counts['wrong_password'], 1);
  t.equal(counts['too_soon'], 1);
});

t.test("another account's address gets no link, and the owner is told the same as for any address", async (t) => {
  await account('bea@example.org');
  const { web } = await account('cy@example.org');
  const asked = await ask(web, 'bea@example.org');
  t.equal(asked.status, 303);
  t.match(
    (await web.get('/profile/email')).text,
    /A link to move your account to <strong>bea@example\.org<\/strong> is on its way[^<]*\(unless another account has it\)/,
  );
  await eventsHandled();
  t.equal(mailsTo('bea@example.org', LINK_SUBJECT).length, 0, "no mail to the other account's address");
  t.equal((await changeCounts())['taken'], 1);
  t.equal((await identity.users.byEmail('bea@example.org'))?.email, 'bea@example.org', 'which keeps its account');
});

t.test('a link expires, a newer one replaces it, it is bound to its account, and an address taken meanwhile is refused', async (t) => {
  t.teardown(() => {
    skewMs = 0;
  });
  const dee = await account('dee@example.org');
  await ask(dee.web, 'dee@new.example');
  const first = linkOf(await mail('dee@new.example', LINK_SUBJECT));
  skewMs = 3 * 60_000;
  t.equal((await ask(dee.web, 'dee@newer.example')).status, 303);
  const second = linkOf(await mail('dee@newer.example', LINK_SUBJECT));
  const replaced = await useLink(dee.web, first);
  t.equal(replaced.page.status, 400);
  t.match(replaced.page.text, /a newer request replaced it/);

  const eve = await account('eve@example.org');
  const foreign = await useLink(eve.web, second);
  t.equal(foreign.page.status, 403, "another account's link");
  t.match(foreign.page.text, /This link belongs to another GAS account/);

  skewMs += 25 * 3600_000;
  const late = await useLink(dee.web, second);
  t.equal(late.page.status, 400);
  t.match(late.page.text, /This link has expired/);
  t.equal((await clients.accounts.getAccount({ userId: dee.userId })).account?.email, 'dee@example.org', 'the address is unchanged');

  skewMs += 5 * 60_000;
  await ask(dee.web, 'fay@example.org');
  const third = linkOf(await mail('fay@example.org', LINK_SUBJECT));
  // Someone signs up with that address before the link is opened.
  await account('fay@example.org');
  const taken = await useLink(dee.web, third);
  t.equal(taken.res.status, 409);
  t.match(taken.res.text, /Another account has this address now/);
  t.equal((await clients.accounts.getAccount({ userId: dee.userId })).account?.email, 'dee@example.org');
  t.equal((await identity.users.byEmail('dee@example.org'))?.emailChange, undefined, 'the change that cannot be made is dropped');
  t.equal((await new WebClient(base).signIn('dee@example.org', PASSWORD)).status, 303, 'and the account signs in as before');
});

t.test('a move cut short after the account changed is finished by the next look at the record', async (t) => {
  const { web, userId } = await account('gus@example.org');
  await ask(web, 'gus@new.example');
  await mail('gus@new.example', LINK_SUBJECT);
  // As if the gateway stopped after ChangeEmail, before the old record went.
  const old = (await identity.users.byEmail('gus@example.org'))!;
  t.equal(
    await identity.users.createMoved({ ...old, email: 'gus@new.example', emailChange: undefined, movedFrom: 'gus@example.org' }),
    'created',
  );
  await clients.accounts.changeEmail({ userId, email: 'gus@new.example', previousEmail: 'gus@example.org', requestId: 'cut-short' });
  t.equal((await new WebClient(base).signIn('gus@example.org', PASSWORD)).status, 303, 'for now both addresses sign in');
  t.equal((await web.get('/profile/email')).status, 200);
  t.equal(await identity.users.byEmail('gus@example.org'), null, 'the old record is gone');
  t.notOk((await identity.users.byEmail('gus@new.example'))?.movedFrom);
  t.equal((await new WebClient(base).signIn('gus@example.org', PASSWORD)).status, 401);
});

t.test("a premium account's customer at the payment provider gets the new address", async (t) => {
  const { web, userId } = await account('hal@example.org');
  await clients.accounts.setPlan({ userId, plan: Plan.PREMIUM, billingCustomerId: 'cus_hal' });
  await ask(web, 'hal@new.example');
  const { res } = await useLink(web, linkOf(await mail('hal@new.example', LINK_SUBJECT)));
  t.equal(res.status, 303);
  t.strictSame(
    billing.emailUpdates,
    [{ customerId: 'cus_hal', email: 'hal@new.example' }],
    'only the premium account, with the new address',
  );
});

t.test('deleting an account in the middle of a move removes both of its sign-in records', async (t) => {
  const { web } = await account('ivy@example.org');
  await ask(web, 'ivy@new.example');
  await mail('ivy@new.example', LINK_SUBJECT);
  // As if the gateway stopped after writing the new record, before ChangeEmail.
  const old = (await identity.users.byEmail('ivy@example.org'))!;
  await identity.users.createMoved({ ...old, email: 'ivy@new.example', emailChange: undefined, movedFrom: 'ivy@example.org' });
  const page = await web.get('/account/delete');
  const res = await web.postForm('/account/delete', { _csrf: WebClient.csrfOf(page.text), password: PASSWORD });
  t.equal(res.status, 303);
  t.equal(await identity.users.byEmail('ivy@example.org'), null);
  t.equal(await identity.users.byEmail('ivy@new.example'), null, 'the record it was moving to went too');
  t.equal((await new WebClient(base).signIn('ivy@new.example', PASSWORD)).status, 401);
});

/** The undo link in the mail to the address an account left, as a path on this gateway. */
function undoLinkOf(m: ReceivedMail): string {
  const href = /(http\S+\/undo-email-change\?token=[A-Za-z0-9._%-]+)/.exec(m.text)?.[1];
  if (!href) throw new Error(`no undo link in:\n${m.text}`);
  const url = new URL(href);
  return url.pathname + url.search;
}

/** Opens an undo link signed out, as its owner would, and presses its button. */
async function undo(path: string) {
  const visitor = new WebClient(base);
  const page = await visitor.get(path);
  const token = /name="token" value="([^"]*)"/.exec(page.text)?.[1];
  if (!token) return { page, res: page };
  return { page, res: await visitor.postForm('/undo-email-change', { _csrf: WebClient.csrfOf(page.text), token }) };
}

t.test('someone who knew the password moves the account away; the link mailed to the old address takes it back', async (t) => {
  const { userId } = await account('jo@example.org');
  const { token: apiToken } = await identity.tokens.create(userId, 'a script');
  const thief = new WebClient(base);
  t.equal((await thief.signIn('jo@example.org', PASSWORD)).status, 303);
  await ask(thief, 'thief@evil.example');
  t.equal((await useLink(thief, linkOf(await mail('thief@evil.example', LINK_SUBJECT)))).res.status, 303);
  const thiefPassword = 'the thief chose this one';
  const profile = await thief.get('/profile');
  const changed = await thief.postForm('/profile/password', {
    _csrf: WebClient.csrfOf(profile.text),
    current: PASSWORD,
    password: thiefPassword,
    repeat: thiefPassword,
  });
  t.equal(changed.status, 303, 'and set a password of their own');

  const path = undoLinkOf(await mail('jo@example.org', CHANGED_SUBJECT));
  const noForm = await new WebClient(base).postForm('/undo-email-change', { token: new URLSearchParams(path.split('?')[1]).get('token')! });
  t.equal(noForm.status, 403, 'the button needs its form token');
  t.equal((await clients.accounts.getAccount({ userId })).account?.email, 'thief@evil.example', 'and changed nothing');

  const { page, res } = await undo(path);
  t.equal(page.status, 200);
  t.equal(page.headers.get('cache-control'), 'private, no-store');
  t.match(page.text, /was changed to <strong>thief@evil\.example<\/strong>/);
  t.equal(res.status, 200);
  t.match(res.text, /The account is back at jo@example\.org\. Every browser was signed out and every API token revoked\./);

  t.equal((await clients.accounts.getAccount({ userId })).account?.email, 'jo@example.org', 'the address is back');
  t.equal(await identity.users.byEmail('thief@evil.example'), null);
  t.equal((await identity.users.byEmail('jo@example.org'))?.userId, userId);
  t.equal((await thief.get('/jobs')).status, 303, "the thief's session is over");
  t.equal((await fetch(`${base}/api/v1/jobs`, { headers: { authorization: `Bearer ${apiToken}` } })).status, 401, 'API tokens are revoked');
  for (const [email, password] of [
    ['jo@example.org', thiefPassword],
    ['jo@example.org', PASSWORD],
    ['thief@evil.example', thiefPassword],
  ] as const)
    t.equal((await new WebClient(base).signIn(email, password)).status, 401, `${email} with a known password no longer signs in`);

  const reset = await mail('jo@example.org', 'GAS: Reset your password');
  const resetPath = new URL(/(http\S+\/password\/reset\?token=\S+)/.exec(reset.text)![1]!);
  const owner = new WebClient(base);
  const form = await owner.get(resetPath.pathname + resetPath.search);
  const fresh = 'the owner has a new one now';
  const set = await owner.postForm('/password/reset', {
    _csrf: WebClient.csrfOf(form.text),
    token: /name="token" value="([^"]*)"/.exec(form.text)![1]!,
    password: fresh,
    repeat: fresh,
  });
  t.equal(set.status, 200);
  t.equal((await new WebClient(base).signIn('jo@example.org', fresh)).status, 303, 'the owner sets a new password through the mailed link');

  const back = await mail('thief@evil.example', 'GAS: The address of your account was changed back');
  t.notMatch(back.text, /undo-email-change/, 'the address it left gets no link back');
  t.match((await undo(path)).page.text, /The account is back at jo@example\.org/, 'opening the link again says so');
  t.equal((await changeCounts())['undone'], 1);
});

t.test("the first owner's undo link still works after a second change; an undo link expires after 7 days", async (t) => {
  t.teardown(() => {
    skewMs = 0;
  });
  const { web, userId } = await account('kit@example.org');
  await ask(web, 'kit@two.example');
  await useLink(web, linkOf(await mail('kit@two.example', LINK_SUBJECT)));
  const first = undoLinkOf(await mail('kit@example.org', CHANGED_SUBJECT));
  skewMs = 3 * 60_000;
  await ask(web, 'kit@three.example');
  await useLink(web, linkOf(await mail('kit@three.example', LINK_SUBJECT)));
  await mail('kit@two.example', CHANGED_SUBJECT);
  t.equal((await clients.accounts.getAccount({ userId })).account?.email, 'kit@three.example');
  t.equal((await undo(first)).res.status, 200);
  t.equal((await clients.accounts.getAccount({ userId })).account?.email, 'kit@example.org', 'back at the first address');
  t.equal(await identity.users.byEmail('kit@three.example'), null);

  const { web: lou } = await account('lou@example.org');
  await ask(lou, 'lou@new.example');
  await useLink(lou, linkOf(await mail('lou@new.example', LINK_SUBJECT)));
  const late = undoLinkOf(await mail('lou@example.org', CHANGED_SUBJECT));
  skewMs += 8 * 24 * 3600_000;
  const expired = await undo(late);
  t.equal(expired.page.status, 400);
  t.match(expired.page.text, /This link has expired: it works for 7 days after the change\./);
  t.equal((await new WebClient(base).signIn('lou@new.example', PASSWORD)).status, 303, 'the account is as it was');
  const forged = await undo('/undo-email-change?token=not-a-token');
  t.equal(forged.page.status, 400);
  t.match(forged.page.text, /This link is not valid/);
});
