// A job deleted while pages show it, in a real Chromium on the real stack: the live stream says
// `job-deleted` with the id only, the jobs list drops the row (its empty state shown when that was
// the last one) and the job's page replaces its downloads and delete link with a note, without
// navigating; through a SharedWorker (deleted in a third tab), a leader tab and a page's own stream
// (deleted through the API with the user's token). Another user's stream never carries it; a stream
// opened within 10 minutes repeats it, so a page that missed it catches up.
import t from 'tap';
import type { Test } from 'tap';
import { readFile } from 'node:fs/promises';
import { launchBrowser, screenshot, sharedDataPath, startGasStack, WebClient } from '@gas/testing';
import type { Page } from '@gas/testing';

type BrowserContext = ReturnType<Page['context']>;
interface User {
  web: WebClient;
  csrf: string;
}

const FREE_1 = sharedDataPath('vcf/gas_anntools/free_1.vcf');
/** From the delete to what every open page must show by then. */
const DEADLINE_MS = 5_000;

const stack = await startGasStack({ store: 'filesystem' });
t.teardown(() => stack.stop());
const browser = await launchBrowser();
t.teardown(() => browser.close());
const vcf = new Blob([await readFile(FREE_1)]);

async function user(email: string): Promise<User> {
  const web = new WebClient(stack.url);
  const csrf = await web.signUp({ email, password: `password of ${email}`, name: email.split('@')[0]! });
  return { web, csrf };
}

async function completedJob(u: User, name: string): Promise<string> {
  const res = await u.web.upload(name, vcf, 'GRCh37', u.csrf);
  if (res.status !== 201) throw new Error(`upload of ${name} answered ${res.status}: ${res.text}`);
  const id = (JSON.parse(res.text) as { id: string }).id;
  const status = await stack.eventually(
    async () => (JSON.parse((await u.web.get(`/api/v1/jobs/${id}`)).text) as { status: string }).status,
    (s) => s === 'COMPLETED',
    90_000,
  );
  if (status !== 'COMPLETED') throw new Error(`job ${name} is ${status}`);
  return id;
}

/** A browser context with the user's session; its pages' script and console errors are collected. */
async function signedInContext(t: Test, u: User, init?: string): Promise<{ context: BrowserContext; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  t.teardown(() => context.close());
  await context.addCookies([{ name: 'gas_session', value: u.web.cookies.get('gas_session')!, url: stack.url }]);
  if (init) await context.addInitScript(init);
  const errors: string[] = [];
  context.on('page', (page) => {
    page.on('console', (m) => void (m.type() === 'error' && errors.push(`${page.url()}: ${m.text()}`)));
    page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
  });
  return { context, errors };
}

