import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ulid } from 'ulid';
import { whyNotVcf } from '@gas/anntools';
import { JobStatus, ResultState, JobService } from '@gas/proto';
import type { Job, ServiceClient } from '@gas/proto';
import { blobKey, sanitizeName, BlobNotFoundError, BlobTooLargeError } from '@gas/storage';
import type { BlobStore } from '@gas/storage';
import type { Logger } from '@gas/runtime';
import { Problem } from './problem.ts';
import type { ApiTokenAuth } from './api-token-auth.ts';
import { buildNames, jobView } from './job-view.ts';
import { peekStream } from './peek-stream.ts';

export interface JobsRouteDeps {
  jobs: ServiceClient<typeof JobService>;
  store: BlobStore;
  auth: ApiTokenAuth;
  logger: Logger;
  maxUploadBytes: number;
}

const SNIFF_BYTES = 4096;

type ResultKind = 'vcf' | 'tsv' | 'summary' | 'log';
const contentTypes: Record<ResultKind, string> = {
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
  const { jobs, store, auth } = deps;

  app.post('/api/v1/jobs', async (req, reply) => {
    const userId = auth.userOf(req);
    if (!req.isMultipart()) throw new Problem(415, 'Unsupported Media Type', 'send the VCF as multipart/form-data with a "file" part');
    const idempotencyKey = (req.headers['idempotency-key'] as string | undefined)?.trim() ?? '';
    if (idempotencyKey.length > 255) throw new Problem(400, 'Bad Request', 'Idempotency-Key is longer than 255 characters');
    const part = await req.file({ limits: { fileSize: deps.maxUploadBytes + 1, files: 1, fields: 10 } });
    if (!part) throw new Problem(400, 'Bad Request', 'the form has no "file" part');
    const fieldValue = (name: string) => {
      const f = part.fields[name] as { value?: unknown } | undefined;
      return typeof f?.value === 'string' ? f.value : undefined;
    };
    const buildText = fieldValue('genome_build') ?? (req.query as Record<string, string>).genome_build;
    const genomeBuild = buildText ? buildNames[buildText] : undefined;
    if (!genomeBuild) {
      part.file.resume();
      throw new Problem(400, 'Bad Request', 'genome_build must be GRCh37 or GRCh38, sent as a form field before the file (or as ?genome_build=)');
    }
    const { head, body } = await peekStream(part.file, SNIFF_BYTES);
    const why = whyNotVcf(head);
    if (why) {
      body.resume();
      throw new Problem(400, 'Bad Request', `${sanitizeName(part.filename)} is not a VCF file: ${why}`);
    }
    const jobId = ulid();
    const inputName = sanitizeName(part.filename || 'input.vcf');
    const inputKey = blobKey(userId, jobId, inputName);
    let size: number;
    try {
      ({ size } = await store.put('inputs', inputKey, body, { maxBytes: deps.maxUploadBytes, contentType: part.mimetype }));
    } catch (err) {
      if (err instanceof BlobTooLargeError || (err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') {
        throw new Problem(413, 'Content Too Large', `the upload is larger than the ${deps.maxUploadBytes}-byte limit`);
      }
      throw err;
    }
    const res = await jobs.createJob({ userId, jobId, genomeBuild, inputName, inputSize: BigInt(size), inputKey, idempotencyKey });
    const job = res.job!;
    if (!res.created) {
      // The same request was already accepted: keep the first upload, drop this copy.
      await store.delete('inputs', inputKey).catch(() => undefined);
      return reply.code(200).header('Location', `/api/v1/jobs/${job.jobId}`).send(jobView(job));
    }
    deps.logger.info({ jobId: job.jobId, userId, size }, 'job submitted');
    return reply.code(201).header('Location', `/api/v1/jobs/${job.jobId}`).send(jobView(job));
  });

  app.get('/api/v1/jobs', async (req) => {
    const userId = auth.userOf(req);
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
    const userId = auth.userOf(req);
    const { job } = await jobs.getJob({ userId, jobId: jobIdParam(req) });
    let queuePosition: number | undefined;
    if (job!.status === JobStatus.PENDING) {
      queuePosition = Number((await jobs.getQueuePosition({ userId, jobId: job!.jobId })).position) || undefined;
    }
    return jobView(job!, { queuePosition });
  });

  async function download(req: FastifyRequest, reply: FastifyReply, kind: ResultKind) {
    const userId = auth.userOf(req);
    const { job } = await jobs.getJob({ userId, jobId: jobIdParam(req) });
    const j = job as Job;
    if (j.status !== JobStatus.COMPLETED) throw new Problem(409, 'Conflict', `job ${j.jobId} is ${JobStatus[j.status]}; results exist once it is COMPLETED`);
    if (j.resultState === ResultState.ARCHIVED || j.resultState === ResultState.RESTORING) {
      throw new Problem(409, 'Conflict', `the results of job ${j.jobId} are ${ResultState[j.resultState].toLowerCase()}; upgrade to premium to restore them`);
    }
    const key = j.resultKeys[kind];
    if (!key) throw new Problem(404, 'Not Found', `job ${j.jobId} has no ${kind} result`);
    try {
      const info = await store.stat('results', key);
      const stream = await store.get('results', key);
      const name = key.slice(key.lastIndexOf('/') + 1);
      reply
        .type(contentTypes[kind])
        .header('Content-Disposition', `${kind === 'summary' ? 'inline' : 'attachment'}; filename="${name}"`)
        .header('Cache-Control', 'private, no-store');
      if (info) reply.header('Content-Length', String(info.size));
      return reply.send(stream);
    } catch (err) {
      if (err instanceof BlobNotFoundError) throw new Problem(404, 'Not Found', `the ${kind} result of job ${j.jobId} is missing`);
      throw err;
    }
  }
  app.get('/api/v1/jobs/:id/result', (req, reply) => download(req, reply, 'vcf'));
  app.get('/api/v1/jobs/:id/tsv', (req, reply) => download(req, reply, 'tsv'));
  app.get('/api/v1/jobs/:id/summary', (req, reply) => download(req, reply, 'summary'));
  app.get('/api/v1/jobs/:id/log', (req, reply) => download(req, reply, 'log'));
}
