import { field, readConfig, ConfigError } from '@gas/runtime';
import { blobStoreConfigSpec } from '@gas/storage';
import { apiTokenProblems } from './api-token-auth.ts';

const spec = {
  host: field.string('GATEWAY_HOST', { default: '0.0.0.0' }),
  port: field.int('GATEWAY_PORT', { default: 8080, min: 0, max: 65535 }),
  /** The URL users reach the gateway at; https turns on Secure cookies. */
  publicUrl: field.optional('GATEWAY_PUBLIC_URL'),
  opsPort: field.int('OPS_PORT', { default: 9100, min: 0, max: 65535 }),
  /** Where the ops port listens: every interface for probes and Prometheus in a pod; the local stack keeps it on loopback. */
  opsHost: field.string('OPS_HOST', { default: '0.0.0.0' }),
  logLevel: field.oneOf('LOG_LEVEL', ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const, { default: 'info' }),
  jobGrpcUrl: field.string('JOB_GRPC_URL', { default: '127.0.0.1:50051' }),
  rpcDeadlineMs: field.int('RPC_DEADLINE_MS', { default: 10_000, min: 100 }),
  /** In-app notices (the header's count, /notices, the live stream's toasts); the pages do without them while it is away. */
  notificationGrpcUrl: field.string('NOTIFICATION_GRPC_URL', { default: '127.0.0.1:50052' }),
  /** The gateway keeps credentials, sessions and API tokens in its own JetStream KV buckets. */
  natsUrl: field.string('NATS_URL', { default: 'nats://127.0.0.1:4222' }),
  natsReplicas: field.int('NATS_REPLICAS', { default: 1, min: 1, max: 5 }),
  /** Operator-issued `userId:token` pairs (local stack, load tests); tokens are compared by SHA-256, never logged. */
  apiTokens: field.list('GATEWAY_API_TOKENS', { default: [], secret: true, check: (items) => apiTokenProblems(items).join('; ') || null }),
  /** The free plan's input size limit. */
  freeMaxUploadBytes: field.int('GATEWAY_FREE_MAX_UPLOAD_BYTES', { default: 150 * 1024, min: 1 }),
  /** The operator's cap for everyone, premium included. */
  maxUploadBytes: field.int('GATEWAY_MAX_UPLOAD_BYTES', { default: 1024 * 1024 * 1024, min: 1 }),
  /** The free plan's cap on the input once decompressed: a small gzip can hold gigabytes (a gzip bomb). */
  freeMaxDecompressedBytes: field.int('GATEWAY_FREE_MAX_DECOMPRESSED_BYTES', { default: 1024 ** 3, min: 1 }),
  /** The free plan's cap on the input's records (data lines). */
  freeMaxRecords: field.int('GATEWAY_FREE_MAX_RECORDS', { default: 5_000_000, min: 1 }),
  /** The operator's cap on decompressed input for everyone, premium included. */
  maxDecompressedBytes: field.int('GATEWAY_MAX_DECOMPRESSED_BYTES', { default: 64 * 1024 ** 3, min: 1 }),
  /** The operator's cap on records for everyone, premium included. */
  maxRecords: field.int('GATEWAY_MAX_RECORDS', { default: 500_000_000, min: 1 }),
  /**
   * How long free users' annotated files stay hot before the archive service moves them to cold
   * storage. Only for what pages say: the archive service's ARCHIVE_FREE_RETENTION_SECONDS decides,
   * so keep the two equal.
   */
  freeRetentionSeconds: field.int('GATEWAY_FREE_RETENTION_SECONDS', { default: 1800, min: 1 }),
  /** A session unused this long ends (the user signs in again). */
  sessionIdleSeconds: field.int('GATEWAY_SESSION_IDLE_SECONDS', { default: 12 * 3600, min: 1 }),
  sessionMaxHours: field.int('GATEWAY_SESSION_MAX_HOURS', { default: 7 * 24, min: 1 }),
  /** Signs short-lived statements (built-in checkout, sign-in state); random per process when unset. */
  secret: field.optional('GATEWAY_SECRET', { secret: true }),
  /** Requests per minute per user (or per address when signed out) before 429. */
  rateLimitPerMinute: field.int('GATEWAY_RATE_LIMIT_PER_MINUTE', { default: 600, min: 1 }),
  /** Sign-in and sign-up attempts per minute per address. */
  signInAttemptsPerMinute: field.int('GATEWAY_SIGNIN_ATTEMPTS_PER_MINUTE', { default: 10, min: 1 }),
  billingProvider: field.oneOf('BILLING_PROVIDER', ['builtin', 'stripe'] as const, { default: 'builtin' }),
  stripeSecretKey: field.optional('STRIPE_SECRET_KEY', { secret: true }),
  stripeWebhookSecret: field.optional('STRIPE_WEBHOOK_SECRET', { secret: true }),
  stripePriceId: field.optional('STRIPE_PRICE_ID'),
  /** Only for tests that stand in for Stripe's servers (which cannot be reached from CI). */
  stripeApiBase: field.optional('STRIPE_API_BASE'),
  oidcIssuer: field.optional('OIDC_ISSUER'),
  oidcClientId: field.optional('OIDC_CLIENT_ID'),
  oidcClientSecret: field.optional('OIDC_CLIENT_SECRET', { secret: true }),
  oidcRedirectUri: field.optional('OIDC_REDIRECT_URI'),
  /** How the sign-in page names the identity provider ("Sign in with …"). */
  oidcName: field.string('OIDC_NAME', { default: 'your institution' }),
  /** A folder of sample VCFs the upload page offers with one click (the local stack points it at the shared samples). */
  samplesDir: field.optional('GATEWAY_SAMPLES_DIR'),
  shutdownTimeoutMs: field.int('SHUTDOWN_TIMEOUT_MS', { default: 20_000, min: 1000 }),
  /**
   * Whether /readyz needs an annotator that takes jobs. True suits the local stack and a fixed pool
   * of annotators; set false where annotators scale to zero (KEDA), or the site would go with them.
   */
  readyRequiresAnnotator: field.bool('GATEWAY_READY_REQUIRES_ANNOTATOR', { default: true }),
  /** After SIGTERM, keep serving while /readyz says 503 so load balancers stop sending new requests. */
  drainDelayMs: field.int('GATEWAY_DRAIN_DELAY_MS', { default: 3000, min: 0, max: 60_000 }),
  /** Accounts (by e-mail, any case) that see the admin page; everyone else gets 404 there. */
  adminEmails: field.list('GATEWAY_ADMIN_EMAILS', {
    default: [],
    check: (items) =>
      items.filter((e) => !/^[^\s@]+@[^\s@]+$/.test(e)).map((e) => `${JSON.stringify(e)} is not an e-mail address`)[0] ?? null,
  }),
  /**
   * The admin page's replica and pod figures: the namespace the annotator runs in (the chart sets
   * it from the downward API; in a pod the service account's namespace file otherwise) and the
   * names of its Deployment and HorizontalPodAutoscaler.
   */
  k8sNamespace: field.optional('GATEWAY_K8S_NAMESPACE'),
  annotatorDeployment: field.string('GATEWAY_ANNOTATOR_DEPLOYMENT', { default: 'gas-annotator' }),
  annotatorHpa: field.string('GATEWAY_ANNOTATOR_HPA', { default: 'gas-annotator' }),
  /** A kubeconfig file for the admin page outside a cluster (tests, a developer's machine); in a pod the service account is used. */
  kubeconfig: field.optional('GATEWAY_KUBECONFIG'),
  ...blobStoreConfigSpec,
};

