// pnpm bench:system [--quick] [--runs N] [--seconds S] [--connections N] [--jobs N] [--rate R] [--throughput-jobs N]
//                   [--concurrency N] [--only LIST] [--from-bundle DIR] [--cpu-prof DIR]
//
// The whole system on this machine: a fresh nats-server, the job service, the gateway and the
// annotator as real processes (startGasStack, the way the local stack runs them), and:
//  - latency: free_1.vcf (1,141 records) submitted through the API at a steady rate; from the start
//    of each upload to the job service's WatchJobs stream saying COMPLETED (a stream, not polling,
//    so observing costs nothing per job);
//  - throughput: jobs per second, uploads kept in flight until every job completed, with one
//    annotator and then two;
//  - api: autocannon on the gateway's authenticated GET /api/v1/jobs (a user with 20 jobs) and
//    GET /api/v1/jobs/{id}, beside a bare Fastify hello in a process of its own (the peer);
//  - grpc: the job service's CreateJob and GetJob with the same number of calls in flight, beside a
//    bare grpc-js server answering the same descriptor from memory (the peer).
// Runs of ours and the peer alternate; the tables show medians of the runs. See bench/README.md.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Writable } from 'node:stream';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { openAsBlob } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
// The modules themselves, not @gas/testing's index: that one loads the browser and OIDC helpers too.
import { newApiToken, startGasStack } from '../packages/testing/src/gas-stack.ts';
import type { GasStack, StackUser } from '../packages/testing/src/gas-stack.ts';
import { startService } from '../packages/testing/src/service.ts';
import type { ServiceHandle } from '../packages/testing/src/service.ts';
import { sharedDataPath } from '../packages/testing/src/shared-data.ts';
import { createClient, GenomeBuild, JobService, JobStatus } from '../packages/proto/src/index.ts';
import { connectNats, jetstream } from '../packages/messaging/src/index.ts';
import { createLogger } from '../packages/runtime/src/index.ts';
import { ApiTokenStore, identityBuckets } from '../services/gateway/src/identity/index.ts';
import type { ServiceClient } from '../packages/proto/src/index.ts';
import { benchCommand } from './cli-options.ts';
import { cpuOf, median, natsPid, percentile } from './measure.ts';
import { BENCH_DIR, REPO_ROOT, formatMachine, formatTable, machineInfo, reportPath, writeReport } from './report.ts';

const FREE_1 = 'vcf/gas_anntools/free_1.vcf';
const LIST_JOBS = 20;
const PHASES = ['latency', 'throughput', 'api', 'grpc'] as const;
type Phase = (typeof PHASES)[number];

const USAGE = `usage: pnpm bench:system [--quick] [--runs N] [--seconds S] [--connections N] [--jobs N] [--rate R]
                         [--throughput-jobs N] [--concurrency N] [--only LIST] [--from-bundle DIR] [--cpu-prof DIR]
  --runs N             runs of each measurement; tables show medians (default 3; 1 with --quick)
  --seconds S          length of each HTTP and gRPC load run (default 5; 3 with --quick)
  --connections N      autocannon connections (default 50)
  --jobs N             jobs per latency run (default 200; 60 with --quick)
  --rate R             jobs submitted per second in the latency runs (default 20)
  --throughput-jobs N  jobs per throughput run (default 60; 30 with --quick)
  --concurrency N      gRPC calls in flight (default 50)
  --only LIST          some of ${PHASES.join(',')} (default all)
  --from-bundle DIR    run the services from the production build (pnpm build; e.g. dist) instead of tsx
  --cpu-prof DIR       write V8 CPU profiles of the gateway and the job service into DIR (node --cpu-prof; open in Chrome DevTools)
`;

const say = (msg: string) => process.stderr.write(`bench:system: ${msg}\n`);

