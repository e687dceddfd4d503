// Deleting a job's files when the user deletes the job (the input, the hot results and the archive
// copies, wherever they are), and a user's when they delete their account. Each run deletes whatever is left, so a redelivery after a crash
// finishes the work and a file already gone is fine.
import { BLOB_AREAS } from '@gas/storage';
import type { BlobArea, BlobStore } from '@gas/storage';

/**
 * Deletes every blob under `<userId>/<jobId>/` in each area: the keys a job's record names are all
 * there, and so are a failed run's leftovers and a copy that was under way when the job went. Only
 * that folder, so a record naming another job's file deletes nothing of it. Resolves with how many
 * objects were deleted, by area.
 */
export function deleteJobFiles(store: BlobStore, userId: string, jobId: string): Promise<Record<BlobArea, number>> {
  return deleteUnder(store, `${userId}/${jobId}/`);
}

/**
 * Deletes every blob under `<userId>/` in each area, when the account is deleted: its jobs' folders
 * went with each job.deleted, but a file no job names stays there otherwise (an upload on a ticket
 * that was never redeemed, or one that finished after the account's last listing).
 */
export function deleteUserFiles(store: BlobStore, userId: string): Promise<Record<BlobArea, number>> {
  return deleteUnder(store, `${userId}/`);
}

async function deleteUnder(store: BlobStore, prefix: string): Promise<Record<BlobArea, number>> {
  const deleted: Record<BlobArea, number> = { inputs: 0, results: 0, archive: 0 };
  for (const area of BLOB_AREAS) {
    for (const key of await store.list(area, prefix)) {
      await store.delete(area, key);
      deleted[area]++;
    }
  }
  return deleted;
}
