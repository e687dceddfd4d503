import { createServer } from 'node:net';
import type { Server } from 'node:net';
import t from 'tap';
import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import { startSmtpServer } from '../src/index.ts';
import type { SmtpServerHandle } from '../src/index.ts';

interface SendError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
}

// What the notification service does: plain SMTP to a URL, no TLS, no auth.
function transport(smtp: SmtpServerHandle, pooled = false): Transporter {
  if (pooled) return nodemailer.createTransport({ url: smtp.url, pool: true, maxConnections: 2 });
  return nodemailer.createTransport(smtp.url);
}

async function sendError(send: Promise<unknown>): Promise<SendError> {
  try {
    await send;
  } catch (err) {
    return err as SendError;
  }
  throw new Error('the send did not fail');
}

function occupy(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

t.test('startSmtpServer', async (t) => {
  const smtp = await startSmtpServer();
  t.teardown(() => smtp.stop());
  const mailer = transport(smtp);
  t.teardown(() => mailer.close());

  t.test('listens on 127.0.0.1 at the port it reports', async (t) => {
    t.match(smtp.url, /^smtp:\/\/127\.0\.0\.1:\d+$/);
    t.equal(smtp.url, `smtp://127.0.0.1:${smtp.port}`);
  });

  t.test('records a message with text and html parts, envelope, Message-ID and custom headers', async (t) => {
    const before = smtp.messages.length;
    const unsubscribe =
      '<https://gas.example.test/notifications/unsubscribe?token=abcdefghijklmnopqrstuvwxyz0123456789>, <mailto:unsubscribe@gas.example.test>';
    const info = await mailer.sendMail({
      from: 'GAS <noreply@gas.example.test>',
      to: ['alice@example.test', 'Bob <bob@example.test>'],
      subject: 'Your job is done: Ünïcode too',
      text: 'Job j1 finished.\nhttps://gas.example.test/jobs/j1',
      html: '<p>Job <b>j1</b> finished.</p>',
      messageId: '<j1.done@gas.example.test>',
      headers: { 'List-Unsubscribe': unsubscribe, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click', 'X-Gas-Job': 'j1' },
    });
    t.equal(smtp.messages.length, before + 1, 'recorded by the time the sender has its 250');
    const mail = smtp.messages[before]!;
    t.strictSame(mail.envelope, { from: 'noreply@gas.example.test', to: ['alice@example.test', 'bob@example.test'] });
    t.equal(mail.subject, 'Your job is done: Ünïcode too');
    t.equal(mail.text, 'Job j1 finished.\nhttps://gas.example.test/jobs/j1');
    t.equal(mail.html, '<p>Job <b>j1</b> finished.</p>');
    t.equal(mail.messageId, '<j1.done@gas.example.test>');
    t.equal(mail.messageId, info.messageId);
    t.equal(mail.headers.get('list-unsubscribe'), unsubscribe, 'a folded header comes back unfolded');
    t.equal(mail.headers.get('list-unsubscribe-post'), 'List-Unsubscribe=One-Click');
    t.equal(mail.headers.get('x-gas-job'), 'j1');
    t.match(mail.headers.get('subject'), /^=\?UTF-8\?/, 'header values stay as sent');
    t.match(mail.headers.get('content-type'), /^multipart\/alternative;/);
    t.ok(mail.raw.includes('Message-ID: <j1.done@gas.example.test>'), 'raw holds the message as sent');
    t.ok(mail.receivedAt instanceof Date);
    t.ok(mail.connection >= 1);
  });

  t.test('leaves text or html empty when the message has no such part, and numbers connections', async (t) => {
    const before = smtp.messages.length;
    await mailer.sendMail({ from: 'noreply@gas.example.test', to: 'a@example.test', subject: 'html only', html: '<p>hi</p>' });
    await mailer.sendMail({ from: 'noreply@gas.example.test', to: 'a@example.test', subject: 'text only', text: 'hi' });
    const [htmlOnly, textOnly] = smtp.messages.slice(before);
    t.equal(htmlOnly!.text, '');
    t.equal(htmlOnly!.html, '<p>hi</p>');
    t.equal(textOnly!.text, 'hi');
    t.equal(textOnly!.html, '');
    t.equal(textOnly!.connection, htmlOnly!.connection + 1, 'an unpooled transport opens a connection per message');
  });

  t.test('refuseRecipients answers RCPT TO with the given code, and nothing is recorded', async (t) => {
    t.teardown(() => smtp.refuseRecipients(null));
    const before = smtp.messages.length;
    smtp.refuseRecipients((address) => (address.startsWith('gone@') ? { code: 550, message: '5.1.1 user unknown' } : null));
    const permanent = await sendError(
      mailer.sendMail({ from: 'noreply@gas.example.test', to: 'gone@example.test', subject: 'x', text: 'x' }),
    );
    t.equal(permanent.responseCode, 550);
    t.match(permanent.response, /^550 5\.1\.1 user unknown/);

    smtp.refuseRecipients(() => ({ code: 451, message: '4.3.0 try later' }));
    const transient = await sendError(mailer.sendMail({ from: 'noreply@gas.example.test', to: 'a@example.test', subject: 'x', text: 'x' }));
    t.equal(transient.responseCode, 451);
    t.match(transient.response, /^451 4\.3\.0 try later/);
    t.equal(smtp.messages.length, before);

    smtp.refuseRecipients(null);
    await mailer.sendMail({ from: 'noreply@gas.example.test', to: 'gone@example.test', subject: 'through', text: 'x' });
    t.equal(smtp.messages.at(-1)?.subject, 'through', 'a null rule lets every address through');
  });

  t.test('a rule refusing one of two recipients records the message for the other', async (t) => {
    t.teardown(() => smtp.refuseRecipients(null));
    smtp.refuseRecipients((address) => (address === 'gone@example.test' ? { code: 550, message: '5.1.1 user unknown' } : null));
    const info = await mailer.sendMail({
      from: 'noreply@gas.example.test',
      to: ['gone@example.test', 'a@example.test'],
      subject: 'half',
      text: 'x',
    });
    t.strictSame(info.rejected, ['gone@example.test']);
    t.strictSame(smtp.messages.at(-1)?.envelope.to, ['a@example.test']);
  });

  t.test('waitFor resolves once the condition holds, and says what arrived when it does not', async (t) => {
    const subject = `wait ${Date.now()}`;
    const waiting = smtp.waitFor((messages) => messages.some((m) => m.subject === subject));
    setTimeout(() => void mailer.sendMail({ from: 'noreply@gas.example.test', to: 'a@example.test', subject, text: 'x' }), 120);
    const seen = await waiting;
    t.equal(seen.at(-1)?.subject, subject);

    const started = Date.now();
    await t.rejects(
      smtp.waitFor(() => false, 200),
      /within 200 ms; \d+ message\(s\) arrived:\n {2}1\. from <noreply@gas\.example\.test> to <alice@example\.test>, <bob@example\.test>/,
    );
    t.ok(Date.now() - started >= 200);
  });

  t.test('halt() refuses connections and drops open ones; resume() listens on the same port again', async (t) => {
    const pooled = transport(smtp, true);
    t.teardown(() => pooled.close());
    await pooled.sendMail({ from: 'noreply@gas.example.test', to: 'a@example.test', subject: 'before', text: 'x' });
    t.equal(smtp.connections().open, 1, 'the pooled connection stays open');

    const started = Date.now();
    await smtp.halt();
    t.ok(Date.now() - started < 2_000, `halt() did not wait for the client (${Date.now() - started} ms)`);
    t.equal(smtp.connections().open, 0);
    await smtp.halt();

    const refused = await sendError(
      mailer.sendMail({ from: 'noreply@gas.example.test', to: 'a@example.test', subject: 'down', text: 'x' }),
    );
    t.equal(refused.code, 'ESOCKET');
    t.match(refused.message, /ECONNREFUSED/);

    await smtp.resume();
    await smtp.resume();
    await mailer.sendMail({ from: 'noreply@gas.example.test', to: 'a@example.test', subject: 'after', text: 'x' });
    t.equal(smtp.messages.at(-1)?.subject, 'after');
    await pooled.sendMail({ from: 'noreply@gas.example.test', to: 'a@example.test', subject: 'pool after', text: 'x' });
    t.equal(smtp.messages.at(-1)?.subject, 'pool after', 'the pool reconnects');
  });

  t.test('a pool of two connections sending ten messages at once uses at most two connections', async (t) => {
    const other = await startSmtpServer();
    t.teardown(() => other.stop());
    const pooled = transport(other, true);
    t.teardown(() => pooled.close());
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        pooled.sendMail({ from: 'noreply@gas.example.test', to: `u${i}@example.test`, subject: `m${i}`, text: `message ${i}` }),
      ),
    );
    t.equal(other.messages.length, 10);
    const { total, maxOpen } = other.connections();
    t.ok(maxOpen <= 2, `maxOpen ${maxOpen}`);
    t.ok(total <= 2, `total ${total}`);
    t.ok(new Set(other.messages.map((m) => m.connection)).size <= 2);
    pooled.close();
    await other.waitFor(() => other.connections().open === 0);
  });
});

