// Emails through a real SMTP server (smtp-server, in this process) from the real notification
// service on the real stack: what a completion email holds, the preference honoured, a mail server
// away for a while (every email arrives once it is back, exactly once), and a recipient refused for
// good (recorded on the notice, counted, never retried, the address never logged in clear).
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { create, createClient, AccountSchema, AccountService, EmailStatus, NotificationPrefsSchema, NotificationService } from '@gas/proto';
import { newApiToken, sharedDataPath, startGasStack, startSmtpServer } from '@gas/testing';
import type { ReceivedMail, StackUser } from '@gas/testing';

const FREE_1 = await readFile(sharedDataPath('vcf/gas_anntools/free_1.vcf'), 'utf8');
const BROKEN = '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n1\tnot-a-number\t.\tA\tG\t.\t.\t.\n';

const smtp = await startSmtpServer();
t.teardown(() => smtp.stop());
const users: StackUser[] = ['alice', 'bob', 'carol', 'dave'].map((userId) => ({ userId, token: newApiToken() }));
const [alice, bob, carol, dave] = users as [StackUser, StackUser, StackUser, StackUser];
const stack = await startGasStack({
  store: 'filesystem',
  users,
  // Failed sends come back after the consumer's backoff (1 s, 2 s, 4 s ...); a killed replica's after 3 s.
  env: { notification: { SMTP_URL: smtp.url, SMTP_REQUIRE_TLS: 'false', NOTIFICATION_ACK_WAIT_MS: '3000' } },
});
t.teardown(() => stack.stop());
const accounts = createClient(AccountService, stack.jobGrpcUrl, { defaultDeadlineMs: 10_000 });
const notices = createClient(NotificationService, stack.notificationGrpcUrl, { defaultDeadlineMs: 10_000 });
t.teardown(() => (accounts.close(), notices.close()));

async function finishedJob(u: StackUser, name: string, text: string): Promise<{ id: string; status: string }> {
  const res = await stack.submitText(u, name, text, { genomeBuild: 'GRCh37' });
  if (res.status !== 201) throw new Error(`submit answered ${res.status}: ${await res.text()}`);
  const { id } = (await res.json()) as { id: string };
  const job = await stack.waitForJob(u, id, (j) => j.status === 'COMPLETED' || j.status === 'FAILED', 90_000);
  return { id, status: job.status };
}

/** Emails to `address` about the job (every user also got a "You are on premium" email when the stack made them premium). */
const about = (address: string, jobId: string) => (m: ReceivedMail) =>
  m.envelope.to.includes(address) && (m.headers.get('x-gas-event-id') ?? '').startsWith(`${jobId}.`);
const jobEmails = (address: string) => (m: ReceivedMail) => m.envelope.to.includes(address) && m.subject !== 'GAS: You are on premium';

async function noticeOf(u: StackUser, jobId: string, until: (status: EmailStatus) => boolean) {
  return stack.eventually(
    async () => (await notices.listNotices({ userId: u.userId, jobId, pageSize: 10 })).notices[0],
    (n) => Boolean(n && until(n.emailStatus)),
    30_000,
  );
}

t.test('a completion email: recipient, subject, both parts, the link and the headers', async (t) => {
  const name = 'sample <b>1 & 2.vcf';
  const { id } = await finishedJob(alice, name, FREE_1);
  const [mail] = (await smtp.waitFor((ms) => ms.some(about('alice@example.org', id)), 30_000)).filter(about('alice@example.org', id));
  t.strictSame(mail!.envelope.to, ['alice@example.org']);
  t.match(mail!.envelope.from, /^gas@/);
  t.equal(mail!.subject, `GAS: ${name} is annotated`);
  const link = `${stack.url}/jobs/${id}`;
  t.match(mail!.text, `The GRCh37 annotation of ${name} is done: 1,141 variants`);
  t.match(mail!.text, `Open the job: ${link}`);
  t.match(mail!.html, 'sample &#60;b&#62;1 &#38; 2.vcf is annotated', 'the HTML part escapes the file name');
  t.notMatch(mail!.html, '<b>');
  t.match(mail!.html, `href="${link}"`);
  t.equal(mail!.messageId, `<${id}.completed@127.0.0.1>`);
  t.equal(mail!.headers.get('list-unsubscribe'), `<${stack.url}/profile#notifications>`);
  t.equal(mail!.headers.get('auto-submitted'), 'auto-generated');
  const notice = await noticeOf(alice, id, (s) => s === EmailStatus.SENT);
  t.equal(notice?.emailStatus, EmailStatus.SENT, 'the notice records the email as sent');
  t.equal(notice?.title, `${name} is annotated`);
});

