// Uploads straight to object storage (the S3 store): the gateway issues a ticket with presigned
// upload URLs, the browser sends the file to the bucket, and redeeming the ticket creates the job.
// The ticket is a signed statement of the key the gateway chose, so the job is never made from a
// key the client names; the object is checked (size, first bytes) before the job exists.
import { ulid } from 'ulid';
import { whyNotVcf } from '@gas/anntools/format';
import { AccountService, JobService, RpcError, Status } from '@gas/proto';
import type { Job, ServiceClient } from '@gas/proto';
import { blobKey, sanitizeName } from '@gas/storage';
import type { BlobStore, DirectUploads } from '@gas/storage';
import type { Logger } from '@gas/runtime';
import { Problem } from './problem.ts';
import { buildNames } from './job-view.ts';
import { inputLimits, planOf, uploadLimit } from './plan-limits.ts';
import type { PlanLimits, PlanName } from './plan-limits.ts';
import { OverLimitProblem, SNIFF_BYTES, displayName } from './upload.ts';
import { HEADER_PEEK_BYTES, uploadWarnings } from './header-build.ts';
import { SignedStatements, StatementError } from './signed-statement.ts';

/** Files up to this size go in one presigned POST; larger ones as a multipart upload. */
export const SINGLE_POST_MAX_BYTES = 64 * 1024 * 1024;
export const PART_BYTES = 16 * 1024 * 1024;
const TICKET_TTL_MS = 60 * 60 * 1000;
const URL_EXPIRES_SECONDS = 3600;

interface TicketClaims {
  /** user, job id, blob key, display name, genome build, plan, its size limit, multipart upload id */
  u: string;
  j: string;
  k: string;
  n: string;
  b: string;
  p: PlanName;
  m: number;
  id?: string;
}

export interface TicketRequest {
  file_name?: unknown;
  size?: unknown;
  genome_build?: unknown;
}

export type IssuedTicket =
  /** The store takes no direct uploads: send the file to the gateway instead. */
  | { method: 'stream'; url: string }
  | { ticket: string; method: 'post'; url: string; fields: Record<string, string>; expires_in: number }
  | { ticket: string; method: 'multipart'; part_size: number; parts: Array<{ part_number: number; url: string }>; expires_in: number };

export class UploadTickets {
  private readonly statements: SignedStatements<TicketClaims>;

  constructor(
    private readonly deps: {
      store: BlobStore;
      jobs: ServiceClient<typeof JobService>;
      accounts: ServiceClient<typeof AccountService>;
      limits: PlanLimits;
      logger: Logger;
      secret: Buffer;
    },
  ) {
    this.statements = new SignedStatements(deps.secret, 'gas-upload-ticket-v1.', 'upload ticket', TICKET_TTL_MS);
  }

  private direct(): DirectUploads {
    const d = this.deps.store.directUploads;
    if (!d)
      throw new Problem(
        409,
        'Conflict',
        'this service keeps uploads on its own disk: POST the file to /api/v1/jobs as multipart/form-data',
      );
    return d;
  }

  /** How to upload a file of this size, checked against the user's plan before a byte is sent. */
  async issue(userId: string, req: TicketRequest): Promise<IssuedTicket> {
    const size = typeof req.size === 'number' ? req.size : NaN;
    if (!Number.isSafeInteger(size) || size < 1) throw new Problem(400, 'Bad Request', 'size must be the file size in bytes, at least 1');
    if (typeof req.file_name !== 'string' || req.file_name.trim() === '') throw new Problem(400, 'Bad Request', 'file_name is required');
    const build = typeof req.genome_build === 'string' ? req.genome_build : '';
    if (!buildNames[build]) throw new Problem(400, 'Bad Request', 'genome_build must be GRCh37 or GRCh38');
    const plan = await planOf(this.deps.accounts, userId);
    const limit = uploadLimit(plan, this.deps.limits);
    if (size > limit) throw new OverLimitProblem(plan, limit);
    const direct = this.deps.store.directUploads;
    if (!direct) return { method: 'stream', url: '/api/v1/jobs' };
    const jobId = ulid();
    const name = displayName(req.file_name);
    const key = blobKey(userId, jobId, sanitizeName(name));
    const claims: TicketClaims = { u: userId, j: jobId, k: key, n: name, b: build, p: plan, m: limit };
    if (size <= SINGLE_POST_MAX_BYTES) {
      const post = await direct.presignPost('inputs', key, { maxBytes: limit, expiresInSeconds: URL_EXPIRES_SECONDS });
      return { ticket: this.statements.sign(claims), method: 'post', url: post.url, fields: post.fields, expires_in: URL_EXPIRES_SECONDS };
    }
    const { uploadId } = await direct.startMultipart('inputs', key);
    const count = Math.ceil(size / PART_BYTES);
    const parts = await Promise.all(
      Array.from({ length: count }, async (_, i) => ({
        part_number: i + 1,
        url: await direct.presignPart('inputs', key, uploadId, i + 1, URL_EXPIRES_SECONDS),
      })),
    );
    return {
      ticket: this.statements.sign({ ...claims, id: uploadId }),
      method: 'multipart',
      part_size: PART_BYTES,
      parts,
      expires_in: URL_EXPIRES_SECONDS,
    };
  }

