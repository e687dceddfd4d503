// An admin deletes an account on its owner's request, through the gateway built in-process
// (buildGateway) and driven with inject(), against a real nats-server, job, notification and archive
// service (an annotator is started once the refusal while jobs are queued has been seen), the
// filesystem store: the identity buckets, sessions and tokens are real. Only confirmed admins reach
// the new routes (everyone else gets the not-found page); the forms need the session's CSRF token;
// the lookup says what the account holds; a wrong password or address, queued jobs, the admin's own
// account and an admin without a password delete nothing; a deletion removes the account, its jobs
// and files, its sessions and tokens, mails the owner as the owner's own deletion does, is counted
// by="admin" and logged once with user ids only. A premium subscription is cancelled first (Stripe's
// API is a local stand-in: Stripe cannot be reached from here), and a failed cancel stops the
// deletion until a retry.
import t from 'tap';
import type { Test } from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { create, AccountSchema, JobStatus, Plan, RpcError, Status } from '@gas/proto';
import { createLogger, createRegistry } from '@gas/runtime';
import { BLOB_AREAS, FileBlobStore } from '@gas/storage';
import { sharedDataPath, startGasStack, stripeStandIn } from '@gas/testing';
import type { StripeAnswer } from '@gas/testing';
import { stackClients, stackGateway } from './stack-clients.ts';
import { hashPassword } from '../src/identity/index.ts';
import { StripeBilling } from '../src/billing/stripe-billing.ts';

const FREE_1 = sharedDataPath('vcf/gas_anntools/free_1.vcf');
const PASSWORD = 'the right password';
const ADMIN_PASSWORD = 'the admin password';

const stack = await startGasStack({ store: 'filesystem', services: ['job', 'notification', 'archive'] });
t.teardown(() => stack.stop());
const clients = await stackClients(stack, { name: 'admin-account-delete-test', deadlineMs: 10_000 });
const { identity, accounts, jobs } = clients;
const logLines: string[] = [];
const logger = createLogger({
  service: 'gateway-test',
  level: 'info',
  destination: new Writable({ write: (c: Buffer, _e, cb) => (logLines.push(...c.toString().split('\n').filter(Boolean)), cb()) }),
});
const registry = createRegistry('gateway-test');
const app = await stackGateway(stack, clients, {
  logger,
  registry,
  // The deletion post counts against the sign-in budget, which this file would pass in a minute.
  rateLimit: { perMinute: 100_000, signInPerMinute: 1000 },
  admin: { emails: ['admin@example.org', 'unconfirmed@example.org', 'provider-admin@example.org'] },
});
const store = new FileBlobStore({ root: join(stack.stateDir, 'blobs') });

let n = 0;
/** An account as sign-up (or, `provider`, a first OIDC sign-in) makes one, with a session and an API token. */
async function user(opts: { email?: string; confirmed?: boolean; provider?: boolean; password?: string } = {}) {
  const email = opts.email ?? `user${++n}@example.org`;
  const creds = await identity.users.create(email, opts.provider ? null : await hashPassword(opts.password ?? PASSWORD), {
    confirmed: opts.confirmed ?? false,
  });
  await accounts.upsertAccount({ account: create(AccountSchema, { userId: creds.userId, email, name: `User ${n}` }) });
  const { id, session } = await identity.sessions.start(creds.userId);
  const { token } = await identity.tokens.create(creds.userId, 'script');
  return { userId: creds.userId, email, cookie: `gas_session=${id}`, csrf: session.csrfToken, token };
}
type User = Awaited<ReturnType<typeof user>>;

const admin = await user({ email: 'admin@example.org', confirmed: true, password: ADMIN_PASSWORD });
const unconfirmed = await user({ email: 'unconfirmed@example.org', password: ADMIN_PASSWORD });
const providerAdmin = await user({ email: 'provider-admin@example.org', confirmed: true, provider: true });
const nobody = await user();
const target = await user();

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });
const getAs = (u: Pick<User, 'cookie'>, url: string) => get(url, { cookie: u.cookie });
const post = (url: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: new URLSearchParams(fields).toString(),
  });
