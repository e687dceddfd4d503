/** User ids are opaque tokens safe in KV keys, subjects and blob paths. */
export const USER_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Job ids are ULIDs: time-sortable, so key order is creation order. */
export const JOB_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

export function jobKey(userId: string, jobId: string): string {
  return `${userId}.${jobId}`;
}
