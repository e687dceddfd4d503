import { field, readConfig } from '@gas/runtime';
import { streamConfigSpec } from '@gas/messaging';

const spec = {
  natsUrl: field.string('NATS_URL', { default: 'nats://127.0.0.1:4222' }),
  jobGrpcUrl: field.string('JOB_GRPC_URL', { default: '127.0.0.1:50051' }),
  grpcHost: field.string('NOTIFICATION_GRPC_HOST', { default: '0.0.0.0' }),
  grpcPort: field.int('NOTIFICATION_GRPC_PORT', { default: 50052, min: 0, max: 65535 }),
  opsPort: field.int('OPS_PORT', { default: 9104, min: 0, max: 65535 }),
  /** Where the ops port listens: every interface for probes and Prometheus in a pod; the local stack keeps it on loopback. */
  opsHost: field.string('OPS_HOST', { default: '0.0.0.0' }),
  logLevel: field.oneOf('LOG_LEVEL', ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const, { default: 'info' }),
  shutdownTimeoutMs: field.int('SHUTDOWN_TIMEOUT_MS', { default: 15_000, min: 1000 }),
  rpcDeadlineMs: field.int('RPC_DEADLINE_MS', { default: 10_000, min: 100 }),
  /** The site's address as users reach it: links in emails point there. */
  publicUrl: field.string('NOTIFICATION_PUBLIC_URL', { default: 'http://127.0.0.1:8080' }),
  /** Unset: emails are written to NOTIFICATION_OUTBOX_DIR as .eml files (the local stack). smtp:// or smtps:// (implicit TLS). */
  smtpUrl: field.optional('SMTP_URL', { secret: true }),
  smtpUser: field.optional('SMTP_USER'),
  smtpPassword: field.string('SMTP_PASSWORD', { default: '', secret: true }),
  smtpFrom: field.string('SMTP_FROM', { default: 'GAS <gas@localhost>' }),
  /** Refuse to send unless the server offers STARTTLS (smtp:// URLs); keep it on outside a test network. */
  smtpRequireTls: field.bool('SMTP_REQUIRE_TLS', { default: true }),
  /** The pooled SMTP connections one replica keeps at most. */
  smtpMaxConnections: field.int('SMTP_MAX_CONNECTIONS', { default: 3, min: 1, max: 50 }),
  outboxDir: field.string('NOTIFICATION_OUTBOX_DIR', { default: '.gas/outbox' }),
  /** Events handled at once by one replica. */
  concurrency: field.int('NOTIFICATION_CONCURRENCY', { default: 8, min: 1, max: 256 }),
  /** Deliveries of an event before its email is given up (transient failures back off 1 s doubling to 60 s: 100 is about 1.5 hours). */
  maxDeliver: field.int('NOTIFICATION_MAX_DELIVER', { default: 100, min: 2, max: 10_000 }),
  ackWaitMs: field.int('NOTIFICATION_ACK_WAIT_MS', { default: 30_000, min: 1000, max: 600_000 }),
  /** How often a deleted account's events are looked for in GAS_EVENTS and erased (event-erasure.ts). */
  eraseIntervalMs: field.int('NOTIFICATION_ERASE_INTERVAL_MS', { default: 60_000, min: 100, max: 3_600_000 }),
  /**
   * Test hook, never set in production: the service stops dead (as if killed) right after the named
   * step, so fault tests can SIGKILL it exactly there: sent (mail accepted, not yet recorded) or recorded (not yet acked).
   */
  stallAfter: field.optional('NOTIFICATION_TEST_STALL_AFTER'),
  ...streamConfigSpec,
};

export type NotificationConfig = ReturnType<typeof loadConfig>;
export const notificationConfigSpec = spec;
export function loadConfig(env: Record<string, string | undefined>) {
  return readConfig(env, spec);
}
