// Who may see and do what on the web pages and the JSON API, against the real gateway and job
// service: another user's job, no session, an expired or tampered session, missing CSRF tokens,
// and user data that looks like markup.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, sharedDataPath, startGasStack, startService, WebClient } from '@gas/testing';
import type { GasStack, ServiceHandle } from '@gas/testing';
import { createClient, JobService } from '@gas/proto';

const FREE_1 = sharedDataPath('vcf/gas_anntools/free_1.vcf');
const PASSWORD = 'a long enough password';
const MARKUP = '<img src=x onerror=alert(1)>.vcf';

let stack: GasStack;
let alice: WebClient;
let bob: WebClient;
let aliceCsrf: string;
let aliceJob: string;

before(async () => {
  stack = await startGasStack({ store: 'filesystem', services: ['job', 'annotator', 'gateway'] });
  alice = new WebClient(stack.url);
  bob = new WebClient(stack.url);
  aliceCsrf = await alice.signUp({ email: 'alice@example.org', password: PASSWORD, name: 'Alice <b>A</b>' });
  await bob.signUp({ email: 'bob@example.org', password: PASSWORD, name: 'Bob' });
  const res = await alice.upload('free_1.vcf', new Blob([await readFile(FREE_1)]), 'GRCh37', aliceCsrf);
  assert.equal(res.status, 201, res.text);
  aliceJob = (JSON.parse(res.text) as { id: string }).id;
  await stack.eventually(async () => {
    assert.match((await alice.get(`/jobs/${aliceJob}`)).text, /class="badge completed"/);
  }, 60_000);
});
after(() => stack?.stop());

/** Another gateway replica on the same NATS, job service and store, with `env` on top. */
async function secondGateway(env: Record<string, string>): Promise<{ gateway: ServiceHandle; port: number }> {
  const port = await freePort();
  const gateway = startService('gateway', {
    NATS_URL: stack.natsUrl,
    JOB_GRPC_URL: stack.jobGrpcUrl,
    BLOB_STORE: 'filesystem',
    BLOB_ROOT: join(stack.stateDir, 'blobs'),
    GATEWAY_HOST: '127.0.0.1',
    GATEWAY_PORT: String(port),
    GATEWAY_DRAIN_DELAY_MS: '0',
    ...env,
  });
  await gateway.waitReady(60_000);
  return { gateway, port };
}

