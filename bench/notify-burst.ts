// pnpm bench:notify [--quick] [--events N] [--connections N] [--concurrency N] [--runs N] [--timeout S]
//
// Mails a burst of job completions through a real SMTP server: a fresh nats-server, the job service
// (accounts) and the notification service as real processes, the way the stack starts them, and the
// tests' SMTP server (startSmtpServer) in a process of its own (bench/smtp-sink.ts). The benchmark
// publishes the JobEvents at once and reads what the server accepted: emails/s, the SMTP connections
// used, and the latency from each event's publish to its mail's acceptance. The peer, in the same
// invocation: the same number of emails of the same size sent straight from this process with a
// pooled nodemailer transport of the same size, the transport floor. See bench/README.md.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
// The modules themselves, not @gas/testing's index: that one loads the browser and OIDC helpers too.
import { startNatsServer } from '../packages/testing/src/nats-server.ts';
import type { NatsServerHandle } from '../packages/testing/src/nats-server.ts';
import { startService } from '../packages/testing/src/service.ts';
import type { ServiceHandle } from '../packages/testing/src/service.ts';
import { freePort } from '../packages/testing/src/free-port.ts';
import { publishProto } from '../packages/messaging/src/codec.ts';
import { connectNats, consumerSpecs, jetstream, jetstreamManager, streamNames, subjects } from '../packages/messaging/src/index.ts';
import type { JetStreamManager, NatsConnection } from '../packages/messaging/src/index.ts';
import { createLogger } from '../packages/runtime/src/index.ts';
import {
  create,
  createClient,
  timestampFromDate,
  AccountSchema,
  AccountService,
  GenomeBuild,
  JobEventKind,
  JobEventSchema,
  JobSchema,
  JobStatus,
  NotificationPrefsSchema,
  VariantCountsSchema,
} from '../packages/proto/src/index.ts';
import type { JobEvent } from '../packages/proto/src/index.ts';
// The service's own transport: nodemailer pooled exactly as the service configures it.
import { smtpMailer } from '../services/notification/src/mailer.ts';
import type { OutgoingMail } from '../services/notification/src/email-content.ts';
import type { MailTemplate, SinkHello, SinkMail, SinkReply, SinkRequest, SinkStatus } from './smtp-sink.ts';
import { cpuOf, median, natsPid, percentile } from './measure.ts';
import { BENCH_DIR, REPO_ROOT, formatMachine, formatTable, machineInfo, reportPath, writeReport } from './report.ts';
import { benchCommand } from './cli-options.ts';

const LOG_DIR = join(BENCH_DIR, 'logs');
const SINK_SCRIPT = join(REPO_ROOT, 'bench', 'smtp-sink.ts');
const ISSUE_EVENTS = 5000;
/** Accounts the events are spread over (each has its own address). */
const USERS = 10;
/** Events published at once, each waiting for its PubAck: the burst is over in about a second. */
const PUBLISH_CONCURRENCY = 128;
const READY_TIMEOUT_MS = 60_000;
const POLL_MS = 100;
const SETTLE_TIMEOUT_MS = 15_000;
/** After the consumer has nothing pending: time for a duplicate already on the wire to arrive. */
const DUPLICATE_GRACE_MS = 1000;
const FROM = 'GAS <gas@localhost>';
const PUBLIC_URL = 'http://127.0.0.1:8080';

const USAGE = `usage: pnpm bench:notify [--quick] [--events N] [--connections N] [--concurrency N] [--runs N] [--timeout S]
  --events N       completion events in the burst (default 5,000; 500 with --quick)
  --connections N  SMTP_MAX_CONNECTIONS of the service, and the peer's pool size (default 3, the service's default)
  --concurrency N  NOTIFICATION_CONCURRENCY of the service, and the peer's sends in flight (default 8, the service's default)
  --runs N         runs, each with fresh processes and state; the summary shows medians (default 3; 1 with --quick)
  --timeout S      how long after publishing to wait for the emails (default 300)
`;

const say = (msg: string) => process.stderr.write(`bench:notify: ${msg}\n`);

