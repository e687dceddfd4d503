import type { JetStreamManager } from '@nats-io/jetstream';
import { streamNames } from '@gas/messaging';

/** One consumer on the job stream, as the server reports it. */
export interface QueueConsumerStats {
  name: string;
  pending: number;
  ackPending: number;
  redelivered: number;
  waitingPulls: number;
  lastActive?: Date;
}

/** The annotator work queue as a whole: what the autoscaler follows and operators watch. */
export interface QueueStats {
  /** Waiting plus running: the annotator consumer's num_pending + num_ack_pending. */
  depth: number;
  /** Requests no annotator has taken yet. */
  waiting: number;
  /** Delivered and not yet acknowledged: running, or waiting out a retry delay. */
  running: number;
  /** When the oldest request no annotator has taken was queued; undefined when none waits. */
  oldestWaitingSince?: Date;
  consumers: QueueConsumerStats[];
  readAt: Date;
}

// Requests are removed from the work-queue stream when acked, so the first one not yet delivered
// is just past the consumer's delivered sequence; a few may be gone (deleted by hand) in between.
const OLDEST_LOOKAHEAD = 16;

/**
 * Reads the queue from the stream and its consumers: one stream info, one consumer list, and one
 * message read for the oldest waiting request. Before any annotator has created its consumer,
 * every request in the stream is waiting.
 */
export async function readQueueStats(jsm: JetStreamManager, annotatorConsumer: string, now = new Date()): Promise<QueueStats> {
  const stream = await jsm.streams.info(streamNames.jobs);
  const consumers: QueueConsumerStats[] = [];
  let annotator: { pending: number; ackPending: number; deliveredSeq: number } | undefined;
  for await (const c of jsm.consumers.list(streamNames.jobs)) {
    consumers.push({
      name: c.name,
      pending: c.num_pending,
      ackPending: c.num_ack_pending,
      redelivered: c.num_redelivered,
      waitingPulls: c.num_waiting,
      lastActive: timeOf(c.delivered.last_active),
    });
    if (c.name === annotatorConsumer) {
      annotator = { pending: c.num_pending, ackPending: c.num_ack_pending, deliveredSeq: c.delivered.stream_seq };
    }
  }
  const waiting = annotator ? annotator.pending : stream.state.messages;
  const running = annotator ? annotator.ackPending : 0;
  let oldestWaitingSince: Date | undefined;
  if (waiting > 0) {
    const from = Math.max(stream.state.first_seq, (annotator?.deliveredSeq ?? 0) + 1);
    for (let seq = from; seq < from + OLDEST_LOOKAHEAD && seq <= stream.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(streamNames.jobs, { seq }).catch(() => null);
      if (m) {
        oldestWaitingSince = m.time;
        break;
      }
    }
  }
  return { depth: waiting + running, waiting, running, oldestWaitingSince, consumers, readAt: now };
}

// The server sends RFC 3339 text; the client's type says nanoseconds.
function timeOf(value: unknown): Date | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
