import type { NatsConnection } from '@gas/messaging';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { Logger, Registry } from '@gas/runtime';
import { addService, startGrpcServer, AccountService, JobService } from '@gas/proto';
import type { GrpcServerHandle } from '@gas/proto';
import { ensureConsumer, ensureStreams, streamNames, streamSpecsFrom, consumerSpecs } from '@gas/messaging';
import type { JobConfig } from './config.ts';
import { JobStore } from './job-store.ts';
import { IdempotencyStore } from './idempotency-store.ts';
import { AccountStore } from './account-store.ts';
import { createJobService } from './job-service.ts';
import { createJobDeletion } from './job-deletion.ts';
import { createAccountService } from './account-service.ts';
import { natsOutageToRpc } from './nats-outage.ts';
import { KvLease } from './lease.ts';
import { registerQueueMetrics } from './queue-metrics.ts';
import { randomUUID } from 'node:crypto';

export const buckets = { jobs: 'gas-jobs', accounts: 'gas-accounts', idempotency: 'gas-idempotency', leases: 'gas-job-leases' } as const;

export interface JobApp {
  /** Opens buckets and streams (idempotent), then serves gRPC. Returns the bound port. */
  start(): Promise<number>;
  /** Stops serving: health NOT_SERVING, watch streams end, in-flight calls get graceMs. */
  stop(graceMs: number): Promise<void>;
}

export function createJobApp(deps: {
  config: Pick<JobConfig, 'grpcHost' | 'grpcPort' | 'idempotencyTtlHours' | 'eventsMaxAgeDays' | 'natsReplicas'> &
    Partial<Pick<JobConfig, 'queueMetricsLeaseSeconds'>>;
  /** Names this replica in the queue-metrics lease (the pod name in a cluster). */
  replicaId?: string;
  nc: NatsConnection;
  logger: Logger;
  registry: Registry;
  staleClaimMs?: number;
}): JobApp {
  let server: GrpcServerHandle | undefined;
  let lease: KvLease | undefined;
  const stopping = new AbortController();
  return {
    async start() {
      const { config, nc, logger, registry } = deps;
      const jsm = await jetstreamManager(nc);
      await ensureStreams(jsm, streamSpecsFrom(config));
      const js = jetstream(nc);
      const kvm = new Kvm(js);
      const kvOpts = { replicas: config.natsReplicas, history: 1, storage: 'file' as const };
      const jobs = new JobStore(await kvm.create(buckets.jobs, kvOpts), jsm, buckets.jobs, (err) =>
        logger.warn({ err }, 'the job index lost its watch of the bucket; watching again'),
      );
      // Replaying the bucket into the index starts now, so the first reads do not wait for all of it.
      jobs.startIndex();
      const accounts = new AccountStore(await kvm.create(buckets.accounts, kvOpts));
      const idempotency = new IdempotencyStore(
        await kvm.create(buckets.idempotency, { ...kvOpts, ttl: config.idempotencyTtlHours * 3600_000 }),
      );
      const annotatorSpec = consumerSpecs.annotator({ ackWaitMs: 30_000, maxDeliver: 5, maxAckPending: 1000 });
      const annotatorConsumer = annotatorSpec.durable_name;
      // The queue exists before any annotator has started (annotators scaled to zero on a fresh
      // install), so KEDA and the queue figures read the consumer's own counts from the start. The
      // annotators own its settings and update them to their configuration when they start.
      await ensureConsumer(jsm, streamNames.jobs, annotatorSpec, { onlyIfMissing: true });
      const leaseTtlMs = (config.queueMetricsLeaseSeconds ?? 15) * 1000;
      lease = new KvLease(
        await kvm.create(buckets.leases, { ...kvOpts, ttl: leaseTtlMs }),
        'queue-metrics',
        deps.replicaId ?? `job-${process.pid}-${randomUUID().slice(0, 8)}`,
        leaseTtlMs,
        logger,
      );
      lease.start();
      const exporter = lease;
      registerQueueMetrics(registry, { jsm, annotatorConsumer, isExporter: () => exporter.held });
      const deleteJob = createJobDeletion({ jobs, idempotency, js, logger, registry });
      const jobImpl = createJobService({
        jobs,
        idempotency,
        js,
        jsm,
        logger,
        registry,
        deleteJob,
        annotatorConsumer,
        staleClaimMs: deps.staleClaimMs,
        stopping: stopping.signal,
      });
      const accountImpl = createAccountService({ accounts, jobs, deleteJob, idempotency, js, logger, registry });
      server = await startGrpcServer({
        host: config.grpcHost,
        port: config.grpcPort,
        serviceNames: [JobService.typeName, AccountService.typeName],
        register: (s) => {
          addService(s, JobService, jobImpl, { logger, mapError: natsOutageToRpc });
          addService(s, AccountService, accountImpl, { logger, mapError: natsOutageToRpc });
        },
      });
      logger.info({ port: server.port }, 'job service listening');
      return server.port;
    },
    async stop(graceMs) {
      stopping.abort();
      await lease?.stop();
      await server?.shutdown(graceMs);
    },
  };
}
