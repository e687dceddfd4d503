// What a gateway built in-process (buildGateway) needs from a running stack: a NATS connection,
// the identity stores on it, and clients of the job and notification services, each closed when
// the test file ends; and the gateway itself, built on them with a test's own settings on top.
import t from 'tap';
import { createClient, AccountService, JobService, NotificationService } from '@gas/proto';
import { createLogger } from '@gas/runtime';
import { connectNats } from '@gas/messaging';
import type { GasStack } from '@gas/testing';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createRegistry } from '@gas/runtime';
import { FileBlobStore } from '@gas/storage';
import { buildGateway } from '../src/app.ts';
import type { GatewayDeps } from '../src/app.ts';
import { BuiltinBilling } from '../src/billing/builtin-billing.ts';
import { openIdentityStores } from '../src/identity/index.ts';

export async function stackClients(stack: GasStack, opts: { name: string; deadlineMs: number; noticesDeadlineMs?: number }) {
  const logger = createLogger({ service: 'gateway-test', level: 'silent' });
  const nc = await connectNats({ servers: stack.natsUrl, name: opts.name, logger });
  t.teardown(() => nc.close());
  const identity = await openIdentityStores(nc, {
    replicas: 1,
    sessions: { idleMs: 3_600_000, absoluteMs: 3_600_000, touchEveryMs: 60_000 },
  });
  const jobs = createClient(JobService, stack.jobGrpcUrl, { defaultDeadlineMs: opts.deadlineMs });
  const accounts = createClient(AccountService, stack.jobGrpcUrl, { defaultDeadlineMs: opts.deadlineMs });
  const notices = createClient(NotificationService, stack.notificationGrpcUrl, {
    defaultDeadlineMs: opts.noticesDeadlineMs ?? opts.deadlineMs,
  });
  t.teardown(() => {
    jobs.close();
    accounts.close();
    notices.close();
  });
  return { logger, nc, identity, jobs, accounts, notices };
}

/**
 * A gateway on the stack's services and `clients`, its blobs in the stack's state folder, the
 * stack's operator tokens, a rate limit no test reaches; `extra` adds or replaces settings. Closed
 * when the test file ends.
 */
export async function stackGateway(
  stack: GasStack,
  clients: Awaited<ReturnType<typeof stackClients>>,
  extra: Partial<GatewayDeps> = {},
): Promise<FastifyInstance> {
  const secret = Buffer.alloc(32, 7);
  const app = buildGateway({
    jobs: clients.jobs,
    accounts: clients.accounts,
    notices: clients.notices,
    store: new FileBlobStore({ root: join(stack.stateDir, 'blobs') }),
    identity: clients.identity,
    logger: clients.logger,
    registry: createRegistry('gateway-test'),
    apiTokens: stack.users.map((u) => `${u.userId}:${u.token}`),
    limits: { freeMaxUploadBytes: 150 * 1024, maxUploadBytes: 1024 * 1024 },
    session: { maxMs: 3_600_000 },
    rateLimit: { perMinute: 100_000, signInPerMinute: 10 },
    billing: new BuiltinBilling({ secret, baseUrl: 'http://gateway.test' }),
    secret,
    ...extra,
  });
  t.teardown(() => app.close());
  await app.ready();
  return app;
}
