// pnpm bench:startup [--runs N] [--services LIST] [--no-cli]
//
// Start-up without tsx. Builds the production bundle (`pnpm build`, dist/) and measures:
//  - each service's time from spawning the process to its first /readyz 200, started from the bundle
//    (node dist/<service>/lib/main.mjs, as an image runs it) and from its sources through tsx
//    (node --import tsx services/<service>/src/main.ts, as the local stack runs it) with tsx's cache
//    of transformed files warm, and cold (TSX_DISABLE_CACHE=1: what a fresh container running the
//    sources would do). The other services, nats-server and the S3 server keep running in a stack
//    started from the bundle, so each start finds what it waits for ready;
//  - the gas-annotate CLI's whole-process time (GNU time) on a 221-record VCF, built and through tsx,
//    with `bcftools view` of the same file as the peer.
// Runs of the modes alternate; the tables show medians. See bench/README.md.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
// The modules themselves, not @gas/testing's index: that one loads the browser and OIDC helpers too.
import { startGasStack, testReferenceDir } from '../packages/testing/src/gas-stack.ts';
import { startService } from '../packages/testing/src/service.ts';
import type { ServiceHandle, ServiceName } from '../packages/testing/src/service.ts';
import { sharedDataPath } from '../packages/testing/src/shared-data.ts';
import { GNU_TIME, measure, median, run } from './measure.ts';
import { BENCH_DIR, REPO_ROOT, formatMachine, formatTable, machineInfo, reportPath, writeReport } from './report.ts';
import { benchCommand } from './cli-options.ts';

const BUNDLE = join(REPO_ROOT, 'dist');
const SERVICES: ServiceName[] = ['job', 'annotator', 'notification', 'archive', 'gateway'];
// GIAB NA12878, hg19 chr20 10.0-10.1 Mb: BGZF, 221 records (the file of issue 14).
const TINY_VCF = 'vcf/grch37/GIAB_NA12878_hg19_chr20_10.0-10.1Mb.vcf.gz';
const READY_TIMEOUT_MS = 60_000;
const POLL_MS = 5;

type Mode = 'built' | 'tsx' | 'tsx-cold';
const MODES: Mode[] = ['built', 'tsx', 'tsx-cold'];

const USAGE = `usage: pnpm bench:startup [--runs N] [--services LIST] [--no-cli]
  --runs N         starts per service and mode, and CLI runs per mode (default 5)
  --services LIST  services to start (default all: ${SERVICES.join(',')})
  --no-cli         skip the CLI runs
`;

const say = (msg: string) => process.stderr.write(`bench:startup: ${msg}\n`);

interface Options {
  runs: number;
  services: ServiceName[];
  cli: boolean;
}

interface ServiceStart {
  ms: number;
  /** Resident set size when /readyz first answered 200. */
  rssMB: number;
}

type CliMode = 'built' | 'bin' | 'tsx' | 'tsx-cold' | 'bcftools';
const CLI_MODES: CliMode[] = ['built', 'bin', 'tsx', 'tsx-cold', 'bcftools'];

interface CliRun {
  /** From spawning GNU time to its exit, in this process (GNU time's own figure has 10 ms steps). */
  wallMs: number;
  cpuSeconds: number;
  peakRssMB: number;
  /** The engine's own time, from the summary it writes (runtimeSeconds); not for bcftools. */
  engineMs?: number;
}

function parseOptions(): Options {
  const {
    values: v,
    fail,
    integer,
  } = benchCommand('bench:startup', USAGE, {
    runs: { type: 'string' },
    services: { type: 'string', default: SERVICES.join(',') },
    'no-cli': { type: 'boolean', default: false },
  });
  const services = v.services.split(',').map((s) => s.trim()) as ServiceName[];
  for (const s of services) if (!SERVICES.includes(s)) fail(`unknown service ${s}`);
  if (!v['no-cli'] && !existsSync(GNU_TIME)) fail(`${GNU_TIME} is missing: apt-get install -y time`);
  return { runs: integer('runs', v.runs, 5), services, cli: !v['no-cli'] };
}

/** The modes in a different order on every round, so a drift of the machine spreads over all of them. */
function rotation(round: number): Mode[] {
  return MODES.map((_, i) => MODES[(i + round) % MODES.length]!);
}

async function rssMB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? NaN) / 1024;
}

