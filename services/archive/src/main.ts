import { bootService, installShutdown } from '@gas/runtime';
import { connectNats, waitForJetStream } from '@gas/messaging';
import { archiveConfigSpec } from './config.ts';
import { createArchiveApp } from './app.ts';

const service = 'archive';
const { config, logger, registry, health, ops } = await bootService(service, archiveConfigSpec, process.env);
const nc = await connectNats({ servers: config.natsUrl, name: service, logger, onConnectionChange: (ok) => health.setReady('nats', ok) });
await waitForJetStream(nc, { timeoutMs: 30_000 });
const app = createArchiveApp({ config, nc, logger, registry });
await app.start();
health.markStarted();

installShutdown({
  logger,
  health,
  timeoutMs: config.shutdownTimeoutMs,
  steps: [
    { name: 'consumer', run: () => app.stop(Math.floor(config.shutdownTimeoutMs * 0.6)) },
    { name: 'nats', run: () => nc.drain() },
    { name: 'ops', run: () => ops.close() },
  ],
});