interface Options {
  runs: number;
  seconds: number;
  connections: number;
  jobs: number;
  rate: number;
  throughputJobs: number;
  concurrency: number;
  phases: Phase[];
  fromBundle?: string;
  cpuProf?: string;
}

function options(): Options {
  const {
    values: v,
    fail,
    integer,
    positive,
  } = benchCommand('bench:system', USAGE, {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    seconds: { type: 'string' },
    connections: { type: 'string' },
    jobs: { type: 'string' },
    rate: { type: 'string' },
    'throughput-jobs': { type: 'string' },
    concurrency: { type: 'string' },
    only: { type: 'string' },
    'from-bundle': { type: 'string' },
    'cpu-prof': { type: 'string' },
  });
  const quick = v.quick;
  const phases = (v.only ?? PHASES.join(',')).split(',').map((p) => p.trim());
  for (const p of phases) if (!PHASES.includes(p as Phase)) fail(`--only: unknown phase ${p}`);
  return {
    runs: integer('runs', v.runs, quick ? 1 : 3),
    seconds: positive('seconds', v.seconds, quick ? 3 : 5),
    connections: integer('connections', v.connections, 50),
    jobs: integer('jobs', v.jobs, quick ? 60 : 200),
    rate: positive('rate', v.rate, 20),
    throughputJobs: integer('throughput-jobs', v['throughput-jobs'], quick ? 30 : 60),
    concurrency: integer('concurrency', v.concurrency, 50),
    phases: phases as Phase[],
    fromBundle: v['from-bundle'] ? resolve(REPO_ROOT, v['from-bundle']) : undefined,
    cpuProf: v['cpu-prof'] ? resolve(v['cpu-prof']) : undefined,
  };
}

// --- helpers ----------------------------------------------------------------------------------------

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** A ULID (what the job service takes as a job id), without a dependency for it. */
function newUlid(): string {
  let t = Date.now();
  let time = '';
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  let rand = '';
  for (let i = 0; i < 16; i++) rand += CROCKFORD[Math.floor(Math.random() * 32)]!;
  return time + rand;
}

const round = (n: number, digits = 0) => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : NaN);
const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '–';
const pct = (n: number) => (Number.isFinite(n) ? `${Math.round(n * 100)}%` : '–');

