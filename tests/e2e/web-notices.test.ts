// In-app notices on the web pages, in a real Chromium on the real stack, with the tests' real SMTP
// server (in-process, @gas/testing startSmtpServer) as the notification service's mail server: a job
// finishing while the jobs page is open shows a toast and the header's unread count in every tab of
// the browser; opening /notices lists the notice and clears the count in the other tab; the
// profile's email choice is saved and shown again (and the notification service follows it); a job
// whose email the mail server refused says so on its page; and while the notification service is
// away the pages and the live stream go on without notices, which come back when it does.
import t from 'tap';
import type { Test } from 'tap';
import { readFile } from 'node:fs/promises';
import { launchBrowser, screenshot, sharedDataPath, startGasStack, startSmtpServer, WebClient } from '@gas/testing';
import type { Page } from '@gas/testing';

type BrowserContext = ReturnType<Page['context']>;

const FREE_1 = sharedDataPath('vcf/gas_anntools/free_1.vcf');
const REFUSED = 'refused@example.org';
const REFUSAL = { code: 550, message: `5.1.1 <${REFUSED}>: mailbox unknown` };

const smtp = await startSmtpServer();
t.teardown(() => smtp.stop());
// The mailbox goes away after its owner has confirmed the address (the test that needs it says when).
let refusing = false;
smtp.refuseRecipients((address) => (refusing && address === REFUSED ? REFUSAL : null));
const CONFIRM_SUBJECT = 'GAS: Confirm your email address';
const stack = await startGasStack({
  store: 'filesystem',
  env: {
    gateway: { GATEWAY_SIGNIN_ATTEMPTS_PER_MINUTE: '100' },
    // The test server speaks plain SMTP on loopback.
    notification: { SMTP_URL: smtp.url, SMTP_REQUIRE_TLS: 'false' },
  },
});
t.teardown(() => stack.stop());
const browser = await launchBrowser();
t.teardown(() => browser.close());
const vcf = new Blob([await readFile(FREE_1)]);

interface User {
  email: string;
  web: WebClient;
  csrf: string;
}

/** A new account, its address confirmed with the mailed link: job e-mails start only then. */
async function user(email: string): Promise<User> {
  const web = new WebClient(stack.url);
  const csrf = await web.signUp({ email, password: `password of ${email}`, name: email.split('@')[0]! });
  const mails = await smtp.waitFor((ms) => ms.some((m) => m.envelope.to.includes(email) && m.subject === CONFIRM_SUBJECT), 30_000);
  const mail = mails.find((m) => m.envelope.to.includes(email) && m.subject === CONFIRM_SUBJECT)!;
  const link = new URL(/^(http\S+\/confirm-email\?token=\S+)$/m.exec(mail.text)![1]!);
  const confirmed = await web.postForm('/confirm-email', { _csrf: csrf, token: link.searchParams.get('token')! });
  if (confirmed.status !== 303) throw new Error(`confirming ${email} answered ${confirmed.status}`);
  return { email, web, csrf };
}

async function signedInContext(web: WebClient): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addCookies([{ name: 'gas_session', value: web.cookies.get('gas_session')!, url: stack.url }]);
  return context;
}

/** Script and console errors of every page of a context. */
function errorsOf(context: BrowserContext): string[] {
  const errors: string[] = [];
  context.on('page', (page) => {
    page.on('console', (m) => void (m.type() === 'error' && errors.push(`${page.url()}: ${m.text()}`)));
    page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
  });
  return errors;
}

async function upload(u: User, name: string): Promise<string> {
  const res = await u.web.upload(name, vcf, 'GRCh37', u.csrf);
  if (res.status !== 201) throw new Error(`upload of ${name} answered ${res.status}: ${res.text}`);
  return (JSON.parse(res.text) as { id: string }).id;
}

async function metric(name: string): Promise<number> {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(await stack.metrics('gateway'));
  return m ? Number(m[1]) : 0;
}

