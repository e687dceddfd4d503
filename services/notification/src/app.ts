import type { NatsConnection } from '@gas/messaging';
import type { StreamConfig } from '@gas/messaging';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Logger, Registry } from '@gas/runtime';
import { ConsumeLoop, consumerSpecs, ensureConsumer, ensureStreams, streamNames, streamSpecsFrom } from '@gas/messaging';
import { Outbox } from './outbox.ts';
import { createEventHandler } from './event-handler.ts';

export function createNotificationApp(deps: {
  config: StreamConfig;
  outboxDir: string;
  nc: NatsConnection;
  logger: Logger;
  registry: Registry;
}) {
  let loop: ConsumeLoop | undefined;
  return {
    async start(): Promise<void> {
      const outbox = new Outbox(deps.outboxDir);
      await outbox.init();
      const jsm = await jetstreamManager(deps.nc);
      await ensureStreams(jsm, streamSpecsFrom(deps.config));
      const consumer = consumerSpecs.notification();
      await ensureConsumer(jsm, streamNames.events, consumer);
      loop = new ConsumeLoop({
        js: jetstream(deps.nc),
        stream: streamNames.events,
        consumer: consumer.durable_name,
        maxInFlight: 8,
        heartbeatMs: 10_000,
        logger: deps.logger,
        registry: deps.registry,
        metricsPrefix: 'gas_notification',
        handler: createEventHandler({ outbox, logger: deps.logger, registry: deps.registry }),
      });
      loop.start();
    },
    async stop(graceMs: number): Promise<void> {
      await loop?.stop({ graceMs });
    },
  };
}
