import type { JetStreamManager } from '@nats-io/jetstream';

/**
 * The last tokens of the keys `<prefix>.<token>` in a KV bucket, sorted descending (newest first
 * for ULIDs), read from the KV stream's per-subject counts in one request: the client's keys() runs
 * a consumer that can stall while keys are being written, which is exactly when users list.
 */
export async function kvKeysUnder(jsm: JetStreamManager, bucket: string, prefix: string): Promise<string[]> {
  const subjectPrefix = `$KV.${bucket}.${prefix}.`;
  const info = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: `${subjectPrefix}*` });
  return Object.keys(info.state.subjects ?? {})
    .map((subject) => subject.slice(subjectPrefix.length))
    .sort()
    .reverse();
}
