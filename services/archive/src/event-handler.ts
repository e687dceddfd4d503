// The `archive` consumer's handler on GAS_EVENTS: a free user's completed job gets an archive timer;
// an upgrade brings back every archived result of that user; a deleted job's files are deleted, and
// a deleted account's folders. Other events need nothing from here.
import type { HandlerContext, JsMsg, Outcome } from '@gas/messaging';
import { decodeProto, PoisonMessageError, subjects } from '@gas/messaging';
import type { Logger } from '@gas/runtime';
import { AccountEventSchema, JobEventSchema, ResultState } from '@gas/proto';
import { archiveDueAt } from './archive-policy.ts';
import type { ArchiveMetrics } from './archive-metrics.ts';
import type { ArchiveTimers } from './archive-timers.ts';
import type { JobRecords } from './job-records.ts';
import { deleteJobFiles, deleteUserFiles } from './job-files.ts';
import type { BlobStore } from '@gas/storage';

/** How long to wait for a deleted job's or account's record to go before looking again (see jobDeleted). */
const RECORD_STILL_THERE_MS = 5000;

/** A user id as the job service accepts it: the folder prefix `<userId>/` then holds that user's files only. */
const USER_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface EventHandlerDeps {
  records: JobRecords;
  store: BlobStore;
  timers: ArchiveTimers;
  metrics: ArchiveMetrics;
  logger: Logger;
  freeRetentionMs: number;
}

const ack: Outcome = { kind: 'ack' };

/**
 * A deletion event whose record is still there: look again in a while, and on the last delivery
 * give up with a warning (the files stay, as the record still points at them).
 */
function stillThere(ctx: HandlerContext | undefined, log: Logger, lastWords: string): Outcome {
  if (ctx && ctx.maxDeliver > 0 && ctx.deliveryCount >= ctx.maxDeliver) {
    log.warn(lastWords);
    return ack;
  }
  return { kind: 'nak', delayMs: RECORD_STILL_THERE_MS };
}

export function createEventHandler(deps: EventHandlerDeps) {
  async function jobCompleted(msg: JsMsg): Promise<Outcome> {
    const job = decodeProto(JobEventSchema, msg.data).job;
    if (!job) return { kind: 'term', reason: 'job.completed without a job' };
    const account = await deps.records.account(job.userId);
    const dueAt = archiveDueAt(job, account, deps.freeRetentionMs);
    if (!dueAt) return ack;
    await deps.timers.setArchive(job, dueAt, account);
    deps.metrics.timersSet.inc();
    deps.logger.info({ jobId: job.jobId, userId: job.userId, dueAt }, 'archive timer set');
    return ack;
  }

  async function accountUpgraded(msg: JsMsg): Promise<Outcome> {
    const event = decodeProto(AccountEventSchema, msg.data);
    const userId = event.account?.userId;
    if (!userId) return { kind: 'term', reason: 'account.upgraded without an account' };
    let restores = 0;
    for await (const job of deps.records.completedJobs(userId)) {
      if (job.resultState !== ResultState.ARCHIVED && job.resultState !== ResultState.RESTORING) continue;
      await deps.timers.requestRestore(job, event.occurredAt);
      restores++;
    }
    deps.logger.info({ userId, restores }, 'upgrade: archived results asked back');
    return ack;
  }

  async function jobDeleted(msg: JsMsg, ctx?: HandlerContext): Promise<Outcome> {
    const job = decodeProto(JobEventSchema, msg.data).job;
    if (!job?.userId || !job.jobId) return { kind: 'term', reason: 'job.deleted without a job' };
    const log = deps.logger.child({ jobId: job.jobId, userId: job.userId });
    // The job service publishes before it removes the record. A record still there is a delete
    // a moment from done, or one cut short that the user's retry will finish: the files stay
    // while the job is listed, so its page never points at files that are gone.
    if (await deps.records.job(job.userId, job.jobId))
      return stillThere(ctx, log, 'job.deleted, but the job is still there after every delivery; its files are kept');
    const deleted = await deleteJobFiles(deps.store, job.userId, job.jobId);
    for (const [area, n] of Object.entries(deleted)) if (n > 0) deps.metrics.deletedObjects.inc({ area }, n);
    log.info({ deleted }, 'job deleted: its files are deleted');
    return ack;
  }

  async function accountDeleted(msg: JsMsg, ctx?: HandlerContext): Promise<Outcome> {
    const userId = decodeProto(AccountEventSchema, msg.data).account?.userId;
    if (!userId || !USER_ID.test(userId)) return { kind: 'term', reason: 'account.deleted without a valid user id' };
    const log = deps.logger.child({ userId });
    // As for a job: the event goes out before the record goes, and a deletion cut short leaves an
    // account its owner can still use until their retry; its new uploads must not vanish meanwhile.
    if (await deps.records.account(userId))
      return stillThere(ctx, log, 'account.deleted, but the account is still there after every delivery; its files are kept');
    const deleted = await deleteUserFiles(deps.store, userId);
    for (const [area, n] of Object.entries(deleted)) if (n > 0) deps.metrics.deletedObjects.inc({ area }, n);
    log.info({ deleted }, 'account deleted: every file left under its folders is deleted');
    return ack;
  }

  return async (msg: JsMsg, ctx?: HandlerContext): Promise<Outcome> => {
    try {
      if (msg.subject === subjects.jobEvent('completed')) return await jobCompleted(msg);
      if (msg.subject === subjects.jobEvent('deleted')) return await jobDeleted(msg, ctx);
      if (msg.subject === subjects.accountEvent('upgraded')) return await accountUpgraded(msg);
      if (msg.subject === subjects.accountEvent('deleted')) return await accountDeleted(msg, ctx);
      if (msg.subject.startsWith('gas.events.')) return ack; // failures, archives, restores, downgrades
      return { kind: 'term', reason: `unexpected subject ${msg.subject}` };
    } catch (err) {
      if (err instanceof PoisonMessageError) return { kind: 'term', reason: err.message };
      throw err;
    }
  };
}