/** Spawns the service and polls /readyz every 5 ms: milliseconds from spawn to the first 200. */
async function timeStart(name: ServiceName, mode: Mode, env: Record<string, string>): Promise<ServiceStart> {
  const entry = mode === 'built' ? join(BUNDLE, name, 'lib', 'main.mjs') : join('services', name, 'src', 'main.ts');
  const started = performance.now();
  const handle: ServiceHandle = startService(name, mode === 'tsx-cold' ? { ...env, TSX_DISABLE_CACHE: '1' } : env, { entry });
  let exited = false;
  void handle.exited.then(() => (exited = true));
  try {
    const url = `http://127.0.0.1:${handle.opsPort}/readyz`;
    for (;;) {
      if (exited) throw new Error(`${name} (${mode}) exited before it was ready:\n${handle.logs().split('\n').slice(-20).join('\n')}`);
      if (performance.now() - started > READY_TIMEOUT_MS) throw new Error(`${name} (${mode}) was not ready within ${READY_TIMEOUT_MS} ms`);
      try {
        const res = await fetch(url);
        await res.body?.cancel();
        if (res.status === 200) return { ms: performance.now() - started, rssMB: await rssMB(handle.pid) };
      } catch {
        // not listening yet
      }
      await sleep(POLL_MS);
    }
  } finally {
    await handle.stop();
  }
}

function cliCommand(
  mode: CliMode,
  input: string,
  outDir: string,
  reference: string,
): { cmd: string; args: string[]; env?: NodeJS.ProcessEnv } {
  const annotate = ['annotate', input, '--reference', reference, '--out-dir', outDir];
  if (mode === 'bcftools') return { cmd: 'bcftools', args: ['view', input, '-Ov', '-o', join(outDir, 'bcftools.vcf')] };
  if (mode === 'built') return { cmd: process.execPath, args: [join(BUNDLE, 'gas-annotate', 'lib', 'cli.mjs'), ...annotate] };
  // The bin of `pnpm exec gas-annotate`: the build above is newer than the sources, so it runs the build.
  if (mode === 'bin') return { cmd: process.execPath, args: ['packages/anntools/bin/gas-annotate.mjs', ...annotate] };
  return {
    cmd: process.execPath,
    args: ['--import', 'tsx', 'packages/anntools/src/cli.ts', ...annotate],
    env: mode === 'tsx-cold' ? { ...process.env, TSX_DISABLE_CACHE: '1' } : process.env,
  };
}

const ms = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en') : '-');
const ratio = (x: number) => (Number.isFinite(x) ? `${x < 0.1 ? x.toFixed(2) : x.toFixed(1)}x` : '-');

