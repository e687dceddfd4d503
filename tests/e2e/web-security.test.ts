// Who may see and do what on the web pages and the JSON API, against the real gateway and job
// service: another user's job, no session, an expired or tampered session, missing CSRF tokens,
// and user data that looks like markup.
import t from 'tap';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, sharedDataPath, startGasStack, startService, WebClient } from '@gas/testing';
import type { ServiceHandle } from '@gas/testing';
import { createClient, JobService, timestampFromDate } from '@gas/proto';

const FREE_1 = sharedDataPath('vcf/gas_anntools/free_1.vcf');
const PASSWORD = 'a long enough password';
const MARKUP = '<img src=x onerror=alert(1)>.vcf';

const stack = await startGasStack({
  store: 'filesystem',
  services: ['job', 'annotator', 'gateway'],
  // The sign-up tests post more than the default ten forms a minute; tests/e2e/rate-limit.test.ts tests the limit.
  env: { gateway: { GATEWAY_SIGNIN_ATTEMPTS_PER_MINUTE: '100' } },
});
t.teardown(() => stack.stop());
const alice = new WebClient(stack.url);
const bob = new WebClient(stack.url);
const aliceCsrf = await alice.signUp({ email: 'alice@example.org', password: PASSWORD, name: 'Alice <b>A</b>' });
await bob.signUp({ email: 'bob@example.org', password: PASSWORD, name: 'Bob' });
const aliceJob = await (async () => {
  // Setup, not a test: a failure stops the file (an assertion here, between a top-level teardown
  // and the first test, would let tap end the file early while the job still runs).
  const res = await alice.upload('free_1.vcf', new Blob([await readFile(FREE_1)]), 'GRCh37', aliceCsrf);
  if (res.status !== 201) throw new Error(`alice's upload answered ${res.status}: ${res.text}`);
  const id = (JSON.parse(res.text) as { id: string }).id;
  const page = await stack.eventually(
    async () => (await alice.get(`/jobs/${id}`)).text,
    (text) => /class="badge (completed|failed)"/.test(text),
    60_000,
  );
  if (!/class="badge completed"/.test(page)) throw new Error(`alice's job ${id} did not complete:\n${page}`);
  return id;
})();

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

