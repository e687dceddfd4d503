// The admin page (/admin, /admin/state.json) on the gateway built in-process (buildGateway) and
// driven with inject(), against a real nats-server, job service and notification service (the
// stack's processes): the identity buckets, sessions and operator tokens are real, the queue
// figures are the job service's GetQueueStats over the jobs this test submits, and the annotator
// is a real presence announcement on NATS. Only admins see anything; everyone else gets the 404 of
// an address with no page. Outside Kubernetes the page says so; with a kubeconfig whose API server
// cannot be reached it says that, and still shows the queue. The page against a real API server is
// tests/e2e/web-admin.test.ts.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { announceAnnotator, connectNats, watchAnnotators } from '@gas/messaging';
import { freePort, startGasStack } from '@gas/testing';
import { stackClients, stackGateway } from './stack-clients.ts';
import type { GatewayDeps } from '../src/app.ts';
import { AdminList, Cached } from '../src/admin-state.ts';
import type { AdminState } from '../src/admin-state.ts';
import { kubeReader, NOT_IN_KUBERNETES } from '../src/admin-kube.ts';
import { loadConfig } from '../src/config.ts';
import { shortAge } from '../src/web/pages/admin-page.ts';

const stack = await startGasStack({ store: 'filesystem', services: ['job', 'notification'] });
t.teardown(() => stack.stop());
const [alice, bob] = stack.users as [(typeof stack.users)[0], (typeof stack.users)[0]];
const clients = await stackClients(stack, { name: 'admin-test', deadlineMs: 10_000 });
const { logger, nc, identity } = clients;
const annotators = watchAnnotators(nc);
t.teardown(() => annotators.stop());

async function gateway(admin: GatewayDeps['admin']) {
  return stackGateway(stack, clients, {
    annotators: { available: () => annotators.available().length, list: () => annotators.available() },
    admin,
  });
}

// alice@example.org is the admin, written in another case than the account's address.
const app = await gateway({ emails: ['Alice@Example.ORG'] });
const cookie = async (userId: string) => `gas_session=${(await identity.sessions.start(userId)).id}`;
const aliceCookie = await cookie(alice.userId);
const bobCookie = await cookie(bob.userId);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });

const VCF = '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchr21\t5097843\t.\tA\tG\t0\tPASS\t.\n';
async function submit(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const boundary = '----gas-admin-test';
    const payload =
      `--${boundary}\r\nContent-Disposition: form-data; name="genome_build"\r\n\r\nGRCh38\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="q${i}.vcf"\r\nContent-Type: text/x-vcf\r\n\r\n${VCF}\r\n` +
      `--${boundary}--\r\n`;
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/jobs',
      headers: { ...bearer(alice.token), 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload,
    });
    if (res.statusCode !== 201) throw new Error(`upload answered ${res.statusCode}: ${res.body}`);
  }
}

t.test('nobody but an admin learns that /admin exists: the same 404 as an address with no page', async (t) => {
  const nothing = await get('/no-such-page', { cookie: bobCookie });
  t.equal(nothing.statusCode, 404);
  const tries: Array<[string, Record<string, string>, string]> = [
    ['/admin', {}, 'signed out'],
    ['/admin', { cookie: bobCookie }, 'a signed-in user who is not an admin'],
    ['/admin', bearer(alice.token), "an admin's API token (the page needs a browser session)"],
    ['/admin', bearer('not-a-token-at-all-0123456789'), 'a wrong token (not a 401)'],
    ['/admin', { authorization: 'Basic x' }, 'a malformed header (not a 401)'],
    ['/admin/state.json', {}, 'the JSON, signed out'],
    ['/admin/state.json', { cookie: bobCookie }, 'the JSON, not an admin'],
    ['/admin/state.json', bearer(bob.token), "the JSON, a non-admin's token"],
  ];
  for (const [url, headers, who] of tries) {
    const res = await get(url, headers);
    t.equal(res.statusCode, 404, who);
    t.match(res.body, /There is no page at this address/, `${who}: the not-found page`);
    t.equal(res.headers['content-type'], nothing.headers['content-type'], `${who}: as an HTML page`);
  }
  const jobsPage = await get('/jobs', { cookie: bobCookie });
  t.notMatch(jobsPage.body, /href="\/admin"/, 'no link in the header for a non-admin');

  // Without GATEWAY_ADMIN_EMAILS nobody is an admin.
  const closed = await gateway(undefined);
  const res = await closed.inject({ method: 'GET', url: '/admin', headers: { cookie: aliceCookie } });
  t.equal(res.statusCode, 404);
});