interface Peer {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

async function startPeer(kind: 'fastify' | 'fastify-plugins' | 'grpc', ...args: string[]): Promise<Peer> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'bench', 'system-peers.ts'), kind, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out: string | null = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      // After the port, only the plugins peer's request lines come: read and dropped, as the stack's are.
      if (out === null) return;
      out += d;
      const m = /port (\d+)/.exec(out);
      if (m) {
        out = null;
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`the ${kind} peer exited with ${code} before listening`)));
  });
  return {
    port,
    pid: child.pid ?? -1,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/**
 * A token made the way users make theirs (the gateway's token store, in its KV bucket), so the API
 * runs take the path users' requests take rather than the operator tokens' (GATEWAY_API_TOKENS).
 */
async function userApiToken(natsUrl: string, userId: string): Promise<string> {
  const logger = createLogger({ service: 'bench', level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  const nc = await connectNats({ servers: natsUrl, name: 'bench-system', logger });
  try {
    // @nats-io/kv is a dependency of the services, not of bench/: loaded from where they have it.
    const require = createRequire(join(REPO_ROOT, 'packages', 'messaging', 'package.json'));
    const { Kvm } = (await import(pathToFileURL(require.resolve('@nats-io/kv')).href)) as {
      Kvm: new (js: unknown) => { open(name: string): Promise<ConstructorParameters<typeof ApiTokenStore>[0]> };
    };
    const store = new ApiTokenStore(await new Kvm(jetstream(nc)).open(identityBuckets.tokens));
    return (await store.create(userId, 'bench:system')).token;
  } finally {
    await nc.close();
  }
}

// --- latency and throughput ---------------------------------------------------------------------------

/** When each of a user's jobs first reached a final state, from the job service's WatchJobs stream. */
class Completions {
  readonly done = new Map<string, { at: number; status: JobStatus }>();
  private readonly ac = new AbortController();
  private readonly client: ServiceClient<typeof JobService>;
  private waiters: Array<() => void> = [];
  private ended: Promise<void> = Promise.resolve();

  constructor(grpcUrl: string) {
    this.client = createClient(JobService, grpcUrl, { defaultDeadlineMs: 10_000 });
  }

  async open(userId: string): Promise<void> {
    await this.client.waitForReady(10_000);
    let opened: () => void = () => undefined;
    const open = new Promise<void>((resolve) => (opened = resolve));
    this.ended = (async () => {
      try {
        for await (const { job } of this.client.watchJobs({ userId }, { deadlineMs: 3_600_000, signal: this.ac.signal })) {
          opened();
          const final = job!.status === JobStatus.COMPLETED || job!.status === JobStatus.FAILED;
          if (final && !this.done.has(job!.jobId)) {
            this.done.set(job!.jobId, { at: performance.now(), status: job!.status });
            for (const w of this.waiters.splice(0)) w();
          }
        }
      } catch {
        // ended by close()
      }
    })();
    // A user with no jobs yet gets no first message: give the watch a moment to be in place.
    await Promise.race([open, sleep(500)]);
  }

  async waitFor(ids: string[], timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!ids.every((id) => this.done.has(id))) {
      if (Date.now() > deadline) return false;
      await Promise.race([new Promise<void>((r) => this.waiters.push(r)), sleep(1000)]);
    }
    return true;
  }

  async close(): Promise<void> {
    this.ac.abort();
    await this.ended;
    this.client.close();
  }
}

async function submit(stack: GasStack, user: StackUser, file: Blob): Promise<string> {
  const form = new FormData();
  form.append('genome_build', 'GRCh37');
  form.append('file', file, 'free_1.vcf');
  const res = await stack.api(user, '/api/v1/jobs', { method: 'POST', body: form });
  const body = (await res.json()) as { id?: string; detail?: string };
  if (res.status !== 201 || !body.id) throw new Error(`upload answered ${res.status}: ${body.detail ?? JSON.stringify(body)}`);
  return body.id;
}

interface LatencyRun {
  jobs: number;
  failed: number;
  missing: number;
  /** Achieved submission rate. */
  ratePerSecond: number;
  uploadP50Ms: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

async function latencyRun(stack: GasStack, user: StackUser, file: Blob, o: Options): Promise<LatencyRun> {
  const watch = new Completions(stack.jobGrpcUrl);
  await watch.open(user.userId);
  const started = new Map<string, number>();
  const uploads: number[] = [];
  const pending: Promise<void>[] = [];
  const gap = 1000 / o.rate;
  const t0 = performance.now();
  for (let i = 0; i < o.jobs; i++) {
    const due = t0 + i * gap;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(
      (async () => {
        const at = performance.now();
        const id = await submit(stack, user, file);
        uploads.push(performance.now() - at);
        started.set(id, at);
      })(),
    );
  }
  await Promise.all(pending);
  const submitSeconds = (performance.now() - t0) / 1000;
  const ids = [...started.keys()];
  await watch.waitFor(ids, 60_000);
  await watch.close();
  const latencies = ids
    .map((id) => watch.done.get(id))
    .map((d, i) => (d && d.status === JobStatus.COMPLETED ? d.at - started.get(ids[i]!)! : NaN))
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  const failed = ids.filter((id) => watch.done.get(id)?.status === JobStatus.FAILED).length;
  return {
    jobs: ids.length,
    failed,
    missing: ids.length - latencies.length - failed,
    ratePerSecond: round(o.jobs / Math.max(submitSeconds, (o.jobs - 1) * (gap / 1000)), 1),
    uploadP50Ms: round(
      percentile(
        [...uploads].sort((a, b) => a - b),
        50,
      ),
      1,
    ),
    p50Ms: round(percentile(latencies, 50), 1),
    p99Ms: round(percentile(latencies, 99), 1),
    maxMs: round(latencies.at(-1) ?? NaN, 1),
  };
}

/** The floor: one job at a time, each submitted once the one before has completed. */
async function sequentialLatency(stack: GasStack, user: StackUser, file: Blob, jobs: number): Promise<number[]> {
  const watch = new Completions(stack.jobGrpcUrl);
  await watch.open(user.userId);
  const out: number[] = [];
  try {
    for (let i = 0; i < jobs; i++) {
      const at = performance.now();
      const id = await submit(stack, user, file);
      if (!(await watch.waitFor([id], 30_000))) throw new Error(`job ${id} did not finish within 30 s`);
      out.push(watch.done.get(id)!.at - at);
    }
  } finally {
    await watch.close();
  }
  return out.sort((a, b) => a - b);
}

interface ThroughputRun {
  annotators: number;
  jobs: number;
  completed: number;
  jobsPerSecond: number;
  seconds: number;
}

/** Keeps `inFlight` uploads going until `jobs` were submitted; the time runs to the last completion. */
async function throughputRun(stack: GasStack, user: StackUser, file: Blob, jobs: number, annotators: number): Promise<ThroughputRun> {
  const watch = new Completions(stack.jobGrpcUrl);
  await watch.open(user.userId);
  const ids: string[] = [];
  let next = 0;
  const inFlight = 4 * annotators;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < jobs) {
        next++;
        ids.push(await submit(stack, user, file));
      }
    }),
  );
  await watch.waitFor(ids, 120_000);
  await watch.close();
  const ends = ids.map((id) => watch.done.get(id)).filter((d) => d?.status === JobStatus.COMPLETED);
  // No job finished: NaN, shown as a dash, rather than a rate from nothing.
  const seconds = ends.length > 0 ? (Math.max(...ends.map((d) => d!.at)) - t0) / 1000 : NaN;
  return { annotators, jobs, completed: ends.length, jobsPerSecond: round(ends.length / seconds, 1), seconds: round(seconds, 2) };
}