/** A tab of `path` whose live updates are on (the page has joined the browser's shared stream). */
async function liveTab(context: BrowserContext, path: string): Promise<Page> {
  const page = await context.newPage();
  const res = await page.goto(`${stack.url}${path}`);
  if (res?.status() !== 200) throw new Error(`${path} answered ${res?.status()}`);
  await page.waitForFunction('window.gasLiveTransport === "shared-worker"');
  return page;
}

const badge = (page: Page) => page.locator('header .badge.unread');

/** Waits until the header's badge shows `count` (hidden at 0). */
async function badgeShows(t: Test, page: Page, count: number, what: string): Promise<void> {
  if (count === 0) {
    await badge(page).waitFor({ state: 'hidden', timeout: 15_000 });
    t.equal(await badge(page).isHidden(), true, what);
  } else {
    await page.locator('header .badge.unread:not([hidden])', { hasText: new RegExp(`^${count}$`) }).waitFor({ timeout: 90_000 });
    t.equal(await badge(page).innerText(), String(count), what);
  }
}

t.test(
  'a job done while the jobs page is open: a toast and the unread count in every tab; /notices lists it and clears the count',
  async (t) => {
    const alice = await user('alice@example.org');
    const context = await signedInContext(alice.web);
    t.teardown(() => context.close());
    const errors = errorsOf(context);
    const jobsTab = await liveTab(context, '/jobs');
    await jobsTab.locator('.live-note:not([hidden])').waitFor();
    // A second tab, on a page that lists no jobs: it shares the same stream.
    const otherTab = await liveTab(context, '/upload');
    t.equal(await badge(jobsTab).isHidden(), true, 'no unread notices yet: no badge');

    const id = await upload(alice, 'alice-first.vcf');
    const toast = jobsTab.locator('.toasts[role="status"][aria-live="polite"] .toast');
    await toast.waitFor({ timeout: 90_000 });
    const appeared = Date.now();
    t.equal(await toast.locator('.toast-title').innerText(), 'alice-first.vcf is annotated');
    t.match(await toast.locator('p').innerText(), /^The GRCh37 annotation of alice-first\.vcf is done: /);
    t.equal(await toast.getByRole('link', { name: 'Open the job' }).getAttribute('href'), `/jobs/${id}`);
    await badgeShows(t, jobsTab, 1, 'the jobs tab counts one unread notice');
    await badgeShows(t, otherTab, 1, 'and so does the other tab');
    await screenshot(jobsTab, import.meta.filename, 'toast on the jobs page');
    // The other tab's toast goes with its dismiss button; the jobs tab's by itself after about 8 s.
    const otherToast = otherTab.locator('.toast');
    await otherToast.waitFor();
    await otherToast.getByRole('button', { name: 'Dismiss' }).click();
    t.equal(await otherTab.locator('.toast').count(), 0, 'dismissed');
    await toast.waitFor({ state: 'detached', timeout: 15_000 });
    const stayed = Date.now() - appeared;
    t.ok(stayed > 6000 && stayed < 12_000, `the jobs tab's toast went by itself after about 8 s (${stayed} ms)`);

    // The email went out; the notice says so.
    await smtp.waitFor((ms) => ms.some((m) => m.envelope.to.includes(alice.email) && m.subject !== CONFIRM_SUBJECT), 30_000);
    const listed = await stack.eventually(
      async () => (await alice.web.get('/notices')).text,
      (text) => text.includes('Emailed'),
    );
    t.match(listed, '<span class="badge unread">1</span>', 'the page (opened without script) still counts it unread');

    // Opening /notices in the other tab lists it and marks it read: the jobs tab's badge goes.
    await otherTab.goto(`${stack.url}/notices`);
    const item = otherTab.locator('li.notice-item');
    t.equal(await item.count(), 1);
    t.equal(await item.locator('.notice-title').innerText(), 'alice-first.vcf is annotated');
    t.equal(await item.locator('.email-status').innerText(), 'Emailed');
    t.equal(await item.getByRole('link', { name: 'Open the job' }).getAttribute('href'), `/jobs/${id}`);
    t.equal(await item.locator('.badge.new').innerText(), 'New', 'marked as new on this visit');
    await badgeShows(t, jobsTab, 0, 'the jobs tab no longer counts it');
    await badgeShows(t, otherTab, 0, 'nor does the notices tab');
    await otherTab.reload();
    t.equal(await otherTab.locator('li.notice-item .badge.new').count(), 0, 'read on the next visit');
    t.equal(await otherTab.getByRole('button', { name: 'Mark all read' }).count(), 0, 'nothing left to mark');

    await context.close();
    const left = await stack.eventually(
      () => metric('gas_gateway_live_streams'),
      (n) => n === 0,
    );
    t.equal(left, 0, 'the stream (and its notice watch) ended with the last tab');
    t.strictSame(errors, [], 'no script or console errors');
  },
);