interface Options {
  events: number;
  connections: number;
  concurrency: number;
  runs: number;
  timeoutMs: number;
  quick: boolean;
}

interface LatencyStats {
  count: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

interface CpuSeconds {
  notification: number;
  job: number;
  natsServer: number;
  smtpServer: number;
  bench: number;
}

interface ServiceTimes {
  /** gas_notification_handler_seconds: the handler, from delivery to its outcome (the ack not included). */
  handlerMeanMs: number;
  /** gas_notification_send_seconds: from handing the mail to the transport to its acceptance (the pool's queue included). */
  sendMeanMs: number;
  acks: number;
  sent: number;
}

interface OursResult {
  events: number;
  received: number;
  duplicates: number;
  missing: number;
  /** Messages the server accepted that name none of the events (should be 0). */
  strangers: number;
  emailsPerSecond: number;
  /** From the first publish to the last accepted mail. */
  seconds: number;
  publishSeconds: number;
  latencyMs: LatencyStats;
  connections: { total: number; maxOpen: number };
  meanBytes: number;
  cpuSeconds: CpuSeconds;
  service: ServiceTimes;
  /** Little's law over the burst: concurrency × seconds ÷ events, the time each event held a slot. */
  slotMs: number;
  natsServer: string;
}

interface PeerResult {
  emails: number;
  received: number;
  emailsPerSecond: number;
  seconds: number;
  /** From handing a mail to the transport to its acceptance. */
  sendMs: LatencyStats;
  connections: { total: number; maxOpen: number };
  meanBytes: number;
  cpuSeconds: { bench: number; smtpServer: number };
}

interface RunResult {
  run: number;
  ours: OursResult;
  peer: PeerResult;
  ratio: number;
}

function latencyStats(values: number[]): LatencyStats {
  const s = [...values].sort((a, b) => a - b);
  return {
    count: s.length,
    p50: percentile(s, 50),
    p99: percentile(s, 99),
    max: s.length ? s[s.length - 1]! : NaN,
    mean: s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN,
  };
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** 26 characters like a ULID: 10 of time, 8 of the run's random prefix and 8 of the index. */
function jobIdFactory(now: number): (i: number) => string {
  let time = '';
  for (let t = now, k = 0; k < 10; k++, t = Math.floor(t / 32)) time = CROCKFORD[t % 32]! + time;
  let prefix = '';
  for (let k = 0; k < 8; k++) prefix += CROCKFORD[Math.floor(Math.random() * 32)]!;
  return (i) => {
    let tail = '';
    for (let k = 0, v = i; k < 8; k++, v = Math.floor(v / 32)) tail = CROCKFORD[v % 32]! + tail;
    return time + prefix + tail;
  };
}

const userId = (i: number) => `bench-user-${i % USERS}`;
const address = (user: string) => `${user}@example.org`;

function completion(jobId: string, i: number, at: Date): JobEvent {
  const finishedAt = timestampFromDate(at);
  const records = 40_000 + ((i * 7919) % 60_000);
  const indels = Math.floor(records / 9);
  return create(JobEventSchema, {
    eventId: `${jobId}.completed`,
    kind: JobEventKind.COMPLETED,
    job: create(JobSchema, {
      jobId,
      userId: userId(i),
      status: JobStatus.COMPLETED,
      genomeBuild: GenomeBuild.GRCH38,
      inputName: `sample-${i + 1}.vcf.gz`,
      inputSize: BigInt(records * 120),
      createdAt: timestampFromDate(new Date(at.getTime() - 600_000)),
      startedAt: timestampFromDate(new Date(at.getTime() - 300_000)),
      finishedAt,
      attempt: 1,
      counts: create(VariantCountsSchema, {
        records: BigInt(records),
        alleles: BigInt(records + 50),
        snvs: BigInt(records - indels),
        indels: BigInt(indels),
      }),
    }),
    occurredAt: finishedAt,
  });
}

// --- the SMTP server's process --------------------------------------------------------------------

interface Sink {
  url: string;
  pid: number;
  ask(cmd: 'status'): Promise<SinkStatus>;
  dump(): Promise<Extract<SinkReply, { kind: 'dump' }>>;
  stop(): Promise<void>;
  early(): string | undefined;
}

async function startSink(logPath: string): Promise<Sink> {
  const log = openSync(logPath, 'w');
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', SINK_SCRIPT], {
    cwd: REPO_ROOT,
    stdio: ['ignore', log, log, 'ipc'],
  });
  closeSync(log);
  const exited = once(child, 'exit');
  let early: string | undefined;
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) early ??= `the SMTP server process exited (code ${code}, signal ${signal}); see ${relative(REPO_ROOT, logPath)}`;
  });
  const waiting = new Map<number, { resolve: (r: SinkReply) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  const hello = new Promise<SinkHello>((resolve, reject) => {
    child.on('message', (m: SinkReply | SinkHello) => {
      if (m.kind === 'ready') resolve(m);
      else waiting.get(m.id)?.resolve(m);
    });
    // Also after READY_TIMEOUT_MS without a hello: the timer below kills the process.
    void exited.then(() => {
      const err = new Error(early ?? 'the SMTP server process exited');
      reject(err);
      for (const w of waiting.values()) w.reject(err);
    });
  });
  const request = (cmd: SinkRequest['cmd']) =>
    new Promise<SinkReply>((resolve, reject) => {
      if (early) return reject(new Error(early));
      const id = nextId++;
      waiting.set(id, {
        resolve: (r) => {
          waiting.delete(id);
          resolve(r);
        },
        reject,
      });
      child.send({ id, cmd } satisfies SinkRequest);
    });
  const timer = setTimeout(() => {
    early = `the SMTP server process did not start within ${READY_TIMEOUT_MS / 1000} s; see ${relative(REPO_ROOT, logPath)}`;
    child.kill('SIGKILL');
  }, READY_TIMEOUT_MS);
  const { url, pid } = await hello.finally(() => clearTimeout(timer));
  return {
    url,
    pid,
    async ask() {
      return ((await request('status')) as Extract<SinkReply, { kind: 'status' }>).status;
    },
    async dump() {
      return (await request('dump')) as Extract<SinkReply, { kind: 'dump' }>;
    },
    async stop() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      if (child.connected) await request('stop').catch(() => undefined);
      await exited;
      clearTimeout(killer);
    },
    early: () => early,
  };
}

