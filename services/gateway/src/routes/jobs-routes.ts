import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { JobStatus, ResultState } from '@gas/proto';
import type { Job } from '@gas/proto';
import { sanitizeName, BlobNotFoundError } from '@gas/storage';
import { Problem } from '../problem.ts';
import { jobView } from '../job-view.ts';
import { receiveUpload } from '../upload.ts';
import type { UploadDeps } from '../upload.ts';

export type JobsRouteDeps = UploadDeps;

/** The upload checks its CSRF token itself: in a multipart form it is a field before the file. */
const CSRF_IN_FORM = '';

type ResultKind = 'vcf' | 'tsv' | 'summary' | 'log';
const contentTypes: Record<ResultKind | 'input', string> = {
  input: 'application/octet-stream',
  vcf: 'text/x-vcf; charset=utf-8',
  tsv: 'text/tab-separated-values; charset=utf-8',
  summary: 'application/json; charset=utf-8',
  log: 'text/plain; charset=utf-8',
};
const JOB_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

function jobIdParam(req: FastifyRequest): string {
  const id = (req.params as { id: string }).id;
  // Anything that is not a job id cannot be one of the user's jobs.
  if (!JOB_ID.test(id)) throw new Problem(404, 'Not Found', `no job ${sanitizeName(id)}`);
  return id;
}

export function registerJobRoutes(app: FastifyInstance, deps: JobsRouteDeps): void {
  const { jobs, store, authn } = deps;

  app.post('/api/v1/jobs', async (req, reply) => {
    const userId = await authn.apiUser(req, CSRF_IN_FORM);
    const { job, created } = await receiveUpload(req, userId, deps);
    return reply
      .code(created ? 201 : 200)
      .header('Location', `/api/v1/jobs/${job.jobId}`)
      .send(jobView(job));
  });

  app.get('/api/v1/jobs', async (req) => {
    const userId = await authn.apiUser(req);
    const q = req.query as Record<string, string | undefined>;
    const pageSize = q.page_size === undefined ? 20 : Number(q.page_size);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) throw new Problem(400, 'Bad Request', 'page_size must be an integer from 1 to 100');
    let status = JobStatus.UNSPECIFIED;
    if (q.status) {
      const s = JobStatus[q.status.toUpperCase() as keyof typeof JobStatus];
      if (typeof s !== 'number' || s === JobStatus.UNSPECIFIED) throw new Problem(400, 'Bad Request', 'status must be one of PENDING, RUNNING, COMPLETED, FAILED');
      status = s;
    }
    const res = await jobs.listJobs({ userId, pageSize, pageToken: q.page_token ?? '', status });
    return { jobs: res.jobs.map((j) => jobView(j)), next_page_token: res.nextPageToken || null };
  });

  app.get('/api/v1/jobs/:id', async (req) => {
    const userId = await authn.apiUser(req);
    const { job } = await jobs.getJob({ userId, jobId: jobIdParam(req) });
    let queuePosition: number | undefined;
    if (job!.status === JobStatus.PENDING) {
      queuePosition = Number((await jobs.getQueuePosition({ userId, jobId: job!.jobId })).position) || undefined;
    }
    return jobView(job!, { queuePosition });
  });

  async function download(req: FastifyRequest, reply: FastifyReply, kind: ResultKind) {
    const userId = await authn.apiUser(req);
    const { job } = await jobs.getJob({ userId, jobId: jobIdParam(req) });
    const j = job as Job;
    if (j.status !== JobStatus.COMPLETED) throw new Problem(409, 'Conflict', `job ${j.jobId} is ${JobStatus[j.status]}; results exist once it is COMPLETED`);
    if (j.resultState === ResultState.ARCHIVED || j.resultState === ResultState.RESTORING) {
      throw new Problem(409, 'Conflict', `the results of job ${j.jobId} are ${ResultState[j.resultState].toLowerCase()}; upgrade to premium to restore them`);
    }
    const key = j.resultKeys[kind];
    if (!key) throw new Problem(404, 'Not Found', `job ${j.jobId} has no ${kind} result`);
    return sendBlob(reply, 'results', key, kind, `the ${kind} result of job ${j.jobId} is missing`);
  }

  async function sendBlob(reply: FastifyReply, area: 'inputs' | 'results', key: string, kind: ResultKind | 'input', missing: string) {
    try {
      const info = await store.stat(area, key);
      const stream = await store.get(area, key);
      const name = key.slice(key.lastIndexOf('/') + 1);
      reply
        .type(contentTypes[kind])
        .header('Content-Disposition', `${kind === 'summary' ? 'inline' : 'attachment'}; filename="${name}"`)
        .header('Cache-Control', 'private, no-store');
      if (info) reply.header('Content-Length', String(info.size));
      return reply.send(stream);
    } catch (err) {
      if (err instanceof BlobNotFoundError) throw new Problem(404, 'Not Found', missing);
      throw err;
    }
  }
  app.get('/api/v1/jobs/:id/input', async (req, reply) => {
    const userId = await authn.apiUser(req);
    const { job } = await jobs.getJob({ userId, jobId: jobIdParam(req) });
    return sendBlob(reply, 'inputs', job!.inputKey, 'input', `the input of job ${job!.jobId} is missing`);
  });
  app.get('/api/v1/jobs/:id/result', (req, reply) => download(req, reply, 'vcf'));
  app.get('/api/v1/jobs/:id/tsv', (req, reply) => download(req, reply, 'tsv'));
  app.get('/api/v1/jobs/:id/summary', (req, reply) => download(req, reply, 'summary'));
  app.get('/api/v1/jobs/:id/log', (req, reply) => download(req, reply, 'log'));
}
