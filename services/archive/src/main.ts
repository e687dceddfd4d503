import { bootService, installShutdown, loadConfigOrExit } from '@gas/runtime';
import { connectNats, waitForJetStream } from '@gas/messaging';
import { createClient, AccountService, JobService } from '@gas/proto';
import { createBlobStore } from '@gas/storage';
import { archiveConfigSpec } from './config.ts';
import { createArchiveApp } from './app.ts';

const service = 'archive';
const { config, logger, registry, health, ops } = await bootService(service, archiveConfigSpec, process.env);
const store = loadConfigOrExit(service, () =>
  createBlobStore(config, { restoreDelayMs: config.fsRestoreDelaySeconds * 1000, restoreDays: config.s3RestoreDays }),
);
await store.check();
const jobs = createClient(JobService, config.jobGrpcUrl, { defaultDeadlineMs: config.rpcDeadlineMs });
const accounts = createClient(AccountService, config.jobGrpcUrl, { defaultDeadlineMs: config.rpcDeadlineMs });
await jobs.waitForReady(60_000);
const nc = await connectNats({ servers: config.natsUrl, name: service, logger, onConnectionChange: (ok) => health.setReady('nats', ok) });
await waitForJetStream(nc, { timeoutMs: 30_000 });
const app = createArchiveApp({ config, nc, store, jobs, accounts, logger, registry });
await app.start();
health.markStarted();

installShutdown({
  logger,
  health,
  timeoutMs: config.shutdownTimeoutMs,
  steps: [
    { name: 'consumer', run: () => app.stop(Math.floor(config.shutdownTimeoutMs * 0.6)) },
    { name: 'nats', run: () => nc.drain() },
    { name: 'grpc-client', run: async () => (jobs.close(), accounts.close()) },
    { name: 'ops', run: () => ops.close() },
  ],
});
