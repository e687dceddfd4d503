import type { JetStreamManager } from '@nats-io/jetstream';
import { streamNames } from '@gas/messaging';

/**
 * Position of a waiting job in the work queue, from stream state rather than a scan of every job:
 * messages still in GAS_JOBS below the job's sequence are ahead of it; those the annotator holds
 * (ack pending) are running, not waiting. Approximate only when the consumer delivers out of order.
 */
export async function queuePosition(
  jsm: JetStreamManager,
  sequence: number,
  consumer: string,
): Promise<{ position: number; depth: number }> {
  const { positions, depth } = await queuePositions(jsm, [sequence], consumer);
  return { position: positions[0]!, depth };
}

/** queuePosition for several sequences, from one reading of the stream and the consumer. */
export async function queuePositions(
  jsm: JetStreamManager,
  sequences: number[],
  consumer: string,
): Promise<{ positions: number[]; depth: number }> {
  const info = await jsm.streams.info(streamNames.jobs, { deleted_details: true });
  const { first_seq: first, messages } = info.state;
  let running = 0;
  try {
    running = (await jsm.consumers.info(streamNames.jobs, consumer)).num_ack_pending;
  } catch {
    // No consumer yet (no annotator has started): nothing is running.
  }
  const depth = Math.max(0, messages - running);
  const deleted = (info.state.deleted ?? []).filter((s) => s >= first);
  const positions = sequences.map((sequence) => {
    if (sequence < first) return 0;
    const ahead = sequence - first - deleted.filter((s) => s < sequence).length;
    return Math.max(1, ahead - running + 1);
  });
  return { positions, depth };
}
