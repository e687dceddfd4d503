import type { NatsConnection } from '@gas/messaging';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Logger, Registry } from '@gas/runtime';
import { JobService } from '@gas/proto';
import type { ServiceClient } from '@gas/proto';
import { ConsumeLoop, consumerSpecs, ensureConsumer, ensureStreams, streamNames, streamSpecsFrom } from '@gas/messaging';
import type { BlobStore } from '@gas/storage';
import type { AnnotatorConfig } from './config.ts';
import { createJobHandler } from './job-handler.ts';
import { registerQueueMetrics } from './queue-metrics.ts';
import type { ReferenceStore } from './reference-store.ts';

export interface AnnotatorApp {
  start(): Promise<void>;
  /** Stops taking jobs; running ones get graceMs to finish, then are released for redelivery. */
  stop(graceMs: number): Promise<void>;
}

export function createAnnotatorApp(deps: {
  config: Pick<
    AnnotatorConfig,
    'annotatorId' | 'concurrency' | 'ackWaitMs' | 'maxDeliver' | 'progressIntervalMs' | 'eventsMaxAgeDays' | 'natsReplicas'
  >;
  nc: NatsConnection;
  jobs: ServiceClient<typeof JobService>;
  store: BlobStore;
  references: ReferenceStore;
  logger: Logger;
  registry: Registry;
}): AnnotatorApp {
  let loop: ConsumeLoop | undefined;
  return {
    async start() {
      const { config, nc, logger } = deps;
      const jsm = await jetstreamManager(nc);
      await ensureStreams(jsm, streamSpecsFrom(deps.config));
      const consumer = consumerSpecs.annotator({
        ackWaitMs: config.ackWaitMs,
        maxDeliver: config.maxDeliver,
        maxAckPending: 1000,
      });
      await ensureConsumer(jsm, streamNames.jobs, consumer);
      registerQueueMetrics(deps.registry, jsm, consumer.durable_name);
      loop = new ConsumeLoop({
        js: jetstream(nc),
        stream: streamNames.jobs,
        consumer: consumer.durable_name,
        maxInFlight: config.concurrency,
        heartbeatMs: Math.max(500, Math.floor(config.ackWaitMs / 3)),
        logger,
        registry: deps.registry,
        metricsPrefix: 'gas_annotator',
        handler: createJobHandler({
          jobs: deps.jobs,
          store: deps.store,
          references: deps.references,
          logger,
          annotatorId: config.annotatorId,
          maxDeliver: config.maxDeliver,
          progressIntervalMs: config.progressIntervalMs,
        }),
      });
      loop.start();
      logger.info({ concurrency: config.concurrency }, 'annotator consuming');
    },
    async stop(graceMs) {
      await loop?.stop({ graceMs });
    },
  };
}
