import type { Socket } from 'node:net';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { simpleParser } from 'mailparser';
import type { HeaderLines } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerDataStream, SMTPServerError, SMTPServerSession } from 'smtp-server';

export interface ReceivedMail {
  envelope: { from: string; to: string[] };
  /** The message as received (RFC 5322), dot-stuffing undone. */
  raw: Buffer;
  subject: string;
  /**
   * The text/plain part ('' if none: no text is made up from the html). Of a message that is that
   * one part, without the line break that ends the message: on the wire 'x' and 'x\n' look the same.
   */
  text: string;
  /** The text/html part ('' if none), its end treated as `text`'s. */
  html: string;
  /** The Message-ID header, with its angle brackets as sent. */
  messageId: string;
  /**
   * Lower-cased names to the header's value as sent (unfolded, encoded words left encoded: the
   * decoded subject is `subject`). A header that repeats keeps its first (topmost) value.
   */
  headers: Map<string, string>;
  receivedAt: Date;
  /** Which SMTP connection (1, 2, ...) it came on. */
  connection: number;
}

export interface SmtpRefusal {
  code: number;
  message: string;
}

export interface SmtpServerHandle {
  /** smtp://127.0.0.1:<port>: plain SMTP, no STARTTLS, no AUTH. */
  url: string;
  port: number;
  /** Every accepted message, in the order the server answered 250. */
  messages: ReceivedMail[];
  /**
   * Waits until `predicate(messages)` holds (checked every 50 ms) and resolves with the messages it
   * held for; rejects after `timeoutMs` (default 5000) with a list of what did arrive.
   */
  waitFor(predicate: (messages: ReceivedMail[]) => boolean, timeoutMs?: number): Promise<ReceivedMail[]>;
  /** Connections seen: total opened, open now, the most open at once. */
  connections(): { total: number; open: number; maxOpen: number };
  /**
   * Answers RCPT TO for matching addresses with this SMTP code and text (e.g. 550 '5.1.1 user
   * unknown', 451 '4.3.0 try later'); null from the rule lets the address through, and a null
   * rule lets every address through. Replaces any earlier rule.
   */
  refuseRecipients(rule: ((address: string) => SmtpRefusal | null) | null): void;
  /**
   * Stops listening and drops open connections, keeping the port, so senders get connection
   * refused; resume() listens on the same port again.
   */
  halt(): Promise<void>;
  resume(): Promise<void>;
  /** Halts for good; resume() afterwards rejects. */
  stop(): Promise<void>;
}

export interface StartSmtpServerOptions {
  /** Default: a port the system picks. */
  port?: number;
  /** Messages over this many bytes are answered 552 and not recorded (default: no limit). */
  maxMessageBytes?: number;
}

const POLL_MS = 50;
const DEFAULT_WAIT_MS = 5_000;
// Another process may bind the port while the server is halted (the system hands out ports it
// picked for listen(0) again); resume() gives it this long to let go before giving up.
const RESUME_RETRY_MS = 2_000;

function refusal(code: number, message: string): SMTPServerError {
  return Object.assign(new Error(message), { responseCode: code });
}

function unfold(line: string): string {
  const value = line.slice(line.indexOf(':') + 1);
  return value.replace(/\r?\n(?=[ \t])/g, '').trim();
}

function withoutFinalBreak(part: string): string {
  return part.replace(/\r?\n$/, '');
}

function headerMap(lines: HeaderLines): Map<string, string> {
  const headers = new Map<string, string>();
  for (const { key, line } of lines) {
    if (!headers.has(key)) headers.set(key, unfold(line));
  }
  return headers;
}

function describe(messages: ReceivedMail[]): string {
  if (messages.length === 0) return 'no message arrived';
  const lines = messages.map(
    (m, i) => `  ${i + 1}. from <${m.envelope.from}> to <${m.envelope.to.join('>, <')}>: ${JSON.stringify(m.subject)} (${m.messageId})`,
  );
  return `${messages.length} message(s) arrived:\n${lines.join('\n')}`;
}