t.test('"Mark all read" works without the page script', async (t) => {
  const dora = await user('dora@example.org');
  const id = await upload(dora, 'dora.vcf');
  const page = await stack.eventually(
    async () => (await dora.web.get('/notices')).text,
    (text) => text.includes('dora.vcf is annotated'),
    90_000,
  );
  t.match(page, `href="/jobs/${id}"`);
  const upTo = /name="up_to" value="([0-9A-Z]{26})"/.exec(page)?.[1];
  t.ok(upTo, 'the form names the newest notice shown');
  t.equal((await dora.web.postForm('/notices/read', { up_to: upTo! })).status, 403, 'without the CSRF token: refused');
  const res = await dora.web.postForm('/notices/read', { _csrf: WebClient.csrfOf(page), up_to: upTo! });
  t.equal(res.status, 303);
  t.equal(res.location, '/notices?read=1');
  const after = (await dora.web.get('/notices?read=1')).text;
  t.match(after, 'Your notices are marked read.');
  t.match(after, '<span class="badge unread" hidden>0</span>');
  t.notMatch(after, /class="badge new"/);
  t.equal((await dora.web.postForm('/notices/read', { _csrf: WebClient.csrfOf(page), up_to: 'not-an-id' })).status, 400);
});

t.test('the profile: "failures only" is saved, shown checked again, and followed by the notification service', async (t) => {
  const erin = await user('erin@example.org');
  const context = await signedInContext(erin.web);
  t.teardown(() => context.close());
  const errors = errorsOf(context);
  const page = await liveTab(context, '/profile#notifications');
  const choice = (name: RegExp) => page.locator('#notifications').getByRole('radio', { name });
  t.equal(await choice(/^All notices/).isChecked(), true, 'everything is emailed by default');
  await choice(/^Failures only/).check();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(/\/profile\?saved=1$/);
  t.equal(await page.locator('p.notice').innerText(), 'Your profile was saved.');
  t.equal(await choice(/^Failures only/).isChecked(), true, 'shown checked again');
  t.equal(await choice(/^All notices/).isChecked(), false);
  await page.reload();
  t.equal(await choice(/^Failures only/).isChecked(), true, 'and after a reload');

  // A completed job is no failure: its notice says it was not emailed, by the user's choice.
  const id = await upload(erin, 'erin.vcf');
  const listed = await stack.eventually(
    async () => (await erin.web.get('/notices')).text,
    (text) => text.includes('Not emailed (your preference)'),
    90_000,
  );
  t.match(listed, `href="/jobs/${id}"`);
  t.notOk(
    // The link that confirmed her address at sign-up is no notice, and comes whatever the preference.
    smtp.messages.some((m) => m.envelope.to.includes(erin.email) && m.subject !== CONFIRM_SUBJECT),
    'no email to erin',
  );

  await choice(/^None/).check();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(/\/profile\?saved=1$/);
  t.equal(await choice(/^None/).isChecked(), true, 'none is saved too');
  t.strictSame(errors, [], 'no script or console errors');
});

