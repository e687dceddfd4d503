// pnpm bench:archive [--quick] [--timers N] [--window S] [--lead S] [--replicas 1,2] [--timeout S]
//
// Schedules many archive timers due within the same minute and measures how late they fire, on
// one archive replica and then on two: a fresh nats-server per configuration with the real
// GAS_ARCHIVE stream and archive-timer consumer, timers published by the real ArchiveTimers, and
// replica processes (bench/archive-replica.ts) running the real ConsumeLoop and the handler's timer
// path. The peer, at the same time and for the same due times: plain setTimeout in this process,
// the in-memory timers the design forbids because a restart loses them. See bench/README.md.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
// The module itself, not @gas/testing's index: that one loads the browser and OIDC helpers too.
import { startNatsServer } from '../packages/testing/src/nats-server.ts';
import {
  connectNats,
  consumerSpecs,
  ensureConsumer,
  ensureStreams,
  jetstream,
  jetstreamManager,
  streamNames,
  streamSpecs,
} from '../packages/messaging/src/index.ts';
import type { JetStreamManager, NatsConnection } from '../packages/messaging/src/index.ts';
import { createLogger } from '../packages/runtime/src/index.ts';
import { JobSchema, create } from '../packages/proto/src/index.ts';
import { ArchiveTimers } from '../services/archive/src/archive-timers.ts';
import { FIRED_SUBJECT, READY_SUBJECT } from './archive-replica.ts';
import type { Firing, ReplicaCounts } from './archive-replica.ts';
import { percentile } from './measure.ts';
import { BENCH_DIR, REPO_ROOT, formatMachine, formatTable, machineInfo, reportPath, writeReport } from './report.ts';
import { benchCommand } from './cli-options.ts';

const REPLICA_SCRIPT = join(REPO_ROOT, 'bench', 'archive-replica.ts');
const GOAL_P99_MS = 1000;
/** Timers published at once (each waits for its PubAck). */
const PUBLISH_CONCURRENCY = 64;
const READY_TIMEOUT_MS = 60_000;
const SETTLE_TIMEOUT_MS = 10_000;
/** After the stream is empty: time for a duplicate firing already on the wire to arrive. */
const DUPLICATE_GRACE_MS = 1000;

const USAGE = `usage: pnpm bench:archive [--quick] [--timers N] [--window S] [--lead S] [--replicas 1,2] [--timeout S]
  --timers N      timers per configuration (default 10,000; 1,000 with --quick)
  --window S      the timers' due times spread evenly over S seconds (default 60; 10 with --quick)
  --lead S        seconds from the start of publishing to the first due time (default 15; 5 with --quick);
                  publishing and the first delivery of every timer must be over by then
  --replicas LIST replica counts to run, one configuration each (default 1,2)
  --timeout S     how long after the last due time to wait for missing firings (default 30)
`;

const say = (msg: string) => process.stderr.write(`bench:archive: ${msg}\n`);

interface Options {
  timers: number;
  windowMs: number;
  leadMs: number;
  replicas: number[];
  timeoutMs: number;
}