t.test('an admin sees the queue, the annotators, and that this is not Kubernetes', async (t) => {
  const announcer = await connectNats({ servers: stack.natsUrl, name: 'admin-test-annotator', logger });
  t.teardown(() => announcer.close());
  // Annotators name themselves `<hostname>-<pid>`; nothing runs jobs here (no annotator consumes).
  const presence = announceAnnotator(announcer, { annotatorId: 'gas-annotator-5c9d-x2x7q-4242', slots: 2, intervalMs: 1000 });
  t.teardown(() => presence.leave());
  await submit(3);
  await stack.eventually(
    async () => annotators.available().length,
    (n) => n === 1,
  );

  const jobsPage = await get('/jobs', { cookie: aliceCookie });
  t.match(jobsPage.body, '<a href="/admin">Admin</a>', 'the header links the admin page');

  const json = await get('/admin/state.json', bearer(alice.token));
  t.equal(json.statusCode, 200, "an admin's API token reads the JSON");
  t.equal(json.headers['cache-control'], 'private, no-store');
  const state = json.json<AdminState>();
  t.match(state.queue, { ok: true, value: { depth: 3, waiting: 3, running: 0 } }, 'three jobs wait: nothing takes them');
  const q = (state.queue as Extract<AdminState['queue'], { ok: true }>).value;
  t.ok(q.oldestWaitingSince && Date.parse(q.oldestWaitingSince) <= Date.parse(state.readAt), 'when the oldest was queued');
  t.ok(q.oldestWaitingSeconds !== null && q.oldestWaitingSeconds >= 0 && q.oldestWaitingSeconds < 60);
  t.strictSame(state.annotators, [{ id: 'gas-annotator-5c9d-x2x7q-4242', slots: 2, busy: 0 }]);
  t.strictSame(state.kubernetes, { available: false, reason: NOT_IN_KUBERNETES });

  const res = await get('/admin', { cookie: aliceCookie });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['cache-control'], 'private, no-store');
  const body = res.body;
  t.match(body, '<dd data-figure="depth">3</dd>');
  t.match(body, '<dd data-figure="waiting">3</dd>');
  t.match(body, '<dd data-figure="running">0</dd>');
  t.match(body, /<dd data-figure="oldest">\d+ seconds?<\/dd>/);
  t.match(body, '<tr data-annotator="gas-annotator-5c9d-x2x7q-4242"><td>gas-annotator-5c9d-x2x7q-4242</td><td>0</td><td>2</td></tr>');
  t.match(body, 'not running in Kubernetes: replica and pod figures are not available');
  t.match(body, '<a href="/admin" aria-current="page">Admin</a>');
  t.match(body, '<script src="/static/admin.js" defer></script>');
  t.notMatch(body, /<script>|style=/, 'no inline script or style (the CSP)');
  const script = await get('/static/admin.js');
  t.equal(script.statusCode, 200, 'the page script is served');

  // Read at most once per couple of seconds: a reload within that sees the same reading.
  const again = (await get('/admin/state.json', { cookie: aliceCookie })).json<AdminState>();
  t.equal(again.readAt, state.readAt, 'cached');
});

t.test('an API server that cannot be reached is said on the page; the queue is still shown', async (t) => {
  const port = await freePort();
  const file = join(t.testdir(), 'kubeconfig');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'gone', cluster: { server: `https://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: 'x' } }],
      contexts: [{ name: 'gone', context: { cluster: 'gone', user: 'u', namespace: 'gas' } }],
      'current-context': 'gone',
    }),
  );
  const kube = kubeReader({ kubeconfig: file, inCluster: false, deployment: 'gas-annotator', hpa: 'gas-annotator', timeoutMs: 2000 });
  const down = await gateway({ emails: ['alice@example.org'], kube });
  const res = await down.inject({ method: 'GET', url: '/admin', headers: { cookie: aliceCookie } });
  t.equal(res.statusCode, 200, 'the page renders');
  t.match(res.body, /<dd data-figure="depth">\d+<\/dd>/, 'the queue part is there');
  t.match(res.body, 'Namespace <strong>gas</strong>', "the kubeconfig context's namespace");
  t.match(res.body, /the Deployment gas-annotator: the Kubernetes API could not be reached \(ECONNREFUSED\)/);
  t.match(res.body, /the HorizontalPodAutoscaler gas-annotator: the Kubernetes API could not be reached/);
  t.match(res.body, 'the pods are found through the Deployment, which could not be read');

  const broken = kubeReader({ kubeconfig: join(t.testdir(), 'missing'), inCluster: false, deployment: 'd', hpa: 'h', timeoutMs: 2000 });
  t.match(await broken.read(), { available: false, reason: /^Kubernetes could not be configured: / }, 'an unreadable kubeconfig is said');
  const noToken = kubeReader({ inCluster: true, deployment: 'd', hpa: 'h', timeoutMs: 2000 });
  t.match(await noToken.read(), { available: false, reason: /no service account token is mounted/ }, 'a pod without a token');
});

t.test('pieces: the admin list, the cache, ages, the setting', async (t) => {
  const admins = new AdminList([' Ops@Example.org ', 'b@example.org']);
  t.ok(admins.includes('ops@example.org'));
  t.ok(admins.includes('OPS@EXAMPLE.ORG'));
  t.notOk(admins.includes('ops@example.org.evil'));
  t.notOk(admins.includes(''));
  t.notOk(admins.includes(undefined));

  let reads = 0;
  let now = 0;
  const cached = new Cached(
    2000,
    async () => ++reads,
    () => now,
  );
  t.strictSame(await Promise.all([cached.get(), cached.get()]), [1, 1], 'concurrent callers share one read');
  now = 1999;
  t.equal(await cached.get(), 1);
  now = 2000;
  t.equal(await cached.get(), 2, 'read again after the time to live');

  t.strictSame([0, 59, 119, 120, 7199, 7200, 48 * 3600].map(shortAge), ['0s', '59s', '119s', '2m', '119m', '2h', '2d']);

  t.strictSame(loadConfig({ GATEWAY_ADMIN_EMAILS: 'a@example.org, B@example.org' }).adminEmails, ['a@example.org', 'B@example.org']);
  t.throws(() => loadConfig({ GATEWAY_ADMIN_EMAILS: 'a@example.org,admin' }), /GATEWAY_ADMIN_EMAILS.*"admin" is not an e-mail address/);
});