const postAs = (u: Pick<User, 'cookie'>, url: string, fields: Record<string, string>) => post(url, fields, { cookie: u.cookie });
const deleteUrl = (u: Pick<User, 'userId'>) => `/admin/accounts/${u.userId}/delete`;

/** A job of `u`'s, uploaded through the API with their token. */
async function upload(u: User, name: string): Promise<string> {
  const boundary = '----gas-admin-delete-test';
  const head =
    `--${boundary}\r\nContent-Disposition: form-data; name="genome_build"\r\n\r\nGRCh37\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: text/x-vcf\r\n\r\n`;
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/jobs',
    headers: { ...bearer(u.token), 'content-type': `multipart/form-data; boundary=${boundary}` },
    payload: Buffer.concat([Buffer.from(head), await readFile(FREE_1), Buffer.from(`\r\n--${boundary}--\r\n`)]),
  });
  if (res.statusCode !== 201) throw new Error(`upload answered ${res.statusCode}: ${res.body}`);
  return res.json<{ id: string }>().id;
}

async function accountExists(userId: string): Promise<boolean> {
  return accounts.getAccount({ userId }).then(
    () => true,
    (err: unknown) => !(err instanceof RpcError && err.code === Status.NOT_FOUND),
  );
}

/** Every object of the user's in the store, as `<area>/<key>`. */
async function filesOf(userId: string): Promise<string[]> {
  const out: string[] = [];
  for (const area of BLOB_AREAS) for (const key of await store.list(area, `${userId}/`)) out.push(`${area}/${key}`);
  return out.sort();
}

/** The counter's value for one `by`. */
async function deletedBy(by: string): Promise<number> {
  const m = new RegExp(`^gas_gateway_accounts_deleted_total\\{[^}]*by="${by}"[^}]*\\} (\\S+)$`, 'm').exec(await registry.metrics());
  return m ? Number(m[1]) : NaN;
}

/** Whether everything of `u` is still there: account, credentials, the token and the session. */
async function intact(t: Test, u: User, why: string): Promise<void> {
  t.ok(await accountExists(u.userId), `${why}: the account stays`);
  t.ok(await identity.users.byEmail(u.email), `${why}: and its credentials`);
  t.equal((await get('/api/v1/jobs', bearer(u.token))).statusCode, 200, `${why}: its token works`);
  t.equal((await getAs(u, '/jobs')).statusCode, 200, `${why}: its session works`);
}

const targetJobs = [await upload(target, 'first.vcf'), await upload(target, 'second.vcf')];

t.test('nobody but a confirmed admin with a session learns that the new routes exist', async (t) => {
  const nothing = await getAs(nobody, '/no-such-page');
  t.equal(nothing.statusCode, 404);
  const whos: Array<[string, Record<string, string>, string]> = [
    ['signed out', {}, ''],
    ['a signed-in user who is not an admin', { cookie: nobody.cookie }, nobody.csrf],
    ['a listed admin whose address is not confirmed', { cookie: unconfirmed.cookie }, unconfirmed.csrf],
    ["an admin's API token (the pages need a browser session)", bearer(admin.token), ''],
    ['a wrong token (not a 401)', bearer('not-a-token-at-all-0123456789'), ''],
  ];
  for (const [who, headers, csrf] of whos) {
    const tries = [
      await post('/admin/accounts', { _csrf: csrf, email: target.email }, headers),
      await get(deleteUrl(target), headers),
      await post(deleteUrl(target), { _csrf: csrf, email: target.email, password: ADMIN_PASSWORD }, headers),
    ];
    for (const [i, res] of tries.entries()) {
      t.equal(res.statusCode, 404, `${who}, route ${i + 1}`);
      t.match(res.body, /There is no page at this address/, `${who}, route ${i + 1}: the not-found page`);
      t.equal(res.headers['content-type'], nothing.headers['content-type'], `${who}, route ${i + 1}: as an HTML page`);
      t.notMatch(res.body, target.userId, `${who}, route ${i + 1}: nothing of the account`);
    }
  }
  t.notMatch((await getAs(unconfirmed, '/admin')).body, /Accounts/, 'the unconfirmed admin does not see the section either');
  await intact(t, target, 'after all that');
});