async function listen(server: SMTPServer, port: number): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.server.once('error', onError);
    server.server.listen(port, '127.0.0.1', () => {
      server.server.off('error', onError);
      const address = server.server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

// smtp-server runs in this process, so there is no child to kill: the listening socket is
// unref'd, and a test that forgets stop() does not keep its process alive for it.
/** A message's subject, parts, Message-ID and headers, as the test server records them (an .eml file, say). */
export async function parseMail(raw: Buffer): Promise<Pick<ReceivedMail, 'subject' | 'text' | 'html' | 'messageId' | 'headers'>> {
  // No text made from the html or html from the text: a test asserts the parts that were sent.
  const parsed = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
  const headers = headerMap(parsed.headerLines);
  // SMTP's end of data needs the message to end with a line break, so senders add one to a body
  // that lacks it; in a multipart message the break before a boundary is the boundary's.
  const body = /^multipart\//i.test(headers.get('content-type') ?? '') ? (part: string) => part : withoutFinalBreak;
  return {
    subject: parsed.subject ?? '',
    text: body(parsed.text ?? ''),
    html: body(parsed.html || ''),
    messageId: headers.get('message-id') ?? '',
    headers,
  };
}

export async function startSmtpServer(opts: StartSmtpServerOptions = {}): Promise<SmtpServerHandle> {
  const messages: ReceivedMail[] = [];
  const connectionNumbers = new Map<string, number>();
  let total = 0;
  let open = 0;
  let maxOpen = 0;
  let rule: ((address: string) => SmtpRefusal | null) | null = null;

  const receive = async (stream: SMTPServerDataStream, session: SMTPServerSession): Promise<ReceivedMail | SMTPServerError> => {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    // smtp-server answers 552 itself (rejectOversized); this only keeps the message out of `messages`.
    if (stream.sizeExceeded) return refusal(552, '5.3.4 message too big');
    const raw = Buffer.concat(chunks);
    const { mailFrom, rcptTo } = session.envelope;
    return {
      envelope: { from: mailFrom ? mailFrom.address : '', to: rcptTo.map((a) => a.address) },
      raw,
      ...(await parseMail(raw)),
      receivedAt: new Date(),
      connection: connectionNumbers.get(session.id) ?? 0,
    };
  };

  const sockets = new Set<Socket>();
  const create = (): SMTPServer => {
    const server = new SMTPServer({
      name: 'gas-test-smtp',
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      disableReverseLookup: true,
      logger: false,
      ...(opts.maxMessageBytes !== undefined ? { size: opts.maxMessageBytes, rejectOversized: true } : {}),
      onConnect(session, callback) {
        connectionNumbers.set(session.id, ++total);
        open++;
        maxOpen = Math.max(maxOpen, open);
        callback();
      },
      // Also called for a connection closed before it reached onConnect, which was never counted.
      onClose(session) {
        if (connectionNumbers.delete(session.id)) open--;
      },
      onRcptTo(address, _session, callback) {
        const refused = rule?.(address.address);
        callback(refused ? refusal(refused.code, refused.message) : null);
      },
      onData(stream, session, callback) {
        receive(stream, session).then(
          (result) => {
            if (result instanceof Error) return callback(result);
            // Recorded before the 250 goes out: a sender that has its answer finds the message here.
            messages.push(result);
            callback();
          },
          // The connection dropped mid-message (halt()), or the message could not be parsed.
          (err: Error) => callback(refusal(451, `4.3.0 ${err.message}`)),
        );
      },
    });
    // Socket errors of a client that went away mid-transaction; the client sees its own failure.
    server.on('error', () => undefined);
    server.server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    return server;
  };

  let current: SMTPServer | undefined = create();
  const port = await listen(current, opts.port ?? 0);
  current.server.unref();

  let resuming: Promise<void> | undefined;
  const halt = async (): Promise<void> => {
    await resuming?.catch(() => undefined);
    const server = current;
    current = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // close() alone waits up to 30 s for clients to leave; a halted server drops them at once.
    for (const socket of sockets) socket.destroy();
    await closed;
    // smtp-server reports closed sessions a turn later (setImmediate); let connections() see them.
    for (let turn = 0; open > 0 && turn < 10; turn++) await nextTurn();
  };

  const relisten = async (): Promise<void> => {
    if (current) return;
    const deadline = Date.now() + RESUME_RETRY_MS;
    for (;;) {
      // A fresh server each attempt: a net.Server whose listen() failed is not one to reuse.
      const server = create();
      try {
        await listen(server, port);
        server.server.unref();
        current = server;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || Date.now() >= deadline) throw err;
        await sleep(POLL_MS);
      }
    }
  };

  let stopping: Promise<void> | undefined;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    async waitFor(predicate, timeoutMs = DEFAULT_WAIT_MS) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const seen = [...messages];
        if (predicate(seen)) return seen;
        if (Date.now() >= deadline) throw new Error(`waitFor: the condition did not hold within ${timeoutMs} ms; ${describe(seen)}`);
        await sleep(POLL_MS);
      }
    },
    connections: () => ({ total, open, maxOpen }),
    refuseRecipients(next) {
      rule = next;
    },
    halt,
    resume() {
      if (stopping) return Promise.reject(new Error('resume() after stop(): this SMTP server is gone for good'));
      resuming ??= relisten().finally(() => (resuming = undefined));
      return resuming;
    },
    stop() {
      stopping ??= halt();
      return stopping;
    },
  };
}
