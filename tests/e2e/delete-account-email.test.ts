// What a deleted account leaves in the notification service, on the real stack (nats-server, the five
// services, the filesystem store, an SMTP server): after POST /account/delete, the address the
// account had gets one last email, whatever the account's preference (a password sign-up's job
// emails are off until the address is confirmed, and it never was), and the user's notices are
// gone; another user's stay, and the badge on their notices page counts them as before.
import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { createClient, NotificationService } from '@gas/proto';
import { sharedDataPath, startGasStack, startSmtpServer, WebClient } from '@gas/testing';
import type { ReceivedMail } from '@gas/testing';

const FREE_1 = sharedDataPath('vcf/gas_anntools/free_1.vcf');
const PASSWORD = 'a long enough password';
const LEAVING = 'leaving@example.org';
const STAYING = 'staying@example.org';
const GOODBYE = 'GAS: Your account was deleted';

const smtp = await startSmtpServer();
t.teardown(() => smtp.stop());
const stack = await startGasStack({
  store: 'filesystem',
  env: { notification: { SMTP_URL: smtp.url, SMTP_REQUIRE_TLS: 'false' } },
});
t.teardown(() => stack.stop());
const notices = createClient(NotificationService, stack.notificationGrpcUrl, { defaultDeadlineMs: 10_000 });
t.teardown(() => notices.close());
const nc = await connect({ servers: stack.natsUrl });
t.teardown(() => nc.close());
const jsm = await jetstreamManager(nc);

/** A signed-up user's finished job, and the user's id (a web user's id shows only as its inputs folder). */
async function finishedJob(web: WebClient, csrf: string, name: string): Promise<{ jobId: string; userId: string }> {
  const res = await web.upload(name, new Blob([await readFile(FREE_1)]), 'GRCh37', csrf);
  if (res.status !== 201) throw new Error(`upload: ${res.status} ${res.text}`);
  const jobId = (JSON.parse(res.text) as { id: string }).id;
  await stack.eventually(
    async () => (JSON.parse((await web.get(`/api/v1/jobs/${jobId}`)).text) as { status: string }).status,
    (s) => s === 'COMPLETED',
    90_000,
  );
  const inputs = join(stack.stateDir, 'blobs', 'inputs');
  for (const userId of await readdir(inputs)) if ((await readdir(join(inputs, userId))).includes(jobId)) return { jobId, userId };
  throw new Error(`no input folder holds job ${jobId}`);
}

/** Until the notification service has handled (and acked) every event published so far. */
async function eventsHandled(): Promise<void> {
  await stack.eventually(
    () => jsm.consumers.info('GAS_EVENTS', 'notification'),
    (c) => c.num_pending === 0 && c.num_ack_pending === 0,
    30_000,
  );
}

const badge = async (web: WebClient): Promise<number | null> => {
  const m = /<span class="badge unread"( hidden)?>(\d+)<\/span>/.exec((await web.get('/notices')).text);
  return m && !m[1] ? Number(m[2]) : null;
};
const goodbye = (m: ReceivedMail) => m.envelope.to.includes(LEAVING) && m.subject === GOODBYE;

t.test('a deleted account: one last email to its address, no notice left; another user keeps theirs', async (t) => {
  const leaving = new WebClient(stack.url);
  const csrf = await leaving.signUp({ email: LEAVING, password: PASSWORD, name: 'Leaving' });
  const staying = new WebClient(stack.url);
  const stayingCsrf = await staying.signUp({ email: STAYING, password: PASSWORD, name: 'Staying' });
  const [{ userId }, { userId: stayingId }] = await Promise.all([
    finishedJob(leaving, csrf, 'Jane Doe 1961.vcf'),
    finishedJob(staying, stayingCsrf, 'kept.vcf'),
  ]);
  await stack.eventually(
    () => notices.listNotices({ userId, pageSize: 50 }),
    (r) => r.notices.length === 1,
    30_000,
  );
  t.equal(
    await stack.eventually(
      () => badge(staying),
      (b) => b === 1,
      30_000,
    ),
    1,
    'the other user has one unread notice',
  );
  await eventsHandled();
  const before = smtp.messages.filter((m) => m.envelope.to.includes(LEAVING)).length;

  const res = await leaving.postForm('/account/delete', { _csrf: csrf, password: PASSWORD });
  t.equal(res.status, 303, 'deleted');

  const [mail] = (await smtp.waitFor((ms) => ms.some(goodbye), 30_000)).filter(goodbye);
  t.ok(mail, 'the goodbye email arrived');
  t.match(mail!.text, /the GAS account with this email address was deleted/);
  t.match(mail!.text, /all its jobs, with the files uploaded for them and their annotated results, and all its notices/);
  t.notMatch(mail!.text, /Jane Doe|Leaving/, 'no file name, no name');
  t.match(mail!.messageId, new RegExp(`^<${userId}\\.deleted\\.\\d+@`), 'named by the account.deleted event');
  await eventsHandled();
  t.equal(smtp.messages.filter(goodbye).length, 1, 'once');
  t.equal(
    smtp.messages.filter((m) => m.envelope.to.includes(LEAVING)).length,
    before + 1,
    'and nothing else to the address since the deletion',
  );

  const left = await notices.listNotices({ userId, pageSize: 50 });
  t.strictSame(left.notices, [], 'no notice of the user is left');
  t.equal(left.unreadCount, 0);
  t.equal((await notices.listNotices({ userId: stayingId, pageSize: 50 })).notices.length, 1, "the other user's notice stays");
  t.equal(await badge(staying), 1, 'and their badge still counts it');
});