// --- CPU time and metrics -----------------------------------------------------------------------

const benchCpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};

/** Sum of the samples of `name` (every label set) in Prometheus text. */
function metricSum(text: string, name: string, labels: string[] = []): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    if (!labels.every((l) => line.includes(l))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

async function serviceTimes(svc: ServiceHandle): Promise<ServiceTimes> {
  const text = await (await fetch(`http://127.0.0.1:${svc.opsPort}/metrics`)).text();
  const mean = (base: string) => (1000 * metricSum(text, `${base}_sum`)) / metricSum(text, `${base}_count`);
  return {
    handlerMeanMs: mean('gas_notification_handler_seconds'),
    sendMeanMs: mean('gas_notification_send_seconds'),
    acks: metricSum(text, 'gas_notification_messages_total', ['outcome="ack"']),
    sent: metricSum(text, 'gas_notification_emails_total', ['outcome="sent"']),
  };
}

// --- one run ------------------------------------------------------------------------------------

async function waitUntil(what: string, timeoutMs: number, alive: () => void, check: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    alive();
    if (await check()) return true;
    if (Date.now() > deadline) {
      say(`gave up waiting for ${what} after ${Math.round(timeoutMs / 1000)} s`);
      return false;
    }
    await sleep(POLL_MS);
  }
}

function received(mails: SinkMail[], ids: Set<string>): { first: Map<string, SinkMail>; duplicates: number; strangers: number } {
  const first = new Map<string, SinkMail>();
  const seen = new Map<string, number>();
  let strangers = 0;
  for (const m of mails) {
    if (!ids.has(m.eventId)) {
      strangers++;
      continue;
    }
    seen.set(m.eventId, (seen.get(m.eventId) ?? 0) + 1);
    if (!first.has(m.eventId)) first.set(m.eventId, m);
  }
  return { first, duplicates: [...seen.values()].filter((n) => n > 1).length, strangers };
}