t.test('the forms need the session CSRF token', async (t) => {
  const page = await getAs(admin, '/admin');
  t.equal(page.statusCode, 200);
  t.match(page.body, /<h2 id="admin-accounts-h">Accounts<\/h2>/);
  t.match(page.body, /<form class="account-lookup" method="post" action="\/admin\/accounts">/, 'the lookup posts: no address in a URL');
  t.match(page.body, `<input type="hidden" name="_csrf" value="${admin.csrf}">`);
  t.notMatch(page.body, /<script>|style=/, 'no inline script or style (the CSP)');

  for (const [what, fields] of [
    ['without a token', {}],
    ['with a wrong one', { _csrf: 'x'.repeat(admin.csrf.length) }],
    ["with another session's", { _csrf: nobody.csrf }],
  ] as const) {
    const lookup = await postAs(admin, '/admin/accounts', { ...fields, email: target.email });
    t.equal(lookup.statusCode, 403, `the lookup ${what}`);
    t.notMatch(lookup.body, target.userId, 'shows nothing of the account');
    const del = await postAs(admin, deleteUrl(target), { ...fields, email: target.email, password: ADMIN_PASSWORD });
    t.equal(del.statusCode, 403, `the deletion ${what}`);
  }
  await intact(t, target, 'after posts without the token');
});

t.test('a lookup: an unknown address, the figures of a known one', async (t) => {
  const unknown = await postAs(admin, '/admin/accounts', { _csrf: admin.csrf, email: 'nobody-here@example.org' });
  t.equal(unknown.statusCode, 404);
  t.match(unknown.body, /There is no account with that address\./);
  t.notMatch(unknown.body, /There is no page at this address/, 'said as such, not as a missing page');

  const res = await postAs(admin, '/admin/accounts', { _csrf: admin.csrf, email: `  ${target.email.toUpperCase()} ` });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['cache-control'], 'private, no-store');
  const fact = (name: string) => new RegExp(`<dd data-fact="${name}">(.*?)</dd>`).exec(res.body)?.[1];
  t.match(res.body, `<p>User id <code data-fact="user-id">${target.userId}</code></p>`);
  t.equal(fact('plan'), 'free');
  t.equal(fact('sign-in'), 'password');
  t.equal(fact('confirmed'), 'not confirmed');
  t.match(fact('created'), /^<time datetime="\d{4}-/);
  t.equal(fact('jobs'), '2');
  t.equal(fact('active-jobs'), '2', 'both wait: no annotator runs yet');
  t.equal(fact('tokens'), '1');
  t.equal(fact('unfinished'), 'no');
  t.match(res.body, `<a class="button secondary" href="/admin/accounts/${target.userId}/delete">Delete this account…</a>`);

  const provider = await postAs(admin, '/admin/accounts', { _csrf: admin.csrf, email: providerAdmin.email });
  t.match(provider.body, /<dd data-fact="sign-in">identity provider \(no password\)<\/dd>/);
  t.match(provider.body, /<dd data-fact="confirmed">confirmed <time/);

  // A deletion cut short (the marker written, the gateway gone) is said.
  const stuck = await user();
  await identity.users.startDeletion(stuck.userId, stuck.email);
  const half = await postAs(admin, '/admin/accounts', { _csrf: admin.csrf, email: stuck.email });
  t.match(half.body, /<dd data-fact="unfinished">yes<\/dd>/);
  t.match(half.body, /A deletion of this account was started and did not finish/);
});

t.test('queued jobs refuse the deletion (409) and nothing is deleted', async (t) => {
  const asks = await getAs(admin, deleteUrl(target));
  t.equal(asks.statusCode, 200);
  t.match(asks.body, /2 jobs queued, running or being restored from cold storage/);
  const res = await postAs(admin, deleteUrl(target), { _csrf: admin.csrf, email: target.email, password: ADMIN_PASSWORD });
  t.equal(res.statusCode, 409);
  t.match(res.body, /nothing has been deleted/);
  await intact(t, target, 'after the refusal');
  t.equal((await jobs.listJobs({ userId: target.userId, pageSize: 10 })).jobs.length, 2, 'and its jobs');
  t.equal(await identity.users.deletionOf(target.userId), null, 'no deletion was started');
});

