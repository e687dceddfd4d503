// A sign-up with an address that already has an account, through the gateway's form on the real
// job, notification and gateway services and a real SMTP server: the stranger gets the same answer
// as for a new address, and the address's owner gets one security email (whatever their email
// preference), holding nothing the stranger typed; more attempts within the hour add none.
import t from 'tap';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { createClient, NotificationService } from '@gas/proto';
import { startGasStack, startSmtpServer, WebClient } from '@gas/testing';
import type { ReceivedMail } from '@gas/testing';

const PASSWORD = 'the owner chose this one';
const SUBJECT = 'GAS: Someone tried to sign up with your address';

const smtp = await startSmtpServer();
t.teardown(() => smtp.stop());
const stack = await startGasStack({
  store: 'filesystem',
  services: ['job', 'notification', 'gateway'],
  env: { notification: { SMTP_URL: smtp.url, SMTP_REQUIRE_TLS: 'false' } },
});
t.teardown(() => stack.stop());
const nc = await connect({ servers: stack.natsUrl });
t.teardown(() => nc.close());
const notices = createClient(NotificationService, stack.notificationGrpcUrl, { defaultDeadlineMs: 10_000 });
t.teardown(() => notices.close());

// The new account also gets the link that confirms its address; this test is about the other email.
const toOwner = (m: ReceivedMail) => m.envelope.to.includes('erin@example.org') && m.subject === SUBJECT;

/** Until the notification service has handled every event published so far. */
async function eventsHandled(): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await stack.eventually(
    () => jsm.consumers.info('GAS_EVENTS', 'notification'),
    (c) => c.num_pending === 0 && c.num_ack_pending === 0,
    30_000,
  );
}

t.test('the same answer for a registered address, one email to its owner, none for more attempts within the hour', async (t) => {
  const stranger = new WebClient(stack.url);
  const csrf = WebClient.csrfOf((await stranger.get('/signup')).text);
  const signUp = (fields: Record<string, string>) => stranger.postForm('/signup', { _csrf: csrf, ...fields });

  const first = await signUp({ email: 'erin@example.org', password: PASSWORD, name: 'Erin', institution: 'Lab' });
  t.equal(first.status, 200);
  t.match(first.text, /If this address is new, your account is ready/);

  // The owner turns every email off: the security email comes all the same.
  const owner = new WebClient(stack.url);
  t.equal((await owner.signIn('erin@example.org', PASSWORD)).status, 303);
  const profileCsrf = WebClient.csrfOf((await owner.get('/profile')).text);
  const saved = await owner.postForm('/profile', { _csrf: profileCsrf, name: 'Erin', institution: 'Lab', email: 'none' });
  t.equal(saved.status, 303);
  await eventsHandled();
  t.equal(smtp.messages.filter(toOwner).length, 0, 'a new account gets no such email');

  const typed = { password: 'mallory wants in', name: 'Mallory <b>sign in at evil.example</b>', institution: 'Evil Corp' };
  const second = await signUp({ email: 'Erin@Example.org', ...typed });
  t.equal(second.status, first.status, 'the same status');
  // Everything but the address typed into the form is the same.
  const body = (html: string) => html.replace(/name="email" value="[^"]*"/, '');
  t.equal(body(second.text), body(first.text), 'the same page');
  t.strictSame(
    second.headers.getSetCookie().map((h) => h.split('=')[0]),
    first.headers.getSetCookie().map((h) => h.split('=')[0]),
  );
  t.equal(stranger.cookies.has('gas_session'), false, 'nobody is signed in');

  const [mail] = (await smtp.waitFor((ms) => ms.some(toOwner), 30_000)).filter(toOwner);
  t.strictSame(mail!.envelope.to, ['erin@example.org']);
  t.equal(mail!.subject, SUBJECT);
  t.match(mail!.text, /someone tried to create a GAS account with this email address/);
  t.match(mail!.text, `Sign in with it: ${stack.url}/signin`);
  t.match(mail!.text, 'If it was not you: you need do nothing. Your account is unchanged.');
  t.match(mail!.html, `href="${stack.url}/signin"`);
  for (const words of [typed.password, 'Mallory', 'evil.example', 'Evil Corp', 'Erin@Example.org'])
    t.notOk(
      [mail!.subject, mail!.text, mail!.html, mail!.raw.toString('utf8')].join('\n').includes(words),
      `nothing the stranger typed: ${words}`,
    );
  const eventId = mail!.headers.get('x-gas-event-id') ?? '';
  const userId = eventId.split('.')[0]!;
  t.match(eventId, /^[0-9A-Z]{26}\.sign_up_attempted\.\d+$/);
  t.equal(mail!.messageId, `<${eventId}@127.0.0.1>`);
  t.equal((await notices.listNotices({ userId, pageSize: 10 })).notices.length, 0, 'an email, no in-app notice');

  // The owner's account is as it was.
  t.equal((await new WebClient(stack.url).signIn('erin@example.org', typed.password)).status, 401);
  t.match((await owner.get('/profile')).text, 'value="Lab"');

  const third = await signUp({ email: 'erin@example.org', ...typed });
  t.equal(body(third.text), body(first.text), 'the third answer is the same too');
  await eventsHandled();
  const mails = smtp.messages.filter(toOwner);
  t.equal(mails.length, 1, 'one email for the attempts within the hour');
  t.notOk(stack.services.notification!.logs().includes('erin@example.org'), 'the address is not logged in clear');
});
