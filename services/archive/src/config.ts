import { field, readConfig } from '@gas/runtime';
import { streamConfigSpec } from '@gas/messaging';
import { blobStoreConfigSpec } from '@gas/storage';

const spec = {
  natsUrl: field.string('NATS_URL', { default: 'nats://127.0.0.1:4222' }),
  jobGrpcUrl: field.string('JOB_GRPC_URL', { default: '127.0.0.1:50051' }),
  opsPort: field.int('OPS_PORT', { default: 9105, min: 0, max: 65535 }),
  /** Where the ops port listens: every interface for probes and Prometheus in a pod; the local stack keeps it on loopback. */
  opsHost: field.string('OPS_HOST', { default: '0.0.0.0' }),
  logLevel: field.oneOf('LOG_LEVEL', ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const, { default: 'info' }),
  shutdownTimeoutMs: field.int('SHUTDOWN_TIMEOUT_MS', { default: 15_000, min: 1000 }),
  rpcDeadlineMs: field.int('RPC_DEADLINE_MS', { default: 10_000, min: 100 }),
  /** How long a free user's results stay hot after the job completes (the original GAS: 30 minutes). */
  freeRetentionSeconds: field.int('ARCHIVE_FREE_RETENTION_SECONDS', { default: 1800, min: 1 }),
  /** The longest single wait a timer is held for; longer waits are re-armed in steps of this. */
  timerStepSeconds: field.int('ARCHIVE_TIMER_STEP_SECONDS', { default: 3600, min: 1, max: 86_400 }),
  /** How often a restore still under way is checked once its expected time has passed. */
  restorePollSeconds: field.int('ARCHIVE_RESTORE_POLL_SECONDS', { default: 60, min: 1, max: 86_400 }),
  /** Filesystem store only: how long a restore takes, so the local stack shows the restoring state (0: at once). */
  fsRestoreDelaySeconds: field.int('ARCHIVE_FS_RESTORE_DELAY_SECONDS', { default: 0, min: 0, max: 86_400 }),
  /** S3 cold classes only: how many days AWS keeps the temporary restored copy (it is copied back hot at once). */
  s3RestoreDays: field.int('ARCHIVE_S3_RESTORE_DAYS', { default: 1, min: 1, max: 30 }),
  /**
   * How long a message may be held without a sign of life before the server gives it to another
   * replica (both archive consumers). Every replica must use the same value: the last to start sets it.
   */
  ackWaitMs: field.int('ARCHIVE_ACK_WAIT_MS', { default: 60_000, min: 1000, max: 600_000 }),
  /** Timers and restores handled at once by one replica (each one copies a job's result files). */
  concurrency: field.int('ARCHIVE_CONCURRENCY', { default: 16, min: 1, max: 256 }),
  /**
   * Test hook, never set in production: the service stops dead (as if killed) right after the named
   * step, so fault tests can SIGKILL it exactly there. One of copied, recorded, restore-requested, restore-copied.
   */
  stallAfter: field.optional('ARCHIVE_TEST_STALL_AFTER'),
  ...streamConfigSpec,
  ...blobStoreConfigSpec,
};

export type ArchiveConfig = ReturnType<typeof loadConfig>;
export const archiveConfigSpec = spec;
export function loadConfig(env: Record<string, string | undefined>) {
  return readConfig(env, spec);
}
