import type { JetStreamClient } from '@nats-io/jetstream';
import type { Logger, Registry } from '@gas/runtime';
import { Counter } from '@gas/runtime';
import { JobEventKind, JobStatus } from '@gas/proto';
import type { Job } from '@gas/proto';
import type { JobStore } from './job-store.ts';
import type { IdempotencyStore } from './idempotency-store.ts';
import { publishJobEvent } from './job-events.ts';
import { assertDeletable } from './job-transitions.ts';

/** Deletes one finished job of a user; resolves with the record as it was. */
export type DeleteJob = (userId: string, jobId: string) => Promise<Job>;

/**
 * The one way a job is deleted, by DeleteJob and by DeleteAccount for each of the account's jobs:
 * refused (FAILED_PRECONDITION) while the job may still get files, NOT_FOUND when there is none.
 */
export function createJobDeletion(deps: {
  jobs: JobStore;
  idempotency: IdempotencyStore;
  js: JetStreamClient;
  logger: Logger;
  registry: Registry;
  now?: () => Date;
}): DeleteJob {
  const now = deps.now ?? (() => new Date());
  const deleted = new Counter({
    name: 'gas_job_jobs_deleted_total',
    help: 'Jobs deleted by their users (DeleteJob, and DeleteAccount for each job of the account)',
    registers: [deps.registry],
  });
  return async (userId, jobId) => {
    // The event goes out before the record goes, with the record as it was: a call cut short in
    // between leaves the job listed, and its retry publishes the same event id, which JetStream
    // drops. The archive service deletes the files only once the record is gone.
    const job = await deps.jobs.remove(userId, jobId, assertDeletable, (j) => publishJobEvent(deps.js, JobEventKind.DELETED, j, now()));
    // A repeat of the job's Idempotency-Key makes a new job, as a key never seen does: the job it
    // named is gone, and its claim would otherwise answer "still being created".
    if (job.idempotencyKey) await deps.idempotency.forget(userId, job.idempotencyKey, job.jobId);
    deleted.inc();
    deps.logger.info({ jobId, userId, status: JobStatus[job.status] }, 'job deleted');
    return job;
  };
}
