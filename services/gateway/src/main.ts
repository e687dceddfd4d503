import { bootService, installShutdown, loadConfigOrExit } from '@gas/runtime';
import { createClient, AccountService, JobService, NotificationService } from '@gas/proto';
import { createBlobStore } from '@gas/storage';
import { connectNats, waitForJetStream, watchAnnotators } from '@gas/messaging';
import { configProblems, gatewayConfigSpec } from './config.ts';
import { buildGateway } from './app.ts';
import { openIdentityStores } from './identity/index.ts';
import { createBillingProvider } from './billing/create-billing-provider.ts';
import { OidcSignIn } from './oidc-sign-in.ts';
import { kubeReader } from './admin-kube.ts';
import { randomBytes } from 'node:crypto';

const service = 'gateway';
const { config, logger, registry, health, ops } = await bootService(service, gatewayConfigSpec, process.env, configProblems);
const store = loadConfigOrExit(service, () => createBlobStore(config));
await store.check();
const nc = await connectNats({ servers: config.natsUrl, name: service, logger, onConnectionChange: (ok) => health.setReady('nats', ok) });
await waitForJetStream(nc, { timeoutMs: 30_000 });
const idleMs = config.sessionIdleSeconds * 1000;
const sessionTimes = { idleMs, absoluteMs: config.sessionMaxHours * 3600_000, touchEveryMs: Math.min(5 * 60_000, idleMs / 4) };
const identity = await openIdentityStores(nc, { replicas: config.natsReplicas, sessions: sessionTimes });
const jobs = createClient(JobService, config.jobGrpcUrl, { defaultDeadlineMs: config.rpcDeadlineMs });
const accounts = createClient(AccountService, config.jobGrpcUrl, { defaultDeadlineMs: config.rpcDeadlineMs });
// Not waited for and not part of readiness: without it pages show no notices, and nothing else stops.
const notices = createClient(NotificationService, config.notificationGrpcUrl, { defaultDeadlineMs: config.rpcDeadlineMs });
await jobs.waitForReady(60_000);
health.setReady('job-service', true);
// Readiness follows the job service: without it no API call can be answered.
const probe = setInterval(() => {
  jobs.waitForReady(1000).then(
    () => health.setReady('job-service', true),
    () => health.setReady('job-service', false),
  );
}, 2000);
probe.unref();
// Jobs make progress only while some annotator takes them; readiness says so (see the config).
const annotatorCheck = (n: number) => {
  health.setReady('annotator', !config.readyRequiresAnnotator || n > 0);
};
let annotatorsKnown = 0;
const annotators = watchAnnotators(nc, {
  onChange: (list) => {
    if (list.length > 0 !== annotatorsKnown > 0)
      logger[list.length > 0 ? 'info' : 'warn']({ annotators: list.length }, 'annotator availability changed');
    annotatorsKnown = list.length;
    annotatorCheck(list.length);
  },
});
annotatorCheck(0);
if (!config.secret)
  logger.warn({}, 'GATEWAY_SECRET is not set: using a random one, so built-in checkout links work only on this replica until it restarts');
const secret = config.secret ? Buffer.from(config.secret) : randomBytes(32);
const billing = createBillingProvider({
  provider: config.billingProvider,
  stripeSecretKey: config.stripeSecretKey,
  stripeWebhookSecret: config.stripeWebhookSecret,
  stripePriceId: config.stripePriceId,
  stripeApiBase: config.stripeApiBase,
  builtinSecret: secret,
  publicUrl: config.publicUrl ?? '',
});
// Discovery happens once at startup: a provider that is down keeps the gateway from becoming ready.
const oidc = config.oidcIssuer
  ? {
      name: config.oidcName,
      signIn: await OidcSignIn.discover({
        issuer: new URL(config.oidcIssuer),
        clientId: config.oidcClientId!,
        clientSecret: config.oidcClientSecret!,
        redirectUri: config.oidcRedirectUri ?? `${config.publicUrl ?? `http://127.0.0.1:${config.port}`}/signin/oidc/callback`,
      }),
    }
  : null;
const app = buildGateway({
  billing,
  // Browsers upload straight to the bucket on a ticket: the page may connect there.
  uploadOrigins: config.blobStore === 's3' ? [config.s3Endpoint ? new URL(config.s3Endpoint).origin : 'https://*.amazonaws.com'] : [],
  oidc,
  secret,
  jobs,
  accounts,
  notices,
  store,
  identity,
  logger,
  registry,
  apiTokens: config.apiTokens,
  limits: {
    freeMaxUploadBytes: config.freeMaxUploadBytes,
    maxUploadBytes: config.maxUploadBytes,
    freeMaxDecompressedBytes: config.freeMaxDecompressedBytes,
    freeMaxRecords: config.freeMaxRecords,
    maxDecompressedBytes: config.maxDecompressedBytes,
    maxRecords: config.maxRecords,
    freeRetentionSeconds: config.freeRetentionSeconds,
  },
  publicUrl: config.publicUrl,
  session: { maxMs: sessionTimes.absoluteMs },
  rateLimit: { perMinute: config.rateLimitPerMinute, signInPerMinute: config.signInAttemptsPerMinute },
  samplesDir: config.samplesDir,
  annotators: { available: () => annotators.available().length, list: () => annotators.available() },
  admin: {
    emails: config.adminEmails,
    kube: kubeReader({
      kubeconfig: config.kubeconfig,
      // Kubernetes sets this in every container; the service account's token says the rest.
      inCluster: Boolean(process.env['KUBERNETES_SERVICE_HOST']),
      namespace: config.k8sNamespace,
      deployment: config.annotatorDeployment,
      hpa: config.annotatorHpa,
      timeoutMs: 2000,
    }),
  },
});
await app.listen({ host: config.host, port: config.port });
health.markStarted();
logger.info({ url: config.publicUrl ?? `http://127.0.0.1:${config.port}` }, 'gateway listening');

installShutdown({
  logger,
  health,
  timeoutMs: config.shutdownTimeoutMs,
  steps: [
    // /readyz already answers 503; keep serving a while so load balancers stop sending first.
    { name: 'drain-delay', run: () => new Promise<void>((resolve) => setTimeout(resolve, config.drainDelayMs)) },
    // Fastify stops accepting and waits for in-flight requests (uploads included) to finish.
    // Connections that go idle after their last response are closed as they do, not left to
    // hold the server open until the keep-alive timeout.
    {
      name: 'http',
      run: async () => {
        const idle = setInterval(() => app.server.closeIdleConnections(), 100);
        try {
          await app.close();
        } finally {
          clearInterval(idle);
        }
      },
    },
    {
      name: 'grpc-client',
      run: async () => {
        clearInterval(probe);
        annotators.stop();
        jobs.close();
        accounts.close();
        notices.close();
      },
    },
    { name: 'nats', run: () => nc.drain() },
    { name: 'ops', run: () => ops.close() },
  ],
});