t.test('a job whose email the mail server refused says so on its page and in the notices', async (t) => {
  const refused = await user(REFUSED);
  refusing = true;
  const id = await upload(refused, 'refused.vcf');
  const jobPage = await stack.eventually(
    async () => (await refused.web.get(`/jobs/${id}`)).text,
    (text) => text.includes('email-problem'),
    90_000,
  );
  const callout = /<div class="callout error email-problem">([\s\S]*?)<\/div>/.exec(jobPage)?.[1]?.replace(/<[^>]+>/g, '');
  t.match(
    callout,
    /^We could not email you about this job: the mail server refused it: 550 5\.1\.1 .*r\*\*\*@example\.org.*: mailbox unknown\. Check your address on the profile page\.$/,
  );
  const notices = (await refused.web.get('/notices')).text;
  t.match(notices, /The email was refused: the mail server refused it: 550 5\.1\.1 .*mailbox unknown/);
  t.notMatch(jobPage + notices, /refused@example/, 'the address itself is masked');

  const context = await signedInContext(refused.web);
  t.teardown(() => context.close());
  const errors = errorsOf(context);
  const page = await context.newPage();
  await page.goto(`${stack.url}/jobs/${id}`);
  t.match(await page.locator('.email-problem').innerText(), /^We could not email you about this job: the mail server refused it: 550/);
  t.equal(await page.locator('.email-problem').getByRole('link', { name: 'profile page' }).getAttribute('href'), '/profile#notifications');
  await screenshot(page, import.meta.filename, 'refused email on the job page');
  t.strictSame(errors, [], 'no script or console errors');
});

t.test('while the notification service is away the pages and live jobs go on without notices; then they come back', async (t) => {
  const fred = await user('fred@example.org');
  const context = await signedInContext(fred.web);
  t.teardown(() => context.close());
  const errors = errorsOf(context);
  const jobsTab = await liveTab(context, '/jobs');
  await jobsTab.locator('.live-note:not([hidden])').waitFor();

  await stack.services.notification!.stop();
  const jobs = await fred.web.get('/jobs');
  t.equal(jobs.status, 200, 'the jobs page renders');
  t.match(jobs.text, '<span class="badge unread" hidden>0</span>', 'without a count');
  const notices = await fred.web.get('/notices');
  t.equal(notices.status, 503);
  t.match(notices.text, 'Your notices cannot be shown right now.');
  const ready = await fetch(`http://127.0.0.1:${stack.services.gateway!.opsPort}/readyz`);
  t.equal(ready.status, 200, 'the gateway stays ready');
  await ready.body?.cancel();

  const first = await upload(fred, 'fred-away.vcf');
  await jobsTab.locator(`tr[data-job="${first}"] .badge.completed`).waitFor({ timeout: 90_000 });
  t.pass('the open tab saw the job finish live');
  t.equal(await jobsTab.locator('.toast').count(), 0, 'no toast: no notices while the service is away');

  // Back: the stream's notice watch opens again by itself (with backoff) and catches up with the
  // count: the service works through the event it missed, and the badge shows that notice.
  await stack.startService('notification');
  await badgeShows(t, jobsTab, 1, 'the notice of the job finished while the service was away is counted');
  const second = await upload(fred, 'fred-back.vcf');
  await jobsTab.locator('.toast', { hasText: 'fred-back.vcf is annotated' }).waitFor({ timeout: 90_000 });
  await badgeShows(t, jobsTab, 2, 'the badge counts both');
  t.equal(await jobsTab.locator('.toast', { hasText: 'fred-back.vcf' }).getByRole('link').getAttribute('href'), `/jobs/${second}`);
  t.strictSame(errors, [], 'no script or console errors');
});