t.test('the jobs finish once an annotator runs', async (t) => {
  await stack.startService('annotator');
  for (const id of targetJobs) {
    const status = await stack.eventually(
      async () => (await jobs.getJob({ jobId: id, userId: target.userId })).job?.status,
      (s) => s === JobStatus.COMPLETED,
      90_000,
    );
    t.equal(status, JobStatus.COMPLETED, `job ${id} completed`);
  }
  t.ok((await filesOf(target.userId)).length >= 2 * 5, 'both jobs have their input and results stored');
});

t.test('the confirmation page; a wrong password or address deletes nothing', async (t) => {
  const asks = await getAs(admin, deleteUrl(target));
  t.equal(asks.statusCode, 200);
  t.match(asks.body, /2 jobs, with the files uploaded for them and all their results/);
  t.match(asks.body, /1 API token:/);
  t.match(asks.body, /The owner gets one last e-mail/);
  t.match(asks.body, /name="email"/);
  t.match(asks.body, /name="password"/);
  t.notMatch(asks.body, target.email, 'the address is not shown: the admin types it');

  const wrongPassword = await postAs(admin, deleteUrl(target), { _csrf: admin.csrf, email: target.email, password: PASSWORD });
  t.equal(wrongPassword.statusCode, 401, "the target's password is not the admin's");
  t.match(wrongPassword.body, /Your password is not right; nothing was deleted\./);
  await intact(t, target, 'after a wrong password');

  const wrongAddress = await postAs(admin, deleteUrl(target), { _csrf: admin.csrf, email: nobody.email, password: ADMIN_PASSWORD });
  t.equal(wrongAddress.statusCode, 400);
  t.match(
    wrongAddress.body,
    /That is not this account&#39;s e-mail address; nothing was deleted\.|That is not this account's e-mail address/,
  );
  await intact(t, target, 'after a wrong address');
  t.ok((await filesOf(target.userId)).length >= 2 * 5, 'its files stay');
});