async function runOurs(o: Options, run: number): Promise<{ result: OursResult; template: MailTemplate }> {
  const logger = createLogger({ service: 'bench-notify', level: 'warn', destination: process.stderr });
  const logs = (name: string) => join(LOG_DIR, `notify-run${run}-${name}.log`);
  let server: NatsServerHandle | undefined;
  let sink: Sink | undefined;
  let nc: NatsConnection | undefined;
  const services: ServiceHandle[] = [];
  let stopping = false;
  let died: string | undefined;
  const watch = (svc: ServiceHandle) => {
    services.push(svc);
    void svc.exited.then((e) => {
      if (!stopping) died ??= `${svc.name} exited (code ${e.code}, signal ${e.signal}); see ${relative(REPO_ROOT, logs(svc.name))}`;
    });
  };
  try {
    // startService appends to its log file; each run's logs start empty.
    await Promise.all(['job', 'notification'].map((name) => writeFile(logs(name), '')));
    server = await startNatsServer();
    sink = await startSink(logs('smtp'));
    const jobPort = await freePort();
    const common = { NATS_URL: server.url, LOG_LEVEL: 'warn', OPS_HOST: '127.0.0.1' };
    const jobGrpcUrl = `127.0.0.1:${jobPort}`;
    const job = startService('job', { ...common, JOB_GRPC_HOST: '127.0.0.1', JOB_GRPC_PORT: String(jobPort) }, { logFile: logs('job') });
    watch(job);
    await job.waitReady(READY_TIMEOUT_MS);

    const accounts = createClient(AccountService, jobGrpcUrl, { defaultDeadlineMs: 10_000 });
    try {
      await accounts.waitForReady(10_000);
      for (let u = 0; u < USERS; u++) {
        const id = userId(u);
        await accounts.upsertAccount({
          account: create(AccountSchema, {
            userId: id,
            email: address(id),
            name: `Bench User ${u}`,
            notifications: create(NotificationPrefsSchema, { emailOnCompletion: true, emailOnFailure: true }),
          }),
        });
      }
    } finally {
      accounts.close();
    }

    const notification = startService(
      'notification',
      {
        ...common,
        JOB_GRPC_URL: jobGrpcUrl,
        SMTP_URL: sink.url,
        SMTP_REQUIRE_TLS: 'false',
        SMTP_MAX_CONNECTIONS: String(o.connections),
        NOTIFICATION_CONCURRENCY: String(o.concurrency),
        NOTIFICATION_PUBLIC_URL: PUBLIC_URL,
        NOTIFICATION_GRPC_HOST: '127.0.0.1',
        NOTIFICATION_GRPC_PORT: '0',
      },
      { logFile: logs('notification') },
    );
    watch(notification);
    await notification.waitReady(READY_TIMEOUT_MS);

    nc = await connectNats({ servers: server.url, name: 'bench-notify', logger });
    const js = jetstream(nc);
    const jsm: JetStreamManager = await jetstreamManager(nc);
    const durable = consumerSpecs.notification().durable_name;
    const consumerInfo = () => jsm.consumers.info(streamNames.events, durable);
    const alive = () => {
      const e = sink!.early() ?? died;
      if (e) throw new Error(e);
    };
    // The service has a pull request waiting, so the burst meets a consumer that is already running.
    const pulling = await waitUntil('the service to pull', READY_TIMEOUT_MS, alive, async () => (await consumerInfo()).num_waiting >= 1);
    if (!pulling) throw new Error('the notification service did not start pulling');

    const started = Date.now();
    const jobId = jobIdFactory(started);
    const events = Array.from({ length: o.events }, (_, i) => completion(jobId(i), i, new Date(started)));
    const ids = new Set(events.map((e) => e.eventId));
    const publishedAt = new Map<string, number>();
    const pids = { notification: notification.pid, job: job.pid, natsServer: await natsPid(server.port), smtpServer: sink.pid };
    const cpuNow = async (): Promise<CpuSeconds> => ({
      notification: await cpuOf(pids.notification),
      job: await cpuOf(pids.job),
      natsServer: await cpuOf(pids.natsServer),
      smtpServer: (await sink!.ask('status')).cpuSeconds,
      bench: benchCpu(),
    });
    const cpuBefore = await cpuNow();

    say(
      `run ${run}: publishing ${o.events.toLocaleString('en')} completions (concurrency ${o.concurrency}, ${o.connections} SMTP connections)`,
    );
    const subject = subjects.jobEvent('completed');
    const firstPublish = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: PUBLISH_CONCURRENCY }, async () => {
        for (let i = next++; i < o.events; i = next++) {
          const e = events[i]!;
          publishedAt.set(e.eventId, Date.now());
          await publishProto(js, subject, JobEventSchema, e, e.eventId);
        }
      }),
    );
    const publishSeconds = (Date.now() - firstPublish) / 1000;

    await waitUntil('the emails', o.timeoutMs, alive, async () => (await sink!.ask('status')).distinct >= o.events);
    const cpuAfter = await cpuNow();
    // Nothing can be mailed again once nothing is pending or unacknowledged.
    await waitUntil('the consumer to settle', SETTLE_TIMEOUT_MS, alive, async () => {
      const info = await consumerInfo();
      return info.num_pending === 0 && info.num_ack_pending === 0;
    });
    await sleep(DUPLICATE_GRACE_MS);
    const times = await serviceTimes(notification);
    const dump = await sink.dump();
    if (!dump.template) throw new Error('no email arrived');

    const got = received(dump.mails, ids);
    if (got.first.size === 0) throw new Error('none of the events was mailed');
    const latencies = [...got.first.values()].map((m) => m.at - publishedAt.get(m.eventId)!);
    const lastAt = Math.max(...[...got.first.values()].map((m) => m.at));
    const seconds = (lastAt - firstPublish) / 1000;
    const cpu: CpuSeconds = {
      notification: cpuAfter.notification - cpuBefore.notification,
      job: cpuAfter.job - cpuBefore.job,
      natsServer: cpuAfter.natsServer - cpuBefore.natsServer,
      smtpServer: cpuAfter.smtpServer - cpuBefore.smtpServer,
      bench: cpuAfter.bench - cpuBefore.bench,
    };
    const result: OursResult = {
      events: o.events,
      received: got.first.size,
      duplicates: got.duplicates,
      missing: o.events - got.first.size,
      strangers: got.strangers,
      emailsPerSecond: got.first.size / seconds,
      seconds,
      publishSeconds,
      latencyMs: latencyStats(latencies),
      connections: { total: dump.status.connections.total, maxOpen: dump.status.connections.maxOpen },
      meanBytes: dump.mails.reduce((a, m) => a + m.bytes, 0) / Math.max(1, dump.mails.length),
      cpuSeconds: cpu,
      service: times,
      slotMs: (o.concurrency * seconds * 1000) / Math.max(1, got.first.size),
      natsServer: nc.info?.version ?? 'unknown',
    };
    return { result, template: dump.template };
  } finally {
    stopping = true;
    for (const s of services.reverse()) await s.stop(15_000);
    await nc?.drain().catch(() => undefined);
    await sink?.stop();
    await server?.stop();
  }
}

