// Where emails go: an SMTP server (a pooled nodemailer transport, one connection set per replica),
// or, with no SMTP_URL (the local stack), the outbox folder as .eml files a mail client opens.
import { link, mkdir, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { OutgoingMail } from './email-content.ts';

export interface SentMail {
  /** The SMTP server's answer, or the file the mail was written to. */
  response: string;
  file?: string;
}

export interface Mailer {
  readonly kind: 'smtp' | 'outbox';
  /** Resolves once the mail is accepted; rejects with nodemailer's error (responseCode, code) otherwise. */
  send(mail: OutgoingMail, key: string): Promise<SentMail>;
  close(): void;
}

export interface SmtpSettings {
  url: string;
  from: string;
  user?: string;
  password?: string;
  requireTls: boolean;
  maxConnections: number;
}

export function smtpMailer(s: SmtpSettings): Mailer {
  const transport = nodemailer.createTransport({
    url: s.url,
    pool: true,
    maxConnections: s.maxConnections,
    requireTLS: s.requireTls,
    ...(s.user ? { auth: { user: s.user, pass: s.password ?? '' } } : {}),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  } as Parameters<typeof nodemailer.createTransport>[0]);
  return {
    kind: 'smtp',
    async send(mail) {
      const info = (await transport.sendMail({ ...mail, from: s.from })) as { response?: string };
      return { response: info.response ?? '' };
    },
    close: () => transport.close(),
  };
}

export function outboxMailer(dir: string, from: string): Mailer {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    kind: 'outbox',
    async send(mail, key) {
      await mkdir(dir, { recursive: true });
      const info = (await transport.sendMail({ ...mail, from })) as { message: Buffer };
      const file = join(dir, `${key}.eml`);
      // Written whole to a temporary name, then linked to its own name, which fails if it exists: the
      // file a crashed attempt completed is the mail, and a reader never sees half of one.
      const tmp = join(dir, `.${key}.${randomBytes(4).toString('hex')}.partial`);
      await writeFile(tmp, info.message, { flush: true });
      try {
        await link(tmp, file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      } finally {
        await rm(tmp, { force: true });
      }
      return { response: `written to ${file}`, file };
    },
    close: () => transport.close(),
  };
}
