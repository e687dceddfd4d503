// The job list and detail reuse each job's serialised view while the job is unchanged: a job that
// changes, even twice within one millisecond of updatedAt, must come out as it is now, on both
// routes, with the same JSON a fresh serialisation gives.
import { gunzipSync } from 'node:zlib';
import t from 'tap';
import type { Test } from 'tap';
import Fastify from 'fastify';
import { create, timestampFromDate, JobSchema, JobStatus, ResultState, RpcError, Status } from '@gas/proto';
import type { Job } from '@gas/proto';
import { registerJobRoutes } from '../src/routes/jobs-routes.ts';
import type { JobsRouteDeps } from '../src/routes/jobs-routes.ts';
import { jobView } from '../src/job-view.ts';
import { JobJsonCache } from '../src/job-json-cache.ts';

const at = timestampFromDate(new Date('2026-01-01T00:00:00.123Z'));
let current: Job = create(JobSchema, {
  jobId: '01JQ8Z7X5K3M4N6P8R9S2T3V4W',
  userId: 'u1',
  status: JobStatus.RUNNING,
  inputName: 'a.vcf',
  createdAt: at,
  updatedAt: at,
  attempt: 1,
  progressDone: 10n,
  progressTotal: 100n,
});
const deps = {
  authn: { apiUser: async () => 'u1' },
  // The upload route's multipart parser is sized from it.
  limits: { maxUploadBytes: 1024 * 1024 },
  jobs: {
    getJob: async ({ jobId }: { jobId: string }) => {
      if (jobId !== current.jobId) throw new RpcError(Status.NOT_FOUND, 'no such job');
      return { job: current };
    },
    listJobs: async () => ({ jobs: [current], nextPageToken: '' }),
    getQueuePosition: async () => ({ position: 2n, queueDepth: 2n }),
  },
} as unknown as JobsRouteDeps;

const app = Fastify();
t.teardown(() => app.close());
registerJobRoutes(app, deps);
await app.ready();

const plain = (x: unknown) => JSON.parse(JSON.stringify(x)) as unknown;
async function both(t: Test, what: string): Promise<void> {
  const list = await app.inject({ url: '/api/v1/jobs' });
  const one = await app.inject({ url: `/api/v1/jobs/${current.jobId}` });
  t.equal(list.headers['content-type'], 'application/json; charset=utf-8');
  t.strictSame(list.json(), plain({ jobs: [jobView(current)], next_page_token: null }), `list: ${what}`);
  t.strictSame(one.json(), plain(jobView(current)), `detail: ${what}`);
}

t.test('each change shows at once, on the list and the detail', async (t) => {
  await both(t, 'first answer');
  await both(t, 'from the cache');
  // Progress within the same millisecond of updatedAt.
  current = create(JobSchema, { ...current, progressDone: 20n });
  await both(t, 'progress, same updatedAt');
  current = create(JobSchema, {
    ...current,
    status: JobStatus.COMPLETED,
    resultState: ResultState.AVAILABLE,
    resultKeys: { vcf: 'k', log: 'l', summary: 's' },
    updatedAt: timestampFromDate(new Date('2026-01-01T00:00:01Z')),
  });
  await both(t, 'completed');
  current = create(JobSchema, { ...current, resultState: ResultState.ARCHIVED, archiveKeys: { vcf: 'k' } });
  await both(t, 'archived, same updatedAt');
});

t.test("a waiting job's detail carries its queue position, which the list leaves out", async (t) => {
  current = create(JobSchema, { ...current, jobId: '01JQ8Z7X5K3M4N6P8R9S2T3V4X', status: JobStatus.PENDING, updatedAt: at });
  const one = await app.inject({ url: `/api/v1/jobs/${current.jobId}` });
  t.equal(one.json<{ queue_position: number }>().queue_position, 2);
  const list = await app.inject({ url: '/api/v1/jobs' });
  t.equal(list.json<{ jobs: { queue_position: number | null }[] }>().jobs[0]!.queue_position, null);
});

t.test('a list page from the cache is kept while its version holds, and made again once it changes', async (t) => {
  const serialize = (v: ReturnType<typeof jobView>) => JSON.stringify(v);
  const cache = new JobJsonCache(serialize);
  const job = create(JobSchema, { ...current, jobId: '01JQ8Z7X5K3M4N6P8R9S2T3V4Y', status: JobStatus.RUNNING, updatedAt: at });
  const page = (userId: string, p: Parameters<JobJsonCache['page']>[2]) => cache.page(userId, 'q', p).body;
  const first = page('u1', { jobs: [job], nextPageToken: '', version: 7 });
  t.equal(page('u1', { jobs: [job], nextPageToken: '', version: 7 }), first, 'the same bytes while the version holds');
  t.not(page('u2', { jobs: [], nextPageToken: '', version: 7 }), first, "another user's page is its own");
  const done = create(JobSchema, { ...job, status: JobStatus.COMPLETED, updatedAt: timestampFromDate(new Date('2026-01-01T00:00:02Z')) });
  const after = page('u1', { jobs: [done], nextPageToken: '', version: 8 });
  t.strictSame(
    JSON.parse(after.toString()),
    plain({ jobs: [jobView(done)], next_page_token: null }),
    'a new version is made from the jobs as they are',
  );
  const fromService = page('u1', { jobs: [job], nextPageToken: 'x', version: undefined });
  t.equal(
    (JSON.parse(fromService.toString()) as { next_page_token: string }).next_page_token,
    'x',
    'a page without a version (from the job service) is built as it is',
  );
  t.not(page('u1', { jobs: [job], nextPageToken: 'x', version: undefined }), fromService, 'and never kept');
});

