// Receiving a VCF upload that streams through the gateway (the filesystem store, or any client
// that posts the file): plan limit, CSRF for browser sessions, a VCF sniff, then the store and the
// job. Used by the JSON API and by the upload form.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { ulid } from 'ulid';
import { whyNotVcf } from '@gas/anntools/format';
import { AccountService, JobService } from '@gas/proto';
import type { Job, ServiceClient } from '@gas/proto';
import { blobKey, sanitizeName, BlobTooLargeError } from '@gas/storage';
import type { BlobStore } from '@gas/storage';
import type { Logger } from '@gas/runtime';
import { Problem } from './problem.ts';
import type { Authenticator } from './authenticator.ts';
import { buildNames } from './job-view.ts';
import { peekStream } from './peek-stream.ts';
import { HEADER_PEEK_BYTES, uploadWarnings } from './header-build.ts';
import { inputLimits, planOf, uploadLimit } from './plan-limits.ts';
import type { PlanLimits, PlanName } from './plan-limits.ts';
import { formatBytes } from './web/pages/job-status.ts';

/** The start of an upload that must look like a VCF before anything is stored. */
export const SNIFF_BYTES = 4096;
/** Room for the multipart framing and the small form fields around the file. */
const MULTIPART_SLACK = 64 * 1024;

export interface UploadDeps {
  jobs: ServiceClient<typeof JobService>;
  accounts: ServiceClient<typeof AccountService>;
  store: BlobStore;
  authn: Authenticator;
  logger: Logger;
  limits: PlanLimits;
}

/**
 * Makes `scope` (an encapsulated plugin holding only the upload routes) take multipart bodies.
 * Only there: @fastify/multipart adds an async onRequest and an async onResponse hook to every
 * request of the scope it is registered in, which every API read paid for when it was global.
 */
export async function acceptUploads(scope: FastifyInstance, limits: Pick<PlanLimits, 'maxUploadBytes'>): Promise<void> {
  await scope.register(multipart, { limits: { fileSize: limits.maxUploadBytes + 1, files: 1, fields: 10, fieldSize: 1024 } });
}

/** 413 with what the limit is and what to do about it. */
export class OverLimitProblem extends Problem {
  constructor(
    readonly plan: PlanName,
    readonly limitBytes: number,
  ) {
    super(
      413,
      'Content Too Large',
      plan === 'free'
        ? `the file is larger than ${formatBytes(limitBytes)}, the free plan's limit; upgrade to premium to annotate larger files`
        : `the file is larger than ${formatBytes(limitBytes)}, the largest upload this service accepts`,
    );
  }
}

/**
 * The file name as the user chose it, for pages and e-mails: without folders or control
 * characters, at most 200 characters. Pages escape it; it is never used as a path.
 */
export function displayName(filename: string | undefined): string {
  const last = (filename ?? '').split(/[\\/]/).at(-1) ?? '';
  const clean = last
    .replace(/\p{Cc}/gu, '')
    .trim()
    .slice(0, 200);
  return clean || 'input.vcf';
}

/** `plan` when the caller has read the account already. */
export async function receiveUpload(
  req: FastifyRequest,
  userId: string,
  deps: UploadDeps,
  knownPlan?: PlanName,
): Promise<{ job: Job; created: boolean }> {
  const plan = knownPlan ?? (await planOf(deps.accounts, userId));
  const limit = uploadLimit(plan, deps.limits);
  // Refused before a byte is read when the client says how big it is.
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit + MULTIPART_SLACK) throw new OverLimitProblem(plan, limit);
  if (!req.isMultipart()) throw new Problem(415, 'Unsupported Media Type', 'send the VCF as multipart/form-data with a "file" part');
  const idempotencyKey = (req.headers['idempotency-key'] as string | undefined)?.trim() ?? '';
  if (idempotencyKey.length > 255) throw new Problem(400, 'Bad Request', 'Idempotency-Key is longer than 255 characters');
  const part = await req.file({ limits: { fileSize: limit + 1, files: 1, fields: 10 } });
  if (!part) throw new Problem(400, 'Bad Request', 'the form has no "file" part');
  const fieldValue = (name: string) => {
    const f = part.fields[name] as { value?: unknown } | undefined;
    return typeof f?.value === 'string' ? f.value : undefined;
  };
  const identity = await deps.authn.identify(req);
  if (identity?.via === 'session') {
    try {
      deps.authn.checkCsrf(req, identity.session!, fieldValue('_csrf'));
    } catch (err) {
      part.file.resume();
      throw err;
    }
  }
  const buildText = fieldValue('genome_build') ?? (req.query as Record<string, string>).genome_build;
  const genomeBuild = buildText ? buildNames[buildText] : undefined;
  if (!genomeBuild) {
    part.file.resume();
    throw new Problem(
      400,
      'Bad Request',
      'genome_build must be GRCh37 or GRCh38, sent as a form field before the file (or as ?genome_build=)',
    );
  }
  const { head, body } = await peekStream(part.file, HEADER_PEEK_BYTES);
  // A head shorter than the sniff is the whole file: a gzip that ends early in it is truncated.
  const why = whyNotVcf(head.subarray(0, SNIFF_BYTES), { complete: head.length < SNIFF_BYTES });
  if (why) {
    body.resume();
    // Worded so that the user's file name is never the first word: pages capitalise sentences,
    // and a name must be shown as it was written.
    throw new Problem(400, 'Bad Request', `the file ${displayName(part.filename)} is not a VCF file: ${why}`);
  }
  const jobId = ulid();
  const inputName = displayName(part.filename);
  // The key uses a safe form of the name; the job keeps the name as the user knows it.
  const inputKey = blobKey(userId, jobId, sanitizeName(inputName));
  let size: number;
  try {
    ({ size } = await deps.store.put('inputs', inputKey, body, { maxBytes: limit, contentType: part.mimetype }));
  } catch (err) {
    if (err instanceof BlobTooLargeError || (err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE')
      throw new OverLimitProblem(plan, limit);
    throw err;
  }
  const warnings = await uploadWarnings(head, buildText!);
  const res = await deps.jobs.createJob({
    userId,
    jobId,
    genomeBuild,
    inputName,
    inputSize: BigInt(size),
    inputKey,
    idempotencyKey,
    warnings,
    inputLimits: inputLimits(plan, deps.limits),
  });
  if (!res.created) {
    // The same request was already accepted: keep the first upload, drop this copy.
    await deps.store.delete('inputs', inputKey).catch(() => undefined);
  } else {
    deps.logger.info({ jobId, userId, size }, 'job submitted');
  }
  return { job: res.job!, created: res.created };
}
