// The job state machine, pure: each function takes the current record and returns the next one or
// throws an RpcError with the status code that says why the transition is refused.
import { create, rpcErrors, JobSchema, JobStatus, JobWarningSchema, ResultState, VariantCountsSchema, timestampFromDate } from '@gas/proto';
import type { Job, JobWarning, VariantCounts } from '@gas/proto';
import type { MessageInitShape } from '@bufbuild/protobuf';

const finished = (j: Job) => j.status === JobStatus.COMPLETED || j.status === JobStatus.FAILED;

function next(job: Job, now: Date, patch: Partial<Job>): Job {
  return create(JobSchema, { ...job, ...patch, updatedAt: timestampFromDate(now) });
}

export function claim(job: Job, attempt: number, annotatorId: string, now: Date): Job {
  if (finished(job)) throw rpcErrors.failedPrecondition(`job ${job.jobId} is already ${JobStatus[job.status]}`);
  if (job.status === JobStatus.RUNNING) {
    // The same delivery asking again (a retried RPC) gets the same answer.
    if (attempt === job.attempt && annotatorId === job.annotatorId) return job;
    // A later delivery means the earlier holder's ack deadline passed: it is taken over.
    if (attempt <= job.attempt) {
      throw rpcErrors.failedPrecondition(`job ${job.jobId} is running as attempt ${job.attempt}; attempt ${attempt} is stale`);
    }
  }
  return next(job, now, {
    status: JobStatus.RUNNING,
    attempt,
    annotatorId,
    startedAt: timestampFromDate(now),
    progressDone: 0n,
    progressTotal: 0n,
  });
}

function assertOwner(job: Job, attempt: number): void {
  if (job.status !== JobStatus.RUNNING) {
    throw rpcErrors.failedPrecondition(`job ${job.jobId} is ${JobStatus[job.status]}, not RUNNING`);
  }
  if (job.attempt !== attempt) {
    throw rpcErrors.failedPrecondition(`job ${job.jobId} belongs to attempt ${job.attempt}, not ${attempt}`);
  }
}

export function progress(job: Job, attempt: number, done: bigint, total: bigint, now: Date): Job {
  assertOwner(job, attempt);
  return next(job, now, { progressDone: done, progressTotal: total });
}

/**
 * An annotator shutting down hands the job back: PENDING again, to be claimed by a later attempt.
 * Null when this attempt already released it (a retried call).
 */
export function release(job: Job, attempt: number, now: Date): Job | null {
  if (job.status === JobStatus.PENDING && job.attempt === attempt) return null;
  assertOwner(job, attempt);
  return next(job, now, { status: JobStatus.PENDING, annotatorId: '', startedAt: undefined, progressDone: 0n, progressTotal: 0n });
}

/** Returns null when this attempt already completed the job (a retried call changes nothing). */
/** Warnings kept on a job: a few short sentences, whoever sends them. */
export function boundedWarnings(warnings: readonly JobWarning[]): JobWarning[] {
  return warnings.slice(0, 10).map((w) => create(JobWarningSchema, { code: w.code.slice(0, 64), message: w.message.slice(0, 1000) }));
}

export function complete(
  job: Job,
  attempt: number,
  result: {
    resultKeys: Record<string, string>;
    resultSize: bigint;
    counts?: MessageInitShape<typeof VariantCountsSchema>;
    warnings?: readonly JobWarning[];
  },
  now: Date,
): Job | null {
  if (job.status === JobStatus.COMPLETED && job.attempt === attempt) return null;
  assertOwner(job, attempt);
  const counts: VariantCounts = create(VariantCountsSchema, result.counts ?? {});
  // The annotator read the whole file: its warnings replace the upload's of the same code.
  const fresh = boundedWarnings(result.warnings ?? []);
  const codes = new Set(fresh.map((w) => w.code));
  return next(job, now, {
    warnings: boundedWarnings([...job.warnings.filter((w) => !codes.has(w.code)), ...fresh]),
    status: JobStatus.COMPLETED,
    finishedAt: timestampFromDate(now),
    resultKeys: result.resultKeys,
    resultSize: result.resultSize,
    resultState: ResultState.AVAILABLE,
    counts,
    progressDone: counts.records,
    progressTotal: counts.records,
  });
}

