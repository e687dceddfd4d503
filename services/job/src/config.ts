import { field, readConfig } from '@gas/runtime';
import { streamConfigSpec } from '@gas/messaging';

const spec = {
  natsUrl: field.string('NATS_URL', { default: 'nats://127.0.0.1:4222' }),
  grpcHost: field.string('JOB_GRPC_HOST', { default: '0.0.0.0' }),
  grpcPort: field.int('JOB_GRPC_PORT', { default: 50051, min: 0, max: 65535 }),
  opsPort: field.int('OPS_PORT', { default: 9101, min: 0, max: 65535 }),
  /** Where the ops port listens: every interface for probes and Prometheus in a pod; the local stack keeps it on loopback. */
  opsHost: field.string('OPS_HOST', { default: '0.0.0.0' }),
  logLevel: field.oneOf('LOG_LEVEL', ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const, { default: 'info' }),
  idempotencyTtlHours: field.int('JOB_IDEMPOTENCY_TTL_HOURS', { default: 24, min: 1, max: 24 * 30 }),
  shutdownTimeoutMs: field.int('SHUTDOWN_TIMEOUT_MS', { default: 20_000, min: 1000 }),
  /**
   * One replica at a time exports the cluster-wide queue figures, under a lease in NATS KV; a dead
   * holder's lease expires after this long and another replica takes over.
   */
  queueMetricsLeaseSeconds: field.int('JOB_QUEUE_METRICS_LEASE_SECONDS', { default: 15, min: 1, max: 600 }),
  /** Names this replica in the lease (the chart sets the pod name); host name and process id when unset. */
  replicaId: field.optional('JOB_REPLICA_ID'),
  ...streamConfigSpec,
};

export type JobConfig = ReturnType<typeof loadConfig>;

export function loadConfig(env: Record<string, string | undefined>) {
  return readConfig(env, spec);
}

export { spec as jobConfigSpec };
