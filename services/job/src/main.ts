import { hostname } from 'node:os';
import { bootService, installShutdown } from '@gas/runtime';
import { connectNats, waitForJetStream } from '@gas/messaging';
import { jobConfigSpec } from './config.ts';
import { createJobApp } from './app.ts';

const service = 'job';
const { config, logger, registry, health, ops } = await bootService(service, jobConfigSpec, process.env);
const nc = await connectNats({ servers: config.natsUrl, name: service, logger, onConnectionChange: (ok) => health.setReady('nats', ok) });
await waitForJetStream(nc, { timeoutMs: 30_000 });
const app = createJobApp({ config, nc, logger, registry, replicaId: config.replicaId ?? `${hostname()}-${process.pid}` });
await app.start();
health.markStarted();

installShutdown({
  logger,
  health,
  timeoutMs: config.shutdownTimeoutMs,
  steps: [
    { name: 'grpc', run: () => app.stop(Math.floor(config.shutdownTimeoutMs * 0.6)) },
    { name: 'nats', run: () => nc.drain() },
    { name: 'ops', run: () => ops.close() },
  ],
});
