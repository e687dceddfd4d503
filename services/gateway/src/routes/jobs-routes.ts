import type { FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import negotiate from '@fastify/accept-negotiator';
import { JobStatus, ResultState } from '@gas/proto';
import type { Job } from '@gas/proto';
import { sanitizeName, BlobNotFoundError } from '@gas/storage';
import { RESULT_KINDS, storedResult } from '@gas/anntools/format';
import type { ResultKind } from '@gas/anntools/format';
import { Problem } from '../problem.ts';
import { ARCHIVABLE_KINDS, archivedKinds, archivedProblem } from '../archived-results.ts';
import { planOf } from '../plan-limits.ts';
import { jobView, resultKey, ULID } from '../job-view.ts';
import { queuePosition } from '../queue-position.ts';
import { contentDisposition, downloadName } from '../download-name.ts';
import { acceptUploads, receiveUpload } from '../upload.ts';
import type { UploadDeps } from '../upload.ts';
import type { JobCache } from '../job-cache.ts';
import { JobJsonCache } from '../job-json-cache.ts';
import { deleteJob } from './job-delete-routes.ts';
import {
  API_SECURITY,
  COMMON_PROBLEMS,
  answer,
  apiSchemas,
  jobIdParams,
  listQuery,
  problems,
  uploadBody,
  uploadHeaders,
  uploadQuery,
} from './api-schemas.ts';

export type JobsRouteDeps = UploadDeps & {
  /** The jobs of the users reading them now, fed by WatchJobs; without it every read asks the job service. */
  jobCache?: JobCache;
};

/** The upload checks its CSRF token itself: in a multipart form it is a field before the file. */
const CSRF_IN_FORM = '';

/** The uploaded input, served as the bytes it was sent as, or one of the engine's results. */
type FileKind = ResultKind | 'input';
const mediaType = (kind: FileKind) => (kind === 'input' ? 'application/octet-stream' : RESULT_KINDS[kind].mediaType);
// Results are served as stored: compressed ones as they are, text as UTF-8; the input may be gzip.
const contentType = (kind: FileKind, key: string) => (kind === 'input' ? mediaType(kind) : storedResult(kind, key).contentType);

function jobIdParam(req: FastifyRequest): string {
  const id = (req.params as { id: string }).id;
  // Anything that is not a job id cannot be one of the user's jobs.
  if (!ULID.test(id)) throw new Problem(404, 'Not Found', `no job ${sanitizeName(id)}`);
  return id;
}

// Route options: the schemas below document the API (OpenAPI) and serialise the JSON answers. The
// handlers keep checking their own input, with their own messages: validation errors are only
// attached to the request (attachValidation), never answered by Fastify.

const JOB = { $ref: 'Job#' };
const LOCATION = { Location: { type: 'string', description: 'The job: `/api/v1/jobs/{id}`.' } };
const binary = { type: 'string', format: 'binary' };

const UPLOAD: RouteShorthandOptions = {
  schema: {
    tags: ['Jobs'],
    summary: 'Upload a VCF and create a job',
    description:
      'The body is `multipart/form-data`: the field `genome_build` first, then the file. The gateway checks the ' +
      'request (credentials, Idempotency-Key, genome build, that the file starts like a VCF) before it stores anything. ' +
      'With the session cookie instead of a token, the request also needs the `X-CSRF-Token` header.',
    security: API_SECURITY,
    response: {
      201: answer('The job was created (status PENDING).', { 'application/json': JOB }, LOCATION),
      200: answer(
        'An earlier request with the same Idempotency-Key made this job; this upload was discarded.',
        { 'application/json': JOB },
        LOCATION,
      ),
      ...problems({
        ...COMMON_PROBLEMS,
        400: 'A bad Idempotency-Key, no file part, a bad or missing genome_build, or a file that is not a VCF.',
        403: 'A session request without its X-CSRF-Token.',
        409: 'The same Idempotency-Key is still being processed by another request; retry in a few seconds.',
        413: "The file is larger than the upload limit (or your plan's).",
        415: 'The body is not multipart/form-data.',
      }),
    },
  },
  config: {
    // In the document only: Fastify must neither parse nor validate the body, which the handler
    // reads as a stream, field by field.
    swaggerTransform: ({ schema, url }) => ({
      schema: { ...schema, consumes: ['multipart/form-data'], body: uploadBody, headers: uploadHeaders, querystring: uploadQuery },
      url,
    }),
  },
};

const LIST: RouteShorthandOptions = {
  attachValidation: true,
  schema: {
    tags: ['Jobs'],
    summary: "List the caller's jobs, newest first",
    security: API_SECURITY,
    querystring: listQuery,
    response: {
      200: answer('One page of jobs.', { 'application/json': { $ref: 'JobList#' } }),
      ...problems({ ...COMMON_PROBLEMS, 400: '`page_size` out of range, an unknown `status`, or a `page_token` that is not a job id.' }),
    },
  },
};

const ONE_JOB: RouteShorthandOptions = {
  attachValidation: true,
  schema: {
    tags: ['Jobs'],
    summary: 'One job',
    description: 'While the job is PENDING, `queue_position` is its place in the queue (1 = next to run).',
    security: API_SECURITY,
    params: jobIdParams,
    response: {
      200: answer('The job.', { 'application/json': JOB }),
      ...problems({ ...COMMON_PROBLEMS, 404: 'Not a job id, or not one of your jobs.' }),
    },
  },
};

const DELETE_JOB: RouteShorthandOptions = {
  attachValidation: true,
  schema: {
    tags: ['Jobs'],
    summary: 'Delete a job and its files',
    description:
      'Deletes the job at once (it is gone from the list and its routes answer 404) and, within seconds, its uploaded ' +
      'input, its results and any archived copies from storage. Only a finished job (COMPLETED or FAILED) can be ' +
      'deleted, and not while its results are being restored from cold storage. ' +
      'With the session cookie instead of a token, the request also needs the `X-CSRF-Token` header.',
    security: API_SECURITY,
    params: jobIdParams,
    response: {
      204: { description: 'The job was deleted; its files are deleted from storage within seconds.', type: 'null' },
      ...problems({
        ...COMMON_PROBLEMS,
        403: 'A session request without its X-CSRF-Token.',
        404: 'Not a job id, or not one of your jobs (a job deleted before included).',
        409: 'The job is PENDING or RUNNING, or its results are RESTORING: `detail` says to wait until it finishes.',
      }),
    },
  },
};

const RESULT_404 = 'Not a job id, not one of your jobs, the job has no such file, or the file is missing from storage.';
/** The summary and the log stay hot when the annotated files move to cold storage. */
const HOT_RESULT_PROBLEMS = problems({ ...COMMON_PROBLEMS, 404: RESULT_404, 409: 'The job is not COMPLETED (yet).' });
const ARCHIVABLE_RESULT_PROBLEMS = {
  ...problems({ ...COMMON_PROBLEMS, 404: RESULT_404 }),
  409: answer(
    'The job is not COMPLETED (yet), or this file is in cold storage: then `result_state` is ARCHIVED or RESTORING and ' +
      '`detail` says what happens next; while RESTORING, `expected_at` says when the file is expected back.',
    { 'application/problem+json': { $ref: 'Problem#' } },
    { 'Retry-After': { type: 'integer', description: 'While RESTORING: seconds until the file is expected back.' } },
  ),
};

function fileRoute(kind: FileKind, summary: string, description: string, schema: object = binary): RouteShorthandOptions {
  return {
    attachValidation: true,
    schema: {
      tags: ['Results'],
      summary,
      description,
      security: API_SECURITY,
      params: jobIdParams,
      response: {
        200: answer('The file, streamed.', { [mediaType(kind)]: schema }),
        // The input is there in any state of the job: no 409.
        ...(kind === 'input'
          ? problems({ ...COMMON_PROBLEMS, 404: 'Not a job id, not one of your jobs, or the file is missing from storage.' })
          : ARCHIVABLE_KINDS.includes(kind)
            ? ARCHIVABLE_RESULT_PROBLEMS
            : HOT_RESULT_PROBLEMS),
      },
    },
  };
}

const FILES = {
  input: fileRoute(
    'input',
    'Download the uploaded input',
    'The file as it was uploaded (still gzip or BGZF if it was), in any state of the job.',
  ),
  vcf: fileRoute(
    'vcf',
    'Download the annotated VCF',
    `\`<name>${RESULT_KINDS.vcf.suffix}\`, BGZF-compressed (bgzip's format: gzip readers, bcftools and tabix read it), as an attachment. ` +
      `Jobs completed before results were compressed serve \`<name>${RESULT_KINDS.vcf.plain.suffix}\` as text/x-vcf.`,
  ),
  tbi: fileRoute(
    'tbi',
    'Download the tabix index of the annotated VCF',
    `\`<name>${RESULT_KINDS.tbi.suffix}\`, for \`tabix\` and \`bcftools view -r\` region queries; only when the records are sorted ` +
      '(by position, each chromosome together): 404 otherwise.',
  ),
  tsv: fileRoute(
    'tsv',
    'Download the annotation table',
    `\`<name>${RESULT_KINDS.tsv.suffix}\`, gzip-compressed: a header row, then one row per ALT allele.`,
  ),
  summary: fileRoute('summary', "The run's summary", `\`<name>${RESULT_KINDS.summary.suffix}\`, shown inline.`, {
    type: 'object',
    additionalProperties: true,
  }),
  log: fileRoute('log', 'Download the count log', `\`<name>${RESULT_KINDS.log.suffix}\`, with the original AnnTools labels.`),
};

/** The Job schema by reference; one object, so Fastify compiles its serialiser once. */
const JOB_REF = { $ref: 'Job#' };
const JSON_TYPE = 'application/json; charset=utf-8';
export function registerJobRoutes(app: FastifyInstance, deps: JobsRouteDeps): void {
  const { jobs, store, authn, jobCache } = deps;
  for (const schema of apiSchemas) if (!app.getSchema(schema.$id)) app.addSchema(schema);
  // Made with the first read: the Job schema's serialiser is compiled from a reply.
  let json: JobJsonCache | undefined;
  const jsonCache = (reply: FastifyReply) => (json ??= new JobJsonCache(reply.compileSerializationSchema(JOB_REF)));

  void app.register(async (uploads) => {
    await acceptUploads(uploads, deps.limits);
    uploads.post('/api/v1/jobs', UPLOAD, async (req, reply) => {
      const userId = await authn.apiUser(req, CSRF_IN_FORM);
      const { job, created } = await receiveUpload(req, userId, deps);
      return reply
        .code(created ? 201 : 200)
        .header('Location', `/api/v1/jobs/${job.jobId}`)
        .send(jobView(job));
    });
  });

  app.get('/api/v1/jobs', LIST, async (req, reply) => {
    const userId = await authn.apiUser(req);
    const q = req.query as Record<string, string | undefined>;
    const pageSize = q.page_size === undefined ? 20 : Number(q.page_size);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100)
      throw new Problem(400, 'Bad Request', 'page_size must be an integer from 1 to 100');
    let status = JobStatus.UNSPECIFIED;
    if (q.status) {
      const s = JobStatus[q.status.toUpperCase() as keyof typeof JobStatus];
      if (typeof s !== 'number' || s === JobStatus.UNSPECIFIED)
        throw new Problem(400, 'Bad Request', 'status must be one of PENDING, RUNNING, COMPLETED, FAILED');
      status = s;
    }
    const pageToken = q.page_token ?? '';
    // The job service refuses a page token that is not a job id; the cache leaves that to it.
    const cached = pageToken === '' || ULID.test(pageToken) ? jobCache?.list(userId, pageToken, pageSize, status) : undefined;
    const res = cached ?? (await jobs.listJobs({ userId, pageSize, pageToken, status }));
    const accepts = req.headers['accept-encoding'];
    const takesGzip = accepts !== undefined && negotiate(accepts, ['gzip', 'identity']) === 'gzip';
    const page = jsonCache(reply).page(userId, `${pageToken}|${pageSize}|${status}`, res, takesGzip);
    reply.type(JSON_TYPE).header('vary', 'Accept-Encoding');
    if (page.encoding) reply.header('content-encoding', page.encoding);
    return reply.send(page.body);
  });

  app.get('/api/v1/jobs/:id', ONE_JOB, async (req, reply) => {
    const userId = await authn.apiUser(req);
    const jobId = jobIdParam(req);
    let job = jobCache?.get(userId, jobId);
    if (!job) {
      // Not cached (yet): a job just made on another replica, none at all, or the cache is not whole.
      job = (await jobs.getJob({ userId, jobId })).job;
      jobCache?.saw(job);
    }
    const position = await queuePosition(jobs, job!);
    // A waiting job's place in the queue changes without the job changing: not cached.
    if (position !== undefined) return jobView(job!, { queuePosition: position });
    return reply.type(JSON_TYPE).send(jsonCache(reply).bytes(job!));
  });

  app.delete('/api/v1/jobs/:id', DELETE_JOB, async (req, reply) => {
    const userId = await authn.apiUser(req);
    const jobId = jobIdParam(req);
    // A deleted job's kept JSON view is never served again (the job answers 404 first) and ages out
    // of the views' LRU like any other.
    await deleteJob(deps, userId, jobId);
    return reply.code(204).send();
  });

  async function download(req: FastifyRequest, reply: FastifyReply, kind: ResultKind) {
    const userId = await authn.apiUser(req);
    const { job } = await jobs.getJob({ userId, jobId: jobIdParam(req) });
    const j = job as Job;
    if (j.status !== JobStatus.COMPLETED)
      throw new Problem(409, 'Conflict', `job ${j.jobId} is ${JobStatus[j.status]}; results exist once it is COMPLETED`);
    // The summary and the log stay hot; only the kinds in cold storage wait for a restore. Whether
    // one starts by itself depends on the user's plan, asked only then.
    if (archivedKinds(j).includes(kind)) {
      const plan = j.resultState === ResultState.ARCHIVED ? await planOf(deps.accounts, userId) : 'free';
      throw archivedProblem(j, kind, plan, new Date())!;
    }
    const key = resultKey(j, kind);
    if (!key) throw new Problem(404, 'Not Found', `job ${j.jobId} has no ${kind} result`);
    return sendBlob(reply, 'results', key, kind, `the ${kind} result of job ${j.jobId} is missing`, j.inputName);
  }

  async function sendBlob(
    reply: FastifyReply,
    area: 'inputs' | 'results',
    key: string,
    kind: FileKind,
    missing: string,
    inputName: string,
  ) {
    try {
      const info = await store.stat(area, key);
      const stream = await store.get(area, key);
      reply
        .type(contentType(kind, key))
        .header('Content-Disposition', contentDisposition(kind === 'summary' ? 'inline' : 'attachment', downloadName(inputName, key)))
        .header('Cache-Control', 'private, no-store');
      if (info) reply.header('Content-Length', String(info.size));
      return reply.send(stream);
    } catch (err) {
      if (err instanceof BlobNotFoundError) throw new Problem(404, 'Not Found', missing);
      throw err;
    }
  }
  app.get('/api/v1/jobs/:id/input', FILES.input, async (req, reply) => {
    const userId = await authn.apiUser(req);
    const { job } = await jobs.getJob({ userId, jobId: jobIdParam(req) });
    return sendBlob(reply, 'inputs', job!.inputKey, 'input', `the input of job ${job!.jobId} is missing`, job!.inputName);
  });
  app.get('/api/v1/jobs/:id/result', FILES.vcf, (req, reply) => download(req, reply, 'vcf'));
  app.get('/api/v1/jobs/:id/tsv', FILES.tsv, (req, reply) => download(req, reply, 'tsv'));
  app.get('/api/v1/jobs/:id/tbi', FILES.tbi, (req, reply) => download(req, reply, 'tbi'));
  app.get('/api/v1/jobs/:id/summary', FILES.summary, (req, reply) => download(req, reply, 'summary'));
  app.get('/api/v1/jobs/:id/log', FILES.log, (req, reply) => download(req, reply, 'log'));
}