async function runPeer(o: Options, run: number, template: MailTemplate): Promise<PeerResult> {
  const sink = await startSink(join(LOG_DIR, `notify-run${run}-peer-smtp.log`));
  const mailer = smtpMailer({ url: sink.url, from: FROM, requireTls: false, maxConnections: o.connections });
  try {
    const stamp = jobIdFactory(Date.now());
    const mails: OutgoingMail[] = Array.from({ length: o.events }, (_, i) => {
      const eventId = `${stamp(i)}.completed`;
      return {
        to: address(userId(i)),
        subject: template.subject,
        text: template.text,
        html: template.html,
        messageId: `<${eventId}@127.0.0.1>`,
        headers: { ...template.headers, 'X-GAS-Event-Id': eventId },
      };
    });
    const ids = new Set(mails.map((m) => m.headers['X-GAS-Event-Id']!));
    const handedAt = new Map<string, number>();
    const cpu0 = { bench: benchCpu(), smtpServer: (await sink.ask('status')).cpuSeconds };
    say(`run ${run}: peer sending ${o.events.toLocaleString('en')} emails (${o.concurrency} in flight, ${o.connections} connections)`);
    const start = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        for (let i = next++; i < o.events; i = next++) {
          const m = mails[i]!;
          handedAt.set(m.headers['X-GAS-Event-Id']!, Date.now());
          await mailer.send(m, m.headers['X-GAS-Event-Id']!);
        }
      }),
    );
    await waitUntil(
      'the peer emails',
      o.timeoutMs,
      () => undefined,
      async () => (await sink.ask('status')).distinct >= o.events,
    );
    const cpu1 = { bench: benchCpu(), smtpServer: (await sink.ask('status')).cpuSeconds };
    const dump = await sink.dump();
    const got = received(dump.mails, ids);
    if (got.first.size === 0) throw new Error('none of the peer emails arrived');
    const lastAt = Math.max(...[...got.first.values()].map((m) => m.at));
    const seconds = (lastAt - start) / 1000;
    return {
      emails: o.events,
      received: got.first.size,
      emailsPerSecond: got.first.size / seconds,
      seconds,
      sendMs: latencyStats([...got.first.values()].map((m) => m.at - handedAt.get(m.eventId)!)),
      connections: { total: dump.status.connections.total, maxOpen: dump.status.connections.maxOpen },
      meanBytes: dump.mails.reduce((a, m) => a + m.bytes, 0) / Math.max(1, dump.mails.length),
      cpuSeconds: { bench: cpu1.bench - cpu0.bench, smtpServer: cpu1.smtpServer - cpu0.smtpServer },
    };
  } finally {
    mailer.close();
    await sink.stop();
  }
}

