// The /api/v1 route schemas against job-view.ts: Fastify serialises answers with the response
// schemas, and fast-json-stringify silently leaves out what a schema does not list, so every job
// shape must come out exactly as jobView() made it. Also: the query and id schemas only document,
// the handlers' own checks and messages still decide.
import t from 'tap';
import { Readable } from 'node:stream';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import {
  create,
  GenomeBuild,
  JobSchema,
  JobStatus,
  Plan,
  ResultState,
  RpcError,
  Status,
  timestampFromDate,
  VariantCountsSchema,
} from '@gas/proto';
import type { Job } from '@gas/proto';
import { registerJobRoutes } from '../src/routes/jobs-routes.ts';
import type { JobsRouteDeps } from '../src/routes/jobs-routes.ts';
import { registerApiDocs } from '../src/routes/api-docs.ts';
import { jobSchema } from '../src/routes/api-schemas.ts';
import { jobView } from '../src/job-view.ts';
import { Problem, sendProblem } from '../src/problem.ts';

const at = (s: string) => timestampFromDate(new Date(s));
const base = { userId: 'u1', inputName: 'sample.vcf', inputSize: 1843200n, inputKey: 'u1/01/sample.vcf', genomeBuild: GenomeBuild.GRCH37 };

const JOBS: Record<string, Job> = {
  completed: create(JobSchema, {
    ...base,
    jobId: '01JQ8Z7X5K3M4N6P8R9S2T3V4W',
    status: JobStatus.COMPLETED,
    createdAt: at('2025-01-01T12:00:00Z'),
    startedAt: at('2025-01-01T12:00:01.120Z'),
    finishedAt: at('2025-01-01T12:00:04.870Z'),
    updatedAt: at('2025-01-01T12:00:04.870Z'),
    attempt: 1,
    resultState: ResultState.AVAILABLE,
    resultSize: 4218530n,
    resultKeys: { vcf: 'k.vcf.gz', log: 'k.log', summary: 'k.json', tsv: 'k.tsv.gz', tbi: 'k.vcf.gz.tbi' },
    counts: create(VariantCountsSchema, { records: 12040n, alleles: 12310n, snvs: 11002n, indels: 1250n, other: 58n }),
  }),
  running: create(JobSchema, {
    ...base,
    jobId: '01JQ8Z7X5K3M4N6P8R9S2T3V4X',
    status: JobStatus.RUNNING,
    genomeBuild: GenomeBuild.GRCH38,
    createdAt: at('2025-01-01T12:00:00Z'),
    startedAt: at('2025-01-01T12:00:01Z'),
    updatedAt: at('2025-01-01T12:00:02Z'),
    attempt: 2,
    progressDone: 500n,
    progressTotal: 12000n,
  }),
  pending: create(JobSchema, {
    ...base,
    jobId: '01JQ8Z7X5K3M4N6P8R9S2T3V4Y',
    status: JobStatus.PENDING,
    createdAt: at('2025-01-01T12:00:00Z'),
    updatedAt: at('2025-01-01T12:00:00Z'),
  }),
  failed: create(JobSchema, {
    ...base,
    jobId: '01JQ8Z7X5K3M4N6P8R9S2T3V4Z',
    status: JobStatus.FAILED,
    createdAt: at('2025-01-01T12:00:00Z'),
    finishedAt: at('2025-01-01T12:00:03Z'),
    updatedAt: at('2025-01-01T12:00:03Z'),
    attempt: 5,
    failureReason: 'invalid VCF: line 5000: POS: not a number',
  }),
  // Annotated files in cold storage (the summary and the log stay hot), and on their way back.
  archived: create(JobSchema, {
    ...base,
    jobId: '01JQ8Z7X5K3M4N6P8R9S2T3V51',
    status: JobStatus.COMPLETED,
    createdAt: at('2025-01-01T12:00:00Z'),
    finishedAt: at('2025-01-01T12:00:04Z'),
    updatedAt: at('2025-01-01T12:30:04Z'),
    resultState: ResultState.ARCHIVED,
    resultKeys: { vcf: 'k.vcf.gz', log: 'k.log', summary: 'k.json', tsv: 'k.tsv.gz', tbi: 'k.vcf.gz.tbi' },
    archiveKeys: { vcf: 'k.vcf.gz', tsv: 'k.tsv.gz', tbi: 'k.vcf.gz.tbi' },
    archivedAt: at('2025-01-01T12:30:04Z'),
  }),
  restoring: create(JobSchema, {
    ...base,
    jobId: '01JQ8Z7X5K3M4N6P8R9S2T3V52',
    status: JobStatus.COMPLETED,
    createdAt: at('2025-01-01T12:00:00Z'),
    finishedAt: at('2025-01-01T12:00:04Z'),
    updatedAt: at('2025-01-02T09:00:00Z'),
    resultState: ResultState.RESTORING,
    resultKeys: { vcf: 'k.vcf.gz', log: 'k.log', summary: 'k.json', tsv: 'k.tsv.gz' },
    archiveKeys: { vcf: 'k.vcf.gz', tsv: 'k.tsv.gz' },
    archivedAt: at('2025-01-01T12:30:04Z'),
    restoreExpectedAt: at('2099-01-01T12:00:00Z'),
  }),
  // Every optional part missing: no timestamps, no build, no counts.
  bare: create(JobSchema, { jobId: '01JQ8Z7X5K3M4N6P8R9S2T3V50', userId: 'u1', status: JobStatus.PENDING }),
};
const QUEUE_POSITION = 3;

