// Running tools as child processes, and measuring one run with GNU time: wall seconds, user and
// system CPU seconds and peak resident set size of that process alone.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { readFile, readdir, rm } from 'node:fs/promises';

export const GNU_TIME = '/usr/bin/time';

export interface RunOptions {
  cwd?: string;
  /** Where the child's stdout goes; captured (up to 1 MB) when omitted. */
  stdoutFile?: string;
  /** Where the child's stderr goes; its tail is read back for error messages. */
  stderrFile?: string;
  env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderrTail: string;
}

function tail(path: string | undefined, captured: string): string {
  const text = path && existsSync(path) ? readFileSync(path, 'utf8') : captured;
  return text.split('\n').slice(-15).join('\n').trim();
}

export async function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const fds: number[] = [];
  const fd = (path: string | undefined, flags: string): number | 'pipe' => {
    if (!path) return 'pipe';
    const f = openSync(path, flags);
    fds.push(f);
    return f;
  };
  const out = fd(opts.stdoutFile, 'w');
  const err = opts.stderrFile && opts.stderrFile === opts.stdoutFile ? out : fd(opts.stderrFile, 'w');
  try {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', out, err] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < 1 << 20) stdout += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-16384);
    });
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    return { code: code ?? (signal ? 128 : 1), stdout, stderrTail: tail(opts.stderrFile, stderr) };
  } finally {
    for (const f of fds) closeSync(f);
  }
}

export interface Measurement {
  wallSeconds: number;
  userSeconds: number;
  sysSeconds: number;
  cpuSeconds: number;
  peakRssMB: number;
}

/** Runs the command under GNU time and returns its resource use; throws when it fails. */
export async function measure(
  cmd: string,
  args: string[],
  opts: RunOptions & { timeFile: string },
): Promise<Measurement & { stdout: string }> {
  await rm(opts.timeFile, { force: true });
  const r = await run(GNU_TIME, ['-f', '%e %U %S %M', '-o', opts.timeFile, cmd, ...args], opts);
  if (r.code !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} exited with ${r.code}${opts.stderrFile ? ` (log: ${opts.stderrFile})` : ''}:\n${r.stderrTail}`,
    );
  }
  // GNU time may put "Command exited with non-zero status" before the figures: take the last line.
  const lines = (await readFile(opts.timeFile, 'utf8')).trim().split('\n');
  const [e, u, s, m] = lines[lines.length - 1]!.trim().split(/\s+/).map(Number);
  if ([e, u, s, m].some((v) => v === undefined || !Number.isFinite(v))) {
    throw new Error(`cannot read GNU time output in ${opts.timeFile}: ${lines.join(' | ')}`);
  }
  return { wallSeconds: e!, userSeconds: u!, sysSeconds: s!, cpuSeconds: u! + s!, peakRssMB: m! / 1024, stdout: r.stdout };
}

/** Nearest rank: the smallest value with at least p% of the values at or below it (`sorted` ascending). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The median of the finite values (a run that produced no figure is left out). */
export function median(values: number[]): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  const n = v.length;
  if (n === 0) return NaN;
  return n % 2 ? v[(n - 1) / 2]! : (v[n / 2 - 1]! + v[n / 2]!) / 2;
}

// Linux reports process CPU in clock ticks: 100 a second on every kernel these benchmarks run on.
const CLOCK_TICKS = 100;

/** utime + stime of a process, in seconds (NaN once it is gone). */
export async function cpuOf(pid: number | undefined): Promise<number> {
  if (!pid || pid < 0) return NaN;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses; the fields after the last ')' are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/** The nats-server listening on `port` (startNatsServer does not say its pid). */
export async function natsPid(port: number): Promise<number | undefined> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      if (/nats-server$/.test(args[0] ?? '') && args.includes('-p') && args[args.indexOf('-p') + 1] === String(port)) return Number(entry);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return undefined;
}