interface LagStats {
  count: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

interface ConfigResult {
  replicas: number;
  timers: number;
  fired: number;
  firedTwice: number;
  missing: number;
  lagMs: LagStats;
  /** How many first firings fell in each lag bucket (upper bounds in ms, the last open). */
  lagBuckets: Record<string, number>;
  deliveries: number;
  deliveriesPerTimer: number;
  /** The delivery that found each timer due: delivery number -> timers. */
  firingDelivery: Record<string, number>;
  publishSeconds: number;
  /** From the start of publishing until every timer had been delivered (and held) once. */
  firstPassSeconds: number | null;
  leftInStream: number;
  ackPending: number;
  perReplica: Array<ReplicaCounts & { firedSeen: number }>;
  peerLagMs: LagStats;
  /** The latest firings, to see when the tail happened (dueOffsetMs: due time after the first due). */
  slowest: Array<{ jobId: string; dueOffsetMs: number; lagMs: number; replica: string; deliveryCount: number }>;
  natsServer: string;
}

function lagStats(lags: number[]): LagStats {
  const s = [...lags].sort((a, b) => a - b);
  return {
    count: s.length,
    p50: percentile(s, 50),
    p99: percentile(s, 99),
    max: s.length ? s[s.length - 1]! : NaN,
    mean: s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN,
  };
}

const BUCKETS_MS = [10, 100, 250, 500, 1000, 2000, 5000];

function lagBuckets(lags: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const b of BUCKETS_MS) out[`<${b}`] = 0;
  out[`>=${BUCKETS_MS[BUCKETS_MS.length - 1]}`] = 0;
  for (const l of lags) {
    const b = BUCKETS_MS.find((x) => l < x);
    out[b === undefined ? `>=${BUCKETS_MS[BUCKETS_MS.length - 1]}` : `<${b}`]!++;
  }
  return out;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** 26 characters like a ULID: 10 of time, 16 of the run's random prefix and the index. */
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

interface Replica {
  name: string;
  child: ChildProcess;
  exited: Promise<unknown>;
  /** Set when it exits before it was told to stop. */
  early: () => string | undefined;
  stop(): Promise<ReplicaCounts>;
}

function startReplica(url: string, name: string, logPath: string): Replica {
  const log = openSync(logPath, 'w');
  const child = spawn(process.execPath, ['--import', 'tsx', REPLICA_SCRIPT, url, name], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', log] });
  closeSync(log);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = once(child, 'exit');
  let stopping = false;
  let early: string | undefined;
  child.once('exit', (code, signal) => {
    if (!stopping) early = `replica ${name} exited (code ${code}, signal ${signal}); see ${relative(REPO_ROOT, logPath)}`;
  });
  return {
    name,
    child,
    exited,
    early: () => early,
    async stop() {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(killer);
      }
      const line = out.trim().split('\n').pop() ?? '';
      try {
        return JSON.parse(line) as ReplicaCounts;
      } catch {
        throw new Error(`replica ${name} reported no counts; see ${relative(REPO_ROOT, logPath)}`);
      }
    },
  };
}

async function consumerInfo(jsm: JetStreamManager) {
  return jsm.consumers.info(streamNames.archive, consumerSpecs.archiveTimer().durable_name);
}

async function waitFor(what: string, timeoutMs: number, replicas: Replica[], check: () => Promise<boolean> | boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const r of replicas) {
      const e = r.early();
      if (e) throw new Error(`${e} while waiting for ${what}`);
    }
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(200);
  }
}