/** attempt 0 is the dead-letter path: fail whatever attempt holds the job. Null when already failed. */
export function fail(job: Job, attempt: number, reason: string, now: Date): Job | null {
  if (job.status === JobStatus.FAILED) return null;
  if (job.status === JobStatus.COMPLETED) throw rpcErrors.failedPrecondition(`job ${job.jobId} is already COMPLETED`);
  if (attempt !== 0 && job.status === JobStatus.RUNNING) assertOwner(job, attempt);
  return next(job, now, { status: JobStatus.FAILED, finishedAt: timestampFromDate(now), failureReason: reason.slice(0, 2000) });
}

function assertCompleted(job: Job): void {
  if (job.status !== JobStatus.COMPLETED) throw rpcErrors.failedPrecondition(`job ${job.jobId} has no results (${JobStatus[job.status]})`);
}

/** Null when already archived (a retried call). */
export function markArchived(job: Job, archiveKeys: Record<string, string>, now: Date): Job | null {
  assertCompleted(job);
  if (job.resultState === ResultState.ARCHIVED) return null;
  if (job.resultState !== ResultState.AVAILABLE) {
    throw rpcErrors.failedPrecondition(`job ${job.jobId} results are ${ResultState[job.resultState]}, not AVAILABLE`);
  }
  const kinds = Object.keys(archiveKeys);
  if (kinds.length === 0) throw rpcErrors.invalidArgument('archive_keys names no result');
  const unknown = kinds.filter((k) => !job.resultKeys[k]);
  if (unknown.length > 0) throw rpcErrors.invalidArgument(`job ${job.jobId} has no result of kind ${unknown.join(', ')}`);
  return next(job, now, {
    resultState: ResultState.ARCHIVED,
    archiveKeys,
    archivedAt: timestampFromDate(now),
    restoreExpectedAt: undefined,
  });
}

/** Null when already restoring (a retried call keeps the first expected time). */
export function markRestoring(job: Job, expectedAt: Date | undefined, now: Date): Job | null {
  assertCompleted(job);
  if (job.resultState === ResultState.RESTORING) return null;
  if (job.resultState !== ResultState.ARCHIVED) {
    throw rpcErrors.failedPrecondition(`job ${job.jobId} results are ${ResultState[job.resultState]}, not ARCHIVED`);
  }
  return next(job, now, { resultState: ResultState.RESTORING, restoreExpectedAt: expectedAt ? timestampFromDate(expectedAt) : undefined });
}

/** Null when already restored (a retried call); refused for results that were never archived. */
export function markRestored(job: Job, now: Date): Job | null {
  assertCompleted(job);
  if (job.resultState === ResultState.AVAILABLE && job.archivedAt) return null;
  if (job.resultState !== ResultState.RESTORING) {
    throw rpcErrors.failedPrecondition(`job ${job.jobId} results are ${ResultState[job.resultState]}, not RESTORING`);
  }
  return next(job, now, {
    resultState: ResultState.AVAILABLE,
    archiveKeys: {},
    restoreExpectedAt: undefined,
    restoredAt: timestampFromDate(now),
  });
}

/**
 * Refuses to delete a job whose files someone may still be writing: the annotator while it is
 * PENDING or RUNNING, the archive service while its results are RESTORING. A COMPLETED job with
 * results AVAILABLE or ARCHIVED, or a FAILED job, may go.
 */
export function assertDeletable(job: Job): void {
  const wait = 'wait until it finishes, then delete it';
  if (job.status === JobStatus.PENDING) throw rpcErrors.failedPrecondition(`job ${job.jobId} is waiting to run; ${wait}`);
  if (job.status === JobStatus.RUNNING) throw rpcErrors.failedPrecondition(`job ${job.jobId} is running; ${wait}`);
  if (job.resultState === ResultState.RESTORING)
    throw rpcErrors.failedPrecondition(`the results of job ${job.jobId} are being restored from cold storage; ${wait}`);
}
