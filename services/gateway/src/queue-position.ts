import { JobStatus, JobService } from '@gas/proto';
import type { Job, ServiceClient } from '@gas/proto';

/** A pending job's place in the queue (1 = next), or undefined for any other job. */
export async function queuePosition(jobs: ServiceClient<typeof JobService>, job: Job): Promise<number | undefined> {
  if (job.status !== JobStatus.PENDING) return undefined;
  return Number((await jobs.getQueuePosition({ userId: job.userId, jobId: job.jobId })).position) || undefined;
}
