// Live updates with many tabs, in a real Chromium on the real stack: ten tabs of the jobs page in
// one browser share a single /jobs/events stream (a SharedWorker; without one, a leader tab elected
// with Web Locks), every tab loads and sees a submitted job run live, a stream never feeds a tab of
// another account after a sign-out and sign-in in another tab, and a sign-out ends the stream.
// Downloads keep the user's own file name (名前 with spaces.vcf).
import t from 'tap';
import type { Test } from 'tap';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { launchBrowser, screenshot, sharedDataPath, startGasStack, WebClient } from '@gas/testing';
import type { Page } from '@gas/testing';

type BrowserContext = ReturnType<Page['context']>;

const FREE_1 = sharedDataPath('vcf/gas_anntools/free_1.vcf');
const TABS = 10;
const NAME = '名前 with spaces.vcf';

const stack = await startGasStack({ store: 'filesystem', env: { gateway: { GATEWAY_SIGNIN_ATTEMPTS_PER_MINUTE: '100' } } });
t.teardown(() => stack.stop());
const browser = await launchBrowser();
t.teardown(() => browser.close());
const vcf = new Blob([await readFile(FREE_1)]);

/** A signed-in web client; its session cookie can be handed to a browser context. */
async function user(email: string): Promise<{ web: WebClient; csrf: string }> {
  const web = new WebClient(stack.url);
  const csrf = await web.signUp({ email, password: `password of ${email}`, name: email.split('@')[0]! });
  return { web, csrf };
}

async function signedInContext(web: WebClient, init?: string): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addCookies([{ name: 'gas_session', value: web.cookies.get('gas_session')!, url: stack.url }]);
  if (init) await context.addInitScript(init);
  return context;
}

/** Script and console errors of every page of a context, and every /jobs/events request a page made. */
function watch(context: BrowserContext): { errors: string[]; pageStreams: string[] } {
  const errors: string[] = [];
  const pageStreams: string[] = [];
  context.on('page', (page) => {
    page.on('console', (m) => void (m.type() === 'error' && errors.push(`${page.url()}: ${m.text()}`)));
    page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
  });
  context.on('request', (r) => void (r.url().endsWith('/jobs/events') && pageStreams.push(r.url())));
  return { errors, pageStreams };
}

async function metric(name: string): Promise<number> {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(await stack.metrics('gateway'));
  return m ? Number(m[1]) : 0;
}

async function upload(u: { web: WebClient; csrf: string }, name: string): Promise<string> {
  const res = await u.web.upload(name, vcf, 'GRCh37', u.csrf);
  if (res.status !== 201) throw new Error(`upload of ${name} answered ${res.status}: ${res.text}`);
  return (JSON.parse(res.text) as { id: string }).id;
}

/** Opens `n` tabs of the jobs page one after another; each must load and go live. */
async function openTabs(t: Test, context: BrowserContext, n: number, transport: string): Promise<Page[]> {
  const pages: Page[] = [];
  for (let i = 0; i < n; i++) {
    const page = await context.newPage();
    pages.push(page);
    const res = await page.goto(`${stack.url}/jobs`, { timeout: 15_000 });
    t.equal(res?.status(), 200, `tab ${i + 1} loads`);
    await page.locator('.live-note:not([hidden])').waitFor({ timeout: 15_000 });
    t.equal(await page.locator('.live-note').innerText(), 'Statuses update live.', `tab ${i + 1} is live`);
    t.equal(await page.evaluate('window.gasLiveTransport'), transport, `tab ${i + 1} through ${transport}`);
  }
  return pages;
}

async function everyTabSees(pages: Page[], jobId: string, badge: string): Promise<void> {
  await Promise.all(pages.map((p) => p.locator(`tr[data-job="${jobId}"] .badge.${badge}`).waitFor({ timeout: 90_000 })));
}

t.test('a stream whose client goes while the server still checks its session is not left open', async (t) => {
  const erin = await user('erin@example.org');
  const { port } = new URL(stack.url);
  const request = `GET /jobs/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nCookie: gas_session=${erin.web.cookies.get('gas_session')}\r\n\r\n`;
  const openedBefore = await metric('gas_gateway_live_streams_opened_total');
  // Clients that hang up at once, or a few milliseconds in (a tab closed as it became the leader).
  await Promise.all(
    Array.from({ length: 40 }, async (_, i) => {
      const socket = connect(Number(port), '127.0.0.1');
      await once(socket, 'connect');
      socket.write(request);
      if (i % 4) await sleep(i % 8);
      socket.destroy();
    }),
  );
  const opened = await stack.eventually(
    async () => (await metric('gas_gateway_live_streams_opened_total')) - openedBefore,
    (n) => n >= 20,
  );
  t.ok(opened >= 20, `the server opened streams for most of them (${opened})`);
  const left = await stack.eventually(
    () => metric('gas_gateway_live_streams'),
    (n) => n === 0,
  );
  t.equal(left, 0, 'every one of them ended');
  t.comment(`opened ${opened}`);
});

