// Deleting a job's files when the user deletes the job: the input, the hot results and the archive
// copies, wherever they are. Each run deletes whatever is left, so a redelivery after a crash
// finishes the work and a file already gone is fine.
import type { Job } from '@gas/proto';
import { BLOB_AREAS } from '@gas/storage';
import type { BlobArea, BlobStore } from '@gas/storage';

/**
 * Deletes every blob of the job: the keys its record names and everything under
 * `<userId>/<jobId>/` in each area (a failed run's leftovers, a copy that was under way when the
 * job went). Resolves with how many objects were deleted, by area.
 */
export async function deleteJobFiles(
  store: BlobStore,
  job: Pick<Job, 'userId' | 'jobId' | 'inputKey' | 'resultKeys' | 'archiveKeys'>,
): Promise<Record<BlobArea, number>> {
  const prefix = `${job.userId}/${job.jobId}/`;
  const named: Record<BlobArea, string[]> = {
    inputs: job.inputKey ? [job.inputKey] : [],
    results: Object.values(job.resultKeys ?? {}),
    archive: Object.values(job.archiveKeys ?? {}),
  };
  const deleted: Record<BlobArea, number> = { inputs: 0, results: 0, archive: 0 };
  for (const area of BLOB_AREAS) {
    // Only keys in the job's own folder: a record never names another, and a bad one must not
    // delete someone else's file.
    const keys = new Set([...named[area].filter((k) => k.startsWith(prefix)), ...(await store.list(area, prefix))]);
    for (const key of keys) {
      if (!(await store.stat(area, key))) continue;
      await store.delete(area, key);
      deleted[area]++;
    }
  }
  return deleted;
}