export type GatewayConfig = ReturnType<typeof loadConfig>;
export const gatewayConfigSpec = spec;

/** Variables that only make sense together: every problem at once, like readConfig. */
export function configProblems(c: ReturnType<typeof readConfig<typeof spec>>): string[] {
  const problems: string[] = [];
  if (c.billingProvider === 'stripe') {
    for (const [v, name] of [
      [c.stripeSecretKey, 'STRIPE_SECRET_KEY'],
      [c.stripeWebhookSecret, 'STRIPE_WEBHOOK_SECRET'],
      [c.stripePriceId, 'STRIPE_PRICE_ID'],
    ] as const) {
      if (!v) problems.push(`${name}: required with BILLING_PROVIDER=stripe`);
    }
  }
  const oidc = [c.oidcIssuer, c.oidcClientId, c.oidcClientSecret];
  if (oidc.some(Boolean) && !oidc.every(Boolean))
    problems.push('OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET: set all three to offer OpenID Connect sign-in, or none');
  if (c.secret && Buffer.byteLength(c.secret) < 32)
    problems.push('GATEWAY_SECRET: must be at least 32 bytes (e.g. openssl rand -base64 32)');
  if (c.freeMaxUploadBytes > c.maxUploadBytes) problems.push('GATEWAY_FREE_MAX_UPLOAD_BYTES: must not exceed GATEWAY_MAX_UPLOAD_BYTES');
  if (c.freeMaxDecompressedBytes > c.maxDecompressedBytes)
    problems.push('GATEWAY_FREE_MAX_DECOMPRESSED_BYTES: must not exceed GATEWAY_MAX_DECOMPRESSED_BYTES');
  if (c.freeMaxRecords > c.maxRecords) problems.push('GATEWAY_FREE_MAX_RECORDS: must not exceed GATEWAY_MAX_RECORDS');
  if (c.publicUrl && !/^https?:\/\/[^/]+/.test(c.publicUrl))
    problems.push(`GATEWAY_PUBLIC_URL: must be an http(s) URL, got ${JSON.stringify(c.publicUrl)}`);
  return problems;
}

export function loadConfig(env: Record<string, string | undefined>) {
  const c = readConfig(env, spec);
  const problems = configProblems(c);
  if (problems.length > 0) throw new ConfigError(problems);
  return c;
}