test("every page and API route of a job refuses another user's session and API token with 404", async () => {
  const bobCsrf = WebClient.csrfOf((await bob.get('/tokens')).text);
  const created = await bob.postForm('/tokens', { _csrf: bobCsrf, name: 'script' });
  const bobToken = /<code class="secret">([^<]+)<\/code>/.exec(created.text)![1]!;
  const routes = ['', '/result', '/tsv', '/summary', '/log', '/input'];
  for (const r of routes) {
    const page = r === '' ? await bob.get(`/jobs/${aliceJob}`) : null;
    if (page) {
      assert.equal(page.status, 404, 'job page');
      assert.doesNotMatch(page.text, /free_1\.vcf/);
    }
    const api = await bob.get(`/api/v1/jobs/${aliceJob}${r}`);
    assert.equal(api.status, 404, `session ${r}`);
    assert.equal(api.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    const withToken = await fetch(`${stack.url}/api/v1/jobs/${aliceJob}${r}`, { headers: { authorization: `Bearer ${bobToken}` } });
    assert.equal(withToken.status, 404, `token ${r}`);
    await withToken.body?.cancel();
    // The owner gets each of them.
    const own = await alice.get(`/api/v1/jobs/${aliceJob}${r}`);
    assert.equal(own.status, 200, `alice ${r}: ${own.text.slice(0, 200)}`);
  }
  const list = JSON.parse((await bob.get('/api/v1/jobs')).text) as { jobs: unknown[] };
  assert.deepEqual(list.jobs, []);
  assert.doesNotMatch((await bob.get('/jobs')).text, new RegExp(aliceJob));
  // Bob's token lists Bob's jobs, and revoking it ends it.
  const tokens = await bob.get('/tokens');
  const tokenId = /action="\/tokens\/([0-9A-Z]{26})\/revoke"/.exec(tokens.text)![1]!;
  assert.equal((await bob.postForm(`/tokens/${tokenId}/revoke`, { _csrf: bobCsrf })).status, 303);
  const revoked = await fetch(`${stack.url}/api/v1/jobs`, { headers: { authorization: `Bearer ${bobToken}` } });
  assert.equal(revoked.status, 401);
  await revoked.body?.cancel();
  // Alice cannot revoke Bob's tokens either: a token id of someone else is not found.
  const again = await bob.postForm('/tokens', { _csrf: bobCsrf, name: 'second' });
  const secondId = /action="\/tokens\/([0-9A-Z]{26})\/revoke"/.exec(again.text)![1]!;
  assert.equal((await alice.postForm(`/tokens/${secondId}/revoke`, { _csrf: aliceCsrf })).status, 404);
});

test('without a session pages send you to sign in and the API answers 401; a tampered cookie is no session', async () => {
  const anon = new WebClient(stack.url);
  for (const path of ['/jobs', `/jobs/${aliceJob}`, '/upload', '/profile', '/tokens', '/subscribe']) {
    const res = await anon.get(path);
    assert.equal(res.status, 303, path);
    assert.equal(res.location, `/signin?next=${encodeURIComponent(path)}`);
  }
  for (const path of ['/api/v1/jobs', `/api/v1/jobs/${aliceJob}`, `/api/v1/jobs/${aliceJob}/result`, '/jobs/events']) {
    const res = await anon.get(path);
    assert.equal(res.status, 401, path);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  }
  const forged = new WebClient(stack.url);
  const real = alice.cookies.get('gas_session')!;
  const flipped = real.slice(0, -1) + (real.endsWith('A') ? 'B' : 'A');
  for (const value of [flipped, real.slice(1), `${real}x`, 'not-a-session']) {
    forged.cookies.set('gas_session', value);
    assert.equal((await forged.get('/jobs')).status, 303, value);
    assert.equal((await forged.get(`/api/v1/jobs/${aliceJob}`)).status, 401, value);
  }
});

test('a session ends after its idle time, on every gateway replica (sessions live in NATS)', async () => {
  // A second gateway on the same NATS and job service, with a two-second idle limit.
  const { gateway, port } = await secondGateway({ GATEWAY_SESSION_IDLE_SECONDS: '2' });
  try {
    const carol = new WebClient(`http://127.0.0.1:${port}`);
    await carol.signUp({ email: 'carol@example.org', password: PASSWORD, name: 'Carol' });
    assert.equal((await carol.get('/jobs')).status, 200);
    // The same session cookie works on the first gateway: both read the sessions bucket.
    const onFirst = new WebClient(stack.url);
    onFirst.cookies.set('gas_session', carol.cookies.get('gas_session')!);
    assert.equal((await onFirst.get('/jobs')).status, 200);
    await new Promise((r) => setTimeout(r, 2500));
    const expired = await carol.get('/jobs');
    assert.equal(expired.status, 303);
    assert.match(expired.location!, /^\/signin/);
    assert.equal((await carol.get('/api/v1/jobs')).status, 401);
  } finally {
    await gateway.stop();
  }
});

test('changes without the CSRF token, or with a wrong one, are refused with 403 and change nothing', async () => {
  const wrong = 'x'.repeat(43);
  for (const [path, fields] of [
    ['/profile', { name: 'Mallory' }],
    ['/tokens', { name: 'stolen' }],
    ['/subscribe', {}],
    ['/signout', {}],
  ] as const) {
    for (const token of [undefined, wrong]) {
      const res = await alice.postForm(path, token ? { ...fields, _csrf: token } : fields);
      assert.equal(res.status, 403, `${path} ${token ? 'wrong' : 'missing'}`);
      assert.match(res.text, /expired or did not come from this site/);
    }
  }
  assert.doesNotMatch((await alice.get('/profile')).text, /Mallory/);
  assert.doesNotMatch((await alice.get('/tokens')).text, /stolen/);
  assert.equal((await alice.get('/jobs')).status, 200, 'still signed in');
  // The JSON API with the session cookie needs the header too; an upload without it stores nothing.
  const before = (JSON.parse((await alice.get('/api/v1/jobs')).text) as { jobs: unknown[] }).jobs.length;
  const res = await alice.upload('free_1.vcf', new Blob([await readFile(FREE_1)]), 'GRCh37', null);
  assert.equal(res.status, 403);
  assert.equal((JSON.parse((await alice.get('/api/v1/jobs')).text) as { jobs: unknown[] }).jobs.length, before);
  // Signed-out forms carry a token bound to a cookie: a post from elsewhere is refused.
  const stranger = new WebClient(stack.url);
  const signin = await stranger.postForm('/signin', { email: 'alice@example.org', password: PASSWORD, _csrf: 'forged-token-from-elsewhere-1234' });
  assert.equal(signin.status, 403);
  assert.equal(stranger.cookies.has('gas_session'), false);
});

test('a file name and a profile name with markup are shown as text', async () => {
  const res = await alice.upload(MARKUP, new Blob([await readFile(FREE_1)]), 'GRCh37', aliceCsrf);
  assert.equal(res.status, 201, res.text);
  const job = JSON.parse(res.text) as { id: string; input_name: string };
  assert.equal(job.input_name, MARKUP, 'the job keeps the name the user chose');
  for (const page of [(await alice.get('/jobs')).text, (await alice.get(`/jobs/${job.id}`)).text]) {
    assert.ok(page.includes('&lt;img src=x onerror=alert(1)&gt;.vcf'), 'escaped');
    assert.ok(!page.includes('<img src=x'), 'never as markup');
  }
  const profile = (await alice.get('/profile')).text;
  assert.ok(profile.includes('value="Alice &lt;b&gt;A&lt;/b&gt;"'));
  // The stored key is a safe name; the download keeps to it.
  const input = await alice.get(`/api/v1/jobs/${job.id}/input`);
  assert.match(input.headers.get('content-disposition') ?? '', /filename="_img_src_x_onerror_alert_1_\.vcf"/);
});

test('sign-in: a wrong password and an unknown address get the same answer; the right one signs in', async () => {
  const c = new WebClient(stack.url);
  const wrong = await c.signIn('alice@example.org', 'not the password at all');
  const unknown = await c.signIn('nobody@example.org', PASSWORD);
  assert.equal(wrong.status, 401);
  assert.equal(unknown.status, 401);
  const message = (t: string) => /<p class="error" role="alert">([^<]+)<\/p>/.exec(t)![1];
  assert.equal(message(wrong.text), message(unknown.text));
  assert.equal(c.cookies.has('gas_session'), false);
  const ok = await c.signIn('ALICE@example.org', PASSWORD);
  assert.equal(ok.status, 303);
  assert.equal(ok.location, '/jobs');
  assert.equal((await c.get('/jobs')).status, 200);
  // An open redirect through ?next= is not possible.
  const d = new WebClient(stack.url);
  const form = await d.get('/signin?next=//evil.example/x');
  const res = await d.postForm('/signin', { _csrf: WebClient.csrfOf(form.text), email: 'alice@example.org', password: PASSWORD, next: '//evil.example/x' });
  assert.equal(res.location, '/jobs');
});

test('sign-up refuses a taken address, a short password and a bad address with a message on the form', async () => {
  const c = new WebClient(stack.url);
  const form = await c.get('/signup');
  const csrf = WebClient.csrfOf(form.text);
  const taken = await c.postForm('/signup', { _csrf: csrf, email: 'Alice@Example.org', password: PASSWORD, name: 'A' });
  assert.equal(taken.status, 409);
  assert.match(taken.text, /exists already/);
  const short = await c.postForm('/signup', { _csrf: csrf, email: 'new@example.org', password: 'short', name: 'N' });
  assert.equal(short.status, 400);
  assert.match(short.text, /at least 10 characters/);
  assert.match(short.text, /value="new@example.org"/, 'what was typed is kept');
  const bad = await c.postForm('/signup', { _csrf: csrf, email: 'not-an-address', password: PASSWORD, name: 'N' });
  assert.equal(bad.status, 400);
  assert.equal(c.cookies.has('gas_session'), false);
});

test('error pages help: 404 for an unknown page and job, with security headers on every answer', async () => {
  const missing = await alice.get('/no/such/page');
  assert.equal(missing.status, 404);
  assert.match(missing.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(missing.text, /There is no page at this address/);
  assert.match(missing.text, /href="\/jobs"/);
  const job = await alice.get('/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV');
  assert.equal(job.status, 404);
  assert.match(job.text, /no such job/);
  for (const res of [missing, job, await alice.get('/jobs'), await alice.get('/api/v1/jobs')]) {
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
  }
});

test('archived and restoring results: the job page says what the user can do, downloads answer 409', async () => {
  // What the archive service does after the retention period, done here through the job service.
  const users = await readdir(join(stack.stateDir, 'blobs', 'inputs'));
  let userId = '';
  for (const u of users) if ((await readdir(join(stack.stateDir, 'blobs', 'inputs', u))).includes(aliceJob)) userId = u;
  assert.ok(userId, 'the input of alice\'s job is in the store');
  const jobs = createClient(JobService, stack.jobGrpcUrl, { defaultDeadlineMs: 10_000 });
  try {
    await jobs.markArchived({ userId, jobId: aliceJob, archiveKeys: {} });
    const archived = await alice.get(`/jobs/${aliceJob}`);
    assert.match(archived.text, /The results are in cold storage/);
    assert.match(archived.text, /<a href="\/subscribe">Upgrade to premium<\/a> and they are restored automatically/);
    assert.doesNotMatch(archived.text, /Annotated VCF/, 'no download links while archived');
    const download = await alice.get(`/api/v1/jobs/${aliceJob}/result`);
    assert.equal(download.status, 409);
    assert.match(JSON.parse(download.text).detail, /archived; upgrade to premium to restore them/);
    await jobs.markRestoring({ userId, jobId: aliceJob });
    const restoring = await alice.get(`/jobs/${aliceJob}`);
    assert.match(restoring.text, /Restoring the results from cold storage/);
    assert.match((await alice.get('/jobs')).text, /class="badge archived">Restoring</);
  } finally {
    jobs.close();
  }
});

test('over the free limit: refused before storing, through the API and through the plain form post', async () => {
  const big = new Blob([await readFile(sharedDataPath('vcf/gas_anntools/premium_1.vcf'))]);
  const before = (JSON.parse((await bob.get('/api/v1/jobs')).text) as { jobs: unknown[] }).jobs.length;
  const bobCsrf = WebClient.csrfOf((await bob.get('/upload')).text);
  const api = await bob.upload('premium_1.vcf', big, 'GRCh37', bobCsrf);
  assert.equal(api.status, 413);
  assert.match(JSON.parse(api.text).detail, /larger than 150 KB, the free plan's limit; upgrade to premium/);
  // The form without the page script (multipart post to /upload) gets the page back with the reason.
  const form = new FormData();
  form.append('_csrf', bobCsrf);
  form.append('genome_build', 'GRCh37');
  form.append('file', big, 'premium_1.vcf');
  const page = await bob.request('/upload', { method: 'POST', body: form });
  assert.equal(page.status, 413);
  assert.match(page.text, /<p class="error" role="alert">The file is larger than 150 KB, the free plan&#39;s limit; upgrade to premium to annotate larger files\.<\/p>/);
  assert.equal((JSON.parse((await bob.get('/api/v1/jobs')).text) as { jobs: unknown[] }).jobs.length, before, 'no job');
  const stored = await readdir(join(stack.stateDir, 'blobs', 'inputs')).catch(() => []);
  for (const u of stored) {
    for (const j of await readdir(join(stack.stateDir, 'blobs', 'inputs', u))) {
      assert.ok(!(await readdir(join(stack.stateDir, 'blobs', 'inputs', u, j))).includes('premium_1.vcf'), 'nothing stored');
    }
  }
});

test('behind TLS (an https public URL) the session cookie is Secure and __Host- prefixed, with HSTS', async () => {
  const { gateway, port } = await secondGateway({ GATEWAY_PUBLIC_URL: 'https://gas.example.org' });
  try {
    const c = new WebClient(`http://127.0.0.1:${port}`);
    const form = await c.get('/signup');
    const res = await c.postForm('/signup', { _csrf: WebClient.csrfOf(form.text), email: 'tls@example.org', password: PASSWORD, name: 'Tls' });
    assert.equal(res.status, 303);
    const cookie = res.headers.getSetCookie().find((h) => h.startsWith('__Host-gas_session='));
    assert.ok(cookie, res.headers.getSetCookie().join(' | '));
    for (const attr of ['Secure', 'HttpOnly', 'SameSite=Lax', 'Path=/']) assert.ok(cookie.split('; ').includes(attr), `${attr} in ${cookie}`);
    assert.doesNotMatch(cookie, /Domain=/i, '__Host- cookies have no Domain');
    assert.match(res.headers.get('strict-transport-security') ?? '', /max-age=31536000/);
  } finally {
    await gateway.stop();
  }
});