t.test(
  'an admin cannot delete their own account here; nor can an admin without a password where no identity provider is configured',
  async (t) => {
    const lookup = await postAs(admin, '/admin/accounts', { _csrf: admin.csrf, email: admin.email });
    t.match(lookup.body, /This is your own account/);
    t.match(lookup.body, /href="\/account\/delete"/, 'pointed to the owner’s page');
    t.notMatch(lookup.body, /Delete this account…/);
    const own = await getAs(admin, deleteUrl(admin));
    t.equal(own.statusCode, 403);
    t.match(own.body, /This is your own account/);
    t.notMatch(own.body, /name="password"/, 'no form');
    const ownPost = await postAs(admin, deleteUrl(admin), { _csrf: admin.csrf, email: admin.email, password: ADMIN_PASSWORD });
    t.equal(ownPost.statusCode, 403);
    t.ok(await accountExists(admin.userId), 'the admin stays');
    t.equal((await getAs(admin, '/admin')).statusCode, 200, 'and is still signed in');

    // With a provider configured, such an admin confirms there instead: account-delete-oidc.test.ts.
    const noPassword = await getAs(providerAdmin, deleteUrl(target));
    t.equal(noPassword.statusCode, 403);
    t.match(noPassword.body, /Deleting an account needs an admin&#39;s password|Deleting an account needs an admin's password/);
    const tried = await postAs(providerAdmin, deleteUrl(target), { _csrf: providerAdmin.csrf, email: target.email, password: '' });
    t.equal(tried.statusCode, 403);
    await intact(t, target, 'after an admin without a password tried');
  },
);

t.test('the deletion: account, jobs, files, sessions and tokens go; the owner is mailed; counted and logged', async (t) => {
  const other = await identity.sessions.start(target.userId);
  const before = { admin: await deletedBy('admin'), owner: await deletedBy('owner') };
  t.strictSame(before, { admin: 0, owner: 0 }, 'both series exist from the start');
  logLines.length = 0;

  const res = await postAs(admin, deleteUrl(target), { _csrf: admin.csrf, email: target.email.toUpperCase(), password: ADMIN_PASSWORD });
  t.equal(res.statusCode, 200);
  t.match(
    res.body,
    new RegExp(`The account ${target.userId} and its data were deleted: 2 jobs, 1 API token revoked, 2 sessions signed out`),
  );

  t.notOk(await accountExists(target.userId), 'the job service has no account');
  t.equal(await identity.users.byEmail(target.email), null, 'the credentials are gone');
  t.equal(await identity.users.deletionOf(target.userId), null, 'and the marker');
  t.equal((await jobs.listJobs({ userId: target.userId, pageSize: 10 })).jobs.length, 0, 'the jobs are gone');
  const left = await stack.eventually(
    () => filesOf(target.userId),
    (files) => files.length === 0,
    20_000,
  );
  t.strictSame(left, [], "the jobs' inputs and results are gone from the store");
  for (const [who, cookie] of [
    ['the session', target.cookie],
    ['the other session', `gas_session=${other.id}`],
  ] as const) {
    const page = await get('/jobs', { cookie });
    t.equal(page.statusCode, 303, `${who}: the jobs page sends to sign-in`);
    t.match(page.headers.location, /^\/signin/);
    t.equal((await get('/api/v1/jobs', { cookie })).statusCode, 401, `${who}: the API answers 401`);
  }
  t.equal((await get('/api/v1/jobs', bearer(target.token))).statusCode, 401, 'the API token answers 401');
  t.equal((await postAs(admin, '/admin/accounts', { _csrf: admin.csrf, email: target.email })).statusCode, 404, 'a lookup finds nothing');
  t.equal((await getAs(admin, deleteUrl(target))).statusCode, 404, 'nor does the confirmation page');

  t.equal(await deletedBy('admin'), 1, 'counted by="admin"');
  t.equal(await deletedBy('owner'), 0, 'not by="owner"');

  const lines = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['msg'] === 'admin account deletion');
  t.equal(lines.length, 1, 'one log line');
  t.match(lines[0], { adminUserId: admin.userId, targetUserId: target.userId, outcome: 'deleted', jobsDeleted: 2 });
  const all = logLines.join('\n');
  for (const secret of [target.email, admin.email, ADMIN_PASSWORD]) t.notMatch(all, secret, `no log line holds ${secret}`);

  // As after the owner's own deletion: the job service's account.deleted makes the notification
  // service mail the address once (no SMTP here: the outbox, one file per event id).
  const mails = await stack.eventually(
    async () => (await readdir(stack.outboxDir).catch(() => [])).filter((f) => f.startsWith(`${target.userId}.deleted.`)),
    (files) => files.length === 1,
    20_000,
  );
  t.equal(mails.length, 1, 'one goodbye e-mail');
  const mail = await readFile(join(stack.outboxDir, mails[0]!), 'utf8');
  t.match(mail, new RegExp(`To: ${target.email}`, 'i'));
  // Quoted-printable: soft line breaks joined.
  const text = mail.replace(/=\r?\n/g, '');
  t.match(text, /an administrator of this GAS site deleted the GAS account with this email address/, 'it says an administrator did it');
  t.match(text, /If you did not ask for it: tell the people who run this GAS site/);
});

t.test('the owner\'s own deletion counts by="owner"', async (t) => {
  const u = await user();
  const res = await postAs(u, '/account/delete', { _csrf: u.csrf, password: PASSWORD });
  t.equal(res.statusCode, 303);
  t.equal(await deletedBy('owner'), 1);
  t.equal(await deletedBy('admin'), 1, 'the admin count is unchanged');
});