const deps = {
  authn: { apiUser: async () => 'u1' },
  // The upload route's multipart parser is sized from it.
  limits: { maxUploadBytes: 1024 * 1024 },
  jobs: {
    getJob: async ({ jobId }: { jobId: string }) => {
      const job = Object.values(JOBS).find((j) => j.jobId === jobId);
      if (!job) throw new RpcError(Status.NOT_FOUND, `no job ${jobId}`);
      return { job };
    },
    listJobs: async () => ({ jobs: Object.values(JOBS), nextPageToken: '' }),
    getQueuePosition: async () => ({ position: BigInt(QUEUE_POSITION), queueDepth: 5n }),
  },
  accounts: { getAccount: async () => ({ account: { plan: Plan.FREE } }) },
  store: {
    stat: async () => ({ size: 13 }),
    get: async () => Readable.from([Buffer.from('{"records":1}')]),
  },
} as unknown as JobsRouteDeps;

const app: FastifyInstance = Fastify();
t.teardown(() => app.close());
app.setErrorHandler((err, _req, reply) => {
  if (err instanceof Problem) return sendProblem(reply, err);
  if (err instanceof RpcError) return sendProblem(reply, new Problem(404, 'Not Found', err.message));
  return reply.send(err);
});
registerApiDocs(app);
await app.after();
registerJobRoutes(app, deps);
await app.ready();

/** What the handler returned, through JSON and nothing else. */
const plain = (x: unknown) => JSON.parse(JSON.stringify(x)) as unknown;

t.test('the job schema lists exactly the fields jobView() returns', async (t) => {
  const view = jobView(JOBS['completed']!, { queuePosition: 1 });
  // Every link a job can have: the completed one has a tabix index (links only list the files a job has).
  t.ok(view.links.tbi, 'the fixture has every result');
  t.strictSame(Object.keys(jobSchema.properties).sort(), Object.keys(view).sort());
  t.strictSame([...jobSchema.required].sort(), Object.keys(view).sort());
  t.strictSame(Object.keys(jobSchema.properties.links.properties).sort(), Object.keys(view.links).sort());
  t.strictSame(Object.keys(jobSchema.properties.counts.properties).sort(), Object.keys(view.counts!).sort());
});

t.test('GET /api/v1/jobs/:id answers every job shape exactly as jobView() makes it', async (t) => {
  for (const [name, job] of Object.entries(JOBS)) {
    const res = await app.inject({ url: `/api/v1/jobs/${job.jobId}` });
    t.equal(res.statusCode, 200, name);
    const expected = jobView(job, { queuePosition: job.status === JobStatus.PENDING ? QUEUE_POSITION : undefined });
    t.strictSame(res.json(), plain(expected), name);
  }
  const bare = (await app.inject({ url: `/api/v1/jobs/${JOBS['bare']!.jobId}` })).json<Record<string, unknown>>();
  for (const k of ['created_at', 'updated_at', 'genome_build', 'counts', 'progress', 'result_state', 'failure_reason', 'archived_at'])
    t.equal(bare[k], null, k);
  t.strictSame(bare['archived_kinds'], []);
  const restoring = (await app.inject({ url: `/api/v1/jobs/${JOBS['restoring']!.jobId}` })).json<Record<string, unknown>>();
  t.strictSame(restoring['archived_kinds'], ['vcf', 'tsv']);
  t.equal(restoring['restore_expected_at'], '2099-01-01T12:00:00.000Z');
  t.equal(restoring['archived_at'], '2025-01-01T12:30:04.000Z');
});

