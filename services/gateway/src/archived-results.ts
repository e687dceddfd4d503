// What the gateway says about results in cold storage. The archive service moves a free user's
// annotated files (vcf, tsv, tbi) there after the retention window and brings them back when the
// user upgrades; the summary and logs stay hot. The job record names the moved kinds (archive_keys),
// so a download of one of them can say what is happening and when instead of failing.
import { JobStatus, Plan, ResultState, timestampDate } from '@gas/proto';
import type { Account, Job } from '@gas/proto';
import { Problem } from './problem.ts';
import type { PlanName } from './plan-limits.ts';
import { utcMinute } from './time-words.ts';

/** The gateway's default for GATEWAY_FREE_RETENTION_SECONDS (config.ts), the archive service's too. */
export const FREE_RETENTION_DEFAULT_SECONDS = 1800;

/** The kinds the archive service moves (its ARCHIVED_KINDS); for the docs and the retention notice, the job record decides. */
export const ARCHIVABLE_KINDS: readonly string[] = ['vcf', 'tsv', 'tbi'];

const LABELS: Record<string, string> = { vcf: 'the annotated VCF', tsv: 'the annotation table', tbi: 'the tabix index' };

/** The kinds of the job's results that are in the archive area now (empty while they are all hot). */
export function archivedKinds(job: Job): string[] {
  if (job.resultState !== ResultState.ARCHIVED && job.resultState !== ResultState.RESTORING) return [];
  return Object.keys(job.archiveKeys);
}

/**
 * When a free user's results are due to move to cold storage, or null when they stay hot. The same
 * rules as the archive service's archiveDueAt (services/archive/src/archive-policy.ts), which
 * decides; this only tells the user: results of a job that finished while the user was premium,
 * and results that came back from an earlier archive, stay hot.
 */
export function archiveDueAt(job: Job, account: Account | null, retentionSeconds: number): Date | null {
  if (job.status !== JobStatus.COMPLETED || job.resultState !== ResultState.AVAILABLE || job.archivedAt || !job.finishedAt) return null;
  if (!ARCHIVABLE_KINDS.some((kind) => job.resultKeys[kind])) return null;
  if (account && account.plan !== Plan.FREE) return null;
  const finished = timestampDate(job.finishedAt).getTime();
  if (account?.planChangedAt && timestampDate(account.planChangedAt).getTime() > finished) return null;
  return new Date(finished + retentionSeconds * 1000);
}

const LATE_RETRY_SECONDS = 60;

/**
 * The 409 for a download of a result kind that is in cold storage, or null when that kind is hot.
 * It says what is happening and when; while restoring, Retry-After is the time left until the
 * expected return, or a minute once that time has passed (cold tiers give ranges; a client that
 * polls every second then would only add load).
 */
export function archivedProblem(job: Job, kind: string, plan: PlanName, now: Date): Problem | null {
  if (!archivedKinds(job).includes(kind)) return null;
  const what = `${LABELS[kind] ?? `the ${kind} result`} of job ${job.jobId}`;
  const conflict = (detail: string, extensions: Record<string, string>, headers: Record<string, string> = {}) =>
    new Problem(409, 'Conflict', `${what} ${detail}`, headers, extensions);
  if (job.resultState === ResultState.RESTORING) {
    if (!job.restoreExpectedAt) return conflict('is being restored from cold storage; try again later', { result_state: 'RESTORING' });
    const expected = timestampDate(job.restoreExpectedAt);
    const iso = expected.toISOString();
    const left = Math.ceil((expected.getTime() - now.getTime()) / 1000);
    const seconds = left > 0 ? left : LATE_RETRY_SECONDS;
    return conflict(
      `is being restored from cold storage; expected back by ${utcMinute(iso)}`,
      { result_state: 'RESTORING', expected_at: iso },
      { 'Retry-After': String(seconds) },
    );
  }
  // ARCHIVED: a premium user's restore starts when the archive service sees the upgrade.
  if (plan === 'premium')
    return conflict('is being brought back from cold storage; try again in a few minutes', { result_state: 'ARCHIVED' });
  const on = job.archivedAt ? ` on ${utcMinute(timestampDate(job.archivedAt).toISOString())}` : '';
  return conflict(`moved to cold storage${on}; upgrade to premium and it is restored`, { result_state: 'ARCHIVED' });
}
