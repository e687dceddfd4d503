// What a gateway built in-process (buildGateway) needs from a running stack: a NATS connection,
// the identity stores on it, and clients of the job and notification services, each closed when
// the test file ends.
import t from 'tap';
import { createClient, AccountService, JobService, NotificationService } from '@gas/proto';
import { createLogger } from '@gas/runtime';
import { connectNats } from '@gas/messaging';
import type { GasStack } from '@gas/testing';
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