// --- HTTP and gRPC load ----------------------------------------------------------------------------------

interface LoadRun {
  target: string;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** CPU seconds per 1,000 answers, by process (the load generator is this process). */
  cpuPerThousand?: Record<string, number>;
}

async function cpuSnapshot(pids: Record<string, number | undefined>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) out[name] = await cpuOf(pid);
  return out;
}

function cpuPer(before: Record<string, number>, after: Record<string, number>, answers: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of Object.keys(before)) out[name] = round(((after[name]! - before[name]!) / answers) * 1000, 3);
  return out;
}

async function httpRun(
  target: string,
  url: string,
  o: Options,
  headers: Record<string, string>,
  pids: Record<string, number | undefined>,
): Promise<LoadRun> {
  const before = await cpuSnapshot(pids);
  const r = await autocannon({ url, connections: o.connections, duration: o.seconds, headers });
  const after = await cpuSnapshot(pids);
  const answers = r.requests.total;
  return {
    target,
    perSecond: round(r.requests.average),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    errors: r.errors + r.timeouts + r.non2xx,
    cpuPerThousand: cpuPer(before, after, answers),
  };
}

/** `concurrency` loops calling `call` back to back for `seconds`; latencies of every call. */
async function rpcLoad(
  target: string,
  o: Options,
  call: () => Promise<unknown>,
  pids: Record<string, number | undefined>,
): Promise<LoadRun> {
  const before = await cpuSnapshot(pids);
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + o.seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (performance.now() < end) {
        const at = performance.now();
        try {
          await call();
          latencies.push(performance.now() - at);
        } catch {
          errors++;
        }
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const after = await cpuSnapshot(pids);
  latencies.sort((a, b) => a - b);
  return {
    target,
    perSecond: round(latencies.length / seconds),
    p50Ms: round(percentile(latencies, 50), 1),
    p99Ms: round(percentile(latencies, 99), 1),
    errors,
    cpuPerThousand: cpuPer(before, after, latencies.length),
  };
}

/** Each process's CPU per 1,000 answers, the load generator's (bench) left out. */
const cpuText = (r: LoadRun) =>
  Object.entries(r.cpuPerThousand ?? {})
    .filter(([n]) => n !== 'bench')
    .map(([n, v]) => `${n} ${fmt(v, 2)}`)
    .join(', ');

function summarise(runs: LoadRun[]): LoadRun & { runs: number } {
  const cpuNames = Object.keys(runs[0]?.cpuPerThousand ?? {});
  return {
    target: runs[0]!.target,
    runs: runs.length,
    perSecond: round(median(runs.map((r) => r.perSecond))),
    p50Ms: round(median(runs.map((r) => r.p50Ms)), 1),
    p99Ms: round(median(runs.map((r) => r.p99Ms)), 1),
    errors: runs.reduce((s, r) => s + r.errors, 0),
    cpuPerThousand: Object.fromEntries(cpuNames.map((n) => [n, round(median(runs.map((r) => r.cpuPerThousand![n]!)), 3)])),
  };
}

// --- main -------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const o = options();
  const started = new Date();
  const machine = await machineInfo();
  const free1 = await openAsBlob(sharedDataPath(FREE_1));
  const users = {
    latency: { userId: 'bench-latency', token: newApiToken() },
    throughput: { userId: 'bench-throughput', token: newApiToken() },
    api: { userId: 'bench-api', token: newApiToken() },
    grpc: { userId: 'bench-grpc', token: newApiToken() },
  };
  const logDir = join(BENCH_DIR, 'logs', 'system');
  // Profiles are written when a service exits, so the stack's stop at the end writes them.
  const profile: Record<string, string> = o.cpuProf
    ? { NODE_OPTIONS: `--import ${join(REPO_ROOT, 'bench', 'cpu-prof-hook.mjs')}`, BENCH_CPU_PROF_DIR: o.cpuProf }
    : {};
  if (o.cpuProf) await mkdir(o.cpuProf, { recursive: true });
  say(
    `starting nats-server, job, annotator and gateway${o.fromBundle ? ` from ${relative(REPO_ROOT, o.fromBundle)}` : ''} (logs in ${relative(REPO_ROOT, logDir)})`,
  );
  const stack = await startGasStack({
    store: 'filesystem',
    services: ['job', 'annotator', 'gateway'],
    users: Object.values(users),
    logDir,
    fromBundle: o.fromBundle,
    // The load runs measure the API, not the per-credential budget.
    env: {
      gateway: { GATEWAY_RATE_LIMIT_PER_MINUTE: '1000000000', ...profile },
      job: profile,
    },
  });
  const extraAnnotators: ServiceHandle[] = [];
  const report: Record<string, unknown> = { started: started.toISOString(), machine, options: o };
  const out: string[] = [];
  try {
    const pids = {
      gateway: stack.services.gateway?.pid,
      job: stack.services.job?.pid,
      'nats-server': await natsPid(stack.nats.port),
      bench: process.pid,
    };
    // One job through first: the annotator loads its reference on the first job.
    await submit(stack, users.latency, free1).then((id) => stack.waitForJob(users.latency, id, (j) => j.status === 'COMPLETED'));

    if (o.phases.includes('latency')) {
      say('latency: 20 jobs one at a time');
      const alone = await sequentialLatency(stack, users.latency, free1, 20);
      const runs: LatencyRun[] = [];
      for (let i = 1; i <= o.runs; i++) {
        say(`latency run ${i}/${o.runs}: ${o.jobs} jobs at ${o.rate}/s`);
        runs.push(await latencyRun(stack, users.latency, free1, o));
      }
      const m = (k: keyof LatencyRun) => round(median(runs.map((r) => r[k])), 1);
      const aloneStats = { p50Ms: round(percentile(alone, 50), 1), p99Ms: round(percentile(alone, 99), 1), maxMs: round(alone.at(-1)!, 1) };
      report.latency = {
        oneAtATime: { jobs: alone.length, ...aloneStats },
        runs,
        median: { p50Ms: m('p50Ms'), p99Ms: m('p99Ms'), maxMs: m('maxMs'), uploadP50Ms: m('uploadP50Ms') },
      };
      out.push(
        `Submit to COMPLETED, free_1.vcf (1,141 records), ${o.jobs} jobs at ${o.rate}/s, one annotator; median of ${o.runs} run(s)`,
        formatTable(
          ['measure', 'p50 ms', 'p99 ms', 'max ms', 'upload p50 ms', 'failed+missing', 'goal'],
          [
            [
              'one at a time (20 jobs): the floor',
              fmt(aloneStats.p50Ms, 1),
              fmt(aloneStats.p99Ms, 1),
              fmt(aloneStats.maxMs, 1),
              '',
              '',
              '',
            ],
            [
              `${o.rate} jobs/s, upload start → COMPLETED`,
              fmt(m('p50Ms'), 1),
              fmt(m('p99Ms'), 1),
              fmt(m('maxMs'), 1),
              fmt(m('uploadP50Ms'), 1),
              String(runs.reduce((s, r) => s + r.failed + r.missing, 0)),
              `p99 < 250 ms: ${m('p99Ms') < 250 ? 'met' : 'not met'}`,
            ],
          ],
        ),
        '',
      );
    }

    if (o.phases.includes('throughput')) {
      const rows: ThroughputRun[][] = [[], []];
      for (const annotators of [1, 2]) {
        if (annotators === 2) {
          say('starting a second annotator');
          const h = startService('annotator', stack.serviceEnv('annotator'), {
            ...(o.fromBundle ? { entry: join(o.fromBundle, 'annotator', 'lib', 'main.mjs') } : {}),
            logFile: join(logDir, 'annotator-2.log'),
          });
          extraAnnotators.push(h);
          await h.waitReady(60_000);
        }
        for (let i = 1; i <= o.runs; i++) {
          say(`throughput run ${i}/${o.runs}: ${o.throughputJobs} jobs, ${annotators} annotator(s)`);
          rows[annotators - 1]!.push(await throughputRun(stack, users.throughput, free1, o.throughputJobs, annotators));
        }
      }
      const med = rows.map((runs) => round(median(runs.map((r) => r.jobsPerSecond)), 1));
      report.throughput = { runs: rows.flat(), medianJobsPerSecond: { one: med[0], two: med[1] } };
      out.push(
        `Sustained jobs/s, free_1.vcf, uploads kept in flight (4 per annotator) until ${o.throughputJobs} jobs; median of ${o.runs} run(s)`,
        formatTable(
          ['annotators', 'jobs/s', 'vs one'],
          [
            ['1', fmt(med[0]!, 1), '100%'],
            ['2', fmt(med[1]!, 1), pct(med[1]! / med[0]!)],
          ],
        ),
        `(${machine.cores} cores: the annotators share them with the gateway, the job service, nats-server and this process)`,
        '',
      );
    }
    for (const h of extraAnnotators.splice(0)) await h.stop(15_000);

    if (o.phases.includes('api') || o.phases.includes('grpc')) {
      say(`giving ${users.api.userId} ${LIST_JOBS} completed jobs`);
      const ids: string[] = [];
      for (let i = 0; i < LIST_JOBS; i++) ids.push(await submit(stack, users.api, free1));
      for (const id of ids) await stack.waitForJob(users.api, id, (j) => j.status === 'COMPLETED');
      const detailId = ids[ids.length - 1]!;
      const listBytes = Buffer.from(await (await stack.api(users.api, '/api/v1/jobs')).arrayBuffer());
      const listed = JSON.parse(listBytes.toString()) as { jobs: unknown[] };
      if (listed.jobs.length !== LIST_JOBS) throw new Error(`the list has ${listed.jobs.length} jobs, not ${LIST_JOBS}`);
      const pagePath = join(BENCH_DIR, 'tmp', 'list-page.json');
      await mkdir(dirname(pagePath), { recursive: true });
      await writeFile(pagePath, listBytes);

      if (o.phases.includes('api')) {
        const peer = await startPeer('fastify', pagePath);
        const pluginsPeer = await startPeer('fastify-plugins');
        const token = { authorization: `Bearer ${await userApiToken(stack.natsUrl, users.api.userId)}` };
        // What browsers, k6, curl --compressed and Python's requests send; the list is then gzipped.
        const auth = { ...token, 'accept-encoding': 'gzip, deflate, br' };
        const runs: LoadRun[][] = [[], [], [], [], [], []];
        try {
          const peerPids = { peer: peer.pid, bench: process.pid };
          const ours = { gateway: pids.gateway, job: pids.job, 'nats-server': pids['nats-server'], bench: pids.bench };
          // Untimed warm-up of each target (JIT, connection pools).
          await httpRun('warm-up', `http://127.0.0.1:${peer.port}/`, { ...o, seconds: 1 }, {}, {});
          await httpRun('warm-up', `${stack.url}/api/v1/jobs`, { ...o, seconds: 1 }, auth, {});
          for (let i = 1; i <= o.runs; i++) {
            say(`api run ${i}/${o.runs}`);
            runs[0]!.push(await httpRun('bare Fastify hello (peer)', `http://127.0.0.1:${peer.port}/`, o, {}, peerPids));
            runs[1]!.push(await httpRun('GET /api/v1/jobs (20 jobs)', `${stack.url}/api/v1/jobs`, o, auth, ours));
            runs[5]!.push(await httpRun('  the same, no Accept-Encoding', `${stack.url}/api/v1/jobs`, o, token, ours));
            runs[2]!.push(await httpRun('GET /api/v1/jobs/{id}', `${stack.url}/api/v1/jobs/${detailId}`, o, auth, ours));
            runs[3]!.push(
              await httpRun(
                `bare Fastify, the list's ${fmt(listBytes.length / 1024)} KB`,
                `http://127.0.0.1:${peer.port}/page`,
                o,
                {},
                peerPids,
              ),
            );
            const pluginsPids = { peer: pluginsPeer.pid, bench: process.pid };
            runs[4]!.push(
              await httpRun('Fastify hello + the gateway plugins', `http://127.0.0.1:${pluginsPeer.port}/`, o, auth, pluginsPids),
            );
          }
        } finally {
          await peer.stop();
          await pluginsPeer.stop();
        }
        const [p, list, one, sameBytes, plugins, listIdentity] = runs.map(summarise) as LoadRun[] as [
          LoadRun,
          LoadRun,
          LoadRun,
          LoadRun,
          LoadRun,
          LoadRun,
        ];
        report.api = { runs, median: { peer: p, list, listIdentity, detail: one, sameBytes, plugins }, listBytes: listBytes.length };
        out.push(
          `Gateway API, autocannon ${o.connections} connections × ${o.seconds} s, a user's API token and Accept-Encoding: gzip as`,
          `browsers and k6 send it (the list then comes gzipped; the row below it without); median of ${o.runs} run(s)`,
          formatTable(
            ['target', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'vs peer', 'CPU s per 1,000 answers'],
            [p, list, listIdentity, one, sameBytes, plugins].map((r) => [
              r.target,
              fmt(r.perSecond),
              fmt(r.p50Ms, 1),
              fmt(r.p99Ms, 1),
              String(r.errors),
              r === p ? '100%' : pct(r.perSecond / p.perSecond),
              cpuText(r),
            ]),
          ),
          'goal: each API route at least 50% of the peer (the hello); for scale, the last rows are a bare Fastify sending the',
          "list's bytes, and the hello behind the gateway's per-request plugins and hooks (and nothing else)",
          '',
        );
      }

      if (o.phases.includes('grpc')) {
        // CreateJob queues annotation requests that nobody should run while it is measured.
        await stack.services.annotator?.stop(15_000);
        const peer = await startPeer('grpc');
        const oursClient = createClient(JobService, stack.jobGrpcUrl, { defaultDeadlineMs: 10_000 });
        const peerClient = createClient(JobService, `127.0.0.1:${peer.port}`, { defaultDeadlineMs: 10_000 });
        const runs: LoadRun[][] = [[], [], [], []];
        try {
          await Promise.all([oursClient.waitForReady(10_000), peerClient.waitForReady(10_000)]);
          const userId = users.grpc.userId;
          const createReq = () => {
            const jobId = newUlid();
            return {
              userId,
              jobId,
              genomeBuild: GenomeBuild.GRCH37,
              inputName: 'free_1.vcf',
              inputKey: `${userId}/${jobId}/free_1.vcf`,
              inputSize: 53_000n,
            };
          };
          const getReq = { userId: users.api.userId, jobId: detailId };
          const ours = { job: pids.job, 'nats-server': pids['nats-server'], bench: pids.bench };
          const peerPids = { peer: peer.pid, bench: pids.bench };
          const warm = { ...o, seconds: 1 };
          await rpcLoad('warm-up', warm, () => peerClient.getJob(getReq), {});
          await rpcLoad('warm-up', warm, () => oursClient.getJob(getReq), {});
          for (let i = 1; i <= o.runs; i++) {
            say(`grpc run ${i}/${o.runs}`);
            runs[0]!.push(await rpcLoad('GetJob, bare grpc-js (peer)', o, () => peerClient.getJob(getReq), peerPids));
            runs[1]!.push(await rpcLoad('GetJob, job service', o, () => oursClient.getJob(getReq), ours));
            runs[2]!.push(await rpcLoad('CreateJob, bare grpc-js (peer)', o, () => peerClient.createJob(createReq()), peerPids));
            runs[3]!.push(await rpcLoad('CreateJob, job service', o, () => oursClient.createJob(createReq()), ours));
          }
        } finally {
          oursClient.close();
          peerClient.close();
          await peer.stop();
        }
        const [pg, g, pc, c] = runs.map(summarise) as LoadRun[] as [LoadRun, LoadRun, LoadRun, LoadRun];
        report.grpc = { runs, median: { getPeer: pg, get: g, createPeer: pc, create: c } };
        out.push(
          `Job service gRPC, ${o.concurrency} calls in flight × ${o.seconds} s, one client channel; median of ${o.runs} run(s)`,
          formatTable(
            ['target', 'calls/s', 'p50 ms', 'p99 ms', 'errors', 'vs peer', 'CPU s per 1,000 calls'],
            [
              [pg, pg],
              [g, pg],
              [pc, pc],
              [c, pc],
            ].map(([r, peerRun]) => [
              r!.target,
              fmt(r!.perSecond),
              fmt(r!.p50Ms, 1),
              fmt(r!.p99Ms, 1),
              String(r!.errors),
              r === peerRun ? '100%' : pct(r!.perSecond / peerRun!.perSecond),
              cpuText(r!),
            ]),
          ),
          'goal: each call at least 50% of the peer',
          '',
        );
      }
    }
  } finally {
    for (const h of extraAnnotators) await h.stop(15_000).catch(() => undefined);
    await stack.stop();
  }
  const path = reportPath(BENCH_DIR, 'system', started);
  await writeReport(path, report);
  process.stdout.write(`\n${formatMachine(machine)}\n\n${out.join('\n')}\nReport: ${relative(REPO_ROOT, path)}\n`);
}

await main();
