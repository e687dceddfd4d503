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
  const info = await jsm.streams.info(streamNames.jobs, { deleted_details: true });
  const { first_seq: first, messages } = info.state;
  let running = 0;
  try {
    running = (await jsm.consumers.info(streamNames.jobs, consumer)).num_ack_pending;
  } catch {
    // No consumer yet (no annotator has started): nothing is running.
  }
  const depth = Math.max(0, messages - running);
  if (sequence < first) return { position: 0, depth };
  const deleted = (info.state.deleted ?? []).filter((s) => s >= first && s < sequence).length;
  const ahead = sequence - first - deleted;
  return { position: Math.max(1, ahead - running + 1), depth };
}
