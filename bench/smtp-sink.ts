// The SMTP server of pnpm bench:notify, in a process of its own: the tests' real server
// (startSmtpServer: smtp-server, and mailparser on every message before it answers 250). Run in the
// benchmark's process, its parsing would share one event loop with the peer's nodemailer client and
// with the benchmark's own publishing and polling. It answers the benchmark over the IPC channel:
// what arrived (each message's X-GAS-Event-Id, receivedAt, connection, size), the connections seen,
// its CPU time, and one message as a template for the peer.
import { startSmtpServer } from '../packages/testing/src/smtp-server.ts';
import type { ReceivedMail } from '../packages/testing/src/smtp-server.ts';

export type SinkRequest = { id: number; cmd: 'status' | 'dump' | 'stop' };

export interface SinkMail {
  /** X-GAS-Event-Id ('' when the message had none). */
  eventId: string;
  /** receivedAt, ms since the epoch: recorded just before the server answers 250. */
  at: number;
  connection: number;
  bytes: number;
}

/** What the peer sends: one of the service's emails, as the server parsed it. */
export interface MailTemplate {
  to: string;
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
  bytes: number;
}

export interface SinkStatus {
  messages: number;
  /** Distinct X-GAS-Event-Id values. */
  distinct: number;
  connections: { total: number; open: number; maxOpen: number };
  cpuSeconds: number;
}

export type SinkReply =
  | { id: number; kind: 'status'; status: SinkStatus }
  | { id: number; kind: 'dump'; status: SinkStatus; mails: SinkMail[]; template: MailTemplate | null }
  | { id: number; kind: 'stopped' };

export type SinkHello = { kind: 'ready'; url: string; pid: number };

const TEMPLATE_HEADERS = ['list-unsubscribe', 'auto-submitted'];

function templateOf(m: ReceivedMail): MailTemplate {
  const headers: Record<string, string> = {};
  for (const h of TEMPLATE_HEADERS) {
    const v = m.headers.get(h);
    if (v !== undefined) headers[h.replace(/(^|-)[a-z]/g, (c) => c.toUpperCase())] = v;
  }
  return { to: m.envelope.to[0] ?? '', subject: m.subject, text: m.text, html: m.html, headers, bytes: m.raw.length };
}

async function main(): Promise<void> {
  if (!process.send) throw new Error('bench/smtp-sink.ts is started by bench/notify-burst.ts with an IPC channel');
  const send = (m: SinkReply | SinkHello) => process.send!(m);
  const smtp = await startSmtpServer();
  const ids = new Set<string>();
  let seen = 0;
  const eventId = (m: ReceivedMail) => m.headers.get('x-gas-event-id') ?? '';
  const status = (): SinkStatus => {
    // Only the messages added since the last look are read: status is asked for every 100 ms.
    for (; seen < smtp.messages.length; seen++) ids.add(eventId(smtp.messages[seen]!));
    const cpu = process.cpuUsage();
    return {
      messages: smtp.messages.length,
      distinct: ids.size,
      connections: smtp.connections(),
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    };
  };
  process.on('message', (req: SinkRequest) => {
    if (req.cmd === 'status') send({ id: req.id, kind: 'status', status: status() });
    else if (req.cmd === 'dump') {
      const mails = smtp.messages.map((m) => ({
        eventId: eventId(m),
        at: m.receivedAt.getTime(),
        connection: m.connection,
        bytes: m.raw.length,
      }));
      send({ id: req.id, kind: 'dump', status: status(), mails, template: smtp.messages[0] ? templateOf(smtp.messages[0]) : null });
    } else if (req.cmd === 'stop') {
      void smtp.stop().then(() => {
        send({ id: req.id, kind: 'stopped' });
        process.disconnect();
      });
    }
  });
  // The benchmark went away without stopping this server: nothing is left to answer.
  process.on('disconnect', () => void smtp.stop().then(() => process.exit(0)));
  send({ kind: 'ready', url: smtp.url, pid: process.pid });
}

await main();
