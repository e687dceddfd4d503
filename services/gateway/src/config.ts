import { field, readConfig } from '@gas/runtime';
import { blobStoreConfigSpec } from '@gas/storage';
import { apiTokenProblems } from './api-token-auth.ts';

const spec = {
  host: field.string('GATEWAY_HOST', { default: '0.0.0.0' }),
  port: field.int('GATEWAY_PORT', { default: 8080, min: 0, max: 65535 }),
  publicUrl: field.optional('GATEWAY_PUBLIC_URL'),
  opsPort: field.int('OPS_PORT', { default: 9100, min: 0, max: 65535 }),
  logLevel: field.oneOf('LOG_LEVEL', ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const, { default: 'info' }),
  jobGrpcUrl: field.string('JOB_GRPC_URL', { default: '127.0.0.1:50051' }),
  rpcDeadlineMs: field.int('RPC_DEADLINE_MS', { default: 10_000, min: 100 }),
  /** `userId:token` pairs until accounts arrive; tokens are compared by SHA-256, never logged. */
  apiTokens: field.list('GATEWAY_API_TOKENS', { default: [], secret: true, check: (items) => apiTokenProblems(items).join('; ') || null }),
  maxUploadBytes: field.int('GATEWAY_MAX_UPLOAD_BYTES', { default: 1024 * 1024 * 1024, min: 1 }),
  shutdownTimeoutMs: field.int('SHUTDOWN_TIMEOUT_MS', { default: 20_000, min: 1000 }),
  /** After SIGTERM, keep serving while /readyz says 503 so load balancers stop sending new requests. */
  drainDelayMs: field.int('GATEWAY_DRAIN_DELAY_MS', { default: 3000, min: 0, max: 60_000 }),
  ...blobStoreConfigSpec,
};

export type GatewayConfig = ReturnType<typeof loadConfig>;
export const gatewayConfigSpec = spec;
export function loadConfig(env: Record<string, string | undefined>) {
  return readConfig(env, spec);
}