t.test(`${TABS} tabs share one live stream through a SharedWorker; every tab sees a job run; the download keeps its name`, async (t) => {
  const alice = await user('alice@example.org');
  const context = await signedInContext(alice.web);
  t.teardown(() => context.close());
  const seen = watch(context);
  const openedBefore = await metric('gas_gateway_live_streams_opened_total');

  const pages = await openTabs(t, context, TABS, 'shared-worker');
  const id = await upload(alice, NAME);
  await everyTabSees(pages, id, 'completed');
  for (const p of pages) t.equal(await p.locator(`tr[data-job="${id}"] td.name a`).innerText(), NAME);
  await screenshot(pages[TABS - 1]!, import.meta.filename, 'tenth tab live done');

  t.equal((await metric('gas_gateway_live_streams_opened_total')) - openedBefore, 1, 'the server saw one /jobs/events connection');
  t.equal(await metric('gas_gateway_live_streams'), 1, 'and it is the one open now');
  t.strictSame(seen.pageStreams, [], 'no tab opened a stream of its own');

  // The download is named as the user named the file, spaces and script kept.
  const page = pages[0]!;
  await page.goto(`${stack.url}/jobs/${id}`);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Annotated VCF' }).click()]);
  t.equal(download.suggestedFilename(), '名前 with spaces.annot.vcf.gz');
  t.match(gunzipSync(await readFile(await download.path())).toString('utf8'), /##INFO=<ID=GAS_REGION/);
  const [input] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Your input' }).click()]);
  t.equal(input.suggestedFilename(), NAME);
  const header = (await alice.web.get(`/api/v1/jobs/${id}/result`)).headers.get('content-disposition');
  t.equal(header, `attachment; filename="__ with spaces.annot.vcf.gz"; filename*=UTF-8''%E5%90%8D%E5%89%8D%20with%20spaces.annot.vcf.gz`);

  for (const p of pages) await p.close();
  // The last tab gone, the worker lets go of the stream.
  const left = await stack.eventually(
    () => metric('gas_gateway_live_streams'),
    (n) => n === 0,
  );
  t.equal(left, 0, 'no stream left open once every tab is closed');
  t.strictSame(seen.errors, [], 'no script or console errors');
});

t.test(`without SharedWorker, ${TABS} tabs elect one leader (Web Locks) that shares the stream over a BroadcastChannel`, async (t) => {
  const bob = await user('bob@example.org');
  const context = await signedInContext(bob.web, 'delete window.SharedWorker;');
  t.teardown(() => context.close());
  const seen = watch(context);
  const openedBefore = await metric('gas_gateway_live_streams_opened_total');

  const pages = await openTabs(t, context, TABS, 'leader');
  const first = await upload(bob, 'first.vcf');
  await everyTabSees(pages, first, 'completed');
  t.equal((await metric('gas_gateway_live_streams_opened_total')) - openedBefore, 1, 'one stream for all ten tabs');
  t.equal(seen.pageStreams.length, 1, 'opened by one tab');

  // The leader (the first tab) goes: another tab takes over, and the rest still see new jobs.
  await pages[0]!.close();
  const rest = pages.slice(1);
  const second = await upload(bob, 'second.vcf');
  await everyTabSees(rest, second, 'completed');
  t.equal((await metric('gas_gateway_live_streams_opened_total')) - openedBefore, 2, 'one new stream after the leader left');
  // Tab after tab goes; each new leader's stream goes with its tab, and none is left open.
  for (const p of rest) await p.close();
  const left = await stack.eventually(
    () => metric('gas_gateway_live_streams'),
    (n) => n === 0,
  );
  t.equal(left, 0, 'no stream left open once every tab is closed');
  t.strictSame(seen.errors, [], 'no script or console errors');
});

t.test('after a sign-out and a sign-in as someone else in another tab, no tab sees the other account’s jobs', async (t) => {
  const carol = await user('carol@example.org');
  const dave = await user('dave@example.org');
  // Carol's browser: two tabs of her jobs page, one shared stream.
  const context = await signedInContext(carol.web);
  t.teardown(() => context.close());
  const seen = watch(context);
  const [stale, other] = await openTabs(t, context, 2, 'shared-worker');

  // In the second tab Carol signs out and Dave signs in.
  await other!.getByRole('button', { name: 'Sign out' }).click();
  await other!.waitForURL(`${stack.url}/`);
  await other!.goto(`${stack.url}/signin`);
  await other!.getByLabel('E-mail').fill('dave@example.org');
  await other!.getByLabel('Password').fill('password of dave@example.org');
  await other!.getByRole('button', { name: 'Sign in' }).click();
  await other!.waitForURL(/\/jobs$/);
  await other!.locator('.live-note:not([hidden])').waitFor();
  t.equal(await other!.locator('.live-note').innerText(), 'Statuses update live.');

  // Carol's stale tab is told its stream ended (her session is gone), within a few seconds.
  await stale!.locator('.live-note', { hasText: 'Live updates stopped' }).waitFor({ timeout: 15_000 });

  // New jobs of both: Carol's (from another device) and Dave's.
  const carolElsewhere = new WebClient(stack.url);
  await carolElsewhere.signIn('carol@example.org', 'password of carol@example.org');
  const carolCsrf = WebClient.csrfOf((await carolElsewhere.get('/jobs')).text);
  const carolJob = await upload({ web: carolElsewhere, csrf: carolCsrf }, 'carol-private.vcf');
  const daveJob = await upload(dave, 'dave-own.vcf');
  await other!.locator(`tr[data-job="${daveJob}"] .badge.completed`).waitFor({ timeout: 90_000 });
  // Carol's job has finished too: every event about it has been sent by now.
  await stack.eventually(
    async () => (await carolElsewhere.get(`/api/v1/jobs/${carolJob}`)).text,
    (text) => /"status":"COMPLETED"/.test(text),
    90_000,
  );
  await other!.waitForTimeout(1000);
  t.equal(await other!.locator(`tr[data-job="${carolJob}"]`).count(), 0, "Dave's tab never shows Carol's job");
  t.equal(await stale!.locator(`tr[data-job="${daveJob}"]`).count(), 0, "Carol's stale tab never shows Dave's job");
  t.notOk((await other!.content()).includes('carol-private.vcf'));
  // Streams end as the server notices (a closed connection, the 5 s session check): read until settled.
  const open = await stack.eventually(
    () => metric('gas_gateway_live_streams'),
    (n) => n === 1,
    15_000,
  );
  t.equal(open, 1, "only Dave's stream is open");

  // A stream that names another account than the page's is dropped at once, events unseen (the
  // check a worker relies on when its reconnect carries another account's cookie).
  // (An expression as a string: it runs in the page, whose DOM types this Node project does not load.)
  const outcome = await other!.evaluate<string>(`new Promise((resolve) => window.gasOpenStream('someone-else', {
    onLive: () => resolve('live'),
    onJob: () => resolve('job'),
    onEnded: (reason) => resolve('ended: ' + reason),
  }))`);
  t.equal(outcome, 'ended: account');
  t.strictSame(seen.errors, [], 'no script or console errors');
});

t.test('the stream itself ends when its session is signed out, and a reconnect is refused', async (t) => {
  const erin = await user('erin@example.org');
  const res = await fetch(`${stack.url}/jobs/events`, { headers: { cookie: `gas_session=${erin.web.cookies.get('gas_session')}` } });
  t.equal(res.status, 200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  const readUntil = async (pattern: RegExp, ms: number) => {
    const deadline = Date.now() + ms;
    while (!pattern.test(text)) {
      if (Date.now() > deadline) throw new Error(`no ${pattern} in ${ms} ms: ${text}`);
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
  };
  await readUntil(/event: hello\ndata: \{"account":"[\w-]{22}"\}/, 5000);
  const account = /"account":"([\w-]{22})"/.exec(text)![1];
  t.match((await erin.web.get('/jobs')).text, new RegExp(`<meta name="gas-live" content="${account}">`), 'the page names the same account');
  const signOut = await erin.web.postForm('/signout', { _csrf: erin.csrf });
  t.equal(signOut.status, 303);
  const started = Date.now();
  await readUntil(/event: signed-out/, 10_000);
  t.ok(Date.now() - started < 8000, `ended ${Date.now() - started} ms after the sign-out`);
  t.equal((await reader.read()).done, true, 'and the response ends');
  const again = await fetch(`${stack.url}/jobs/events`, {
    headers: { cookie: `gas_session=${erin.web.cookies.get('gas_session') ?? 'x'}` },
  });
  t.equal(again.status, 401);
  await again.body?.cancel();
});