async function runConfiguration(o: Options, replicaCount: number): Promise<ConfigResult> {
  const logger = createLogger({ service: 'bench-archive', level: 'warn', destination: process.stderr });
  const server = await startNatsServer();
  const replicas: Replica[] = [];
  let nc: NatsConnection | undefined;
  try {
    nc = await connectNats({ servers: server.url, name: 'bench-archive', logger });
    const jsm = await jetstreamManager(nc);
    await ensureStreams(jsm, streamSpecs());
    await ensureConsumer(jsm, streamNames.archive, consumerSpecs.archiveTimer());

    const firings: Firing[] = [];
    const ready = new Set<string>();
    const firedIds = new Set<string>();
    nc.subscribe(FIRED_SUBJECT, {
      callback: (_err, msg) => {
        const f = msg.json<Firing>();
        firings.push(f);
        firedIds.add(f.jobId);
      },
    });
    nc.subscribe(READY_SUBJECT, {
      callback: (_err, msg) => {
        ready.add(msg.string());
      },
    });
    await nc.flush();

    await mkdir(join(BENCH_DIR, 'logs'), { recursive: true });
    for (let i = 1; i <= replicaCount; i++) {
      const name = `r${i}`;
      replicas.push(startReplica(server.url, name, join(BENCH_DIR, 'logs', `archive-replica-${replicaCount}-${name}.log`)));
    }
    // Every replica has started its loop and has a pull request waiting on the consumer.
    const pulling = await waitFor('the replicas to pull', READY_TIMEOUT_MS, replicas, async () => {
      if (ready.size < replicaCount) return false;
      return (await consumerInfo(jsm)).num_waiting >= replicaCount;
    });
    if (!pulling) throw new Error(`the ${replicaCount} replica(s) were not all pulling after ${READY_TIMEOUT_MS / 1000} s`);

    const start = Date.now();
    const firstDue = start + o.leadMs;
    const jobId = jobIdFactory(start);
    const dueAt = Array.from({ length: o.timers }, (_, i) => firstDue + Math.floor((i * o.windowMs) / o.timers));
    const lastDue = dueAt[dueAt.length - 1]!;

    // The peer: the same due times as in-memory timers of this process, running alongside.
    const peerLags: number[] = [];
    for (const due of dueAt) setTimeout(() => peerLags.push(Date.now() - due), due - Date.now());

    say(
      `${replicaCount} replica(s): publishing ${o.timers.toLocaleString('en')} timers due from +${o.leadMs / 1000} s for ${o.windowMs / 1000} s`,
    );
    const timers = new ArchiveTimers(jetstream(nc));
    let next = 0;
    await Promise.all(
      Array.from({ length: PUBLISH_CONCURRENCY }, async () => {
        for (let i = next++; i < o.timers; i = next++) {
          const job = create(JobSchema, { jobId: jobId(i), userId: `bench-user-${i % 100}` });
          await timers.setArchive(job, new Date(dueAt[i]!), null);
        }
      }),
    );
    const publishSeconds = (Date.now() - start) / 1000;

    // Every timer delivered once and held (nak with the time left) before the first is due?
    let firstPassSeconds: number | null = null;
    await waitFor('the first delivery of every timer', Math.max(0, lastDue - Date.now()), replicas, async () => {
      const info = await consumerInfo(jsm);
      if (info.num_pending > 0 || info.delivered.consumer_seq < o.timers) return false;
      firstPassSeconds = (Date.now() - start) / 1000;
      return true;
    });
    if (publishSeconds * 1000 > o.leadMs || firstPassSeconds === null || firstPassSeconds * 1000 > o.leadMs) {
      say(
        `WARNING: publishing (${publishSeconds.toFixed(1)} s) or the first pass (${firstPassSeconds ?? 'unfinished'} s) outlasted the lead`,
      );
    }

    await waitFor('the firings', Math.max(0, lastDue + o.timeoutMs - Date.now()), replicas, () => firedIds.size >= o.timers);
    // Nothing can fire again once the work queue is empty and no delivery is pending.
    await waitFor('the stream to empty', SETTLE_TIMEOUT_MS, replicas, async () => {
      const info = await consumerInfo(jsm);
      const stream = await jsm.streams.info(streamNames.archive);
      return info.num_ack_pending === 0 && info.num_pending === 0 && stream.state.messages === 0;
    });
    await sleep(DUPLICATE_GRACE_MS);
    const info = await consumerInfo(jsm);
    const stream = await jsm.streams.info(streamNames.archive);

    const perReplica: ConfigResult['perReplica'] = [];
    for (const r of replicas.splice(0)) {
      const counts = await r.stop();
      perReplica.push({ ...counts, firedSeen: firings.filter((f) => f.replica === r.name).length });
    }

    const byJob = new Map<string, Firing[]>();
    for (const f of firings) byJob.set(f.jobId, [...(byJob.get(f.jobId) ?? []), f]);
    const published = new Set(Array.from({ length: o.timers }, (_, i) => jobId(i)));
    const firstFirings = [...byJob.entries()].filter(([id]) => published.has(id)).map(([, fs]) => fs[0]!);
    const lags = firstFirings.map((f) => f.firedAt - f.dueAt);
    const firingDelivery: Record<string, number> = {};
    for (const f of firstFirings) firingDelivery[String(f.deliveryCount)] = (firingDelivery[String(f.deliveryCount)] ?? 0) + 1;

    return {
      replicas: replicaCount,
      timers: o.timers,
      fired: firstFirings.length,
      firedTwice: [...byJob.values()].filter((fs) => fs.length > 1).length,
      missing: o.timers - firstFirings.length,
      lagMs: lagStats(lags),
      lagBuckets: lagBuckets(lags),
      deliveries: info.delivered.consumer_seq,
      deliveriesPerTimer: info.delivered.consumer_seq / o.timers,
      firingDelivery,
      publishSeconds,
      firstPassSeconds,
      leftInStream: stream.state.messages,
      ackPending: info.num_ack_pending,
      perReplica,
      peerLagMs: lagStats(peerLags),
      slowest: [...firstFirings]
        .sort((a, b) => b.firedAt - b.dueAt - (a.firedAt - a.dueAt))
        .slice(0, 20)
        .map((f) => ({
          jobId: f.jobId,
          dueOffsetMs: f.dueAt - firstDue,
          lagMs: f.firedAt - f.dueAt,
          replica: f.replica,
          deliveryCount: f.deliveryCount,
        })),
      natsServer: nc.info?.version ?? 'unknown',
    };
  } finally {
    for (const r of replicas) r.child.kill('SIGKILL');
    await Promise.all(replicas.map((r) => r.exited));
    await nc?.drain().catch(() => undefined);
    await server.stop();
  }
}

