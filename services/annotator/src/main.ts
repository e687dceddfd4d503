import { bootService, installShutdown, loadConfigOrExit } from '@gas/runtime';
import { connectNats, waitForJetStream } from '@gas/messaging';
import { createClient, JobService } from '@gas/proto';
import { createBlobStore } from '@gas/storage';
import { annotatorConfigSpec } from './config.ts';
import { createAnnotatorApp } from './app.ts';
import { ReferenceStore } from './reference-store.ts';

const service = 'annotator';
const { config, logger, registry, health, ops } = await bootService(service, annotatorConfigSpec, process.env);
const store = loadConfigOrExit(service, () => createBlobStore(config));
await store.check();
// Readiness waits for the reference data: a pod that cannot annotate must not take jobs.
const references = new ReferenceStore(config.referenceDir, config.workerThreads);
await references.load(logger);
const jobs = createClient(JobService, config.jobGrpcUrl, { defaultDeadlineMs: config.rpcDeadlineMs });
await jobs.waitForReady(60_000);
const nc = await connectNats({
  servers: config.natsUrl,
  name: `${service}-${config.annotatorId}`,
  logger,
  onConnectionChange: (ok) => health.setReady('nats', ok),
});
await waitForJetStream(nc, { timeoutMs: 30_000 });
const app = createAnnotatorApp({ config, nc, jobs, store, references, logger, registry });
await app.start();
health.markStarted();

installShutdown({
  logger,
  health,
  timeoutMs: config.shutdownTimeoutMs,
  steps: [
    { name: 'consumer', run: () => app.stop(Math.min(config.drainGraceMs, Math.floor(config.shutdownTimeoutMs * 0.6))) },
    { name: 'nats', run: () => nc.drain() },
    { name: 'annotation-workers', run: () => references.close() },
    { name: 'grpc-client', run: async () => jobs.close() },
    { name: 'ops', run: () => ops.close() },
  ],
});
