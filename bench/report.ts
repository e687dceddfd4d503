// The machine a result came from, plain-text tables, and the JSON report each run leaves.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cpus, loadavg, release, totalmem } from 'node:os';

export const REPO_ROOT = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
/** Inputs, outputs and reports of every benchmark: outside git (.gitignore). */
export const BENCH_DIR = join(REPO_ROOT, '.gas-bench');

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGB: number;
  node: string;
  kernel: string;
  /** 1-minute load average when the benchmark started: other work on the machine skews timings. */
  loadAverage1m: number;
}

export async function machineInfo(): Promise<MachineInfo> {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const info = await readFile('/proc/cpuinfo', 'utf8');
    const m = /^model name\s*:\s*(.+)$/m.exec(info);
    if (m) cpuModel = m[1]!.trim();
  } catch {
    // not Linux: keep os.cpus()
  }
  return {
    cpuModel,
    cores: cpus().length,
    memoryGB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: release(),
    loadAverage1m: Math.round(loadavg()[0]! * 100) / 100,
  };
}

export function formatMachine(m: MachineInfo): string {
  return `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGB} GB RAM, Node ${m.node}, Linux ${m.kernel}, load ${m.loadAverage1m} at start`;
}

/** Left-aligned first column, right-aligned numbers. */
export function formatTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Where a run's JSON report goes: `<dir>/<name>-<UTC time of the start>.json` (colons are awkward in file names). */
export function reportPath(dir: string, name: string, started: Date): string {
  const stamp = started
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
  return join(dir, `${name}-${stamp}.json`);
}

export async function writeReport(path: string, data: unknown): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, JSON.stringify(data, null, 2) + '\n');
}