t.test("every page and API route of a job refuses another user's session and API token with 404", async (t) => {
  const bobCsrf = WebClient.csrfOf((await bob.get('/tokens')).text);
  const created = await bob.postForm('/tokens', { _csrf: bobCsrf, name: 'script' });
  const bobToken = /<code class="secret">([^<]+)<\/code>/.exec(created.text)![1]!;
  const routes = ['', '/result', '/tsv', '/summary', '/log', '/input'];
  for (const r of routes) {
    const page = r === '' ? await bob.get(`/jobs/${aliceJob}`) : null;
    if (page) {
      t.equal(page.status, 404, 'job page');
      t.notMatch(page.text, /free_1\.vcf/);
    }
    const api = await bob.get(`/api/v1/jobs/${aliceJob}${r}`);
    t.equal(api.status, 404, `session ${r}`);
    t.equal(api.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    const withToken = await fetch(`${stack.url}/api/v1/jobs/${aliceJob}${r}`, { headers: { authorization: `Bearer ${bobToken}` } });
    t.equal(withToken.status, 404, `token ${r}`);
    await withToken.body?.cancel();
    // The owner gets each of them.
    const own = await alice.get(`/api/v1/jobs/${aliceJob}${r}`);
    t.equal(own.status, 200, `alice ${r}`, { body: own.text.slice(0, 200) });
  }
  const list = JSON.parse((await bob.get('/api/v1/jobs')).text) as { jobs: unknown[] };
  t.strictSame(list.jobs, []);
  t.notMatch((await bob.get('/jobs')).text, new RegExp(aliceJob));
  // Bob's token lists Bob's jobs, and revoking it ends it.
  const tokens = await bob.get('/tokens');
  const tokenId = /action="\/tokens\/([0-9A-Z]{26})\/revoke"/.exec(tokens.text)![1]!;
  t.equal((await bob.postForm(`/tokens/${tokenId}/revoke`, { _csrf: bobCsrf })).status, 303);
  const revoked = await fetch(`${stack.url}/api/v1/jobs`, { headers: { authorization: `Bearer ${bobToken}` } });
  t.equal(revoked.status, 401);
  await revoked.body?.cancel();
  // Alice cannot revoke Bob's tokens either: a token id of someone else is not found.
  const again = await bob.postForm('/tokens', { _csrf: bobCsrf, name: 'second' });
  const secondId = /action="\/tokens\/([0-9A-Z]{26})\/revoke"/.exec(again.text)![1]!;
  t.equal((await alice.postForm(`/tokens/${secondId}/revoke`, { _csrf: aliceCsrf })).status, 404);
});

t.test('without a session pages send you to sign in and the API answers 401; a tampered cookie is no session', async (t) => {
  const anon = new WebClient(stack.url);
  for (const path of ['/jobs', `/jobs/${aliceJob}`, '/upload', '/profile', '/tokens', '/subscribe']) {
    const res = await anon.get(path);
    t.equal(res.status, 303, path);
    t.equal(res.location, `/signin?next=${encodeURIComponent(path)}`);
  }
  for (const path of ['/api/v1/jobs', `/api/v1/jobs/${aliceJob}`, `/api/v1/jobs/${aliceJob}/result`, '/jobs/events']) {
    const res = await anon.get(path);
    t.equal(res.status, 401, path);
    t.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  }
  const forged = new WebClient(stack.url);
  const real = alice.cookies.get('gas_session')!;
  const flipped = real.slice(0, -1) + (real.endsWith('A') ? 'B' : 'A');
  for (const value of [flipped, real.slice(1), `${real}x`, 'not-a-session']) {
    forged.cookies.set('gas_session', value);
    t.equal((await forged.get('/jobs')).status, 303, value);
    t.equal((await forged.get(`/api/v1/jobs/${aliceJob}`)).status, 401, value);
  }
});

t.test('a session ends after its idle time, on every gateway replica (sessions live in NATS)', async (t) => {
  // A second gateway on the same NATS and job service, with a two-second idle limit.
  const { gateway, port } = await secondGateway({ GATEWAY_SESSION_IDLE_SECONDS: '2' });
  t.teardown(() => gateway.stop());
  const carol = new WebClient(`http://127.0.0.1:${port}`);
  await carol.signUp({ email: 'carol@example.org', password: PASSWORD, name: 'Carol' });
  t.equal((await carol.get('/jobs')).status, 200);
  // The same session cookie works on the first gateway: both read the sessions bucket.
  const onFirst = new WebClient(stack.url);
  onFirst.cookies.set('gas_session', carol.cookies.get('gas_session')!);
  t.equal((await onFirst.get('/jobs')).status, 200);
  // Being idle longer than the two-second limit is the behaviour under test: this wait stays.
  await sleep(2500);
  const expired = await carol.get('/jobs');
  t.equal(expired.status, 303);
  t.match(expired.location, /^\/signin/);
  t.equal((await carol.get('/api/v1/jobs')).status, 401);
});

t.test('changes without the CSRF token, or with a wrong one, are refused with 403 and change nothing', async (t) => {
  const wrong = 'x'.repeat(43);
  for (const [path, fields] of [
    ['/profile', { name: 'Mallory' }],
    ['/tokens', { name: 'stolen' }],
    ['/subscribe', {}],
    ['/signout', {}],
  ] as const) {
    for (const token of [undefined, wrong]) {
      const res = await alice.postForm(path, token ? { ...fields, _csrf: token } : fields);
      t.equal(res.status, 403, `${path} ${token ? 'wrong' : 'missing'}`);
      t.match(res.text, /expired or did not come from this site/);
    }
  }
  t.notMatch((await alice.get('/profile')).text, /Mallory/);
  t.notMatch((await alice.get('/tokens')).text, /stolen/);
  t.equal((await alice.get('/jobs')).status, 200, 'still signed in');
  // The JSON API with the session cookie needs the header too; an upload without it stores nothing.
  const before = (JSON.parse((await alice.get('/api/v1/jobs')).text) as { jobs: unknown[] }).jobs.length;
  const res = await alice.upload('free_1.vcf', new Blob([await readFile(FREE_1)]), 'GRCh37', null);
  t.equal(res.status, 403);
  t.equal((JSON.parse((await alice.get('/api/v1/jobs')).text) as { jobs: unknown[] }).jobs.length, before);
  // Signed-out forms carry a token bound to a cookie: a post from elsewhere is refused.
  const stranger = new WebClient(stack.url);
  const signin = await stranger.postForm('/signin', {
    email: 'alice@example.org',
    password: PASSWORD,
    _csrf: 'forged-token-from-elsewhere-1234',
  });
  t.equal(signin.status, 403);
  t.equal(stranger.cookies.has('gas_session'), false);
});

t.test('a file name and a profile name with markup are shown as text', async (t) => {
  const res = await alice.upload(MARKUP, new Blob([await readFile(FREE_1)]), 'GRCh37', aliceCsrf);
  t.equal(res.status, 201, res.text);
  const job = JSON.parse(res.text) as { id: string; input_name: string };
  t.equal(job.input_name, MARKUP, 'the job keeps the name the user chose');
  for (const page of [(await alice.get('/jobs')).text, (await alice.get(`/jobs/${job.id}`)).text]) {
    t.ok(page.includes('&lt;img src=x onerror=alert(1)&gt;.vcf'), 'escaped');
    t.notOk(page.includes('<img src=x'), 'never as markup');
  }
  const profile = (await alice.get('/profile')).text;
  t.ok(profile.includes('value="Alice &lt;b&gt;A&lt;/b&gt;"'), 'the profile name is escaped');
  // The download is named as the user named the file (a quoted header value, never markup); only
  // the stored key is a safe form of it.
  const input = await alice.get(`/api/v1/jobs/${job.id}/input`);
  t.equal(input.headers.get('content-disposition'), `attachment; filename="${MARKUP}"`);
});

t.test('sign-in: a wrong password and an unknown address get the same answer; the right one signs in', async (t) => {
  const c = new WebClient(stack.url);
  const wrong = await c.signIn('alice@example.org', 'not the password at all');
  const unknown = await c.signIn('nobody@example.org', PASSWORD);
  t.equal(wrong.status, 401);
  t.equal(unknown.status, 401);
  const message = (html: string) => /<p class="error" role="alert">([^<]+)<\/p>/.exec(html)![1];
  t.equal(message(wrong.text), message(unknown.text));
  t.equal(c.cookies.has('gas_session'), false);
  const ok = await c.signIn('ALICE@example.org', PASSWORD);
  t.equal(ok.status, 303);
  t.equal(ok.location, '/jobs');
  t.equal((await c.get('/jobs')).status, 200);
  // An open redirect through ?next= is not possible.
  const d = new WebClient(stack.url);
  const form = await d.get('/signin?next=//evil.example/x');
  const res = await d.postForm('/signin', {
    _csrf: WebClient.csrfOf(form.text),
    email: 'alice@example.org',
    password: PASSWORD,
    next: '//evil.example/x',
  });
  t.equal(res.location, '/jobs');
});

t.test('sign-up answers a new and a registered address alike, and leaves the registered account unchanged', async (t) => {
  const c = new WebClient(stack.url);
  const csrf = WebClient.csrfOf((await c.get('/signup')).text);
  const signUp = async (email: string, password: string) => {
    const started = performance.now();
    const res = await c.postForm('/signup', { _csrf: csrf, email, password, name: 'Mallory', institution: '' });
    return { res, ms: performance.now() - started };
  };
  // Everything but the address typed into the form is the same.
  const body = (html: string) => html.replace(/name="email" value="[^"]*"/, '');
  const taken = await signUp('Alice@Example.org', 'mallory wants in');
  const fresh = await signUp('dora@example.org', 'dora is new here');
  t.equal(taken.res.status, 200);
  t.equal(fresh.res.status, 200);
  t.equal(body(taken.res.text), body(fresh.res.text), 'the same page for both');
  t.match(fresh.res.text, /If this address is new, your account is ready: sign in with the password you chose/);
  t.strictSame(
    taken.res.headers.getSetCookie().map((h) => h.split('=')[0]),
    fresh.res.headers.getSetCookie().map((h) => h.split('=')[0]),
  );
  t.equal(c.cookies.has('gas_session'), false, 'sign-up signs nobody in');

  // Both hash the password and call the job service: the times are alike (medians of five each).
  const times = { taken: [] as number[], fresh: [] as number[] };
  for (let i = 0; i < 5; i++) {
    times.taken.push((await signUp('bob@example.org', 'another try at bob')).ms);
    times.fresh.push((await signUp(`new${i}@example.org`, 'a brand new account')).ms);
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[2]!;
  const ratio = median(times.taken) / median(times.fresh);
  t.ok(ratio > 0.5 && ratio < 2, `registered ${median(times.taken).toFixed(0)} ms, new ${median(times.fresh).toFixed(0)} ms`);

  // The registered account is as it was: its password, its name; the new one signs in with its own.
  t.equal((await new WebClient(stack.url).signIn('alice@example.org', 'mallory wants in')).status, 401);
  const a = new WebClient(stack.url);
  t.equal((await a.signIn('alice@example.org', PASSWORD)).status, 303);
  t.ok((await a.get('/profile')).text.includes('value="Alice &lt;b&gt;A&lt;/b&gt;"'), 'the name is unchanged');
  const dora = new WebClient(stack.url);
  t.equal((await dora.signIn('dora@example.org', 'dora is new here')).status, 303);
  t.equal((await dora.get('/jobs')).status, 200);
});

t.test('sign-up refuses a short password and a bad address with a message on the form', async (t) => {
  const c = new WebClient(stack.url);
  const form = await c.get('/signup');
  const csrf = WebClient.csrfOf(form.text);
  const short = await c.postForm('/signup', { _csrf: csrf, email: 'new@example.org', password: 'short', name: 'N' });
  t.equal(short.status, 400);
  t.match(short.text, /at least 10 characters/);
  t.match(short.text, /value="new@example.org"/, 'what was typed is kept');
  const bad = await c.postForm('/signup', { _csrf: csrf, email: 'not-an-address', password: PASSWORD, name: 'N' });
  t.equal(bad.status, 400);
  t.equal(c.cookies.has('gas_session'), false);
});

t.test('a multipart body anywhere but the two upload routes is refused with 415, and the gateway stays up', async (t) => {
  const form = new FormData();
  form.append('file', new Blob(['##fileformat=VCFv4.2\n']), 'x.vcf');
  for (const path of ['/profile', '/api/v1/uploads', '/signup']) {
    const res = await fetch(`${stack.url}${path}`, {
      method: 'POST',
      body: form,
      headers: { cookie: `gas_session=${alice.cookies.get('gas_session')}` },
    });
    t.equal(res.status, 415, `${path}: 415`);
    await res.arrayBuffer();
  }
  t.equal((await alice.get('/jobs')).status, 200, 'the gateway still answers');
});

t.test('error pages help: 404 for an unknown page and job, with security headers on every answer', async (t) => {
  const missing = await alice.get('/no/such/page');
  t.equal(missing.status, 404);
  t.match(missing.headers.get('content-type') ?? '', /^text\/html/);
  t.match(missing.text, /There is no page at this address/);
  t.match(missing.text, /href="\/jobs"/);
  const job = await alice.get('/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV');
  t.equal(job.status, 404);
  t.match(job.text, /no such job/);
  for (const res of [missing, job, await alice.get('/jobs'), await alice.get('/api/v1/jobs')]) {
    const csp = res.headers.get('content-security-policy') ?? '';
    t.match(csp, /default-src 'self'/);
    t.match(csp, /script-src 'self'/);
    t.match(csp, /frame-ancestors 'none'/);
    t.equal(res.headers.get('x-content-type-options'), 'nosniff');
    t.equal(res.headers.get('referrer-policy'), 'no-referrer');
  }
});

t.test('an address Fastify refuses before routing gets the usual error answer, headers and all, without the address', async (t) => {
  const long = 'A'.repeat(5000);
  const cases = [
    { path: '/api/v1/jobs/%zz', status: 400, detail: /malformed %-escape/, html: false },
    { path: `/api/v1/jobs/${long}`, status: 414, detail: /longer than 100 characters/, html: false },
    { path: '/jobs/%zz', status: 400, detail: /malformed %-escape/, html: true },
    { path: `/jobs/${long}`, status: 414, detail: /longer than 100 characters/, html: true },
  ];
  for (const c of cases) {
    const res = await alice.get(c.path);
    const name = c.path.slice(0, 20);
    t.equal(res.status, c.status, `${name}: status`);
    t.match(res.headers.get('content-type') ?? '', c.html ? /^text\/html/ : /^application\/problem\+json/, `${name}: type`);
    t.match(res.text, c.detail, `${name}: says what is wrong`);
    t.notMatch(res.text, /AAAAAAAAAA|FST_ERR/, `${name}: neither the address nor Fastify's code`);
    t.equal(res.headers.get('x-content-type-options'), 'nosniff', `${name}: security headers`);
    t.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, `${name}: CSP`);
  }
  // The gateway is still answering.
  t.equal((await alice.get('/api/v1/jobs')).status, 200);
});

/** The result state the live stream (/jobs/events) reports for a job: the job page reloads when it changes. */
async function liveResultState(client: WebClient, jobId: string): Promise<unknown> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 15_000);
  const cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  try {
    const res = await fetch(`${stack.url}/jobs/events`, { headers: { cookie }, signal: ac.signal });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the live stream ended before it sent the job');
      text += value;
      for (const m of text.matchAll(/^event: job\ndata: (.*)$/gm)) {
        const data = JSON.parse(m[1]!) as { id: string; resultState?: unknown };
        if (data.id === jobId) return data.resultState;
      }
    }
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
}

