// What the notification tests that run the real job and notification services share: the stack on
// nats-server (with an SMTP server the notification service mails to, for the tests of emails), the
// test's own NATS connection, clients of both services, and the service's counters as /metrics has
// them. Each is stopped or closed when the test file ends.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connectNats } from '@gas/messaging';
import { create, createClient, AccountSchema, AccountService, JobService, NotificationPrefsSchema, NotificationService } from '@gas/proto';
import type { ServiceClient } from '@gas/proto';
import { createLogger } from '@gas/runtime';
import { startGasStack, startSmtpServer } from '@gas/testing';

export interface NotificationStackOptions {
  /** The test's NATS connection's name. */
  name: string;
  /** Environment of the job and notification services beyond the stack's own (and the SMTP settings). */
  env?: { job?: Record<string, string>; notification?: Record<string, string> };
}

/** The job and notification services on nats-server, without mail; what a test reaches them with. */
export async function notificationStack({ name, env = {} }: NotificationStackOptions) {
  const stack = await startGasStack({ store: 'filesystem', services: ['job', 'notification'], users: [], env });
  t.teardown(() => stack.stop());
  const nc = await connectNats({
    servers: stack.natsUrl,
    name,
    logger: createLogger({ service: 'notification-test', level: 'silent' }),
  });
  t.teardown(() => nc.close());
  const accounts = createClient(AccountService, stack.jobGrpcUrl, { defaultDeadlineMs: 10_000 });
  const jobs = createClient(JobService, stack.jobGrpcUrl, { defaultDeadlineMs: 10_000 });
  const notices = createClient(NotificationService, stack.notificationGrpcUrl, { defaultDeadlineMs: 10_000 });
  t.teardown(() => (accounts.close(), jobs.close(), notices.close()));

  /**
   * The sum of the notification service's series of `name` that have every one of `labels`
   * (`a="x",b="y"`, in any order); every series of it without `labels`.
   */
  async function counter(name: string, labels = ''): Promise<number> {
    const m = await stack.metrics('notification');
    const wanted = labels ? labels.split(',') : [];
    let sum = 0;
    for (const [, l, v] of m.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm')))
      if (wanted.every((w) => (l ?? '').split(',').includes(w))) sum += Number(v);
    return sum;
  }

  return {
    stack,
    nc,
    jsm: await jetstreamManager(nc),
    js: jetstream(nc),
    accounts,
    jobs,
    notices,
    counter,
    emails: (kind: string, outcome: string) => counter('gas_notification_emails_total', `kind="${kind}",outcome="${outcome}"`),
    terminated: () => counter('gas_notification_messages_total', 'outcome="term"'),
    noticesOf: async (userId: string) => (await notices.listNotices({ userId, jobId: '', pageSize: 100 })).notices,
    /** Both services' logs (a link's token must be in neither). */
    logs: () => stack.services.job!.logs() + stack.services.notification!.logs(),
  };
}

/** notificationStack with an SMTP server the notification service mails to, over plain SMTP. */
export async function mailingNotificationStack({ name, env = {} }: NotificationStackOptions) {
  const smtp = await startSmtpServer();
  t.teardown(() => smtp.stop());
  const fixtures = await notificationStack({
    name,
    env: { ...env, notification: { SMTP_URL: smtp.url, SMTP_REQUIRE_TLS: 'false', ...env.notification } },
  });
  return { smtp, ...fixtures };
}

/**
 * Accounts for the tests of security emails (sent whatever the preference): every email turned
 * off, and a name with markup in it, `<b>user</b> the owner`, which no such email may show.
 */
export async function accountsWithEmailOff(accounts: ServiceClient<typeof AccountService>, users: Array<[userId: string, email: string]>) {
  const noEmail = create(NotificationPrefsSchema, { emailOnCompletion: false, emailOnFailure: false });
  for (const [userId, email] of users)
    await accounts.upsertAccount({
      account: create(AccountSchema, { userId, email, name: `<b>${userId}</b> the owner`, notifications: noEmail }),
    });
}

/** A fresh link token of the user's in the gateway's form, and its secret part (what must not stay anywhere). */
export function newToken(userId: string): { token: string; secret: Buffer } {
  const secret = randomBytes(32).toString('base64url');
  return { token: `${userId}.${secret}`, secret: Buffer.from(secret) };
}
