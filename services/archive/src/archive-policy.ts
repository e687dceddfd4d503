// What the archive service decides, without I/O: whether a completed job's results will move to the
// archive tier and when, what to do when its timer fires, and how long to hold a timer or a restore.
import { JobStatus, Plan, ResultState, timestampMs } from '@gas/proto';
import type { Account, ArchiveDue, Job } from '@gas/proto';
import type { Timestamp } from '@bufbuild/protobuf/wkt';

/** Result kinds that move to the archive tier. The summary and the logs stay hot for the job page. */
export const ARCHIVED_KINDS: readonly string[] = Object.freeze(['vcf', 'tsv', 'tbi']);

/** The job's results that move when it is archived: kind -> key (the same key in both areas). */
export function archivableKeys(job: Job): Record<string, string> {
  return Object.fromEntries(ARCHIVED_KINDS.filter((kind) => job.resultKeys[kind]).map((kind) => [kind, job.resultKeys[kind]!]));
}

const ms = (t: Timestamp | undefined): number | undefined => (t ? timestampMs(t) : undefined);

/**
 * When a completed job's results are due to move to the archive tier, or null when they stay hot:
 * only a free user's results move, and only when the user was already free when the job finished
 * (results completed while premium stay hot after a downgrade). A user without an account is free.
 */
export function archiveDueAt(job: Job, account: Account | null, retentionMs: number): Date | null {
  if (job.status !== JobStatus.COMPLETED || job.resultState !== ResultState.AVAILABLE) return null;
  const finished = ms(job.finishedAt);
  if (finished === undefined || Object.keys(archivableKeys(job)).length === 0) return null;
  if (account && account.plan !== Plan.FREE) return null;
  const changed = ms(account?.planChangedAt);
  if (changed !== undefined && changed > finished) return null;
  return new Date(finished + retentionMs);
}

export type DueAction =
  | { action: 'archive' }
  /** Recorded ARCHIVED already: an earlier run stopped before deleting the hot copies. */
  | { action: 'finish' }
  | { action: 'skip'; reason: string };

/** What a due archive timer does, given the job and the account as they are now. */
export function dueAction(timer: ArchiveDue, job: Job | null, account: Account | null): DueAction {
  if (!job) return { action: 'skip', reason: 'job deleted' };
  if (job.status !== JobStatus.COMPLETED) return { action: 'skip', reason: `job is ${JobStatus[job.status]}` };
  if (job.resultState === ResultState.ARCHIVED) return { action: 'finish' };
  if (job.resultState === ResultState.RESTORING) return { action: 'skip', reason: 'results are being restored' };
  if (job.archivedAt) return { action: 'skip', reason: 'results were restored after an earlier archive; they stay hot' };
  if (account && account.plan !== Plan.FREE) return { action: 'skip', reason: 'the user is premium now' };
  if (ms(account?.planChangedAt) !== ms(timer.planChangedAt)) return { action: 'skip', reason: 'the plan changed since the timer was set' };
  return { action: 'archive' };
}

/** How long to hold a timer before looking at it again: the time left, at most one step; 0 when due. */
export function holdMs(dueAt: Date, now: Date, stepMs: number): number {
  return Math.min(Math.max(0, dueAt.getTime() - now.getTime()), stepMs);
}

/**
 * When to check a restore under way again: at its expected time if that is sooner than a poll
 * interval, else after one poll interval (AWS gives ranges, so the results may be back early).
 */
export function restoreCheckMs(expectedAt: Date | undefined, now: Date, pollMs: number): number {
  const left = expectedAt ? expectedAt.getTime() - now.getTime() : 0;
  return left > 0 ? Math.min(left, pollMs) : pollMs;
}