t.test("a kept page's gzip is kept with it, made again with the page, and never made for a page from the job service", async (t) => {
  const cache = new JobJsonCache((v) => JSON.stringify(v));
  const jobs = Array.from({ length: 20 }, (_, i) =>
    create(JobSchema, { ...current, jobId: `01JQ8Z7X5K3M4N6P8R9S2T3V${String(i).padStart(2, '0')}`, status: JobStatus.COMPLETED }),
  );
  const plainPage = cache.page('u1', 'q', { jobs, nextPageToken: '', version: 1 });
  t.equal(plainPage.encoding, undefined, 'as it is when the client takes no gzip');
  const zipped = cache.page('u1', 'q', { jobs, nextPageToken: '', version: 1 }, true);
  t.equal(zipped.encoding, 'gzip');
  t.ok(zipped.body.length * 4 < plainPage.body.length, `gzip is much smaller (${zipped.body.length} of ${plainPage.body.length} bytes)`);
  t.same(gunzipSync(zipped.body), plainPage.body, 'and unzips to the same bytes');
  t.equal(cache.page('u1', 'q', { jobs, nextPageToken: '', version: 1 }, true).body, zipped.body, 'kept while the version holds');
  const changed = [
    create(JobSchema, { ...jobs[0]!, status: JobStatus.FAILED, updatedAt: timestampFromDate(new Date('2026-01-01T00:00:03Z')) }),
    ...jobs.slice(1),
  ];
  const next = cache.page('u1', 'q', { jobs: changed, nextPageToken: '', version: 2 }, true);
  t.equal(
    (JSON.parse(gunzipSync(next.body).toString()) as { jobs: { status: string }[] }).jobs[0]!.status,
    'FAILED',
    'made again when the page changes',
  );
  const fromService = cache.page('u1', 'q2', { jobs, nextPageToken: '', version: undefined }, true);
  t.equal(fromService.encoding, undefined, 'a page from the job service goes as it is');
  const small = cache.page('u1', 'q3', { jobs: [], nextPageToken: '', version: 1 }, true);
  t.equal(small.encoding, undefined, 'and so does a page too small to gain from it');
});

t.test('the list route sends a kept page gzipped to clients that take gzip, and as it is to the rest', async (t) => {
  const jobs = Array.from({ length: 20 }, (_, i) =>
    create(JobSchema, { ...current, jobId: `01JQ8Z7X5K3M4N6P8R9S2T3W${String(i).padStart(2, '0')}`, status: JobStatus.COMPLETED }),
  );
  // The job cache as the route reads it: a page with its version, so the bytes are kept.
  const jobCache = { list: () => ({ jobs, nextPageToken: '', version: 3 }), get: () => undefined, saw: () => {} };
  const gz = Fastify();
  t.teardown(() => gz.close());
  registerJobRoutes(gz, { ...deps, jobCache } as unknown as JobsRouteDeps);
  const expected = plain({ jobs: jobs.map((j) => jobView(j)), next_page_token: null });
  for (const accept of ['gzip', 'gzip, deflate, br', 'br;q=1.0, gzip;q=0.8, *;q=0.1']) {
    const res = await gz.inject({ url: '/api/v1/jobs', headers: { 'accept-encoding': accept } });
    t.equal(res.headers['content-encoding'], 'gzip', `gzip for ${accept}`);
    t.equal(res.headers['vary'], 'Accept-Encoding');
    t.strictSame(JSON.parse(gunzipSync(res.rawPayload).toString()), expected, `the same jobs for ${accept}`);
  }
  for (const accept of [undefined, 'identity', 'gzip;q=0', 'br']) {
    const res = await gz.inject({ url: '/api/v1/jobs', headers: accept === undefined ? {} : { 'accept-encoding': accept } });
    t.equal(res.headers['content-encoding'], undefined, `as it is for ${accept ?? 'no Accept-Encoding'}`);
    t.equal(res.headers['vary'], 'Accept-Encoding');
    t.strictSame(res.json(), expected);
  }
});
