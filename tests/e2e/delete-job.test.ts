// Deleting a job on the real stack (nats-server, the five services, the filesystem store), with a
// two-second retention for free users: DELETE /api/v1/jobs/{id} answers 204, the job is gone from
// its routes and the list, and the archive service deletes its input, its results and its archive
// copies (on S3 too, from all three buckets); a deleted job's archive timer is dropped when due;
// another user's DELETE is 404 and changes nothing; a queued job is 409; a repeat of the
// Idempotency-Key after the delete makes a new job; and in Chromium, the job page's delete
// control asks, deletes and goes back to the list with a notice, while a post without the CSRF
// token is refused.
import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Plan, createClient, AccountService, JobService } from '@gas/proto';
import { BLOB_AREAS, createS3Client, FileBlobStore, S3BlobStore } from '@gas/storage';
import type { BlobStore } from '@gas/storage';
import { launchBrowser, newApiToken, newPage, screenshot, sharedDataPath, startGasStack, WebClient, DESKTOP } from '@gas/testing';
import type { StackUser } from '@gas/testing';

const RETENTION_S = 2;
const FREE_1 = sharedDataPath('vcf/gas_anntools/free_1.vcf');
const users: StackUser[] = ['alice', 'bob', 'carol'].map((userId) => ({ userId, token: newApiToken() }));
const [alice, bob, carol] = users as [StackUser, StackUser, StackUser];

const stack = await startGasStack({
  store: 'filesystem',
  users,
  userPlan: 'free',
  env: {
    archive: { ARCHIVE_FREE_RETENTION_SECONDS: String(RETENTION_S) },
    gateway: { GATEWAY_FREE_RETENTION_SECONDS: String(RETENTION_S) },
    notification: { NOTIFICATION_ERASE_INTERVAL_MS: '200' },
  },
});
t.teardown(() => stack.stop());
const jobs = createClient(JobService, stack.jobGrpcUrl, { defaultDeadlineMs: 10_000 });
const accounts = createClient(AccountService, stack.jobGrpcUrl, { defaultDeadlineMs: 10_000 });
t.teardown(() => (jobs.close(), accounts.close()));
// Alice is premium, so her results stay hot; carol is free, so hers move to the archive tier.
await accounts.setPlan({ userId: alice.userId, plan: Plan.PREMIUM });
const store = new FileBlobStore({ root: join(stack.stateDir, 'blobs') });

/** Every object of the job in the store, as `<area>/<key>`. */
async function filesOf(userId: string, jobId: string, blobs: BlobStore = store): Promise<string[]> {
  const out: string[] = [];
  for (const area of BLOB_AREAS) for (const key of await blobs.list(area, `${userId}/${jobId}/`)) out.push(`${area}/${key}`);
  return out.sort();
}

