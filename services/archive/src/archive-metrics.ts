import { Counter, Gauge, Histogram } from '@gas/runtime';
import type { Registry } from '@gas/runtime';

export type ArchiveMetrics = ReturnType<typeof createArchiveMetrics>;

/**
 * `pendingTimers` reads the GAS_ARCHIVE stream when scraped: every replica reports the same
 * cluster-wide figure, so dashboards take max() over replicas, not sum().
 */
export function createArchiveMetrics(registry: Registry, pendingTimers: () => Promise<{ archive: number; restore: number }>) {
  return {
    timersPending: new Gauge({
      name: 'gas_archive_timers_pending',
      help: 'Timers waiting on the GAS_ARCHIVE stream (cluster-wide), by kind: archive (retention running) or restore (restore under way)',
      labelNames: ['kind'],
      registers: [registry],
      async collect() {
        const n = await pendingTimers().catch(() => undefined);
        if (!n) return;
        this.set({ kind: 'archive' }, n.archive);
        this.set({ kind: 'restore' }, n.restore);
      },
    }),
    timersSet: new Counter({
      name: 'gas_archive_timers_set_total',
      help: 'Archive timers set on job.completed for free users',
      registers: [registry],
    }),
    lag: new Histogram({
      name: 'gas_archive_lag_seconds',
      help: 'How late an archive timer was acted on: when the results started to move minus when they were due',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    archives: new Counter({
      name: 'gas_archive_archives_total',
      help: 'Due archive timers, by tier and outcome (archived, skipped, failed)',
      labelNames: ['tier', 'outcome'],
      registers: [registry],
    }),
    restores: new Counter({
      name: 'gas_archive_restores_total',
      help: 'Restores, by tier and outcome (requested, restored, failed)',
      labelNames: ['tier', 'outcome'],
      registers: [registry],
    }),
    deletedObjects: new Counter({
      name: 'gas_archive_deleted_objects_total',
      help: 'Objects of deleted jobs removed from the blob store, by area (inputs, results, archive)',
      labelNames: ['area'],
      registers: [registry],
    }),
    restoreWait: new Histogram({
      name: 'gas_archive_restore_wait_seconds',
      help: 'From the upgrade that asked for a restore to the results being available again, by tier',
      labelNames: ['tier'],
      buckets: [1, 5, 15, 60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 48 * 3600],
      registers: [registry],
    }),
  };
}
