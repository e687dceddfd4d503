// node --import tsx bench/profile-summary.ts <file.cpuprofile | dir> [--top N]
//
// Self time by function from V8 CPU profiles (`node --cpu-prof`): each sample's time goes to the
// function on top of the stack, summed over every node of that function (one row per name and
// source line), largest first, with its share of all sampled time. Given a directory, every
// .cpuprofile in it is summed (the main thread's and each worker's).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function selfTimes(profile: CpuProfile, into = new Map<string, number>()): Map<string, number> {
  const key = new Map<number, string>();
  for (const n of profile.nodes) {
    const f = n.callFrame;
    const where = f.url ? `${basename(f.url)}:${f.lineNumber + 1}` : '';
    key.set(n.id, `${f.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`);
  }
  // timeDeltas[i] is the time from sample i-1 to sample i: it belongs to sample i.
  for (let i = 0; i < profile.samples.length; i++) {
    const k = key.get(profile.samples[i]!) ?? '(unknown)';
    into.set(k, (into.get(k) ?? 0) + Math.max(0, profile.timeDeltas[i] ?? 0));
  }
  return into;
}

function main(): void {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
  if (positionals.length === 0) {
    process.stderr.write('usage: node --import tsx bench/profile-summary.ts <file.cpuprofile | dir> ... [--top N]\n');
    process.exit(2);
  }
  const files = positionals.flatMap((p) =>
    statSync(p).isDirectory()
      ? readdirSync(p)
          .filter((f) => f.endsWith('.cpuprofile'))
          .map((f) => join(p, f))
      : [p],
  );
  const totals = new Map<string, number>();
  for (const f of files) selfTimes(JSON.parse(readFileSync(f, 'utf8')) as CpuProfile, totals);
  const all = [...totals.values()].reduce((a, b) => a + b, 0);
  const rows = [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top));
  process.stdout.write(`${files.length} profile(s), ${(all / 1e6).toFixed(2)} s sampled\n`);
  process.stdout.write(`${'self ms'.padStart(9)}  ${'share'.padStart(6)}  function\n`);
  for (const [k, us] of rows)
    process.stdout.write(`${(us / 1000).toFixed(0).padStart(9)}  ${((100 * us) / all).toFixed(1).padStart(5)}%  ${k}\n`);
}

main();