async function main(): Promise<void> {
  const o = parseOptions();
  const started = new Date();
  const machine = await machineInfo();

  say('building the bundle (pnpm build)');
  const build = await run(process.execPath, ['scripts/build.mjs'], { cwd: REPO_ROOT });
  if (build.code !== 0) throw new Error(`pnpm build failed:\n${build.stderrTail}`);

  const referenceDir = await testReferenceDir();
  const starts: Record<string, Record<Mode, ServiceStart[]>> = {};
  say('starting a stack from the bundle (nats-server, S3 server, five services)');
  const stack = await startGasStack({ store: 's3', fromBundle: BUNDLE, referenceDir });
  try {
    for (const name of o.services) {
      await stack.services[name]!.stop();
      const env = stack.serviceEnv(name);
      starts[name] = { built: [], tsx: [], 'tsx-cold': [] };
      // One untimed start per mode: the page cache holds the files, tsx's cache is filled.
      for (const mode of MODES) await timeStart(name, mode, env);
      for (let round = 0; round < o.runs; round++) {
        for (const mode of rotation(round)) starts[name][mode].push(await timeStart(name, mode, env));
      }
      const m = (mode: Mode) => median(starts[name]![mode].map((s) => s.ms));
      say(`${name}: bundle ${ms(m('built'))} ms, tsx ${ms(m('tsx'))} ms, tsx without cache ${ms(m('tsx-cold'))} ms`);
      await stack.startService(name);
    }
  } finally {
    await stack.stop();
  }

  const cli: Partial<Record<CliMode, CliRun[]>> = {};
  const input = sharedDataPath(TINY_VCF);
  if (o.cli) {
    const reference = join(referenceDir, 'GRCh37.gasref');
    const outDir = join(BENCH_DIR, 'out', 'startup');
    await mkdir(join(BENCH_DIR, 'logs'), { recursive: true });
    for (const mode of CLI_MODES) cli[mode] = [];
    for (let round = -1; round < o.runs; round++) {
      const order = CLI_MODES.map((_, i) => CLI_MODES[(i + Math.max(0, round)) % CLI_MODES.length]!);
      for (const mode of order) {
        await rm(outDir, { recursive: true, force: true });
        await mkdir(outDir, { recursive: true });
        const c = cliCommand(mode, input, outDir, reference);
        const t0 = performance.now();
        const r = await measure(c.cmd, c.args, {
          cwd: REPO_ROOT,
          env: c.env,
          timeFile: join(BENCH_DIR, 'logs', `startup-cli-${mode}.time`),
          stderrFile: join(BENCH_DIR, 'logs', `startup-cli-${mode}.err`),
        });
        const wallMs = performance.now() - t0;
        const summary = join(outDir, 'GIAB_NA12878_hg19_chr20_10.0-10.1Mb.summary.json');
        const engineMs =
          mode === 'bcftools'
            ? undefined
            : (JSON.parse(await readFile(summary, 'utf8')) as { runtimeSeconds: number }).runtimeSeconds * 1000;
        // The first round warms the page cache and tsx's cache; it is not counted.
        if (round >= 0) cli[mode]!.push({ wallMs, cpuSeconds: r.cpuSeconds, peakRssMB: r.peakRssMB, engineMs });
      }
    }
    await rm(outDir, { recursive: true, force: true });
  }
  const finished = new Date();

  const out: string[] = [];
  out.push(formatMachine(machine));
  out.push(
    `Service start-up: from spawning node to the first 200 from /readyz (polled every ${POLL_MS} ms), median of ${o.runs} starts per mode ` +
      `after one untimed start each; the other services, nats-server and the S3 server (s3rver) running. Bundle: node dist/<service>/lib/main.mjs. ` +
      `tsx: node --import tsx services/<service>/src/main.ts, its cache of transformed files warm; without cache: TSX_DISABLE_CACHE=1.`,
  );
  out.push('');
  const med = (name: string, mode: Mode, f: (s: ServiceStart) => number) => median(starts[name]![mode].map(f));
  out.push(
    formatTable(
      ['service', 'bundle ms', 'tsx ms', 'tsx / bundle', 'tsx no cache ms', 'no cache / bundle', 'RSS bundle MB', 'RSS tsx MB'],
      o.services.map((name) => {
        const b = med(name, 'built', (s) => s.ms);
        return [
          name,
          ms(b),
          ms(med(name, 'tsx', (s) => s.ms)),
          ratio(med(name, 'tsx', (s) => s.ms) / b),
          ms(med(name, 'tsx-cold', (s) => s.ms)),
          ratio(med(name, 'tsx-cold', (s) => s.ms) / b),
          ms(med(name, 'built', (s) => s.rssMB)),
          ms(med(name, 'tsx', (s) => s.rssMB)),
        ];
      }),
    ),
  );
  if (o.cli) {
    out.push('');
    out.push(
      `gas-annotate annotate on ${TINY_VCF} (221 records, BGZF) with the test GRCh37.gasref (12 MB; default threads, TSV too), ` +
        `whole process: wall time from spawn to exit, CPU and peak RSS from GNU time; engine: the run's own runtimeSeconds. ` +
        `Median of ${o.runs} runs after one untimed run each. Peer: bcftools view of the same file to a plain VCF.`,
    );
    const labels: Record<CliMode, string> = {
      built: 'gas-annotate, bundle (node dist/gas-annotate/lib/cli.mjs)',
      bin: 'gas-annotate bin after pnpm build (packages/anntools/bin)',
      tsx: 'gas-annotate, tsx (warm cache)',
      'tsx-cold': 'gas-annotate, tsx (no cache)',
      bcftools: 'bcftools view',
    };
    const wall = (mode: CliMode) => median(cli[mode]!.map((r) => r.wallMs));
    out.push(
      formatTable(
        ['command', 'wall ms', 'wall / bundle', 'engine ms', 'CPU s', 'peak RSS MB'],
        CLI_MODES.map((mode) => [
          labels[mode],
          ms(wall(mode)),
          ratio(wall(mode) / wall('built')),
          mode === 'bcftools' ? '-' : ms(median(cli[mode]!.map((r) => r.engineMs ?? NaN))),
          median(cli[mode]!.map((r) => r.cpuSeconds)).toFixed(2),
          ms(median(cli[mode]!.map((r) => r.peakRssMB))),
        ]),
      ),
    );
  }

  const jsonPath = reportPath(BENCH_DIR, 'startup', started);
  out.push('');
  out.push(`Results: ${relative(REPO_ROOT, jsonPath)}`);
  process.stdout.write(out.join('\n') + '\n');

  await writeReport(jsonPath, {
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    options: o,
    machine,
    services: starts,
    cli,
  });
}

await main();
