// What the annotator does with one gas.jobs.requested message, and which outcome the consume loop
// gets: ack after the job is completed or failed for good, nak to retry, term for poison.
import { setTimeout as sleep } from 'node:timers/promises';
import type { JsMsg } from '@nats-io/jetstream';
import type { Logger } from '@gas/runtime';
import { isRpcError, Status, JobRequestedSchema, JobService } from '@gas/proto';
import type { Job } from '@gas/proto';
import type { ServiceClient } from '@gas/proto';
import { decodeProto } from '@gas/messaging';
import type { Outcome } from '@gas/messaging';
import { formatLimitBytes, InputCapError, VcfFormatError } from '@gas/anntools';
import { BlobNotFoundError } from '@gas/storage';
import type { BlobStore } from '@gas/storage';
import { runAnnotation } from './annotation-run.ts';
import type { ReferenceStore } from './reference-store.ts';

/** The job service calls the handler makes; the annotator passes its whole gRPC client. */
export type JobServiceCalls = Pick<
  ServiceClient<typeof JobService>,
  'claimJob' | 'reportProgress' | 'completeJob' | 'failJob' | 'releaseJob'
>;

export interface JobHandlerDeps {
  jobs: JobServiceCalls;
  store: BlobStore;
  references: ReferenceStore;
  logger: Logger;
  annotatorId: string;
  maxDeliver: number;
  progressIntervalMs: number;
  /** The longest input line accepted (the engine's default when not given). */
  maxLineBytes?: number;
  /** How long ClaimJob is asked again while the job is not found (2 s when not given). */
  claimWaitMs?: number;
}

/** How long a request may wait for its job to be written (see claimWhenWritten), and the first pause. */
const CLAIM_WAIT_MS = 2000;
const CLAIM_WAIT_FIRST_MS = 10;

type ClaimRequest = Parameters<JobServiceCalls['claimJob']>[0];

/** The handler reads only the payload; the consume loop settles the message by the returned outcome. */
export type JobRequestMessage = Pick<JsMsg, 'data'>;

export function createJobHandler(deps: JobHandlerDeps) {
  const handleOnce = createAttempt(deps);
  return async function handle(msg: JobRequestMessage, ctx: { signal: AbortSignal; deliveryCount: number }): Promise<Outcome> {
    try {
      return await handleOnce(msg, ctx);
    } catch (err) {
      if (ctx.signal.aborted || ctx.deliveryCount < deps.maxDeliver) throw err; // retried with backoff
      // The last delivery: the job is failed for good so the user sees why, whatever attempt holds
      // it (attempt 0). If even that fails the loop terms the message and logs it.
      const req = decodeProto(JobRequestedSchema, msg.data);
      const reason = `gave up after ${ctx.deliveryCount} attempts: ${(err as Error).message}`;
      try {
        await deps.jobs.failJob({ userId: req.userId, jobId: req.jobId, attempt: 0, reason });
      } catch (failErr) {
        if (!isRpcError(failErr, Status.FAILED_PRECONDITION)) throw failErr;
      }
      deps.logger.warn({ jobId: req.jobId, userId: req.userId, reason }, 'job dead-lettered');
      return { kind: 'ack' };
    }
  };
}

