import { field, readConfig } from '@gas/runtime';
import { streamConfigSpec } from '@gas/messaging';

const spec = {
  natsUrl: field.string('NATS_URL', { default: 'nats://127.0.0.1:4222' }),
  opsPort: field.int('OPS_PORT', { default: 9104, min: 0, max: 65535 }),
  /** Where the ops port listens: every interface for probes and Prometheus in a pod; the local stack keeps it on loopback. */
  opsHost: field.string('OPS_HOST', { default: '0.0.0.0' }),
  logLevel: field.oneOf('LOG_LEVEL', ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const, { default: 'info' }),
  /** Where notices are written until the SMTP sender arrives; one file per event id. */
  outboxDir: field.string('NOTIFICATION_OUTBOX_DIR', { default: '.gas/outbox' }),
  shutdownTimeoutMs: field.int('SHUTDOWN_TIMEOUT_MS', { default: 15_000, min: 1000 }),
  ...streamConfigSpec,
};

export type NotificationConfig = ReturnType<typeof loadConfig>;
export const notificationConfigSpec = spec;
export function loadConfig(env: Record<string, string | undefined>) {
  return readConfig(env, spec);
}