function parseOptions(): Options {
  const {
    values: v,
    fail,
    integer,
    positive,
  } = benchCommand('bench:archive', USAGE, {
    quick: { type: 'boolean', default: false },
    timers: { type: 'string' },
    window: { type: 'string' },
    lead: { type: 'string' },
    replicas: { type: 'string', default: '1,2' },
    timeout: { type: 'string', default: '30' },
  });
  const timers = integer('timers', v.timers, v.quick ? 1000 : 10_000);
  const window = positive('window', v.window, v.quick ? 10 : 60);
  const lead = positive('lead', v.lead, v.quick ? 5 : 15);
  const timeout = positive('timeout', v.timeout, 30);
  const replicas = v.replicas.split(',').map((r) => Number(r.trim()));
  if (replicas.length === 0 || !replicas.every((r) => Number.isInteger(r) && r >= 1))
    fail(`--replicas must list positive integers, not ${v.replicas}`);
  return { timers, windowMs: window * 1000, leadMs: lead * 1000, replicas, timeoutMs: timeout * 1000 };
}

const ms = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en') : '-');
const ratio = (x: number) => (Number.isFinite(x) ? `${x < 10 ? x.toFixed(1) : Math.round(x).toLocaleString('en')}x` : '-');

async function main(): Promise<void> {
  const o = parseOptions();
  const started = new Date();
  const machine = await machineInfo();

  const results: ConfigResult[] = [];
  for (const n of o.replicas) {
    const r = await runConfiguration(o, n);
    say(
      `${n} replica(s): ${r.fired}/${r.timers} fired, ${r.firedTwice} twice, lag p50 ${ms(r.lagMs.p50)} ms p99 ${ms(r.lagMs.p99)} ms max ${ms(r.lagMs.max)} ms`,
    );
    results.push(r);
  }
  const finished = new Date();

  const out: string[] = [];
  out.push(formatMachine(machine));
  out.push(
    `Archive timers: ${o.timers.toLocaleString('en')} timers due evenly within ${o.windowMs / 1000} s, the first ${o.leadMs / 1000} s after publishing starts; ` +
      `nats-server ${results[0]?.natsServer ?? '?'} (file store, fresh per configuration), the real GAS_ARCHIVE stream and archive-timer consumer, ` +
      `timers published by ArchiveTimers, replicas running the real ConsumeLoop (16 in flight) in their own processes.`,
  );
  out.push('Timer path; the archive work itself is not included: a due timer is reported and acked (no job service, no blob copies).');
  out.push('One run per configuration; the lags are over every timer of that run (firedAt - dueAt, ms).');
  out.push('');
  out.push(
    formatTable(
      [
        'replicas',
        'timers',
        'fired',
        'fired twice',
        'missing',
        'lag p50 ms',
        'lag p99 ms',
        'lag max ms',
        'deliveries/timer',
        'p99 / peer p99',
      ],
      results.map((r) => [
        String(r.replicas),
        r.timers.toLocaleString('en'),
        r.fired.toLocaleString('en'),
        String(r.firedTwice),
        String(r.missing),
        ms(r.lagMs.p50),
        ms(r.lagMs.p99),
        ms(r.lagMs.max),
        r.deliveriesPerTimer.toFixed(2),
        ratio(r.lagMs.p99 / Math.max(1, r.peerLagMs.p99)),
      ]),
    ),
  );
  out.push('');
  out.push(
    'Peer: the same due times as plain setTimeout in the benchmark process, running at the same time as each configuration ' +
      '(in-memory timers, lost on a restart: what the design forbids). Lags at 1 ms resolution; the ratio divides by at least 1 ms.',
  );
  out.push(
    formatTable(
      ['during', 'timers', 'lag p50 ms', 'lag p99 ms', 'lag max ms'],
      results.map((r) => [
        `${r.replicas} replica(s)`,
        r.peerLagMs.count.toLocaleString('en'),
        ms(r.peerLagMs.p50),
        ms(r.peerLagMs.p99),
        ms(r.peerLagMs.max),
      ]),
    ),
  );
  out.push('');
  out.push('Lag distribution (timers per bucket, ms):');
  const bucketNames = Object.keys(results[0]?.lagBuckets ?? {});
  out.push(
    formatTable(
      ['replicas', ...bucketNames],
      results.map((r) => [String(r.replicas), ...bucketNames.map((b) => (r.lagBuckets[b] ?? 0).toLocaleString('en'))]),
    ),
  );
  out.push('');
  for (const r of results) {
    const deliveries = Object.entries(r.firingDelivery)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([d, n]) => `${n.toLocaleString('en')} on delivery ${d}`)
      .join(', ');
    const replicas = r.perReplica
      .map(
        (p) =>
          `${p.replica} ${p.firedSeen.toLocaleString('en')} fired / ${p.deliveries.toLocaleString('en')} deliveries / ${p.cpuSeconds.toFixed(1)} s CPU`,
      )
      .join('; ');
    out.push(
      `${r.replicas} replica(s): published in ${r.publishSeconds.toFixed(1)} s, every timer held once by ${r.firstPassSeconds?.toFixed(1) ?? '(not reached)'} s; ` +
        `${r.deliveries.toLocaleString('en')} deliveries; found due ${deliveries}; left in the stream ${r.leftInStream}, ack pending ${r.ackPending}. ${replicas}.`,
    );
  }
  out.push('');
  out.push(`Goal: p99 lag under ${GOAL_P99_MS} ms and nothing fired twice (nor missing):`);
  for (const r of results) {
    const met = r.lagMs.p99 < GOAL_P99_MS && r.firedTwice === 0 && r.missing === 0;
    out.push(
      `  ${r.replicas} replica(s): p99 ${ms(r.lagMs.p99)} ms, fired twice ${r.firedTwice}, missing ${r.missing}: ${met ? 'met' : 'NOT met'}`,
    );
  }

  const jsonPath = reportPath(BENCH_DIR, 'archive', started);
  out.push('');
  out.push(`Results: ${relative(REPO_ROOT, jsonPath)}`);
  process.stdout.write(out.join('\n') + '\n');

  await writeReport(jsonPath, {
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    options: o,
    machine,
    note: 'timer path; the archive work itself is not included',
    goal: { p99LagMs: GOAL_P99_MS, firedTwice: 0 },
    results,
  });
}

await main();