/** The job's objects once they are all gone, or what is left after 20 s. */
async function filesLeft(userId: string, jobId: string, blobs: BlobStore = store): Promise<string[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const left = await filesOf(userId, jobId, blobs);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function completedJob(u: StackUser, idempotencyKey?: string): Promise<string> {
  const res = await stack.submit(u, FREE_1, { genomeBuild: 'GRCh37', idempotencyKey });
  if (res.status !== 201) throw new Error(`submit answered ${res.status}: ${await res.text()}`);
  const { id } = (await res.json()) as { id: string };
  await stack.waitForJob(u, id, (j) => j.status === 'COMPLETED', 90_000);
  return id;
}

const del = (u: StackUser, id: string) => stack.api(u, `/api/v1/jobs/${id}`, { method: 'DELETE' });
const listedIds = async (u: StackUser) =>
  ((await (await stack.api(u, '/api/v1/jobs?page_size=100')).json()) as { jobs: Array<{ id: string }> }).jobs.map((j) => j.id);

/** The sum of a metric's series on a service. */
async function metric(service: 'archive' | 'job', name: string): Promise<number> {
  let sum = 0;
  for (const m of (await stack.metrics(service)).matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(m[1]);
  return sum;
}

t.test('a completed job: DELETE 204, then 404, gone from the list, its input and results deleted', async (t) => {
  const id = await completedJob(alice);
  const before = await filesOf(alice.userId, id);
  t.ok(
    before.some((f) => f.startsWith('inputs/')),
    'its input is stored',
  );
  t.ok(before.filter((f) => f.startsWith('results/')).length >= 4, 'and its results');
  const deletedBefore = await metric('archive', 'gas_archive_deleted_objects_total');

  const res = await del(alice, id);
  t.equal(res.status, 204);
  t.equal(await res.text(), '');
  const get = await stack.api(alice, `/api/v1/jobs/${id}`);
  t.equal(get.status, 404);
  t.equal(get.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  t.notOk((await listedIds(alice)).includes(id), 'not in the list');
  t.equal((await stack.api(alice, `/api/v1/jobs/${id}/input`)).status, 404, 'its input is not served');
  t.equal((await del(alice, id)).status, 404, 'a second DELETE is 404');

  t.same(await filesLeft(alice.userId, id), [], 'every object of the job is deleted');
  t.equal((await metric('archive', 'gas_archive_deleted_objects_total')) - deletedBefore, before.length, 'and counted');
  t.ok((await metric('job', 'gas_job_jobs_deleted_total')) >= 1, 'gas_job_jobs_deleted_total counts it');
});

t.test("another user's DELETE is the 404 of an unknown job, and the job and its files stay", async (t) => {
  const id = await completedJob(alice);
  const files = await filesOf(alice.userId, id);
  const theirs = await del(bob, id);
  t.equal(theirs.status, 404);
  const body = (await theirs.json()) as { title: string; detail: string };
  const unknown = (await (await del(bob, '01J00000000000000000000000')).json()) as { title: string; detail: string };
  t.equal(body.title, unknown.title);
  t.match(body.detail, /^job [0-9A-Z]{26} not found$/);
  t.match(unknown.detail, /^job [0-9A-Z]{26} not found$/);
  t.equal((await stack.api(alice, `/api/v1/jobs/${id}`)).status, 200, 'the job is there for its owner');
  await new Promise((r) => setTimeout(r, 500));
  t.same(await filesOf(alice.userId, id), files, 'and so are its files');
});

t.test('an archived job: its archive copies are deleted with the rest', async (t) => {
  const id = await completedJob(carol);
  const state = await stack.eventually(
    async () => ((await (await stack.api(carol, `/api/v1/jobs/${id}`)).json()) as { result_state: string }).result_state,
    (s) => s === 'ARCHIVED',
    20_000,
  );
  t.equal(state, 'ARCHIVED');
  const record = (await jobs.getJob({ userId: carol.userId, jobId: id })).job!;
  const archived = Object.values(record.archiveKeys);
  t.ok(archived.length >= 2, 'results are in the archive tier');
  await stack.eventually(
    () => filesOf(carol.userId, id),
    (f) => !f.some((x) => x.startsWith('results/') && archived.includes(x.slice('results/'.length))),
    10_000,
  );
  t.ok(
    (await filesOf(carol.userId, id)).some((f) => f.startsWith('archive/')),
    'archive copies are stored',
  );

  t.equal((await del(carol, id)).status, 204);
  t.same(await filesLeft(carol.userId, id), [], 'input, hot results and archive copies are all deleted');
});

t.test('the archive timer of a job deleted before its results went cold is dropped when due', async (t) => {
  const id = await completedJob(carol);
  t.equal((await del(carol, id)).status, 204);
  const log = await stack.eventually(
    async () => stack.services.archive!.logs(),
    (l) =>
      l.includes(id) &&
      /archive timer of a deleted job dropped/.test(l.split('\n').find((x) => x.includes(id) && x.includes('dropped')) ?? ''),
    20_000,
  );
  t.match(log, /archive timer of a deleted job dropped/);
  t.same(await filesLeft(carol.userId, id), [], 'nothing of the job is left, in the archive tier either');
});

t.test('a repeat of the Idempotency-Key after the delete makes a new job', async (t) => {
  const key = `delete-test-${Date.now()}`;
  const first = await completedJob(alice, key);
  const repeat = await stack.submit(alice, FREE_1, { genomeBuild: 'GRCh37', idempotencyKey: key });
  t.equal(repeat.status, 200, 'before the delete, the key answers the first job');
  t.equal(((await repeat.json()) as { id: string }).id, first);
  t.equal((await del(alice, first)).status, 204);
  const again = await stack.submit(alice, FREE_1, { genomeBuild: 'GRCh37', idempotencyKey: key });
  t.equal(again.status, 201, 'after it, the key makes a new job');
  const second = ((await again.json()) as { id: string }).id;
  t.not(second, first);
  await stack.waitForJob(alice, second, (j) => j.status === 'COMPLETED', 90_000);
  t.same(await filesLeft(alice.userId, first), [], "the first job's files are gone");
  t.ok((await filesOf(alice.userId, second)).length > 0, "the new job's are there");
});

t.test('in Chromium: the job page asks, deletes, and the list says so; a post without the CSRF token is refused', async (t) => {
  const web = new WebClient(stack.url);
  const csrf = await web.signUp({ email: 'del@example.org', password: 'delete me please', name: 'Del' });
  const upload = async (name: string) => {
    const res = await web.upload(name, new Blob([await readFile(FREE_1)]), 'GRCh37', csrf);
    if (res.status !== 201) throw new Error(`upload: ${res.status} ${res.text}`);
    const id = (JSON.parse(res.text) as { id: string }).id;
    // Archived, the job's last change: this stack keeps free results for 2 s, and an open job page
    // reloads when its results move to cold storage, which would pull the page from under the clicks.
    await stack.eventually(
      async () => {
        const j = JSON.parse((await web.get(`/api/v1/jobs/${id}`)).text) as { status: string; result_state: string | null };
        return `${j.status}/${j.result_state}`;
      },
      (s) => s === 'COMPLETED/ARCHIVED',
      90_000,
    );
    return id;
  };
  const id = await upload('to-delete.vcf');
  const kept = await upload('to-keep.vcf');
  // The web user's id is the folder their input is in.
  const userId = await userOf(id);
  t.ok((await filesOf(userId, id)).length > 0, 'the job has files');

  const browser = await launchBrowser();
  t.teardown(() => browser.close());
  const page = await newPage(browser, DESKTOP);
  t.teardown(() => page.close());
  await page.context().addCookies([...web.cookies].map(([name, value]) => ({ name, value, url: stack.url })));
  await page.goto(`${stack.url}/jobs/${id}`);
  await page.locator('section.delete-job').scrollIntoViewIfNeeded();
  await screenshot(page, import.meta.filename, 'job page');
  await page.getByRole('link', { name: 'Delete this job…' }).click();
  await page.waitForURL(new RegExp(`/jobs/${id}/delete$`));
  t.match(await page.locator('main').innerText(), /to-delete\.vcf/);
  await screenshot(page, import.meta.filename, 'confirm');
  await page.getByRole('button', { name: 'Delete the job and its files' }).click();
  await page.waitForURL(new RegExp(`/jobs\\?deleted=${id}$`));
  t.equal(await page.locator('.notice').innerText(), 'The job and its files were deleted.');
  const rows = await page.locator('table.jobs td.name a').allInnerTexts();
  t.same(rows, ['to-keep.vcf'], 'the list has only the other job');
  await screenshot(page, import.meta.filename, 'deleted');
  t.same(await filesLeft(userId, id), [], 'its files are deleted');
  t.equal((await web.get(`/jobs/${id}`)).status, 404, 'its page is gone');
  t.notMatch((await web.get(`/jobs?deleted=${kept}`)).text, /were deleted/, 'the notice only for a job that is gone');

  const noToken = await web.postForm(`/jobs/${kept}/delete`, {});
  t.equal(noToken.status, 403, 'a form post without the CSRF token is refused');
  const apiNoToken = await web.request(`/api/v1/jobs/${kept}`, { method: 'DELETE' });
  t.equal(apiNoToken.status, 403, 'and so is a session DELETE without X-CSRF-Token');
  t.equal(apiNoToken.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  t.equal((await web.get(`/api/v1/jobs/${kept}`)).status, 200, 'the job stays');
  const apiWithToken = await web.request(`/api/v1/jobs/${kept}`, { method: 'DELETE', headers: { 'x-csrf-token': csrf } });
  t.equal(apiWithToken.status, 204, 'with the header, the session may delete');
});

t.test('on S3 (the S3-protocol server): an archived job’s objects are deleted from the inputs, results and archive buckets', async (t) => {
  const s3Stack = await startGasStack({
    store: 's3',
    users: [carol],
    userPlan: 'free',
    services: ['job', 'annotator', 'archive', 'gateway'],
    env: { archive: { ARCHIVE_FREE_RETENTION_SECONDS: String(RETENTION_S) } },
  });
  t.teardown(() => s3Stack.stop());
  const s3 = s3Stack.s3!;
  const client = createS3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    checksumWhenRequired: true,
  });
  const s3Store = new S3BlobStore({ client, buckets: s3.buckets });
  const res = await s3Stack.submit(carol, FREE_1, { genomeBuild: 'GRCh37' });
  t.equal(res.status, 201);
  const { id } = (await res.json()) as { id: string };
  await s3Stack.waitForJob(carol, id, (j) => j.status === 'COMPLETED', 90_000);
  await s3Stack.eventually(
    () => filesOf(carol.userId, id, s3Store),
    (f) => f.some((x) => x.startsWith('archive/')) && f.some((x) => x.startsWith('inputs/')),
    20_000,
  );
  t.equal((await s3Stack.api(carol, `/api/v1/jobs/${id}`, { method: 'DELETE' })).status, 204);
  t.same(await filesLeft(carol.userId, id, s3Store), [], 'no object of the job is left in any bucket');
});

t.test("a deleted job's file name leaves GAS_EVENTS once archive and notification have handled it, and no service logs it", async (t) => {
  const name = `Jane Doe ${Date.now()} tumour.vcf`;
  const res = await stack.submitText(alice, name, await readFile(FREE_1, 'utf8'), { genomeBuild: 'GRCh37' });
  t.equal(res.status, 201);
  const { id } = (await res.json()) as { id: string };
  await stack.waitForJob(alice, id, (j) => j.status === 'COMPLETED', 90_000);
  const eventFiles = async (): Promise<string[]> => {
    const dir = join(stack.nats.storeDir, 'jetstream');
    const found: string[] = [];
    for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
      const file = join(e.parentPath, e.name);
      if (e.isFile() && file.includes('GAS_EVENTS') && (await readFile(file).catch(() => Buffer.alloc(0))).includes(name)) found.push(file);
    }
    return found;
  };
  t.ok((await eventFiles()).length > 0, "the job's events hold its file name");
  t.equal((await del(alice, id)).status, 204);
  t.same(await filesLeft(alice.userId, id), [], 'its files are deleted');
  t.same(await stack.eventually(eventFiles, (f) => f.length === 0, 20_000), [], 'and its events are erased from the stream files');
  const logged = Object.entries(stack.services)
    .filter(([, svc]) => svc?.logs().includes(name))
    .map(([service]) => service);
  t.same(logged, [], 'no service log line holds the file name');
});

t.test('with no annotator, a queued job is 409 and its page offers no delete', async (t) => {
  await stack.services.annotator!.stop();
  const res = await stack.submit(alice, FREE_1, { genomeBuild: 'GRCh37' });
  t.equal(res.status, 201);
  const { id } = (await res.json()) as { id: string };
  const refused = await del(alice, id);
  t.equal(refused.status, 409);
  t.equal(refused.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  t.match(((await refused.json()) as { detail: string }).detail, /waiting to run; wait until it finishes/);
  t.equal(((await (await stack.api(alice, `/api/v1/jobs/${id}`)).json()) as { status: string }).status, 'PENDING', 'it stays queued');
  t.ok(
    (await filesOf(alice.userId, id)).some((f) => f.startsWith('inputs/')),
    'with its input',
  );

  const web = new WebClient(stack.url);
  const csrf = await web.signUp({ email: 'wait@example.org', password: 'queued job here', name: 'Wait' });
  const up = await web.upload(
    'queued.vcf',
    new Blob(['##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n1\t10177\t.\tA\tAC\t.\tPASS\t.\n']),
    'GRCh37',
    csrf,
  );
  const queued = (JSON.parse(up.text) as { id: string }).id;
  t.notMatch((await web.get(`/jobs/${queued}`)).text, /Delete this job/, 'the job page has no delete control');
  const post = await web.postForm(`/jobs/${queued}/delete`, { _csrf: csrf });
  t.equal(post.status, 409, 'and a post is refused');
  t.match(post.text, /waiting to run; wait until it finishes/);
});

/** The user whose inputs folder holds the job. */
async function userOf(jobId: string): Promise<string> {
  for (const u of await readdir(join(stack.stateDir, 'blobs', 'inputs'))) {
    if ((await readdir(join(stack.stateDir, 'blobs', 'inputs', u))).includes(jobId)) return u;
  }
  throw new Error(`no input folder holds job ${jobId}`);
}