  /** Checks what arrived and creates the job; repeating it returns the same job. */
  async redeem(userId: string, body: { ticket?: unknown; parts?: unknown }): Promise<{ job: Job; created: boolean }> {
    const direct = this.direct();
    let t: TicketClaims;
    try {
      t = this.statements.verify(typeof body.ticket === 'string' ? body.ticket : '');
    } catch (err) {
      if (err instanceof StatementError)
        throw new Problem(400, 'Bad Request', `the upload ticket is not valid (${err.message}); ask for a new one`);
      throw err;
    }
    // A ticket is the user's own: another user's ticket is as good as none.
    if (t.u !== userId) throw new Problem(400, 'Bad Request', 'the upload ticket is not valid (issued to someone else); ask for a new one');
    // Redeeming again (a retried request) gives the job the first redemption made.
    const existing = await this.deps.jobs.getJob({ userId, jobId: t.j }).catch((err: unknown) => {
      if (err instanceof RpcError && err.code === Status.NOT_FOUND) return null;
      throw err;
    });
    if (existing?.job) return { job: existing.job, created: false };
    if (t.id) {
      const parts = Array.isArray(body.parts) ? body.parts : [];
      const list = parts.map((p: { part_number?: unknown; etag?: unknown }) => ({
        partNumber: Number(p.part_number),
        etag: typeof p.etag === 'string' ? p.etag : '',
      }));
      if (list.length === 0 || list.some((p) => !Number.isInteger(p.partNumber) || !p.etag)) {
        throw new Problem(400, 'Bad Request', 'parts must list every uploaded part as {part_number, etag}');
      }
      const already = await this.deps.store.stat('inputs', t.k);
      if (!already) await direct.completeMultipart('inputs', t.k, t.id, list);
    }
    const info = await this.deps.store.stat('inputs', t.k);
    if (!info) throw new Problem(409, 'Conflict', 'the file has not arrived in storage yet; upload it with the ticket first');
    const reject = async (p: Problem): Promise<never> => {
      await this.deps.store.delete('inputs', t.k).catch(() => undefined);
      throw p;
    };
    // The policy's size range is not enforced by every S3-compatible store: the size seen here is.
    if (info.size > t.m) await reject(new OverLimitProblem(t.p, t.m));
    const head = await direct.head('inputs', t.k, HEADER_PEEK_BYTES);
    const why = whyNotVcf(head.subarray(0, SNIFF_BYTES), { complete: info.size < SNIFF_BYTES });
    if (why) await reject(new Problem(400, 'Bad Request', `the file ${t.n} is not a VCF file: ${why}`));
    const res = await this.deps.jobs.createJob({
      userId,
      jobId: t.j,
      genomeBuild: buildNames[t.b]!,
      inputName: t.n,
      inputSize: BigInt(info.size),
      inputKey: t.k,
      idempotencyKey: `ticket:${t.j}`,
      warnings: await uploadWarnings(head, t.b),
      inputLimits: inputLimits(t.p, this.deps.limits),
    });
    if (res.created) this.deps.logger.info({ jobId: t.j, userId, size: info.size }, 'job submitted from a direct upload');
    return { job: res.job!, created: res.created };
  }
}
