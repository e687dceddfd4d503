// The archive-timer consumer's handler: archive timers (gas.archive.due) and restores under way
// (gas.archive.restore). A message that is not due yet goes back with nak(time left); a due one is
// acted on in an order where a crash between any two steps leaves every result readable in at
// least one place, and the redelivery finishes the work:
//
//   archive: copy hot -> archive, record ARCHIVED, delete the hot copies
//   restore: ask the tier, record RESTORING, (wait), copy archive -> hot, record AVAILABLE, delete the archive copies
//
// The job record is the guard against doing anything twice: every step first reads it.
import type { JsMsg } from '@gas/messaging';
import type { Outcome } from '@gas/messaging';
import { decodeProto, PoisonMessageError } from '@gas/messaging';
import type { Logger } from '@gas/runtime';
import { timestampDate, timestampFromDate, timestampMs, ArchiveDueSchema, JobStatus, ResultState, RestoreDueSchema } from '@gas/proto';
import type { ArchiveDue, Job } from '@gas/proto';
import { archivableKeys, dueAction, holdMs, restoreCheckMs } from './archive-policy.ts';
import type { ArchiveMetrics } from './archive-metrics.ts';
import type { ArchiveTier } from './archive-tier.ts';
import type { ArchiveTimers } from './archive-timers.ts';
import { timerSubjects } from './archive-timers.ts';
import type { JobRecords } from './job-records.ts';
import { deleteJobFiles } from './job-files.ts';
import type { BlobStore } from '@gas/storage';

/** Points where a fault test may stop the service dead (ARCHIVE_TEST_STALL_AFTER). */
export type StallPoint = 'copied' | 'recorded' | 'restore-requested' | 'restore-copied';

export interface TimerHandlerDeps {
  records: JobRecords;
  store: BlobStore;
  timers: ArchiveTimers;
  tier: ArchiveTier;
  metrics: ArchiveMetrics;
  logger: Logger;
  timerStepMs: number;
  restorePollMs: number;
  now?: () => Date;
  stall?: (point: StallPoint) => Promise<void>;
}

const ack: Outcome = { kind: 'ack' };

