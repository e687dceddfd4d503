import { hostname } from 'node:os';
import { field, readConfig } from '@gas/runtime';
import { streamConfigSpec } from '@gas/messaging';
import { blobStoreConfigSpec } from '@gas/storage';

const spec = {
  natsUrl: field.string('NATS_URL', { default: 'nats://127.0.0.1:4222' }),
  jobGrpcUrl: field.string('JOB_GRPC_URL', { default: '127.0.0.1:50051' }),
  opsPort: field.int('OPS_PORT', { default: 9103, min: 0, max: 65535 }),
  /** Where the ops port listens: every interface for probes and Prometheus in a pod; the local stack keeps it on loopback. */
  opsHost: field.string('OPS_HOST', { default: '0.0.0.0' }),
  logLevel: field.oneOf('LOG_LEVEL', ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const, { default: 'info' }),
  /** Folder with `<build>.gasref` files made by `gas-annotate build-db` (GRCh37.gasref, GRCh38.gasref). */
  referenceDir: field.string('ANNOTATOR_REFERENCE_DIR', { default: '.gas/reference' }),
  annotatorId: field.string('ANNOTATOR_ID', { default: `${hostname()}-${process.pid}` }),
  concurrency: field.int('ANNOTATOR_CONCURRENCY', { default: 2, min: 1, max: 64 }),
  /** Worker threads annotating alongside the main thread (0: main thread only). Each holds its own gene-model index. */
  workerThreads: field.int('ANNOTATOR_WORKER_THREADS', { default: 0, min: 0, max: 16 }),
  /** The longest input line accepted: a generous bound, so a file without newlines cannot fill the memory. */
  maxLineBytes: field.int('ANNOTATOR_MAX_LINE_BYTES', { default: 64 * 1024 * 1024, min: 1024, max: 1024 * 1024 * 1024 }),
  ackWaitMs: field.int('ANNOTATOR_ACK_WAIT_MS', { default: 30_000, min: 1000 }),
  maxDeliver: field.int('ANNOTATOR_MAX_DELIVER', { default: 5, min: 1, max: 100 }),
  progressIntervalMs: field.int('ANNOTATOR_PROGRESS_INTERVAL_MS', { default: 1000, min: 100 }),
  /** How often it tells listeners (the gateway) that it can take jobs; silent for three of these, it counts as gone. */
  heartbeatMs: field.int('ANNOTATOR_HEARTBEAT_MS', { default: 5000, min: 100, max: 60_000 }),
  rpcDeadlineMs: field.int('RPC_DEADLINE_MS', { default: 10_000, min: 100 }),
  drainGraceMs: field.int('ANNOTATOR_DRAIN_GRACE_MS', { default: 15_000, min: 0 }),
  shutdownTimeoutMs: field.int('SHUTDOWN_TIMEOUT_MS', { default: 25_000, min: 1000 }),
  ...streamConfigSpec,
  ...blobStoreConfigSpec,
};

export type AnnotatorConfig = ReturnType<typeof loadConfig>;
export const annotatorConfigSpec = spec;
export function loadConfig(env: Record<string, string | undefined>) {
  return readConfig(env, spec);
}