function createAttempt(deps: JobHandlerDeps) {
  /**
   * Shutting down (scale-in, a rolling update): the job goes back to the queue as a new request, so
   * it spends none of its delivery attempts (on the last one a nak would never be redelivered and
   * the job would stay RUNNING for good). If the job service cannot be told, the loop naks instead.
   */
  async function release(job: Job, attempt: number, cause: unknown, log: Logger): Promise<Outcome> {
    try {
      await deps.jobs.releaseJob({ userId: job.userId, jobId: job.jobId, attempt, reason: 'annotator shutting down' });
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'release failed; the message goes back to the queue instead');
      throw cause;
    }
    log.info('job released to another annotator (shutting down)');
    return { kind: 'ack' };
  }

  /**
   * ClaimJob, asked again while the job service says the job does not exist: it publishes a job's
   * request before it writes the job, so a request can arrive first. Waiting here, rather than a
   * nak, spends none of the job's delivery attempts. A job still missing after the wait was never
   * written (its CreateJob failed half way) and the caller drops the request.
   */
  async function claimWhenWritten(req: ClaimRequest, signal: AbortSignal): Promise<Job> {
    for (let waited = 0, wait = CLAIM_WAIT_FIRST_MS; ; waited += wait, wait *= 2) {
      try {
        return (await deps.jobs.claimJob(req)).job!;
      } catch (err) {
        if (!isRpcError(err, Status.NOT_FOUND) || waited >= (deps.claimWaitMs ?? CLAIM_WAIT_MS) || signal.aborted) throw err;
      }
      await sleep(wait, undefined, { signal }).catch(() => undefined);
    }
  }

  return async function attemptJob(msg: JobRequestMessage, ctx: { signal: AbortSignal; deliveryCount: number }): Promise<Outcome> {
    let req;
    try {
      req = decodeProto(JobRequestedSchema, msg.data);
    } catch (err) {
      return { kind: 'term', reason: `undecodable job request: ${(err as Error).message}` };
    }
    // A request republished by a release counts its deliveries afresh, after the attempts before it.
    const attempt = req.attemptsBefore + ctx.deliveryCount;
    const log = deps.logger.child({ jobId: req.jobId, userId: req.userId, attempt });
    let job;
    try {
      job = await claimWhenWritten({ userId: req.userId, jobId: req.jobId, attempt, annotatorId: deps.annotatorId }, ctx.signal);
    } catch (err) {
      if (isRpcError(err, Status.FAILED_PRECONDITION)) {
        log.info({ reason: (err as Error).message }, 'job not claimable; dropping the request');
        return { kind: 'ack' };
      }
      if (isRpcError(err, Status.NOT_FOUND) || isRpcError(err, Status.INVALID_ARGUMENT)) {
        return { kind: 'term', reason: `job request for an unknown job: ${(err as Error).message}` };
      }
      throw err;
    }

    let lastReport = 0;
    let reporting: Promise<unknown> = Promise.resolve();
    try {
      const reference = deps.references.get(job.genomeBuild);
      if (!reference) {
        const reason = deps.references.missingReason(job.genomeBuild);
        await deps.jobs.failJob({ userId: job.userId, jobId: job.jobId, attempt, reason });
        log.warn({ reason }, 'job failed: no reference data');
        return { kind: 'ack' };
      }
      // Not the file's name: it often names a person, and logs outlive a deleted job.
      log.info({ size: Number(job.inputSize), build: reference.build }, 'annotation started');
      const result = await runAnnotation({
        job,
        reference,
        pool: deps.references.pool,
        store: deps.store,
        signal: ctx.signal,
        maxLineBytes: deps.maxLineBytes,
        onProgress: (done, total) => {
          const now = Date.now();
          if (now - lastReport < deps.progressIntervalMs) return;
          lastReport = now;
          // Progress is best effort: one report in flight at a time, failures only logged.
          reporting = reporting.then(() =>
            deps.jobs
              .reportProgress({ userId: job.userId, jobId: job.jobId, attempt, done: BigInt(done), total: BigInt(total) })
              .catch((err: Error) => log.warn({ err: err.message }, 'progress report failed')),
          );
        },
      });
      await reporting;
      const c = result.summary;
      await deps.jobs.completeJob({
        userId: job.userId,
        jobId: job.jobId,
        attempt,
        resultKeys: result.resultKeys,
        resultSize: result.resultSize,
        counts: {
          records: BigInt(c.records),
          alleles: BigInt(c.alleles),
          snvs: BigInt(c.snvs),
          indels: BigInt(c.indels),
          other: BigInt(c.other),
        },
        // Another build, or chromosomes the reference lacks: the job completes and says so.
        warnings: c.warnings ?? [],
      });
      log.info({ records: c.records, notIndexed: result.notIndexed }, 'annotation completed');
      return { kind: 'ack' };
    } catch (err) {
      await reporting;
      if (ctx.signal.aborted) return release(job, attempt, err, log);
      if (isRpcError(err, Status.FAILED_PRECONDITION)) {
        // Another delivery took the job over while this one ran; its result stands.
        log.warn({ reason: (err as Error).message }, 'job taken over by a later attempt');
        return { kind: 'ack' };
      }
      let reason: string | undefined;
      if (err instanceof InputCapError) reason = capReason(err, job);
      else if (err instanceof VcfFormatError) reason = `invalid VCF: ${err.message}`;
      else if (err instanceof BlobNotFoundError) reason = 'the uploaded input file is missing from storage';
      if (!reason) throw err;
      await deps.jobs.failJob({ userId: job.userId, jobId: job.jobId, attempt, reason });
      log.info({ reason }, 'job failed');
      return { kind: 'ack' };
    }
  };
}

/**
 * Why a job whose input passed a cap failed, in the user's terms: which cap, the plan's figure,
 * the line, and what the plan above allows (the gateway's words, carried on the job).
 */
export function capReason(err: InputCapError, job: Pick<Job, 'inputLimits'>): string {
  const l = job.inputLimits;
  const whose = l?.plan ? `the ${l.plan} plan's limit` : "this service's limit";
  const what =
    err.cap === 'records'
      ? `the input has more records than ${whose} of ${err.limit.toLocaleString('en')}`
      : `the decompressed input passes ${whose} of ${formatLimitBytes(err.limit)}`;
  return `${what} at line ${err.line}${l?.beyond ? `; ${l.beyond}` : ''}`;
}
