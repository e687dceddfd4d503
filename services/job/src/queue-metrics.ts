import type { JetStreamManager } from '@nats-io/jetstream';
import { Gauge } from '@gas/runtime';
import type { Registry } from '@gas/runtime';
import { readQueueStats } from './queue-stats.ts';
import type { QueueStats } from './queue-stats.ts';

/**
 * The annotator queue's depth, read from JetStream when scraped: what the annotator's
 * HorizontalPodAutoscaler (through prometheus-adapter) scales on. The job service exports it
 * because it always runs, also while annotators are scaled to zero. The figures are cluster-wide,
 * so only the replica holding the lease (`isExporter`) exports them: one series per cluster;
 * the others export none.
 */
export function registerQueueMetrics(
  registry: Registry,
  deps: { jsm: JetStreamManager; annotatorConsumer: string; isExporter: () => boolean },
): void {
  let reading: Promise<QueueStats | undefined> | undefined;
  // The four gauges come from one read per scrape.
  const read = () =>
    (reading ??= readQueueStats(deps.jsm, deps.annotatorConsumer)
      .catch(() => undefined) // NATS away: no figures rather than stale ones; readiness reports the outage
      .finally(() => setImmediate(() => (reading = undefined))));
  const labels = { consumer: deps.annotatorConsumer };
  const gauge = (name: string, help: string, value: (s: QueueStats) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['consumer'],
      registers: [registry],
      async collect() {
        this.reset();
        if (!deps.isExporter()) return;
        const stats = await read();
        if (stats) this.set(labels, value(stats));
      },
    });
  gauge(
    'gas_job_queue_depth_jobs',
    'Job requests waiting for or held by an annotator (the annotator consumer pending + ack pending): the autoscaling signal',
    (s) => s.depth,
  );
  gauge('gas_job_queue_waiting_jobs', 'Job requests no annotator has taken yet', (s) => s.waiting);
  gauge('gas_job_queue_running_jobs', 'Job requests delivered to annotators and not yet acknowledged', (s) => s.running);
  gauge('gas_job_queue_oldest_waiting_seconds', 'Age of the oldest job request no annotator has taken yet (0 when none waits)', (s) =>
    s.oldestWaitingSince ? Math.max(0, (s.readAt.getTime() - s.oldestWaitingSince.getTime()) / 1000) : 0,
  );
  new Gauge({
    name: 'gas_job_queue_metrics_exporter',
    help: '1 on the job service replica that exports the queue figures, 0 on the others',
    registers: [registry],
    collect() {
      this.set(deps.isExporter() ? 1 : 0);
    },
  });
}
