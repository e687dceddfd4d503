import { createLogger, createRegistry, describeConfig, Health, installShutdown, startOpsServer, loadConfigOrExit } from '@gas/runtime';
import { connectNats, waitForJetStream } from '@gas/messaging';
import { loadConfig, archiveConfigSpec } from './config.ts';
import { createArchiveApp } from './app.ts';

const service = 'archive';
const config = loadConfigOrExit(service, () => loadConfig(process.env));
const logger = createLogger({ service, level: config.logLevel });
logger.info({ config: describeConfig(archiveConfigSpec, config) }, 'starting');
const registry = createRegistry(service);
const health = new Health();
const ops = await startOpsServer({ port: config.opsPort, registry, health, logger });
const nc = await connectNats({ servers: config.natsUrl, name: service, logger, onConnectionChange: (ok) => health.setReady('nats', ok) });
await waitForJetStream(nc, { timeoutMs: 30_000 });
const app = createArchiveApp({ nc, logger, registry });
await app.start();
health.markStarted();

installShutdown({
  logger,
  health,
  timeoutMs: config.shutdownTimeoutMs,
  steps: [
    { name: 'consumer', run: () => app.stop(config.shutdownTimeoutMs - 5000) },
    { name: 'nats', run: () => nc.drain() },
    { name: 'ops', run: () => ops.close() },
  ],
});