t.test('maxMessageBytes answers 552 to a bigger message and records nothing', async (t) => {
  const smtp = await startSmtpServer({ maxMessageBytes: 2_000 });
  t.teardown(() => smtp.stop());
  const mailer = transport(smtp);
  t.teardown(() => mailer.close());
  const err = await sendError(
    mailer.sendMail({ from: 'noreply@gas.example.test', to: 'a@example.test', subject: 'big', text: 'x'.repeat(10_000) }),
  );
  t.equal(err.responseCode, 552);
  await mailer.sendMail({ from: 'noreply@gas.example.test', to: 'a@example.test', subject: 'small', text: 'x' });
  t.strictSame(
    smtp.messages.map((m) => m.subject),
    ['small'],
  );
});

t.test('listens on a port it is given; resume() waits for the port to come free, then gives up', async (t) => {
  const probe = await startSmtpServer();
  const port = probe.port;
  await probe.stop();
  await probe.stop();
  await t.rejects(probe.resume(), /gone for good/);

  const smtp = await startSmtpServer({ port });
  t.teardown(() => smtp.stop());
  t.equal(smtp.port, port);
  await t.rejects(startSmtpServer({ port }), { code: 'EADDRINUSE' });

  await smtp.halt();
  const squatter = await occupy(port);
  setTimeout(() => squatter.close(), 300);
  await smtp.resume();
  const mailer = transport(smtp);
  t.teardown(() => mailer.close());
  await mailer.sendMail({ from: 'noreply@gas.example.test', to: 'a@example.test', subject: 'back', text: 'x' });
  t.equal(smtp.messages.length, 1);

  await smtp.halt();
  const stubborn = await occupy(port);
  t.teardown(() => stubborn.close());
  await t.rejects(smtp.resume(), { code: 'EADDRINUSE' });
});
