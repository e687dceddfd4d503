// The three annotators, each as one child process on the same input and the same gene models:
// our engine through its CLI, `bcftools csq --local-csq` and SnpEff `ann`.
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { REPO_ROOT, SNPEFF_GENOME, SNPEFF_JAR, paths } from './inputs.ts';
import { measure, run } from './measure.ts';
import type { Measurement } from './measure.ts';

/** `ours-peers`: on the real GRCh38 input only, with the peers' transcripts (not a --tools choice). */
export type ToolName = 'ours' | 'ours-no-csq' | 'ours-tsv' | 'ours-window' | 'ours-peers' | 'bcftools' | 'snpeff';
export const TOOL_NAMES: ToolName[] = ['ours', 'ours-no-csq', 'ours-tsv', 'ours-window', 'bcftools', 'snpeff'];
/** Ours, as a user runs it: the headline row that the targets and ratios are about. */
export const OURS: ToolName = 'ours';

export interface ToolSettings {
  /** bcftools csq output type: v (plain VCF, like ours), z, b or u. */
  csqOutput: 'v' | 'z' | 'b' | 'u';
  snpeffXmx: string;
}

interface Invocation {
  cmd: string;
  args: string[];
  /** The tool writes its VCF to stdout: send it here. */
  stdoutFile?: string;
  /** The annotated VCF to check afterwards. */
  vcf: string;
  /** INFO key that marks an annotated record. */
  tag: string;
}

export interface Tool {
  name: ToolName;
  label: string;
  describe(input: string, outDir: string): string;
  invocation(input: string, outDir: string): Invocation;
}

function vcfBaseName(input: string): string {
  return input
    .split('/')
    .pop()!
    .replace(/\.vcf(\.b?gz)?$/, '');
}

/**
 * The installed `gas-annotate` bin (what `pnpm exec gas-annotate` runs): it runs the bundle,
 * dist/cli.mjs, when that is newer than every source file, as it is after buildOurCli.
 */
export const OURS_BIN = 'packages/anntools/bin/gas-annotate.mjs';
/** The bundle the bin runs (`pnpm --filter @gas/anntools build`); named for `node --cpu-prof`. */
export const OURS_CLI = 'packages/anntools/dist/cli.mjs';

/** Bundles the CLI and its worker afresh, so the benchmark never runs a stale build (nor the bin's tsx fallback). */
export async function buildOurCli(): Promise<void> {
  const r = await run('pnpm', ['--filter', '@gas/anntools', 'build'], { cwd: REPO_ROOT });
  if (r.code !== 0) throw new Error(`bundling the CLI failed: ${r.stderrTail}`);
}

/**
 * Our CLI on `gasref`. The peers write one annotated VCF, so `ours` does too (--no-tsv); `ours-tsv`
 * also writes the TSV the service stores for the web page, to show what that costs. `csq: false`
 * adds --no-csq, the lighter configuration without the per-transcript CSQ field.
 */
export function oursTool(opts: { name: ToolName; label: string; gasref: string; tsv: boolean; csq?: boolean; threads?: number }): Tool {
  const args = (input: string, outDir: string) => [
    'annotate',
    input,
    '--reference',
    opts.gasref,
    '--out-dir',
    outDir,
    ...(opts.tsv ? [] : ['--no-tsv']),
    ...(opts.csq === false ? ['--no-csq'] : []),
    ...(opts.threads ? ['--threads', String(opts.threads)] : []),
  ];
  return {
    name: opts.name,
    label: opts.label,
    invocation(input, outDir) {
      return {
        cmd: process.execPath,
        args: [join(REPO_ROOT, OURS_BIN), ...args(input, outDir)],
        vcf: join(outDir, `${vcfBaseName(input)}.annot.vcf`),
        tag: 'GAS_REGION=',
      };
    },
    describe(input, outDir) {
      return `${OURS_BIN} ${args(input, outDir).join(' ')}`;
    },
  };
}

