import type { NatsConnection } from '@gas/messaging';
import type { StreamConfig } from '@gas/messaging';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Logger, Registry } from '@gas/runtime';
import { ConsumeLoop, consumerSpecs, ensureConsumer, ensureStreams, streamNames, streamSpecsFrom } from '@gas/messaging';
import { createEventRecorder } from './event-recorder.ts';

export function createArchiveApp(deps: { config: StreamConfig; nc: NatsConnection; logger: Logger; registry: Registry }) {
  let loop: ConsumeLoop | undefined;
  return {
    async start(): Promise<void> {
      const jsm = await jetstreamManager(deps.nc);
      await ensureStreams(jsm, streamSpecsFrom(deps.config));
      const consumer = consumerSpecs.archive();
      await ensureConsumer(jsm, streamNames.events, consumer);
      // The timer consumer is declared now so its stream and durable exist before timers arrive.
      await ensureConsumer(jsm, streamNames.archive, consumerSpecs.archiveTimer());
      loop = new ConsumeLoop({
        js: jetstream(deps.nc),
        stream: streamNames.events,
        consumer: consumer.durable_name,
        maxInFlight: 8,
        heartbeatMs: 10_000,
        logger: deps.logger,
        registry: deps.registry,
        metricsPrefix: 'gas_archive',
        handler: createEventRecorder({ logger: deps.logger, registry: deps.registry }),
      });
      loop.start();
    },
    async stop(graceMs: number): Promise<void> {
      await loop?.stop({ graceMs });
    },
  };
}