// --- options and report ---------------------------------------------------------------------------

function parseOptions(): Options {
  const {
    values: v,
    integer,
    positive,
  } = benchCommand('bench:notify', USAGE, {
    quick: { type: 'boolean', default: false },
    events: { type: 'string' },
    connections: { type: 'string' },
    concurrency: { type: 'string' },
    runs: { type: 'string' },
    timeout: { type: 'string' },
  });
  return {
    events: integer('events', v.events, v.quick ? 500 : ISSUE_EVENTS, 1, 1_000_000),
    // The service's own limits (src/config.ts).
    connections: integer('connections', v.connections, 3, 1, 50),
    concurrency: integer('concurrency', v.concurrency, 8, 1, 256),
    runs: integer('runs', v.runs, v.quick ? 1 : 3, 1, 100),
    timeoutMs: positive('timeout', v.timeout, 300) * 1000,
    quick: v.quick,
  };
}

const num = (x: number, digits = 0) =>
  Number.isFinite(x) ? x.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '-';
const ratio = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}x` : '-');

async function main(): Promise<void> {
  const o = parseOptions();
  const started = new Date();
  const machine = await machineInfo();
  await mkdir(LOG_DIR, { recursive: true });

  const runs: RunResult[] = [];
  for (let run = 1; run <= o.runs; run++) {
    const { result: ours, template } = await runOurs(o, run);
    say(
      `run ${run}: ${ours.received}/${ours.events} emails, ${ours.duplicates} duplicates, ${num(ours.emailsPerSecond, 1)} emails/s, ` +
        `p50 ${num(ours.latencyMs.p50)} ms p99 ${num(ours.latencyMs.p99)} ms`,
    );
    const peer = await runPeer(o, run, template);
    say(`run ${run}: peer ${peer.received}/${peer.emails} emails, ${num(peer.emailsPerSecond, 1)} emails/s`);
    runs.push({ run, ours, peer, ratio: ours.emailsPerSecond / peer.emailsPerSecond });
  }
  const finished = new Date();

  const m = (f: (r: RunResult) => number) => median(runs.map(f));
  // The median across runs, formatted with 0, 1 or 2 decimals.
  const m0 = (f: (r: RunResult) => number) => num(m(f));
  const m1 = (f: (r: RunResult) => number) => num(m(f), 1);
  const m2 = (f: (r: RunResult) => number) => num(m(f), 2);
  const lighter =
    o.events < ISSUE_EVENTS ? ` (${o.quick ? '--quick: ' : ''}lighter than the issue's ${ISSUE_EVENTS.toLocaleString('en')})` : '';
  const out: string[] = [];
  out.push(formatMachine(machine));
  out.push(
    `Notification burst: ${o.events.toLocaleString('en')} gas.events.job.completed events${lighter}, published at once ` +
      `(${PUBLISH_CONCURRENCY} PubAcks awaited at a time), ${USERS} accounts. nats-server ${runs[0]?.ours.natsServer ?? '?'} (file store), ` +
      `the job and notification services as processes, the tests' SMTP server (smtp-server + mailparser) in its own process; ` +
      `fresh processes and state for every run.`,
  );
  out.push(
    `Settings: NOTIFICATION_CONCURRENCY ${o.concurrency}, SMTP_MAX_CONNECTIONS ${o.connections}. ` +
      `${o.runs} run(s)${runs.length > 1 ? '; the last row is the median of each column' : ''}.`,
  );
  out.push(`Latency: from an event's publish to its mail's acceptance by the SMTP server (its 250), ms.`);
  out.push('');
  // One row of the main table: `pick` reads a figure of one run, or the median across runs.
  const row = (label: string, pick: (f: (x: RunResult) => number) => number) => {
    const d0 = (f: (x: RunResult) => number) => num(pick(f));
    const d1 = (f: (x: RunResult) => number) => num(pick(f), 1);
    return [
      label,
      d0((x) => x.ours.events),
      d0((x) => x.ours.received),
      d0((x) => x.ours.duplicates),
      d0((x) => x.ours.missing),
      d1((x) => x.ours.emailsPerSecond),
      d0((x) => x.ours.latencyMs.p50),
      d0((x) => x.ours.latencyMs.p99),
      d0((x) => x.ours.latencyMs.max),
      `${d0((x) => x.ours.connections.total)} / ${d0((x) => x.ours.connections.maxOpen)}`,
      d1((x) => x.peer.emailsPerSecond),
      ratio(pick((x) => x.ratio)),
    ];
  };
  const head = ['run', 'events', 'emails', 'duplicates', 'missing', 'emails/s', 'p50 ms', 'p99 ms', 'max ms'];
  out.push(
    formatTable(
      [...head, 'SMTP conns opened / max open', 'peer emails/s', 'ours / peer'],
      [...runs.map((x) => row(String(x.run), (f) => f(x))), ...(runs.length > 1 ? [row('median', m)] : [])],
    ),
  );

  const peerBytes = m0((x) => x.peer.meanBytes);
  const oursBytes = m0((x) => x.ours.meanBytes);
  const peerP50 = m0((x) => x.peer.sendMs.p50);
  const peerP99 = m0((x) => x.peer.sendMs.p99);
  const peerConns = `${m0((x) => x.peer.connections.total)} opened, ${m0((x) => x.peer.connections.maxOpen)} at most open`;
  out.push('');
  out.push(
    `Peer: the same ${o.events.toLocaleString('en')} emails (one of the service's as the template: ${peerBytes} bytes each, ` +
      `the service's ${oursBytes}) sent from the benchmark's process through the service's smtpMailer (nodemailer, pooled to ` +
      `${o.connections} connections, ${o.concurrency} sends in flight) to a fresh instance of the same SMTP server. ` +
      `It is the transport floor: no NATS, no job service, no records, no acks. Send time (handed to the transport to accepted) ` +
      `p50 ${peerP50} ms, p99 ${peerP99} ms; connections ${peerConns}.`,
  );

  out.push('');
  out.push('Where the time goes (medians). CPU seconds from the first publish to the last email, and per email:');
  // Each row: the process, its CPU seconds in our run, and in the peer's (null: not part of the peer).
  type Cpu = (x: RunResult) => number;
  const cpuRows: Array<[string, Cpu, Cpu | null]> = [
    ['notification service', (x) => x.ours.cpuSeconds.notification, null],
    ['nats-server', (x) => x.ours.cpuSeconds.natsServer, null],
    ['job service (GetAccount)', (x) => x.ours.cpuSeconds.job, null],
    ['SMTP server (parses every mail)', (x) => x.ours.cpuSeconds.smtpServer, (x) => x.peer.cpuSeconds.smtpServer],
    ['benchmark (publish, poll; peer: nodemailer)', (x) => x.ours.cpuSeconds.bench, (x) => x.peer.cpuSeconds.bench],
  ];
  const totalCpu: Cpu = (x) => cpuRows.reduce((a, [, f]) => a + f(x), 0);
  const peerCpu: Cpu = (x) => x.peer.cpuSeconds.smtpServer + x.peer.cpuSeconds.bench;
  const cpuRow = (label: string, f: Cpu, peer: Cpu | null) => [
    label,
    m1(f),
    m0((x) => (100 * f(x)) / x.ours.seconds),
    m2((x) => (1000 * f(x)) / x.ours.received),
    peer ? m2((x) => (1000 * peer(x)) / x.peer.received) : '',
  ];
  const wall = `all, over ${m1((x) => x.ours.seconds)} s wall on ${machine.cores} cores`;
  out.push(
    formatTable(
      ['process', 'CPU s', '% of one core', 'CPU ms / email', 'peer CPU ms / email'],
      [...cpuRows.map(([label, f, peer]) => cpuRow(label, f, peer)), cpuRow(wall, totalCpu, peerCpu)],
    ),
  );

  const handler = m1((x) => x.ours.service.handlerMeanMs);
  const send = m1((x) => x.ours.service.sendMeanMs);
  const rest = m1((x) => x.ours.service.handlerMeanMs - x.ours.service.sendMeanMs);
  const slot = m1((x) => x.ours.slotMs);
  const outside = m1((x) => x.ours.slotMs - x.ours.service.handlerMeanMs);
  out.push('');
  out.push(
    `The service's histograms: the handler took ${handler} ms per event (mean), of which the SMTP send (the pool's queue included) ` +
      `${send} ms and the rest (notice KV create, send-record get and two puts, GetAccount, notice get and update, composing) ${rest} ms. ` +
      `Each event held one of the ${o.concurrency} slots for ${slot} ms (Little's law: concurrency × seconds ÷ emails), so ` +
      `${outside} ms went outside the handler (waiting for the ack's confirmation, the pull that refills the slot).`,
  );
  out.push(
    `Published in ${m2((x) => x.ours.publishSeconds)} s. By the service's counters: ${m0((x) => x.ours.service.acks)} acks, ` +
      `${m0((x) => x.ours.service.sent)} emails sent.`,
  );
  const strangers = runs.reduce((a, x) => a + x.ours.strangers, 0);
  if (strangers > 0) out.push(`WARNING: ${strangers} accepted message(s) named none of the events.`);
  const bad = runs.filter((x) => x.ours.duplicates > 0 || x.ours.missing > 0);
  if (bad.length > 0) out.push(`WARNING: duplicates or missing emails in run(s) ${bad.map((x) => x.run).join(', ')}.`);

  const jsonPath = reportPath(BENCH_DIR, 'notify', started);
  out.push('');
  out.push(`Results: ${relative(REPO_ROOT, jsonPath)}`);
  process.stdout.write(out.join('\n') + '\n');

  await writeReport(jsonPath, {
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    options: o,
    machine,
    note: 'peer: the transport floor (nodemailer pooled, same connections and in-flight bound), without NATS, the job service, records or acks',
    runs,
  });
}

await main();
