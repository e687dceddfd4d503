import { isDeepStrictEqual } from 'node:util';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  ReplayPolicy,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import type { ConsumerConfig, JetStreamManager, StreamConfig } from '@nats-io/jetstream';
import { subjects } from './subjects.ts';

export const streamNames = { jobs: 'GAS_JOBS', events: 'GAS_EVENTS', archive: 'GAS_ARCHIVE' } as const;

export type StreamSpec = Partial<StreamConfig> & { name: string; subjects: string[] };
export type ConsumerSpec = Partial<ConsumerConfig> & { durable_name: string; filter_subject: string };
export type EnsureAction = 'created' | 'updated' | 'unchanged';

const msToNanos = (ms: number): number => Math.round(ms * 1_000_000);
const DAY_MS = 24 * 60 * 60 * 1000;
// Publishers retry with the same Nats-Msg-Id within this window and are deduplicated.
/** How long JetStream remembers a Nats-Msg-Id; publishers that retry rely on it. */
export const DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

// Only nats-server 2.9 features are used here (single filter_subject, no per-message TTL, no pause),
// so the same specs apply to old and current servers.
export function streamSpecs(opts: { eventsMaxAgeDays?: number; replicas?: number } = {}): {
  jobs: StreamSpec;
  events: StreamSpec;
  archive: StreamSpec;
} {
  const replicas = opts.replicas ?? 1;
  const eventsMaxAgeDays = opts.eventsMaxAgeDays ?? 7;
  if (!(eventsMaxAgeDays > 0)) throw new Error(`eventsMaxAgeDays must be positive, got ${eventsMaxAgeDays}`);
  return {
    jobs: {
      name: streamNames.jobs,
      description: 'Annotation job requests; each is removed once the annotator acks it',
      subjects: [subjects.jobRequested],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      duplicate_window: msToNanos(DUPLICATE_WINDOW_MS),
      num_replicas: replicas,
    },
    events: {
      name: streamNames.events,
      description: 'Job and account events, kept for a number of days so consumers can catch up',
      subjects: [subjects.allEvents],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: msToNanos(eventsMaxAgeDays * DAY_MS),
      duplicate_window: msToNanos(DUPLICATE_WINDOW_MS),
      num_replicas: replicas,
    },
    archive: {
      name: streamNames.archive,
      description: 'Archive and restore timers, held by the archive-timer consumer until due',
      subjects: [subjects.allArchive],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      duplicate_window: msToNanos(DUPLICATE_WINDOW_MS),
      num_replicas: replicas,
    },
  };
}

export interface ConsumerOptions {
  ackWaitMs: number;
  maxDeliver: number;
  maxAckPending: number;
}

function pullConsumer(durable: string, filter: string, o: ConsumerOptions): ConsumerSpec {
  return {
    durable_name: durable,
    filter_subject: filter,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    replay_policy: ReplayPolicy.Instant,
    ack_wait: msToNanos(o.ackWaitMs),
    max_deliver: o.maxDeliver,
    max_ack_pending: o.maxAckPending,
  };
}

export const consumerSpecs = {
  annotator: (o: ConsumerOptions): ConsumerSpec => pullConsumer('annotator', subjects.jobRequested, o),
  notification: (o: Partial<ConsumerOptions> = {}): ConsumerSpec =>
    pullConsumer('notification', subjects.allEvents, { ackWaitMs: 30_000, maxDeliver: 10, maxAckPending: 256, ...o }),
  archive: (o: Partial<ConsumerOptions> = {}): ConsumerSpec =>
    pullConsumer('archive', subjects.allEvents, { ackWaitMs: 60_000, maxDeliver: 10, maxAckPending: 64, ...o }),
  // Timers are re-armed with nak(remaining), and every nak counts as a delivery, so the default never
  // gives up on a timer. A nak'd timer still counts as ack-pending on the server until it is
  // redelivered, so max_ack_pending bounds how many timers can wait at once and must be large.
  archiveTimer: (o: Partial<ConsumerOptions> = {}): ConsumerSpec =>
    pullConsumer('archive-timer', subjects.allArchive, { ackWaitMs: 60_000, maxDeliver: -1, maxAckPending: 100_000, ...o }),
};

function isNotFound(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}

function changedKeys(desired: Record<string, unknown>, actual: Record<string, unknown>): string[] {
  return Object.keys(desired).filter((k) => desired[k] !== undefined && !isDeepStrictEqual(desired[k], actual[k]));
}

export async function ensureStream(jsm: JetStreamManager, spec: StreamSpec): Promise<EnsureAction> {
  let current: StreamConfig;
  try {
    current = (await jsm.streams.info(spec.name)).config;
  } catch (err) {
    if (!isNotFound(err, JetStreamApiCodes.StreamNotFound)) throw err;
    await jsm.streams.add(spec);
    return 'created';
  }
  const changed = changedKeys(spec, current);
  if (changed.length === 0) return 'unchanged';
  try {
    await jsm.streams.update(spec.name, { ...current, ...spec });
  } catch (err) {
    throw new Error(`cannot update stream ${spec.name} (${changed.join(', ')}): ${(err as Error).message}`, { cause: err });
  }
  return 'updated';
}

export async function ensureStreams(
  jsm: JetStreamManager,
  specs: readonly StreamSpec[] | Record<string, StreamSpec>,
): Promise<Array<{ stream: string; action: EnsureAction }>> {
  const list: readonly StreamSpec[] = Array.isArray(specs) ? (specs as readonly StreamSpec[]) : Object.values(specs);
  const results: Array<{ stream: string; action: EnsureAction }> = [];
  for (const spec of list) results.push({ stream: spec.name, action: await ensureStream(jsm, spec) });
  return results;
}

export async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  config: ConsumerSpec,
  opts: { onlyIfMissing?: boolean } = {},
): Promise<EnsureAction> {
  const name = config.durable_name;
  let current: ConsumerConfig;
  try {
    current = (await jsm.consumers.info(stream, name)).config;
  } catch (err) {
    if (!isNotFound(err, JetStreamApiCodes.ConsumerNotFound)) throw err;
    await jsm.consumers.add(stream, config);
    return 'created';
  }
  // Another service owns the settings (the annotator's, from its config): only make sure it exists.
  if (opts.onlyIfMissing) return 'unchanged';
  const changed = changedKeys(config, current);
  if (changed.length === 0) return 'unchanged';
  try {
    // A change the server cannot apply in place (ack or deliver policy) is refused here, loudly,
    // rather than silently deleting a durable consumer and its delivery state.
    const { durable_name: _name, ...updatable } = config;
    await jsm.consumers.update(stream, name, updatable);
  } catch (err) {
    throw new Error(`cannot update consumer ${stream}/${name} (${changed.join(', ')}): ${(err as Error).message}`, { cause: err });
  }
  return 'updated';
}
