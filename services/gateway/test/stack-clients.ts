// What a gateway built in-process (buildGateway) needs from a running stack: a NATS connection,
// the identity stores on it, and clients of the job and notification services, each closed when
// the test file ends; the gateway itself, built on them with a test's own settings on top; and, for
// the tests of links the gateway has mailed, all of it on a stack that mails to an SMTP server.
import t from 'tap';
import { jetstreamManager } from '@nats-io/jetstream';
import { createClient, AccountService, JobService, NotificationService } from '@gas/proto';
import { createLogger } from '@gas/runtime';
import { connectNats } from '@gas/messaging';
import { startGasStack, startSmtpServer } from '@gas/testing';
import type { GasStack, ReceivedMail } from '@gas/testing';
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

/**
 * The job and notification services on nats-server, the notification service mailing to an SMTP
 * server, and a gateway on them (stackGateway with `gatewayExtra`) listening on a free port at
 * `base`; with the mail that came, and a wait until the notification service has handled every
 * event published so far. `name` names the test's NATS connection.
 */
export async function mailingGatewayStack(name: string, gatewayExtra: Partial<GatewayDeps> = {}) {
  const smtp = await startSmtpServer();
  t.teardown(() => smtp.stop());
  const stack = await startGasStack({
    store: 'filesystem',
    services: ['job', 'notification'],
    env: { notification: { SMTP_URL: smtp.url, SMTP_REQUIRE_TLS: 'false' } },
  });
  t.teardown(() => stack.stop());
  const clients = await stackClients(stack, { name, deadlineMs: 10_000 });
  const app = await stackGateway(stack, clients, gatewayExtra);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  /** A subject is the exact text or one that matches. */
  const to = (email: string, subject: string | RegExp) => (m: ReceivedMail) =>
    m.envelope.to.includes(email) && (typeof subject === 'string' ? m.subject === subject : subject.test(m.subject));
  const jsm = await jetstreamManager(clients.nc);

  return {
    smtp,
    stack,
    clients,
    app,
    base,
    /** The mails with `subject` to `email` so far. */
    mailsTo: (email: string, subject: string | RegExp) => smtp.messages.filter(to(email, subject)),
    /** The n-th (1-based) mail with `subject` to `email`, once it has come. */
    mail: async (email: string, subject: string | RegExp, n = 1): Promise<ReceivedMail> => {
      const all = await smtp.waitFor((ms) => ms.filter(to(email, subject)).length >= n, 30_000);
      return all.filter(to(email, subject))[n - 1]!;
    },
    /** Until the notification service has handled (and acked) every event published so far. */
    eventsHandled: async (): Promise<void> => {
      await stack.eventually(
        () => jsm.consumers.info('GAS_EVENTS', 'notification'),
        (c) => c.num_pending === 0 && c.num_ack_pending === 0,
        30_000,
      );
    },
  };
}
