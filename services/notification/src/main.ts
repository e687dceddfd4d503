import { bootService, installShutdown } from '@gas/runtime';
import { connectNats, waitForJetStream } from '@gas/messaging';
import { createClient, AccountService } from '@gas/proto';
import { notificationConfigSpec } from './config.ts';
import { createNotificationApp } from './app.ts';
import { outboxMailer, smtpMailer } from './mailer.ts';

const service = 'notification';
const { config, logger, registry, health, ops } = await bootService(service, notificationConfigSpec, process.env);
const mailer = config.smtpUrl
  ? smtpMailer({
      url: config.smtpUrl,
      from: config.smtpFrom,
      user: config.smtpUser,
      password: config.smtpPassword,
      requireTls: config.smtpRequireTls,
      maxConnections: config.smtpMaxConnections,
    })
  : outboxMailer(config.outboxDir, config.smtpFrom);
const accounts = createClient(AccountService, config.jobGrpcUrl, { defaultDeadlineMs: config.rpcDeadlineMs });
await accounts.waitForReady(60_000);
const nc = await connectNats({ servers: config.natsUrl, name: service, logger, onConnectionChange: (ok) => health.setReady('nats', ok) });
await waitForJetStream(nc, { timeoutMs: 30_000 });
const app = createNotificationApp({ config, nc, accounts, mailer, logger, registry });
await app.start();
health.markStarted();

installShutdown({
  logger,
  health,
  timeoutMs: config.shutdownTimeoutMs,
  steps: [
    { name: 'consumer-and-grpc', run: () => app.stop(Math.floor(config.shutdownTimeoutMs * 0.6)) },
    { name: 'nats', run: () => nc.drain() },
    { name: 'smtp-and-grpc-client', run: async () => (mailer.close(), accounts.close()) },
    { name: 'ops', run: () => ops.close() },
  ],
});
