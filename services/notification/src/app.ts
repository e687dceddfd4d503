import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@gas/messaging';
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
import { addService, startGrpcServer, NotificationService } from '@gas/proto';
import type { AccountService, GrpcServerHandle, ServiceClient } from '@gas/proto';
import type { NotificationConfig } from './config.ts';
import { ErasureRequests, EventEraser } from './event-erasure.ts';
import { createEventHandler } from './event-handler.ts';
import type { StallPoint } from './event-handler.ts';
import type { Mailer } from './mailer.ts';
import { createNotificationMetrics } from './notification-metrics.ts';
import { createNotificationService } from './notification-service.ts';
import { NoticeStore } from './notice-store.ts';
import { SendLog } from './send-log.ts';

export const buckets = {
  notices: 'gas-notices',
  reads: 'gas-notice-reads',
  sends: 'gas-notification-sends',
  deletedJobs: 'gas-notice-deleted-jobs',
  erasures: 'gas-event-erasures',
} as const;
const NOTICE_DAYS = 90;

export interface NotificationAppDeps {
  config: NotificationConfig;
  nc: NatsConnection;
  accounts: ServiceClient<typeof AccountService>;
  mailer: Mailer;
  logger: Logger;
  registry: Registry;
}

export function createNotificationApp(deps: NotificationAppDeps) {
  const { config, logger } = deps;
  let loop: ConsumeLoop | undefined;
  let server: GrpcServerHandle | undefined;
  let eraser: EventEraser | undefined;
  const stopping = new AbortController();
  const stall = faultStall<StallPoint>(config.stallAfter, 'NOTIFICATION_TEST_STALL_AFTER', logger);

  return {
    /** Opens the buckets and streams, serves gRPC, starts consuming. Returns the gRPC port. */
    async start(): Promise<number> {
      const jsm = await jetstreamManager(deps.nc);
      await ensureStreams(jsm, streamSpecsFrom(config));
      const js = jetstream(deps.nc);
      const kvm = new Kvm(js);
      const kvOpts = { replicas: config.natsReplicas, history: 1, storage: 'file' as const };
      const notices = new NoticeStore(
        await kvm.create(buckets.notices, { ...kvOpts, ttl: NOTICE_DAYS * 86_400_000 }),
        await kvm.create(buckets.reads, kvOpts),
        jsm,
        buckets.notices,
        // Kept as long as the send records: every event of a deleted job was published before its
        // job.deleted, so GAS_EVENTS (7 days by default) has dropped it long before its tombstone goes.
        // A deleted account's tombstone is here too, for the same time (see README).
        await kvm.create(buckets.deletedJobs, { ...kvOpts, ttl: NOTICE_DAYS * 86_400_000 }),
        buckets.reads,
      );
      // Records outlive GAS_EVENTS (7 days by default), so an event redelivered from it always finds its record.
      const sends = new SendLog(await kvm.create(buckets.sends, { ...kvOpts, ttl: NOTICE_DAYS * 86_400_000 }));
      server = await startGrpcServer({
        host: config.grpcHost,
        port: config.grpcPort,
        serviceNames: [NotificationService.typeName],
        register: (s) => addService(s, NotificationService, createNotificationService({ notices, stopping: stopping.signal }), { logger }),
      });
      // A request not moved on for longer than GAS_EVENTS keeps events has nothing left to erase.
      const erasures = new ErasureRequests(
        await kvm.create(buckets.erasures, { ...kvOpts, ttl: (config.eventsMaxAgeDays + 1) * 86_400_000 }),
      );
      const metrics = createNotificationMetrics(deps.registry);
      const consumer = consumerSpecs.notification({ ackWaitMs: config.ackWaitMs, maxDeliver: config.maxDeliver });
      await ensureConsumer(jsm, streamNames.events, consumer);
      loop = new ConsumeLoop({
        js,
        stream: streamNames.events,
        consumer: consumer.durable_name,
        maxInFlight: config.concurrency,
        heartbeatMs: Math.floor(config.ackWaitMs / 3),
        logger,
        registry: deps.registry,
        metricsPrefix: 'gas_notification',
        handler: createEventHandler({
          notices,
          sends,
          accounts: deps.accounts,
          mailer: deps.mailer,
          publicUrl: config.publicUrl,
          metrics,
          logger,
          erasures,
          // erase: a plain delete only marks the message deleted, and its bytes, the token among them,
          // stay in the stream's block file (and its backups) until the whole block ages out, up to
          // GAS_EVENTS_MAX_AGE_DAYS. Overwriting them is the point of deleting, and costs one small
          // write per confirmation.
          deleteEventMessage: (seq) => jsm.streams.deleteMessage(streamNames.events, seq, true),
          stall,
        }),
      });
      loop.start();
      eraser = new EventEraser({
        js,
        jsm,
        requests: erasures,
        eventsMaxAgeDays: config.eventsMaxAgeDays,
        intervalMs: config.eraseIntervalMs,
        erased: metrics.eventsErased,
        logger,
      });
      eraser.start();
      logger.info({ port: server.port, mail: deps.mailer.kind }, 'notification service listening');
      return server.port;
    },
    async stop(graceMs: number): Promise<void> {
      stopping.abort();
      await Promise.all([loop?.stop({ graceMs }), server?.shutdown(graceMs), eraser?.stop()]);
    },
  };
}