export function tools(settings: ToolSettings): Record<ToolName, Tool> {
  const ours = oursTool({ name: 'ours', label: 'GAS anntools (FASTA, all chr21 genes, CSQ)', gasref: paths.gasref, tsv: false });
  const oursNoCsq = oursTool({
    name: 'ours-no-csq',
    label: 'GAS anntools --no-csq (lighter: no CSQ field)',
    gasref: paths.gasref,
    tsv: false,
    csq: false,
  });
  const oursTsv = oursTool({ name: 'ours-tsv', label: 'GAS anntools +TSV (what the service writes)', gasref: paths.gasref, tsv: true });
  const oursWindow = oursTool({
    name: 'ours-window',
    label: 'GAS anntools, old config: no FASTA, window genes (not like for like)',
    gasref: paths.gasrefWindow,
    tsv: false,
  });
  const csqExt = { v: 'vcf', z: 'vcf.gz', b: 'bcf', u: 'bcf' }[settings.csqOutput];
  const bcftools: Tool = {
    name: 'bcftools',
    label: 'bcftools csq',
    invocation(input, outDir) {
      return {
        cmd: 'bcftools',
        args: [
          'csq',
          '--local-csq',
          '-f',
          paths.fasta,
          '-g',
          paths.gff3,
          `-O${settings.csqOutput}`,
          '-o',
          join(outDir, `csq.${csqExt}`),
          input,
        ],
        vcf: join(outDir, `csq.${csqExt}`),
        tag: 'BCSQ=',
      };
    },
    describe(input, outDir) {
      return `bcftools csq --local-csq -f ${paths.fasta} -g ${paths.gff3} -O${settings.csqOutput} -o ${outDir}/csq.${csqExt} ${input}`;
    },
  };
  const snpeff: Tool = {
    name: 'snpeff',
    label: 'SnpEff 5.1',
    invocation(input, outDir) {
      return {
        cmd: 'java',
        args: [
          `-Xmx${settings.snpeffXmx}`,
          '-jar',
          SNPEFF_JAR,
          'ann',
          '-c',
          paths.snpeffConfig,
          '-noStats',
          '-noLog',
          SNPEFF_GENOME,
          input,
        ],
        stdoutFile: join(outDir, 'snpeff.vcf'),
        vcf: join(outDir, 'snpeff.vcf'),
        tag: 'ANN=',
      };
    },
    describe(input, outDir) {
      return `java -Xmx${settings.snpeffXmx} -jar ${SNPEFF_JAR} ann -c ${paths.snpeffConfig} -noStats -noLog ${SNPEFF_GENOME} ${input} > ${outDir}/snpeff.vcf`;
    },
  };
  const oursPeers = oursTool({
    name: 'ours-peers',
    label: "GAS anntools, the peers' transcripts (FASTA window genes: like for like here)",
    gasref: paths.gasrefPeers,
    tsv: false,
  });
  return { ours, 'ours-no-csq': oursNoCsq, 'ours-tsv': oursTsv, 'ours-window': oursWindow, 'ours-peers': oursPeers, bcftools, snpeff };
}

export interface RunRecord extends Measurement {
  tool: ToolName;
  input: string;
  run: number;
  /** What our CLI reports as its own annotation-pass time (excludes start-up and reference load). */
  engineSeconds?: number;
}

export async function timeTool(tool: Tool, input: string, runIndex: number, tag: string): Promise<RunRecord> {
  const outDir = join(paths.out, tag, tool.name);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await mkdir(paths.logs, { recursive: true });
  const inv = tool.invocation(input, outDir);
  const m = await measure(inv.cmd, inv.args, {
    cwd: REPO_ROOT,
    stdoutFile: inv.stdoutFile,
    stderrFile: join(paths.logs, `${tag}-${tool.name}-${runIndex}.stderr`),
    timeFile: join(paths.logs, `${tag}-${tool.name}-${runIndex}.time`),
  });
  const engine = /records, \d+ alleles, ([\d.]+) s/.exec(m.stdout);
  const { stdout: _stdout, ...rest } = m;
  return { tool: tool.name, input, run: runIndex, ...rest, ...(engine ? { engineSeconds: Number(engine[1]) } : {}) };
}

export interface OutputCheck {
  records: number;
  annotated: number;
}

/** Data lines of the tool's output VCF and how many carry its annotation tag. */
export async function checkOutput(tool: Tool, input: string, tag: string, settings: ToolSettings): Promise<OutputCheck> {
  const outDir = join(paths.out, tag, tool.name);
  const inv = tool.invocation(input, outDir);
  let lines: AsyncIterable<string>;
  if (tool.name === 'bcftools' && settings.csqOutput !== 'v') {
    const r = await run('bcftools', ['view', '-H', inv.vcf], { stdoutFile: `${inv.vcf}.txt` });
    if (r.code !== 0) throw new Error(`bcftools view ${inv.vcf}: ${r.stderrTail}`);
    lines = createInterface({ input: createReadStream(`${inv.vcf}.txt`), crlfDelay: Infinity });
  } else {
    lines = createInterface({ input: createReadStream(inv.vcf), crlfDelay: Infinity });
  }
  let records = 0;
  let annotated = 0;
  for await (const line of lines) {
    if (line.startsWith('#')) continue;
    records++;
    if (line.includes(inv.tag)) annotated++;
  }
  return { records, annotated };
}

export async function removeOutputs(tag: string): Promise<void> {
  const dir = join(paths.out, tag);
  if (existsSync(dir)) for (const name of await readdir(dir)) await rm(join(dir, name), { recursive: true, force: true });
}

export async function toolVersions(): Promise<Record<string, string>> {
  const first = async (cmd: string, args: string[]) => {
    const r = await run(cmd, args);
    return (r.stdout.trim() || r.stderrTail).split('\n')[0]!.trim();
  };
  return {
    node: process.version,
    bcftools: await first('bcftools', ['--version']),
    snpeff: await first('java', ['-jar', SNPEFF_JAR, '-version']),
    java: await first('java', ['-version']),
  };
}