export function createTimerHandler(deps: TimerHandlerDeps) {
  const now = deps.now ?? (() => new Date());
  const stall = deps.stall ?? (async () => undefined);
  const tier = deps.tier.name;

  /** An upgrade that landed while the results moved saw them still hot and did not ask for them back. */
  async function restoreIfPlanChanged(timer: ArchiveDue, job: Job, log: Logger): Promise<void> {
    const account = await deps.records.account(timer.userId);
    const changed = account?.planChangedAt ? timestampMs(account.planChangedAt) : undefined;
    const seen = timer.planChangedAt ? timestampMs(timer.planChangedAt) : undefined;
    if (changed === seen) return;
    log.info('the plan changed while the results were archived; restoring them');
    await deps.timers.requestRestore(job, account?.planChangedAt);
  }

  /**
   * The timer's job was deleted: the timer is dropped. A move that was under way when the job went
   * may have copied files after job.deleted cleared the job's folders, so they are cleared again.
   */
  async function jobGone(userId: string, jobId: string, log: Logger, what: string): Promise<Outcome> {
    const deleted = await deleteJobFiles(deps.store, userId, jobId);
    for (const [area, n] of Object.entries(deleted)) if (n > 0) deps.metrics.deletedObjects.inc({ area }, n);
    log.info({ deleted }, `${what} of a deleted job dropped`);
    return ack;
  }

  async function archiveDue(msg: JsMsg): Promise<Outcome> {
    const timer = decodeProto(ArchiveDueSchema, msg.data);
    const dueAt = timestampDate(timer.dueAt ?? timestampFromDate(new Date(0)));
    const wait = holdMs(dueAt, now(), deps.timerStepMs);
    if (wait > 0) return { kind: 'nak', delayMs: wait };

    const log = deps.logger.child({ jobId: timer.jobId, userId: timer.userId });
    const job = await deps.records.job(timer.userId, timer.jobId);
    if (!job) {
      deps.metrics.archives.inc({ tier, outcome: 'skipped' });
      return jobGone(timer.userId, timer.jobId, log, 'archive timer');
    }
    const decision = dueAction(timer, job, job ? await deps.records.account(timer.userId) : null);
    if (decision.action === 'skip') {
      deps.metrics.archives.inc({ tier, outcome: 'skipped' });
      log.info({ reason: decision.reason }, 'archive timer skipped');
      return ack;
    }
    let archived = job;
    if (decision.action === 'archive') {
      const lagMs = now().getTime() - dueAt.getTime();
      deps.metrics.lag.observe(lagMs / 1000);
      const keys = archivableKeys(archived);
      await deps.tier.copyIn(keys);
      await stall('copied');
      archived = (await deps.records.jobs.markArchived({ userId: timer.userId, jobId: timer.jobId, archiveKeys: keys })).job!;
      await stall('recorded');
      await deps.tier.dropHot(keys);
      deps.metrics.archives.inc({ tier, outcome: 'archived' });
      log.info({ kinds: Object.keys(keys), lagMs }, 'results archived');
    } else {
      await deps.tier.dropHot(archived.archiveKeys);
      log.info({ kinds: Object.keys(archived.archiveKeys) }, 'archive finished after an interrupted run');
    }
    await restoreIfPlanChanged(timer, archived, log);
    return ack;
  }

  async function restoreDue(msg: JsMsg): Promise<Outcome> {
    const request = decodeProto(RestoreDueSchema, msg.data);
    const log = deps.logger.child({ jobId: request.jobId, userId: request.userId });
    let job = await deps.records.job(request.userId, request.jobId);
    if (!job) return jobGone(request.userId, request.jobId, log, 'restore');
    if (job.status !== JobStatus.COMPLETED) return ack;

    if (job.resultState === ResultState.AVAILABLE) {
      // Recorded back already; an earlier run may have stopped before deleting the archive copies.
      if (job.archivedAt) await deps.tier.dropCold(archivableKeys(job));
      return ack;
    }
    if (job.resultState === ResultState.ARCHIVED) {
      const expectedAt = await deps.tier.requestRestore(job.archiveKeys, now());
      await stall('restore-requested');
      job = (await deps.records.jobs.markRestoring({ userId: job.userId, jobId: job.jobId, expectedAt: timestampFromDate(expectedAt) }))
        .job!;
      deps.metrics.restores.inc({ tier, outcome: 'requested' });
      log.info({ expectedAt }, 'restore requested');
    }
    if (!(await deps.tier.restored(job.archiveKeys))) {
      const expectedAt = job.restoreExpectedAt ? timestampDate(job.restoreExpectedAt) : undefined;
      return { kind: 'nak', delayMs: restoreCheckMs(expectedAt, now(), deps.restorePollMs) };
    }
    const keys = job.archiveKeys;
    await deps.tier.copyBack(keys);
    await stall('restore-copied');
    await deps.records.jobs.markRestored({ userId: job.userId, jobId: job.jobId });
    await deps.tier.dropCold(keys);
    const waitedMs = now().getTime() - (request.requestedAt ? timestampMs(request.requestedAt) : now().getTime());
    deps.metrics.restores.inc({ tier, outcome: 'restored' });
    deps.metrics.restoreWait.observe({ tier }, waitedMs / 1000);
    log.info({ kinds: Object.keys(keys), waitedMs }, 'results restored');
    return ack;
  }

  return async (msg: JsMsg): Promise<Outcome> => {
    try {
      if (msg.subject === timerSubjects.archive) return await archiveDue(msg);
      if (msg.subject === timerSubjects.restore) return await restoreDue(msg);
      return { kind: 'term', reason: `unexpected subject ${msg.subject}` };
    } catch (err) {
      if (err instanceof PoisonMessageError) return { kind: 'term', reason: err.message };
      // The consume loop retries with backoff (the job service or the store may be away for a while).
      if (msg.subject === timerSubjects.archive) deps.metrics.archives.inc({ tier, outcome: 'failed' });
      else deps.metrics.restores.inc({ tier, outcome: 'failed' });
      throw err;
    }
  };
}
