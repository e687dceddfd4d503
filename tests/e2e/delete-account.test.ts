// Deleting one's account on the real stack (nats-server, the five services, the filesystem store).
// In Chromium, a user who signed up on the web, has two finished jobs, an API token and a second
// session goes from the profile to the deletion page, is refused with a wrong password, deletes
// with the right one and lands on the home page with the notice. Then nothing of the account works
// or is left: both sessions and the token are refused, the password no longer signs in, the jobs'
// files are gone from the store, the job service has no account, the notification service no
// notices. A post without the CSRF token deletes nothing (403), and neither does one while a job is
// queued (409, with no annotator running).
import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createClient, AccountService, NotificationService, RpcError, Status } from '@gas/proto';
import { BLOB_AREAS, FileBlobStore } from '@gas/storage';
import { launchBrowser, newPage, screenshot, sharedDataPath, startGasStack, WebClient, DESKTOP } from '@gas/testing';

const FREE_1 = sharedDataPath('vcf/gas_anntools/free_1.vcf');
const PASSWORD = 'a long enough password';

const stack = await startGasStack({ store: 'filesystem' });
t.teardown(() => stack.stop());
const accounts = createClient(AccountService, stack.jobGrpcUrl, { defaultDeadlineMs: 10_000 });
const notices = createClient(NotificationService, stack.notificationGrpcUrl, { defaultDeadlineMs: 10_000 });
t.teardown(() => (accounts.close(), notices.close()));
const store = new FileBlobStore({ root: join(stack.stateDir, 'blobs') });

/** Every object of the user's in the store, as `<area>/<key>`. */
async function filesOf(userId: string): Promise<string[]> {
  const out: string[] = [];
  for (const area of BLOB_AREAS) for (const key of await store.list(area, `${userId}/`)) out.push(`${area}/${key}`);
  return out.sort();
}