t.test(
  "a premium account's subscription is cancelled first (Stripe's API a local stand-in); a failed cancel stops with 503, a retry finishes",
  async (t) => {
    let stripeDown = true;
    const api = await stripeStandIn((req): StripeAnswer => {
      if (stripeDown) return { status: 401, body: { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } } };
      if (req.method === 'GET' && req.path === '/v1/subscriptions')
        return {
          status: 200,
          body: {
            object: 'list',
            url: '/v1/subscriptions',
            has_more: false,
            data: [{ id: 'sub_7', object: 'subscription', status: 'active' }],
          },
        };
      if (req.method === 'DELETE' && req.path === '/v1/subscriptions/sub_7')
        return { status: 200, body: { id: 'sub_7', object: 'subscription', status: 'canceled' } };
      return { status: 404, body: { error: { type: 'invalid_request_error', message: 'not found' } } };
    });
    t.teardown(() => api.close());
    const billing = new StripeBilling({
      secretKey: 'sk_test_admin_delete',
      webhookSecret: 'whsec_x',
      priceId: 'price_x',
      apiBase: api.url,
    });
    const stripeGateway = await stackGateway(stack, clients, {
      billing,
      rateLimit: { perMinute: 100_000, signInPerMinute: 1000 },
      admin: { emails: ['admin@example.org'] },
    });
    const u = await user();
    await accounts.setPlan({ userId: u.userId, plan: Plan.PREMIUM, billingCustomerId: 'cus_7' });
    const send = (fields: Record<string, string>) =>
      stripeGateway.inject({
        method: 'POST',
        url: deleteUrl(u),
        headers: { cookie: admin.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams(fields).toString(),
      });

    const asks = await stripeGateway.inject({ method: 'GET', url: deleteUrl(u), headers: { cookie: admin.cookie } });
    t.match(asks.body, /<dd data-fact="plan">premium \(subscription\)<\/dd>/);
    t.match(asks.body, /Its premium subscription is cancelled at the payment provider/);

    const failed = await send({ _csrf: admin.csrf, email: u.email, password: ADMIN_PASSWORD });
    t.equal(failed.statusCode, 503);
    t.match(failed.body, /premium subscription could not be cancelled right now, so nothing else was deleted/);
    t.ok(await accountExists(u.userId), 'the account stays');
    t.ok(await identity.users.byEmail(u.email), 'and its credentials');
    t.equal(await identity.tokens.userOf(u.token), null, 'its tokens were revoked before (step b), as the page says');
    t.equal((await getAs(u, '/jobs')).statusCode, 303, 'and its sessions ended');
    const half = await stripeGateway.inject({
      method: 'POST',
      url: '/admin/accounts',
      headers: { cookie: admin.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: admin.csrf, email: u.email }).toString(),
    });
    t.match(half.body, /<dd data-fact="unfinished">yes<\/dd>/, 'the lookup says the deletion is unfinished');

    stripeDown = false;
    api.requests.length = 0;
    const res = await send({ _csrf: admin.csrf, email: u.email, password: ADMIN_PASSWORD });
    t.equal(res.statusCode, 200);
    t.strictSame(
      api.requests.map((r) => `${r.method} ${r.path}`),
      ['GET /v1/subscriptions', 'DELETE /v1/subscriptions/sub_7'],
      'the subscription was cancelled',
    );
    t.notOk(await accountExists(u.userId), 'the account is gone');
    t.equal(await identity.users.deletionOf(u.userId), null, 'and the marker');
  },
);

t.test('a deletion cut short after its sign-in record went is found by its address and finished', async (t) => {
  const u = await user();
  // As if the owner's deletion stopped in step (e): the account record and the credentials gone,
  // the marker (which keeps the address) and a session left.
  await identity.users.startDeletion(u.userId, u.email);
  await accounts.deleteAccount({ userId: u.userId });
  await identity.users.deleteCredentials(u.userId, u.email);
  t.equal(await identity.users.byEmail(u.email), null, 'no sign-in record holds the address');

  const lookup = await postAs(admin, '/admin/accounts', { _csrf: admin.csrf, email: u.email.toUpperCase() });
  t.equal(lookup.statusCode, 200, 'found by the address its marker keeps');
  t.match(lookup.body, u.userId);
  t.match(lookup.body, /data-fact="sign-in">nothing \(removed by the unfinished deletion\)/);
  const page = await getAs(admin, deleteUrl(u));
  t.equal(page.statusCode, 200);
  t.match(page.body, /A deletion of this account was started and did not finish/);

  const res = await postAs(admin, deleteUrl(u), { _csrf: admin.csrf, email: u.email, password: ADMIN_PASSWORD });
  t.equal(res.statusCode, 200);
  t.match(res.body, /Account deleted/);
  t.equal(await identity.users.deletionOf(u.userId), null, 'the marker, and with it the address, is gone');
  t.equal((await getAs(u, '/jobs')).statusCode, 303, 'the session left over is ended');
  t.equal((await postAs(admin, '/admin/accounts', { _csrf: admin.csrf, email: u.email })).statusCode, 404, 'nothing is found any more');
});