t.test('"failures only": a failed job is emailed, a completed one is not', async (t) => {
  await accounts.upsertAccount({
    account: create(AccountSchema, {
      userId: bob.userId,
      email: 'bob@example.org',
      name: 'bob',
      notifications: create(NotificationPrefsSchema, { emailOnCompletion: false, emailOnFailure: true }),
    }),
  });
  const done = await finishedJob(bob, 'good.vcf', FREE_1);
  const failed = await finishedJob(bob, 'broken.vcf', BROKEN);
  t.equal(failed.status, 'FAILED');
  const mails = (await smtp.waitFor((ms) => ms.some(about('bob@example.org', failed.id)), 30_000)).filter(jobEmails('bob@example.org'));
  t.equal(
    (await noticeOf(bob, done.id, (s) => s !== EmailStatus.UNSPECIFIED && s !== EmailStatus.PENDING))?.emailStatus,
    EmailStatus.NOT_WANTED,
  );
  t.equal(mails.length, 1, 'one email, about the failure');
  t.equal(mails[0]!.subject, 'GAS: broken.vcf failed');
  t.match(mails[0]!.text, /Reason: invalid VCF: line 3/);
  t.match(mails[0]!.text, 'emails about failed jobs only');
});

t.test('the mail server away for a while: every email arrives once it is back, exactly once', async (t) => {
  await smtp.halt();
  const jobs = [];
  for (let i = 0; i < 3; i++) jobs.push((await finishedJob(carol, `outage-${i}.vcf`, FREE_1)).id);
  await stack.eventually(
    () => stack.metrics('notification'),
    (m) => /gas_notification_emails_total\{[^}]*outcome="retry"[^}]*\} [1-9]/.test(m),
    30_000,
  );
  t.equal(smtp.messages.filter(jobEmails('carol@example.org')).length, 0, 'nothing arrived while it was away');
  await smtp.resume();
  await smtp.waitFor((ms) => ms.filter(jobEmails('carol@example.org')).length >= 3, 60_000);
  // Anything sent twice would arrive within the next redeliveries.
  await sleep(3000);
  const mails = smtp.messages.filter(jobEmails('carol@example.org'));
  t.equal(mails.length, 3, 'three emails');
  t.strictSame(mails.map((m) => m.messageId).sort(), jobs.map((id) => `<${id}.completed@127.0.0.1>`).sort(), 'one per job');
});

t.test('a recipient refused for good: recorded on the notice, counted, not retried, the address masked in logs', async (t) => {
  smtp.refuseRecipients((address) =>
    address === 'dave@example.org' ? { code: 550, message: '5.1.1 <dave@example.org>: user unknown' } : null,
  );
  t.teardown(() => smtp.refuseRecipients(null));
  const { id } = await finishedJob(dave, 'refused.vcf', FREE_1);
  const notice = await noticeOf(dave, id, (s) => s === EmailStatus.REFUSED);
  t.equal(notice?.emailStatus, EmailStatus.REFUSED);
  t.equal(notice?.emailDetail, 'the mail server refused it: 550 5.1.1 d***@example.org: user unknown');
  const metrics = await stack.metrics('notification');
  t.match(metrics, /gas_notification_permanent_failures_total\{[^}]*kind="job_completed"[^}]*\} 1/);
  await sleep(2000);
  t.match(
    await stack.metrics('notification'),
    /gas_notification_permanent_failures_total\{[^}]*kind="job_completed"[^}]*\} 1/,
    'not retried',
  );
  t.equal(smtp.messages.filter(about('dave@example.org', id)).length, 0);
  const logs = stack.services.notification!.logs();
  t.match(logs, /email refused for good/);
  t.notMatch(logs, 'dave@example.org', 'the address never appears in clear');
});