t.test(
  'archived and restoring results: the job page says what happens and when, the annotated files answer 409, the rest stays',
  async (t) => {
    // What the archive service does after the retention period, done here through the job service.
    const users = await readdir(join(stack.stateDir, 'blobs', 'inputs'));
    let userId = '';
    for (const u of users) if ((await readdir(join(stack.stateDir, 'blobs', 'inputs', u))).includes(aliceJob)) userId = u;
    t.ok(userId, "the input of alice's job is in the store");
    const jobs = createClient(JobService, stack.jobGrpcUrl, { defaultDeadlineMs: 10_000 });
    const UTC_MINUTE = '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC';
    const problem = async (path: string) => {
      const res = await alice.get(path);
      return {
        status: res.status,
        type: res.headers.get('content-type'),
        retryAfter: res.headers.get('retry-after'),
        body: JSON.parse(res.text) as Record<string, unknown>,
      };
    };
    const buttons = (page: string) => [...page.matchAll(/<a class="button[^"]*" href="[^"]*" download>([^<]+)<\/a>/g)].map((m) => m[1]);
    try {
      const { job } = await jobs.getJob({ userId, jobId: aliceJob });
      const keys = job!.resultKeys;
      t.ok(keys['vcf'] && keys['tsv'], 'the job has a VCF and a table');
      // The archive service keeps each file under the same key in the archive area.
      const cold = Object.fromEntries(['vcf', 'tsv', 'tbi'].filter((k) => keys[k]).map((k) => [k, keys[k]!]));

      const hot = await alice.get(`/jobs/${aliceJob}`);
      const annotated = buttons(hot.text).filter((b) => b !== 'Your input' && b !== 'Log');
      t.ok(annotated.includes('Annotated VCF') && annotated.includes('Table (TSV)'), 'the annotated files while hot');
      t.match(
        hot.text,
        new RegExp(
          `Free accounts keep results for 30 minutes: these move to cold storage at <time datetime="[^"]+">${UTC_MINUTE}</time>; <a href="/subscribe">upgrade</a> to keep them\\.`,
        ),
        'a free user is told when the results move',
      );
      t.match(hot.text, 'data-result-state="AVAILABLE"');

      await jobs.markArchived({ userId, jobId: aliceJob, archiveKeys: cold });
      const archived = await alice.get(`/jobs/${aliceJob}`);
      t.match(archived.text, new RegExp(`The annotated files moved to cold storage on <time datetime="[^"]+">${UTC_MINUTE}</time>\\.`));
      t.match(
        archived.text,
        /Free accounts keep results for 30 minutes\. <a href="\/subscribe">Upgrade to premium<\/a> and they are restored automatically\./,
      );
      t.strictSame(buttons(archived.text), ['Your input', 'Log'], 'no annotated files to download while archived');
      t.match(archived.text, /<h2>Summary<\/h2>/, 'the summary stays');
      t.match(archived.text, /<section class="log"><h2>Log<\/h2><pre>[^<]*Total:/, 'the log stays');
      t.notMatch(archived.text, /<h2>First rows<\/h2>/, 'no table preview');
      t.match(archived.text, 'data-result-state="ARCHIVED"');
      t.equal(await liveResultState(alice, aliceJob), 'ARCHIVED', 'the live stream carries the result state');
      const download = await problem(`/api/v1/jobs/${aliceJob}/result`);
      t.equal(download.status, 409);
      t.equal(download.type, 'application/problem+json; charset=utf-8');
      t.match(
        download.body['detail'],
        new RegExp(`^the annotated VCF of job ${aliceJob} moved to cold storage on ${UTC_MINUTE}; upgrade to premium and it is restored$`),
      );
      t.equal(download.body['result_state'], 'ARCHIVED');
      t.equal(download.retryAfter, null);
      t.equal((await problem(`/api/v1/jobs/${aliceJob}/tsv`)).status, 409);
      for (const file of ['summary', 'log', 'input'])
        t.equal((await alice.get(`/api/v1/jobs/${aliceJob}/${file}`)).status, 200, `${file} while archived`);
      const view = JSON.parse((await alice.get(`/api/v1/jobs/${aliceJob}`)).text) as Record<string, unknown>;
      t.strictSame(view['archived_kinds'], Object.keys(cold));
      t.match(view['archived_at'], /^\d{4}-/);

      const expectedAt = new Date(Date.now() + 3 * 60_000);
      await jobs.markRestoring({ userId, jobId: aliceJob, expectedAt: timestampFromDate(expectedAt) });
      const restoring = await alice.get(`/jobs/${aliceJob}`);
      t.match(
        restoring.text,
        new RegExp(
          `Restoring the annotated files from cold storage</strong>; expected back by <time datetime="${expectedAt.toISOString()}">${UTC_MINUTE}</time> ` +
            '\\(in about [23] minutes\\)\\. This page updates when they are back\\.',
        ),
      );
      t.strictSame(buttons(restoring.text), ['Your input', 'Log']);
      t.match((await alice.get('/jobs')).text, /class="badge archived">Restoring</);
      const waiting = await problem(`/api/v1/jobs/${aliceJob}/result`);
      t.equal(waiting.status, 409);
      t.match(
        waiting.body['detail'],
        new RegExp(`^the annotated VCF of job ${aliceJob} is being restored from cold storage; expected back by ${UTC_MINUTE}$`),
      );
      t.equal(waiting.body['result_state'], 'RESTORING');
      t.equal(waiting.body['expected_at'], expectedAt.toISOString());
      const retryAfter = Number(waiting.retryAfter);
      t.ok(retryAfter >= 1 && retryAfter <= 180, `Retry-After is the seconds left (${waiting.retryAfter})`);
      for (const file of ['summary', 'log'])
        t.equal((await alice.get(`/api/v1/jobs/${aliceJob}/${file}`)).status, 200, `${file} while restoring`);

      await jobs.markRestored({ userId, jobId: aliceJob });
      const back = await alice.get(`/jobs/${aliceJob}`);
      t.strictSame(buttons(back.text), [...annotated, 'Your input', 'Log'], 'the annotated files are back');
      t.notMatch(back.text, /cold storage/, 'restored results stay hot: no retention notice');
      t.match(back.text, /<h2>First rows<\/h2>/);
      for (const file of ['result', 'tsv', 'summary', 'log'])
        t.equal((await alice.get(`/api/v1/jobs/${aliceJob}/${file}`)).status, 200, `${file} after the restore`);
      const restored = JSON.parse((await alice.get(`/api/v1/jobs/${aliceJob}`)).text) as Record<string, unknown>;
      t.equal(restored['result_state'], 'AVAILABLE');
      t.strictSame(restored['archived_kinds'], []);
      t.match(restored['restored_at'], /^\d{4}-/);
      t.equal(restored['restore_expected_at'], null);
    } finally {
      jobs.close();
    }
  },
);

