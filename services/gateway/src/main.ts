import { bootService, installShutdown, loadConfigOrExit } from '@gas/runtime';
import { createClient, JobService } from '@gas/proto';
import { createBlobStore } from '@gas/storage';
import { gatewayConfigSpec } from './config.ts';
import { buildGateway } from './app.ts';

const service = 'gateway';
const { config, logger, registry, health, ops } = await bootService(service, gatewayConfigSpec, process.env);
const store = loadConfigOrExit(service, () => createBlobStore(config));
await store.check();
const jobs = createClient(JobService, config.jobGrpcUrl, { defaultDeadlineMs: config.rpcDeadlineMs });
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
const app = buildGateway({ jobs, store, logger, registry, apiTokens: config.apiTokens, maxUploadBytes: config.maxUploadBytes });
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
        jobs.close();
      },
    },
    { name: 'ops', run: () => ops.close() },
  ],
});
