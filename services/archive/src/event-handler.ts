// The `archive` consumer's handler on GAS_EVENTS: a free user's completed job gets an archive timer;
// an upgrade brings back every archived result of that user. Other events need nothing from here.
import type { JsMsg, Outcome } from '@gas/messaging';
import { decodeProto, PoisonMessageError, subjects } from '@gas/messaging';
import type { Logger } from '@gas/runtime';
import { AccountEventSchema, JobEventSchema, ResultState } from '@gas/proto';
import { archiveDueAt } from './archive-policy.ts';
import type { ArchiveMetrics } from './archive-metrics.ts';
import type { ArchiveTimers } from './archive-timers.ts';
import type { JobRecords } from './job-records.ts';

export interface EventHandlerDeps {
  records: JobRecords;
  timers: ArchiveTimers;
  metrics: ArchiveMetrics;
  logger: Logger;
  freeRetentionMs: number;
}

const ack: Outcome = { kind: 'ack' };

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

  return async (msg: JsMsg): Promise<Outcome> => {
    try {
      if (msg.subject === subjects.jobEvent('completed')) return await jobCompleted(msg);
      if (msg.subject === subjects.accountEvent('upgraded')) return await accountUpgraded(msg);
      if (msg.subject.startsWith('gas.events.')) return ack; // failures, archives, restores, downgrades
      return { kind: 'term', reason: `unexpected subject ${msg.subject}` };
    } catch (err) {
      if (err instanceof PoisonMessageError) return { kind: 'term', reason: err.message };
      throw err;
    }
  };
}