t.test('over the free limit: refused before storing, through the API and through the plain form post', async (t) => {
  const big = new Blob([await readFile(sharedDataPath('vcf/gas_anntools/premium_1.vcf'))]);
  const before = (JSON.parse((await bob.get('/api/v1/jobs')).text) as { jobs: unknown[] }).jobs.length;
  const bobCsrf = WebClient.csrfOf((await bob.get('/upload')).text);
  const api = await bob.upload('premium_1.vcf', big, 'GRCh37', bobCsrf);
  t.equal(api.status, 413);
  t.match((JSON.parse(api.text) as { detail?: string }).detail, /larger than 150 KB, the free plan's limit; upgrade to premium/);
  // The form without the page script (multipart post to /upload) gets the page back with the reason.
  const form = new FormData();
  form.append('_csrf', bobCsrf);
  form.append('genome_build', 'GRCh37');
  form.append('file', big, 'premium_1.vcf');
  const page = await bob.request('/upload', { method: 'POST', body: form });
  t.equal(page.status, 413);
  t.match(
    page.text,
    /<p class="error" role="alert">The file is larger than 150 KB, the free plan&#39;s limit; upgrade to premium to annotate larger files\.<\/p>/,
  );
  t.equal((JSON.parse((await bob.get('/api/v1/jobs')).text) as { jobs: unknown[] }).jobs.length, before, 'no job');
  const stored = await readdir(join(stack.stateDir, 'blobs', 'inputs')).catch(() => []);
  for (const u of stored) {
    for (const j of await readdir(join(stack.stateDir, 'blobs', 'inputs', u))) {
      t.notOk((await readdir(join(stack.stateDir, 'blobs', 'inputs', u, j))).includes('premium_1.vcf'), 'nothing stored');
    }
  }
});

t.test('behind TLS (an https public URL) the session cookie is Secure and __Host- prefixed, with HSTS', async (t) => {
  const { gateway, port } = await secondGateway({ GATEWAY_PUBLIC_URL: 'https://gas.example.org' });
  t.teardown(() => gateway.stop());
  const c = new WebClient(`http://127.0.0.1:${port}`);
  const form = await c.get('/signup');
  t.equal(
    (await c.postForm('/signup', { _csrf: WebClient.csrfOf(form.text), email: 'tls@example.org', password: PASSWORD, name: 'Tls' })).status,
    200,
  );
  const res = await c.signIn('tls@example.org', PASSWORD);
  t.equal(res.status, 303);
  const cookie = res.headers.getSetCookie().find((h) => h.startsWith('__Host-gas_session='));
  t.ok(cookie, 'a __Host-gas_session cookie is set', { setCookie: res.headers.getSetCookie() });
  for (const attr of ['Secure', 'HttpOnly', 'SameSite=Lax', 'Path=/'])
    t.ok(cookie?.split('; ').includes(attr), `${attr} in the cookie`, { cookie });
  t.notMatch(cookie ?? '', /Domain=/i, '__Host- cookies have no Domain');
  t.match(res.headers.get('strict-transport-security') ?? '', /max-age=31536000/);
});
