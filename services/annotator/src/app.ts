import type { AnnotatorAnnouncer, NatsConnection } from '@gas/messaging';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Logger, Registry } from '@gas/runtime';
import { JobService } from '@gas/proto';
import type { ServiceClient } from '@gas/proto';
import { announceAnnotator, ConsumeLoop, consumerSpecs, ensureConsumer, ensureStreams, streamNames, streamSpecsFrom } from '@gas/messaging';
import type { BlobStore } from '@gas/storage';
import type { AnnotatorConfig } from './config.ts';
import { createJobHandler } from './job-handler.ts';
import type { ReferenceStore } from './reference-store.ts';

export interface AnnotatorApp {
  start(): Promise<void>;
  /** Stops taking jobs; running ones get graceMs to finish, then are released for redelivery. */
  stop(graceMs: number): Promise<void>;
}

export function createAnnotatorApp(deps: {
  config: Pick<
    AnnotatorConfig,
    'annotatorId' | 'concurrency' | 'ackWaitMs' | 'maxDeliver' | 'progressIntervalMs' | 'eventsMaxAgeDays' | 'natsReplicas' | 'heartbeatMs'
  > &
    Partial<Pick<AnnotatorConfig, 'maxLineBytes'>>;
  nc: NatsConnection;
  jobs: ServiceClient<typeof JobService>;
  store: BlobStore;
  references: ReferenceStore;
  logger: Logger;
  registry: Registry;
}): AnnotatorApp {
  let loop: ConsumeLoop | undefined;
  let presence: AnnotatorAnnouncer | undefined;
  let busy = 0;
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
      const handle = createJobHandler({
        jobs: deps.jobs,
        store: deps.store,
        references: deps.references,
        logger,
        annotatorId: config.annotatorId,
        maxDeliver: config.maxDeliver,
        progressIntervalMs: config.progressIntervalMs,
        maxLineBytes: config.maxLineBytes,
      });
      loop = new ConsumeLoop({
        js: jetstream(nc),
        stream: streamNames.jobs,
        consumer: consumer.durable_name,
        maxInFlight: config.concurrency,
        heartbeatMs: Math.max(500, Math.floor(config.ackWaitMs / 3)),
        logger,
        registry: deps.registry,
        metricsPrefix: 'gas_annotator',
        handler: async (msg, ctx) => {
          presence?.setBusy(++busy);
          try {
            return await handle(msg, ctx);
          } finally {
            presence?.setBusy(--busy);
          }
        },
      });
      loop.start();
      // Only now can jobs make progress: the gateway's readiness and pages follow this.
      presence = announceAnnotator(nc, { annotatorId: config.annotatorId, slots: config.concurrency, intervalMs: config.heartbeatMs });
      logger.info({ concurrency: config.concurrency }, 'annotator consuming');
    },
    async stop(graceMs) {
      presence?.leave();
      await loop?.stop({ graceMs });
    },
  };
}
