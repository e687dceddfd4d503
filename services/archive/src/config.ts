import { field, readConfig } from '@gas/runtime';
import { streamConfigSpec } from '@gas/messaging';

const spec = {
  natsUrl: field.string('NATS_URL', { default: 'nats://127.0.0.1:4222' }),
  opsPort: field.int('OPS_PORT', { default: 9105, min: 0, max: 65535 }),
  /** Where the ops port listens: every interface for probes and Prometheus in a pod; the local stack keeps it on loopback. */
  opsHost: field.string('OPS_HOST', { default: '0.0.0.0' }),
  logLevel: field.oneOf('LOG_LEVEL', ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const, { default: 'info' }),
  shutdownTimeoutMs: field.int('SHUTDOWN_TIMEOUT_MS', { default: 15_000, min: 1000 }),
  ...streamConfigSpec,
};

export type ArchiveConfig = ReturnType<typeof loadConfig>;
export const archiveConfigSpec = spec;
export function loadConfig(env: Record<string, string | undefined>) {
  return readConfig(env, spec);
}