t.test('GET /api/v1/jobs keeps every field of every job, and the null page token', async (t) => {
  const res = await app.inject({ url: '/api/v1/jobs' });
  t.equal(res.statusCode, 200);
  t.strictSame(res.json(), plain({ jobs: Object.values(JOBS).map((j) => jobView(j)), next_page_token: null }));
});

t.test('the query and the id are still checked by the handlers, with their own messages', async (t) => {
  for (const q of ['page_size=0', 'page_size=101', 'page_size=abc', 'page_size=1.5', 'page_size=', 'page_size=5&page_size=6']) {
    const res = await app.inject({ url: `/api/v1/jobs?${q}` });
    t.equal(res.statusCode, 400, q);
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
    t.strictSame(
      res.json(),
      { type: 'about:blank', title: 'Bad Request', status: 400, detail: 'page_size must be an integer from 1 to 100' },
      q,
    );
  }
  for (const q of ['status=completed', 'status=Failed', 'page_size=100', 'page_size=1'])
    t.equal((await app.inject({ url: `/api/v1/jobs?${q}` })).statusCode, 200, q);
  const bad = await app.inject({ url: '/api/v1/jobs?status=DONE' });
  t.equal(bad.json<{ detail: string }>().detail, 'status must be one of PENDING, RUNNING, COMPLETED, FAILED');
  const notAnId = await app.inject({ url: '/api/v1/jobs/not-a-job/result' });
  t.equal(notAnId.statusCode, 404);
  t.strictSame(notAnId.json(), { type: 'about:blank', title: 'Not Found', status: 404, detail: 'no job not-a-job' });
});

t.test('downloads stream as before: the summary is not re-serialised by its schema', async (t) => {
  const res = await app.inject({ url: `/api/v1/jobs/${JOBS['completed']!.jobId}/summary` });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8');
  t.equal(res.body, '{"records":1}');
  const running = await app.inject({ url: `/api/v1/jobs/${JOBS['running']!.jobId}/log` });
  t.equal(running.statusCode, 409);
  t.match(running.json<{ detail: string }>().detail, /is RUNNING/);
});

t.test('a file in cold storage answers 409 saying what happens and when; the summary and the log stay hot', async (t) => {
  const archived = JOBS['archived']!.jobId;
  const res = await app.inject({ url: `/api/v1/jobs/${archived}/result` });
  t.equal(res.statusCode, 409);
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
  t.strictSame(res.json(), {
    type: 'about:blank',
    title: 'Conflict',
    status: 409,
    detail: `the annotated VCF of job ${archived} moved to cold storage on 2025-01-01 12:30 UTC; upgrade to premium and it is restored`,
    result_state: 'ARCHIVED',
  });
  t.notOk(res.headers['retry-after']);
  for (const file of ['tsv', 'tbi']) t.equal((await app.inject({ url: `/api/v1/jobs/${archived}/${file}` })).statusCode, 409, file);
  for (const file of ['summary', 'log', 'input'])
    t.equal((await app.inject({ url: `/api/v1/jobs/${archived}/${file}` })).statusCode, 200, file);

  const restoring = JOBS['restoring']!.jobId;
  const back = await app.inject({ url: `/api/v1/jobs/${restoring}/tsv` });
  t.equal(back.statusCode, 409);
  t.strictSame(back.json(), {
    type: 'about:blank',
    title: 'Conflict',
    status: 409,
    detail: `the annotation table of job ${restoring} is being restored from cold storage; expected back by 2099-01-01 12:00 UTC`,
    result_state: 'RESTORING',
    expected_at: '2099-01-01T12:00:00.000Z',
  });
  t.ok(Number(back.headers['retry-after']) > 0, 'Retry-After: seconds until then');
  t.equal((await app.inject({ url: `/api/v1/jobs/${restoring}/tbi` })).statusCode, 404, 'a kind the job never had is still 404');
});

t.test('the OpenAPI document refers to the shared schemas by name', async (t) => {
  const doc = app.swagger() as { components: { schemas: Record<string, unknown> }; paths: Record<string, unknown> };
  t.strictSame(Object.keys(doc.components.schemas).sort(), ['Job', 'JobList', 'Problem', 'UploadTicket']);
  const job = doc.paths['/api/v1/jobs/{id}'] as { get: { responses: Record<string, { content: Record<string, { schema: unknown }> }> } };
  t.strictSame(job.get.responses['200']!.content['application/json']!.schema, { $ref: '#/components/schemas/Job' });
  t.strictSame(job.get.responses['404']!.content['application/problem+json']!.schema, { $ref: '#/components/schemas/Problem' });
});