/** A /jobs/events stream read as it comes, at the SSE level, as a script would. */
async function sseStream(t: Test, u: User): Promise<{ text: () => string; until: (pattern: RegExp, ms: number) => Promise<void> }> {
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const res = await fetch(`${stack.url}/jobs/events`, {
    headers: { cookie: `gas_session=${u.web.cookies.get('gas_session')}` },
    signal: ac.signal,
  });
  if (res.status !== 200) throw new Error(`/jobs/events answered ${res.status}`);
  let text = '';
  void (async () => {
    for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) text += chunk;
  })().catch(() => undefined);
  const until = async (pattern: RegExp, ms: number) => {
    const deadline = Date.now() + ms;
    while (!pattern.test(text)) {
      if (Date.now() > deadline) throw new Error(`no ${pattern} in ${ms} ms: ${text}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await until(/^event: hello\n/m, 5_000);
  return { text: () => text, until };
}

/** The data of every `job-deleted` event in a stream's text. */
function deletions(text: string): unknown[] {
  return [...text.matchAll(/^event: job-deleted\ndata: (.*)$/gm)].map((m) => JSON.parse(m[1]!) as unknown);
}

/** The jobs list and the job's page, open and following the stream. */
async function openPages(context: BrowserContext, jobId: string, transport: string): Promise<{ list: Page; jobPage: Page }> {
  const jobPage = await context.newPage();
  // A page of its own stream: its events count once the stream has answered.
  const streamed = transport === 'direct' ? jobPage.waitForResponse((r) => r.url().endsWith('/jobs/events')) : null;
  await jobPage.goto(`${stack.url}/jobs/${jobId}`);
  await streamed;
  const list = await context.newPage();
  await list.goto(`${stack.url}/jobs`);
  await list.locator('.live-note:not([hidden])').waitFor({ timeout: 15_000 });
  for (const p of [list, jobPage])
    if ((await p.evaluate('window.gasLiveTransport')) !== transport) throw new Error(`not through ${transport}`);
  // Gone after a reload: the job page must change in place.
  await jobPage.evaluate('window.notReloaded = true');
  return { list, jobPage };
}

/** What the job's page shows once it has been told the job is gone. */
async function deletedJobPage(t: Test, jobPage: Page, jobId: string): Promise<void> {
  const note = jobPage.locator('.callout.job-deleted');
  await note.waitFor({ timeout: DEADLINE_MS });
  t.equal(await note.getAttribute('role'), 'alert');
  t.match(
    await note.innerText(),
    /^This job was deleted\. Its input and results are gone and can no longer be downloaded\. Back to your jobs$/,
  );
  t.equal(await note.getByRole('link', { name: 'Back to your jobs' }).getAttribute('href'), '/jobs');
  t.equal(await jobPage.locator('.downloads, section.delete-job, form#preview').count(), 0, 'no downloads, filter or delete link');
  t.equal(await jobPage.locator(`a[href*="/api/v1/jobs/${jobId}"], a[href^="/jobs/${jobId}"]`).count(), 0, 'no link to what is gone');
  t.equal(await jobPage.evaluate('window.notReloaded'), true, 'the page changed in place');
  t.equal(jobPage.url(), `${stack.url}/jobs/${jobId}`, 'and stayed where it was');
}

t.test(
  'through a SharedWorker: deleted in a third tab, the list drops the row and the job page says so; not on another user’s stream',
  async (t) => {
    const alice = await user('alice@example.org');
    const bob = await user('bob@example.org');
    const [gone, kept, bobs] = await Promise.all([
      completedJob(alice, 'gone.vcf'),
      completedJob(alice, 'kept.vcf'),
      completedJob(bob, 'bobs-own.vcf'),
    ]);
    const aliceStream = await sseStream(t, alice);
    const bobStream = await sseStream(t, bob);
    const { context, errors } = await signedInContext(t, alice);
    const { list, jobPage } = await openPages(context, gone, 'shared-worker');
    t.equal(await list.locator('table.jobs tbody tr').count(), 2);

    const third = await context.newPage();
    await third.goto(`${stack.url}/jobs/${gone}`);
    await third.getByRole('link', { name: 'Delete this job…' }).click();
    await third.waitForURL(new RegExp(`/jobs/${gone}/delete$`));
    const started = Date.now();
    await third.getByRole('button', { name: 'Delete the job and its files' }).click();
    await list.locator(`tr[data-job="${gone}"]`).waitFor({ state: 'detached', timeout: DEADLINE_MS });
    await deletedJobPage(t, jobPage, gone);
    t.ok(Date.now() - started < DEADLINE_MS, `both pages followed within ${Date.now() - started} ms`);
    await third.waitForURL(new RegExp(`/jobs\\?deleted=${gone}$`));
    t.strictSame(await list.locator('table.jobs td.name a').allInnerTexts(), ['kept.vcf'], 'the list keeps the other job');
    t.equal(await list.locator('.table-wrap').isVisible(), true);
    t.equal(await list.locator('p.empty').isVisible(), false);
    await screenshot(list, import.meta.filename, 'list after the delete');
    await screenshot(jobPage, import.meta.filename, 'job page after the delete');

    // The stream says the id and nothing else about the job.
    await aliceStream.until(new RegExp(`^event: job-deleted\\ndata: .*${gone}`, 'm'), DEADLINE_MS);
    t.strictSame(deletions(aliceStream.text()), [{ id: gone }]);
    // Bob's stream carries his own deletion, not Alice's (his deletion comes after hers).
    t.equal((await bob.web.request(`/api/v1/jobs/${bobs}`, { method: 'DELETE', headers: { 'x-csrf-token': bob.csrf } })).status, 204);
    await bobStream.until(new RegExp(`^event: job-deleted\\ndata: .*${bobs}`, 'm'), DEADLINE_MS);
    t.strictSame(deletions(bobStream.text()), [{ id: bobs }], "only Bob's own deletion");
    t.notOk(bobStream.text().includes(gone) || bobStream.text().includes(kept), "nothing of Alice's jobs");
    t.notOk(aliceStream.text().includes(bobs), "and Alice's stream nothing of Bob's");

    // A stream opened later repeats the deletion (a page whose stream was away catches up).
    const later = await sseStream(t, alice);
    await later.until(/^event: job-deleted\n/m, DEADLINE_MS);
    t.strictSame(deletions(later.text()), [{ id: gone }]);

    // The link goes to the list, which no longer has the job; the job's page is gone.
    await jobPage.getByRole('link', { name: 'Back to your jobs' }).click();
    await jobPage.waitForURL(`${stack.url}/jobs`);
    t.strictSame(await jobPage.locator('table.jobs td.name a').allInnerTexts(), ['kept.vcf']);
    t.equal((await alice.web.get(`/jobs/${gone}`)).status, 404);
    t.strictSame(errors, [], 'no script or console errors');
  },
);

for (const [transport, init] of [
  ['leader', 'delete window.SharedWorker;'],
  ['direct', 'delete window.SharedWorker; delete window.BroadcastChannel;'],
] as const) {
  t.test(
    `without SharedWorker (${transport}): deleted through the API with the user's token, the list shows its empty state`,
    async (t) => {
      const u = await user(`${transport}@example.org`);
      const id = await completedJob(u, `${transport}.vcf`);
      const created = await u.web.postForm('/tokens', { _csrf: WebClient.csrfOf((await u.web.get('/tokens')).text), name: 'script' });
      const token = /<code class="secret">([^<]+)<\/code>/.exec(created.text)![1]!;
      const { context, errors } = await signedInContext(t, u, init);
      const { list, jobPage } = await openPages(context, id, transport);
      t.equal(await list.locator('p.empty').isVisible(), false, 'the list shows the job');

      const started = Date.now();
      const res = await fetch(`${stack.url}/api/v1/jobs/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
      t.equal(res.status, 204);
      await list.locator(`tr[data-job="${id}"]`).waitFor({ state: 'detached', timeout: DEADLINE_MS });
      await deletedJobPage(t, jobPage, id);
      t.ok(Date.now() - started < DEADLINE_MS, `both pages followed within ${Date.now() - started} ms`);
      t.equal(await list.locator('.table-wrap').isVisible(), false, 'the empty table is hidden');
      t.match(await list.locator('p.empty').innerText(), /^No jobs yet\. Upload a VCF to start one\.$/);
      await screenshot(list, import.meta.filename, `${transport} list after the delete`);
      t.strictSame(errors, [], 'no script or console errors');
    },
  );
}
