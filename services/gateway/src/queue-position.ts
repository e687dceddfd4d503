import { JobStatus, JobService } from '@gas/proto';
import type { Job, ServiceClient } from '@gas/proto';

/** A pending job's place in the queue (1 = next), or undefined for any other job. */
export async function queuePosition(jobs: ServiceClient<typeof JobService>, job: Job): Promise<number | undefined> {
  if (job.status !== JobStatus.PENDING) return undefined;
  return Number((await jobs.getQueuePosition({ userId: job.userId, jobId: job.jobId })).position) || undefined;
}

/**
 * The places of one user's pending jobs among `list` (job id → place, 1 = next), in one call; no
 * call when none is pending. The job service answers at most 100 ids a call, a page's worth.
 */
export async function queuePositions(
  jobs: ServiceClient<typeof JobService>,
  userId: string,
  list: Iterable<Job>,
): Promise<Map<string, number>> {
  const ids = [...list].filter((j) => j.status === JobStatus.PENDING).map((j) => j.jobId);
  const positions = new Map<string, number>();
  for (let i = 0; i < ids.length; i += 100) {
    const res = await jobs.getQueuePositions({ userId, jobIds: ids.slice(i, i + 100) });
    for (const [id, p] of Object.entries(res.positions)) if (p > 0n) positions.set(id, Number(p));
  }
  return positions;
}
