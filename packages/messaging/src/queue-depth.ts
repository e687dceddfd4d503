import type { JetStreamManager } from '@nats-io/jetstream';

export interface ConsumerBacklog {
  /** Messages not yet delivered to the consumer: what the autoscaler scales on. */
  pending: number;
  /** Delivered and not yet acknowledged (being worked on, or waiting out a nak delay). */
  ackPending: number;
  redelivered: number;
}

export async function consumerBacklog(jsm: JetStreamManager, stream: string, consumer: string): Promise<ConsumerBacklog> {
  const info = await jsm.consumers.info(stream, consumer);
  return { pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered };
}
