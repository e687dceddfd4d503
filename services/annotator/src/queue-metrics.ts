import type { JetStreamManager } from '@gas/messaging';
import { consumerBacklog, streamNames } from '@gas/messaging';
import { Gauge } from '@gas/runtime';
import type { Registry } from '@gas/runtime';

/**
 * The job queue's depth, read from the annotator consumer at scrape time: what a
 * HorizontalPodAutoscaler (through prometheus-adapter) or KEDA scales the annotator on.
 */
export function registerQueueMetrics(registry: Registry, jsm: JetStreamManager, consumer: string): void {
  let last = { pending: 0, ackPending: 0 };
  let fetching: Promise<void> | undefined;
  // Both gauges come from one consumer-info call per scrape.
  const refresh = () =>
    (fetching ??= consumerBacklog(jsm, streamNames.jobs, consumer)
      .then((b) => {
        last = b;
      })
      .catch(() => undefined) // NATS down: keep the last known values; readiness reports the outage
      .finally(() => {
        fetching = undefined;
      }));
  new Gauge({
    name: 'gas_annotator_queue_pending_messages',
    help: 'Job requests waiting in GAS_JOBS that no annotator has taken yet',
    registers: [registry],
    async collect() {
      await refresh();
      this.set(last.pending);
    },
  });
  new Gauge({
    name: 'gas_annotator_queue_ack_pending_messages',
    help: 'Job requests delivered to annotators and not yet acknowledged (running)',
    registers: [registry],
    async collect() {
      await refresh();
      this.set(last.ackPending);
    },
  });
}
