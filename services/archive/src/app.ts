import type { JetStreamManager, NatsConnection } from '@gas/messaging';
import {
  ConsumeLoop,
  consumerSpecs,
  ensureConsumer,
  ensureStreams,
  jetstream,
  jetstreamManager,
  streamNames,
  streamSpecsFrom,
} from '@gas/messaging';
import { faultStall } from '@gas/runtime';
import type { Logger, Registry } from '@gas/runtime';
import type { AccountService, JobService, ServiceClient } from '@gas/proto';
import type { BlobStore } from '@gas/storage';
import type { ArchiveConfig } from './config.ts';
import { createArchiveMetrics } from './archive-metrics.ts';
import { ArchiveTier } from './archive-tier.ts';
import { ArchiveTimers, timerSubjects } from './archive-timers.ts';
import { createEventHandler } from './event-handler.ts';
import { JobRecords } from './job-records.ts';
import { createTimerHandler } from './timer-handler.ts';
import type { StallPoint } from './timer-handler.ts';

export interface ArchiveAppDeps {
  config: ArchiveConfig;
  nc: NatsConnection;
  store: BlobStore;
  jobs: ServiceClient<typeof JobService>;
  accounts: ServiceClient<typeof AccountService>;
  logger: Logger;
  registry: Registry;
  now?: () => Date;
}

/** Timers waiting on GAS_ARCHIVE, by kind, from the stream's per-subject counts. */
async function pendingTimers(jsm: JetStreamManager): Promise<{ archive: number; restore: number }> {
  const info = await jsm.streams.info(streamNames.archive, { subjects_filter: 'gas.archive.>' });
  const counts = info.state.subjects ?? {};
  return { archive: counts[timerSubjects.archive] ?? 0, restore: counts[timerSubjects.restore] ?? 0 };
}

export function createArchiveApp(deps: ArchiveAppDeps) {
  const { config, logger } = deps;
  const js = jetstream(deps.nc);
  let jsm: JetStreamManager | undefined;
  const metrics = createArchiveMetrics(deps.registry, async () => (jsm ? pendingTimers(jsm) : { archive: 0, restore: 0 }));
  const records = new JobRecords(deps.jobs, deps.accounts);
  const timers = new ArchiveTimers(js);
  // One S3 bucket for both areas: archiving changes the storage class in place.
  const inPlace = config.blobStore === 's3' && config.s3BucketResults === config.s3BucketArchive;
  const tier = new ArchiveTier(deps.store, inPlace, config.s3ArchiveStorageClass || undefined);
  const stall = faultStall<StallPoint>(config.stallAfter, 'ARCHIVE_TEST_STALL_AFTER', logger);
  const loops: ConsumeLoop[] = [];

  return {
    tier,
    async start(): Promise<void> {
      jsm = await jetstreamManager(deps.nc);
      await ensureStreams(jsm, streamSpecsFrom(config));
      const events = consumerSpecs.archive({ ackWaitMs: config.ackWaitMs });
      const timerConsumer = consumerSpecs.archiveTimer({ ackWaitMs: config.ackWaitMs });
      await ensureConsumer(jsm, streamNames.events, events);
      await ensureConsumer(jsm, streamNames.archive, timerConsumer);
      const common = { js, logger, registry: deps.registry, metricsPrefix: 'gas_archive', heartbeatMs: Math.floor(config.ackWaitMs / 3) };
      loops.push(
        new ConsumeLoop({
          ...common,
          stream: streamNames.events,
          consumer: events.durable_name,
          maxInFlight: 8,
          handler: createEventHandler({
            records,
            store: deps.store,
            timers,
            metrics,
            logger,
            freeRetentionMs: config.freeRetentionSeconds * 1000,
          }),
        }),
        new ConsumeLoop({
          ...common,
          stream: streamNames.archive,
          consumer: timerConsumer.durable_name,
          maxInFlight: config.concurrency,
          handler: createTimerHandler({
            records,
            store: deps.store,
            timers,
            tier,
            metrics,
            logger,
            timerStepMs: config.timerStepSeconds * 1000,
            restorePollMs: config.restorePollSeconds * 1000,
            now: deps.now,
            stall,
          }),
        }),
      );
      for (const loop of loops) loop.start();
      logger.info({ tier: tier.name, inPlace, freeRetentionSeconds: config.freeRetentionSeconds }, 'archiving');
    },
    async stop(graceMs: number): Promise<void> {
      await Promise.all(loops.map((loop) => loop.stop({ graceMs })));
    },
  };
}