/** The user's objects once they are all gone, or what is left after 20 s. */
async function filesLeft(userId: string): Promise<string[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const left = await filesOf(userId);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The user whose inputs folder holds the job: a web user's id is not shown anywhere else. */
async function userOf(jobId: string): Promise<string> {
  for (const u of await readdir(join(stack.stateDir, 'blobs', 'inputs'))) {
    if ((await readdir(join(stack.stateDir, 'blobs', 'inputs', u))).includes(jobId)) return u;
  }
  throw new Error(`no input folder holds job ${jobId}`);
}

async function upload(web: WebClient, csrf: string, name: string): Promise<string> {
  const res = await web.upload(name, new Blob([await readFile(FREE_1)]), 'GRCh37', csrf);
  if (res.status !== 201) throw new Error(`upload: ${res.status} ${res.text}`);
  return (JSON.parse(res.text) as { id: string }).id;
}

async function finished(web: WebClient, id: string): Promise<void> {
  await stack.eventually(
    async () => (JSON.parse((await web.get(`/api/v1/jobs/${id}`)).text) as { status: string }).status,
    (s) => s === 'COMPLETED',
    90_000,
  );
}

/** A new API token made on the tokens page; the page shows it once. */
async function newToken(web: WebClient, csrf: string): Promise<string> {
  const res = await web.postForm('/tokens', { _csrf: csrf, name: 'pipeline' });
  if (res.status !== 201) throw new Error(`token: ${res.status}`);
  return /<code class="secret">([^<]+)<\/code>/.exec(res.text)![1]!;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function accountGone(userId: string): Promise<boolean> {
  return accounts.getAccount({ userId }).then(
    () => false,
    (err: unknown) => err instanceof RpcError && err.code === Status.NOT_FOUND,
  );
}

/** The sum of a metric's series on the gateway. */
async function metric(name: string): Promise<number> {
  let sum = 0;
  for (const m of (await stack.metrics('gateway')).matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(m[1]);
  return sum;
}

t.test('in Chromium: profile, the deletion page, a wrong password refused, the right one deletes everything', async (t) => {
  const email = 'leaving@example.org';
  const web = new WebClient(stack.url);
  const csrf = await web.signUp({ email, password: PASSWORD, name: 'Leaving' });
  const jobIds = [await upload(web, csrf, 'first.vcf'), await upload(web, csrf, 'second.vcf')];
  for (const id of jobIds) await finished(web, id);
  const userId = await userOf(jobIds[0]!);
  t.ok((await filesOf(userId)).length >= 2 * 5, 'both jobs have their input and results stored');
  const token = await newToken(web, csrf);
  t.equal((await web.get('/api/v1/jobs', bearer(token))).status, 200, 'the token works');
  const second = new WebClient(stack.url);
  t.equal((await second.signIn(email, PASSWORD)).status, 303, 'a second session');
  t.equal((await second.get('/jobs')).status, 200);
  t.not(second.cookies.get('gas_session'), web.cookies.get('gas_session'));
  t.ok((await notices.listNotices({ userId, pageSize: 50 })).notices.length >= 2, 'the jobs left notices');
  const deletedBefore = await metric('gas_gateway_accounts_deleted_total');

  const browser = await launchBrowser();
  t.teardown(() => browser.close());
  const page = await newPage(browser, DESKTOP);
  t.teardown(() => page.close());
  await page.context().addCookies([{ name: 'gas_session', value: web.cookies.get('gas_session')!, url: stack.url }]);
  await page.goto(`${stack.url}/profile`);
  await page.locator('section.delete-account').scrollIntoViewIfNeeded();
  await screenshot(page, import.meta.filename, 'profile');
  await page.getByRole('link', { name: 'Delete your account…' }).click();
  await page.waitForURL(`${stack.url}/account/delete`);
  const asks = await page.locator('main').innerText();
  t.match(asks, /2 jobs, with the files you uploaded and all their results/);
  t.match(asks, /1 API token/);
  t.match(asks, /your notices/);
  t.notMatch(asks, /premium subscription/, 'a free account has no subscription to cancel');
  await screenshot(page, import.meta.filename, 'confirm');

  await page.getByLabel('Your password').fill('not the password at all');
  await page.getByRole('button', { name: 'Delete my account and all its data' }).click();
  await page.locator('p.error').waitFor();
  t.equal(await page.locator('p.error').innerText(), 'The password is not right; nothing was deleted.');
  await screenshot(page, import.meta.filename, 'wrong password');
  t.equal((await web.get('/api/v1/jobs', bearer(token))).status, 200, 'after the refusal the token still works');
  t.equal((await second.get('/jobs')).status, 200, 'and so does the other session');

  await page.getByLabel('Your password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Delete my account and all its data' }).click();
  await page.waitForURL(`${stack.url}/`);
  t.equal(await page.locator('.notice').innerText(), 'Your account and its data were deleted.');
  await screenshot(page, import.meta.filename, 'deleted');
  t.same(
    (await page.context().cookies(stack.url)).filter((c) => c.name === 'gas_session'),
    [],
    'the session cookie is cleared',
  );
  await page.reload();
  t.equal(await page.locator('.notice').count(), 0, 'the notice is shown once');

  for (const [who, client] of [
    ['the old session cookie', web],
    ['the second session', second],
  ] as const) {
    const res = await client.get('/jobs');
    t.equal(res.status, 303, `${who}: the jobs page sends to sign-in`);
    t.match(res.location, /^\/signin/);
    t.equal((await client.get('/api/v1/jobs')).status, 401, `${who}: the API answers 401`);
  }
  t.equal((await web.get('/api/v1/jobs', bearer(token))).status, 401, 'the API token answers 401');
  t.equal((await new WebClient(stack.url).signIn(email, PASSWORD)).status, 401, 'the password no longer signs in');
  t.same(await filesLeft(userId), [], "the jobs' inputs and results are gone from the store");
  t.ok(await accountGone(userId), 'the job service has no account');
  t.equal((await metric('gas_gateway_accounts_deleted_total')) - deletedBefore, 1, 'gas_gateway_accounts_deleted_total counts it');
  const left = await stack.eventually(
    async () => (await notices.listNotices({ userId, pageSize: 50 })).notices.length,
    (n) => n === 0,
    10_000,
  );
  t.equal(left, 0, 'no notice of the user is left');
  t.match(stack.services.gateway!.logs(), new RegExp(`"userId":"${userId}".*"msg":"account deleted"`), 'a log line names the user');
  t.notMatch(stack.services.gateway!.logs(), new RegExp(email.replace('.', '\\.')), 'and never the address');

  // The address is free again: a new sign-up is a new, empty account.
  const again = new WebClient(stack.url);
  await again.signUp({ email, password: 'another long password', name: 'Back' });
  t.match((await again.get('/jobs')).text, /No jobs yet/);
  t.notMatch((await new WebClient(stack.url).get('/')).text, /were deleted/, 'the home page says nothing of it to anyone else');
});

t.test('a post without the CSRF token is refused and deletes nothing', async (t) => {
  const web = new WebClient(stack.url);
  const csrf = await web.signUp({ email: 'stays@example.org', password: PASSWORD, name: 'Stays' });
  const token = await newToken(web, csrf);
  const res = await web.postForm('/account/delete', { password: PASSWORD });
  t.equal(res.status, 403);
  const wrong = await web.postForm('/account/delete', { password: PASSWORD, _csrf: 'x'.repeat(43) });
  t.equal(wrong.status, 403, 'nor with a wrong one');
  t.equal((await web.get('/jobs')).status, 200, 'the session lives');
  t.equal((await web.get('/api/v1/jobs', bearer(token))).status, 200, 'the token works');
  t.equal((await new WebClient(stack.url).signIn('stays@example.org', PASSWORD)).status, 303, 'the password signs in');
  const byToken = await web.request('/account/delete', {
    method: 'POST',
    body: new URLSearchParams({ password: PASSWORD }),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...bearer(token) },
  });
  t.equal(byToken.status, 303, 'an API token is not a session: sent to sign in');
  t.match(byToken.location, /^\/signin/);
  t.equal(
    (await web.request('/api/v1/account', { method: 'DELETE', headers: bearer(token) })).status,
    404,
    'the API has no account deletion',
  );
  t.equal((await web.get('/jobs')).status, 200, 'still there');
});

t.test('with a job queued (no annotator), the deletion is refused with 409 and deletes nothing', async (t) => {
  await stack.services.annotator!.stop();
  const web = new WebClient(stack.url);
  const csrf = await web.signUp({ email: 'waiting@example.org', password: PASSWORD, name: 'Waiting' });
  const token = await newToken(web, csrf);
  const id = await upload(web, csrf, 'queued.vcf');
  const userId = await userOf(id);
  const asks = await web.get('/account/delete');
  t.equal(asks.status, 200);
  t.match(asks.text, /You have 1 job queued, running or being restored/);
  t.notMatch(asks.text, /<form class="card narrow delete-account"/, 'the page offers no form');
  const res = await web.postForm('/account/delete', { _csrf: csrf, password: PASSWORD });
  t.equal(res.status, 409);
  t.match(
    res.text,
    /queued, running or being restored from cold storage\. Your account can be deleted once it finishes; nothing has been deleted\./,
  );
  t.equal((await web.get('/jobs')).status, 200, 'the session lives');
  t.equal((await web.get('/api/v1/jobs', bearer(token))).status, 200, 'the token works (not revoked)');
  t.equal((JSON.parse((await web.get(`/api/v1/jobs/${id}`)).text) as { status: string }).status, 'PENDING', 'the job stays queued');
  t.ok(
    (await filesOf(userId)).some((f) => f.startsWith('inputs/')),
    'with its input',
  );
  t.notOk(await accountGone(userId), 'the account is there');
});
