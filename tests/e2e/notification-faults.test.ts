// One email per event, whatever is killed: over seeded runs the notification service is stopped
// dead (NOTIFICATION_TEST_STALL_AFTER, then SIGKILL) right after the SMTP server accepted an email
// and before it was recorded, or after it was recorded and before the event was acked; a fresh
// service takes the event again. No email may be lost, none may arrive under two Message-IDs, and
// only a kill between send and record may bring a second copy (the same Message-ID, which is how the
// receiving side recognises it).
//
// GAS_CHAOS_SEED=<n> replays a schedule (the run prints its seed).
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient, EmailStatus, NotificationService } from '@gas/proto';
import { newApiToken, seededRandom, sharedDataPath, startGasStack, startSmtpServer, testEnvironment } from '@gas/testing';
import type { StackUser } from '@gas/testing';

const seed = testEnvironment.chaosSeed() ?? Date.now() % 100_000;
const random = seededRandom(seed);
const RUNS = 8;
type Point = 'sent' | 'recorded';
const POINTS: Point[] = ['sent', 'recorded'];
const FREE_1 = await readFile(sharedDataPath('vcf/gas_anntools/free_1.vcf'), 'utf8');

const smtp = await startSmtpServer();
t.teardown(() => smtp.stop());
const user: StackUser = { userId: 'erin', token: newApiToken() };
const env = { SMTP_URL: smtp.url, SMTP_REQUIRE_TLS: 'false', NOTIFICATION_ACK_WAIT_MS: '2000' };
const stack = await startGasStack({ store: 'filesystem', users: [user], env: { notification: env } });
t.teardown(() => stack.stop());
const notices = createClient(NotificationService, stack.notificationGrpcUrl, { defaultDeadlineMs: 10_000 });
t.teardown(() => notices.close());
t.comment(`seed ${seed} (GAS_CHAOS_SEED=${seed} replays it)`);
// The stack made erin premium: that email goes first, so each run's stall is on its own job's email.
await smtp.waitFor((ms) => ms.some((m) => m.subject === 'GAS: You are on premium'), 30_000);

async function restartNotification(stallAfter?: Point): Promise<void> {
  await stack.services.notification?.stop(15_000);
  await stack.startService('notification', stallAfter ? { NOTIFICATION_TEST_STALL_AFTER: stallAfter } : {});
}

t.test(`${RUNS} seeded runs, the notification service killed between send and record or between record and ack`, async (t) => {
  const runs: Array<{ id: string; point: Point }> = [];
  for (let run = 0; run < RUNS; run++) {
    const point = run < POINTS.length ? POINTS[run]! : POINTS[Math.floor(random() * POINTS.length)]!;
    await restartNotification(point);
    const res = await stack.submitText(user, `run-${run}.vcf`, FREE_1, { genomeBuild: 'GRCh37' });
    const { id } = (await res.json()) as { id: string };
    await stack.waitForJob(user, id, (j) => j.status === 'COMPLETED', 90_000);
    const service = stack.services.notification!;
    const logs = await stack.eventually(
      async () => service.logs(),
      (text) => text.includes('stalled for a fault test'),
      30_000,
    );
    if (!logs.includes('stalled for a fault test'))
      throw new Error(`run ${run}: the service never reached ${point}:\n${logs.slice(-3000)}`);
    service.signal('SIGKILL');
    await service.exited;
    await restartNotification();
    const notice = await stack.eventually(
      async () => (await notices.listNotices({ userId: user.userId, jobId: id })).notices[0],
      (n) => n?.emailStatus === EmailStatus.SENT,
      30_000,
    );
    t.equal(notice?.emailStatus, EmailStatus.SENT, `run ${run} (${point}): the notice says sent`);
    runs.push({ id, point });
  }
  // A second copy would come with the next redelivery (ack wait 2 s).
  await sleep(3000);
  for (const r of runs) {
    const copies = smtp.messages.filter((m) => m.headers.get('x-gas-event-id') === `${r.id}.completed`);
    t.strictSame([...new Set(copies.map((m) => m.messageId))], [`<${r.id}.completed@127.0.0.1>`], `${r.point}: one Message-ID, no loss`);
    if (r.point === 'recorded') t.equal(copies.length, 1, 'recorded before the kill: one copy');
    else t.equal(copies.length, 2, 'sent but not recorded: sent again, under the same Message-ID');
  }
});
