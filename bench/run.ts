// pnpm bench [--quick] [--runs N] [--tools ours,ours-no-csq,ours-tsv,ours-window,bcftools,snpeff] [--no-flat] [--no-real]
//            [--no-startup] [--input bgzf|plain] [--csq-output v|z|b|u] [--variants N] [--repeat N] [--keep-outputs]
//
// Times our engine against bcftools csq and SnpEff on the same generated GRCh38 chr21 input, and
// on a real GRCh38 VCF, one child process per run under GNU time, and reports medians, ratios and
// memory flatness. Ours runs as a user runs it: the installed gas-annotate bin, a reference built
// with the FASTA (consequences computed, as the peers do) and the whole chr21 gene model set, CSQ on
// (the CLI's default). Start-up is timed apart on a 221-record input. Then our engine alone on the
// real NIST and GIAB GRCh37 VCFs with the whole-genome hg19 reference. See bench/README.md.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { availableParallelism } from 'node:os';
import {
  BENCH_DIR,
  REPO_ROOT,
  buildOurReference,
  buildSnpEffDatabase,
  generateInput,
  paths,
  prepareReferenceData,
  repeatInput,
} from './inputs.ts';
import type { GeneratedInput } from './inputs.ts';
import { GNU_TIME, median } from './measure.ts';
import { OURS, TOOL_NAMES, buildOurCli, checkOutput, oursTool, removeOutputs, timeTool, toolVersions, tools } from './tools.ts';
import { tinyInput } from './tiny-input.ts';
import { realGrch37Inputs, realGrch38Input, wholeGenomeGrch37Reference } from './real-inputs.ts';
import type { RealInput } from './real-inputs.ts';
import type { OutputCheck, RunRecord, ToolName, ToolSettings } from './tools.ts';
import { machineInfo, formatTable, formatMachine } from './report.ts';
import { benchCommand } from './cli-options.ts';

const USAGE = `usage: pnpm bench [--quick] [--runs N] [--tools ours,ours-no-csq,ours-tsv,ours-window,bcftools,snpeff] [--no-flat] [--no-real]
                  [--no-startup] [--input bgzf|plain] [--csq-output v|z|b|u] [--variants N] [--repeat N] [--keep-outputs]
  --quick         one run on a 100,000-SNV input, no real VCFs, no flatness runs (for development)
  --runs N        timed runs per tool (default 5; the median is reported)
  --tools LIST    which annotators to time (default all). ours: the gas-annotate bin with the FASTA and
                  every chr21 gene, writing the annotated VCF with CSQ like the peers write theirs (the
                  headline); ours-no-csq: the same with --no-csq (lighter); ours-tsv: also the TSV the
                  service stores; ours-window: the old configuration (no FASTA, so no consequences, and
                  only the genes inside the sequence window), an extra row, not like for like
  --no-startup    skip the start-up runs (every tool on a 221-record input, median of 5)
  --no-flat       skip the memory-flatness runs of our engine (0.1x, 1x, 10x input)
  --no-real       skip the real VCFs (Platinum Genomes GRCh38 chr21; NIST and GIAB GRCh37)
  --input KIND    feed every tool the BGZF file (default) or the plain VCF
  --csq-output T  bcftools csq output type (default v: plain VCF, as ours and SnpEff write)
  --variants N    SNV records of the main input (default 1,000,000; 100,000 with --quick)
  --repeat N      size of the large flatness input in copies of the main input (default 10)
  --keep-outputs  keep the annotated outputs under .gas-bench/out (default: removed at the end)
`;

const say = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

function label(n: number): string {
  return n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}m` : n >= 1e3 && n % 1e3 === 0 ? `${n / 1e3}k` : String(n);
}

interface Summary {
  tool: ToolName;
  label: string;
  runs: number;
  records: number;
  variantsPerSecond: number;
  wallSeconds: number;
  cpuSeconds: number;
  peakRssMB: number;
  engineSeconds?: number;
}

interface Ratio {
  variantsPerSecond: number;
  wallSeconds: number;
  cpuSeconds: number;
  peakRssMB: number;
}

function summarise(tool: ToolName, toolLabel: string, records: number, rs: RunRecord[]): Summary {
  const wall = median(rs.map((r) => r.wallSeconds));
  const engine = rs.filter((r) => r.engineSeconds !== undefined).map((r) => r.engineSeconds!);
  return {
    tool,
    label: toolLabel,
    runs: rs.length,
    records,
    variantsPerSecond: records / wall,
    wallSeconds: wall,
    cpuSeconds: median(rs.map((r) => r.cpuSeconds)),
    peakRssMB: median(rs.map((r) => r.peakRssMB)),
    ...(engine.length ? { engineSeconds: median(engine) } : {}),
  };
}

const PEERS: ToolName[] = ['bcftools', 'snpeff'];

/** Each of our variants against each peer: speed above 1 means we are faster; time and RSS below 1 mean we use less. */
function ratiosOf(summaries: Summary[]): Record<string, Ratio> {
  const out: Record<string, Ratio> = {};
  for (const ours of summaries.filter((s) => !PEERS.includes(s.tool))) {
    for (const peer of summaries.filter((s) => PEERS.includes(s.tool))) {
      out[`${ours.tool}/${peer.tool}`] = {
        variantsPerSecond: ours.variantsPerSecond / peer.variantsPerSecond,
        wallSeconds: ours.wallSeconds / peer.wallSeconds,
        cpuSeconds: ours.cpuSeconds / peer.cpuSeconds,
        peakRssMB: ours.peakRssMB / peer.peakRssMB,
      };
    }
  }
  return out;
}

function summaryTable(summaries: Summary[], checks?: Partial<Record<ToolName, OutputCheck>>): string {
  return formatTable(
    ['tool', 'variants/s', 'wall s', 'CPU s', 'peak RSS MB', ...(checks ? ['annotated'] : [])],
    summaries.map((s) => [
      s.label,
      Math.round(s.variantsPerSecond).toLocaleString('en'),
      s.wallSeconds.toFixed(2),
      s.cpuSeconds.toFixed(2),
      s.peakRssMB.toFixed(0),
      ...(checks
        ? [checks[s.tool] ? `${((100 * checks[s.tool]!.annotated) / Math.max(1, checks[s.tool]!.records)).toFixed(1)}%` : '']
        : []),
    ]),
  );
}

function ratioTable(ratios: Record<string, Ratio>): string {
  const keys = Object.keys(ratios);
  return formatTable(
    ['ratio', ...keys],
    [
      ['variants/s (speed)', ...keys.map((k) => `${ratios[k]!.variantsPerSecond.toFixed(3)}x`)],
      ['wall time', ...keys.map((k) => `${ratios[k]!.wallSeconds.toFixed(2)}x`)],
      ['CPU time', ...keys.map((k) => `${ratios[k]!.cpuSeconds.toFixed(2)}x`)],
      ['peak RSS', ...keys.map((k) => `${ratios[k]!.peakRssMB.toFixed(2)}x`)],
    ],
  );
}

async function main(): Promise<void> {
  const {
    values: v,
    fail,
    integer,
  } = benchCommand('bench', USAGE, {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    tools: { type: 'string', default: TOOL_NAMES.join(',') },
    'no-flat': { type: 'boolean', default: false },
    'no-real': { type: 'boolean', default: false },
    input: { type: 'string', default: 'bgzf' },
    'csq-output': { type: 'string', default: 'v' },
    variants: { type: 'string' },
    repeat: { type: 'string' },
    'keep-outputs': { type: 'boolean', default: false },
    'no-startup': { type: 'boolean', default: false },
  });
  const runs = integer('runs', v.runs, v.quick ? 1 : 5);
  const variants = integer('variants', v.variants, v.quick ? 100_000 : 1_000_000, 1000);
  const repeat = integer('repeat', v.repeat, 10, 2);
  const selected = v.tools
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean) as ToolName[];
  for (const t of selected) if (!TOOL_NAMES.includes(t)) fail(`unknown tool ${t} (choose from ${TOOL_NAMES.join(', ')})`);
  if (v.input !== 'bgzf' && v.input !== 'plain') fail(`--input must be bgzf or plain, not ${v.input}`);
  if (!['v', 'z', 'b', 'u'].includes(v['csq-output'])) fail(`--csq-output must be v, z, b or u`);
  if (!existsSync(GNU_TIME)) fail(`${GNU_TIME} is missing: apt-get install -y time`);
  const settings: ToolSettings = {
    csqOutput: v['csq-output'] as ToolSettings['csqOutput'],
    snpeffXmx: '2g',
  };
  const all = tools(settings);
  const started = new Date();

  const machine = await machineInfo();
  process.stdout.write(formatMachine(machine) + '\n');
  const versions = await toolVersions();

  // Inputs and models (cached), our reference (rebuilt), the SnpEff database (cached).
  say('bundling our CLI (packages/anntools/dist)');
  await buildOurCli();
  const prepared = await prepareReferenceData(say);
  const ourRef = await buildOurReference(say, 'user');
  const ourWindowRef = selected.includes('ours-window') ? await buildOurReference(say, 'window') : undefined;
  const snpeffDb = selected.includes('snpeff') ? await buildSnpEffDatabase(say, prepared) : undefined;
  const main = await generateInput(say, prepared, `bench-${label(variants)}`, variants);
  const smoke = await generateInput(say, prepared, 'bench-smoke', 2000);
  const flat = !v.quick && !v['no-flat'] && selected.includes('ours');
  const small = flat ? await generateInput(say, prepared, `bench-${label(variants / 10)}`, Math.round(variants / 10)) : undefined;
  const large = flat ? await repeatInput(say, prepared, main, repeat) : undefined;
  const pick = (g: GeneratedInput) => (v.input === 'plain' && g.plain ? g.plain : g.bgzf);
  const rel = (p: string) => relative(REPO_ROOT, p);

  say(
    `main input ${rel(pick(main))}: ${main.counts.records.toLocaleString('en')} records ` +
      `(${main.counts.snvRecords.toLocaleString('en')} SNV, ${main.counts.indelRecords.toLocaleString('en')} indel), ` +
      `chr21:${main.counts.firstPos}-${main.counts.lastPos}`,
  );

  // Warm-up and smoke check: every tool once on a small input, untimed. It also catches a tool
  // that runs but annotates nothing (chromosome names that do not match, an empty database).
  for (const name of selected) {
    const r = await timeTool(all[name], pick(smoke), 0, 'smoke');
    const c = await checkOutput(all[name], pick(smoke), 'smoke', settings);
    say(`smoke ${name}: ${c.records}/${smoke.counts.records} records out, ${c.annotated} annotated, ${r.wallSeconds.toFixed(2)} s`);
    if (c.records !== smoke.counts.records || c.annotated === 0) {
      throw new Error(
        `${name} wrote ${c.records} records (expected ${smoke.counts.records}) with ${c.annotated} annotated on the smoke input: see ${paths.logs}`,
      );
    }
  }

  // Start-up: every tool on a 221-record input, whole process, apart from the throughput figures.
  const startupRuns = v.quick ? Math.min(runs, 3) : Math.max(runs, 5);
  const tiny = v['no-startup'] ? undefined : await tinyInput(main);
  const startup: Summary[] = [];
  if (tiny) {
    const rs: RunRecord[] = [];
    for (let i = 1; i <= startupRuns; i++) {
      for (const name of selected) {
        const r = await timeTool(all[name], tiny.path, i, 'startup');
        rs.push(r);
        say(`startup run ${i}/${startupRuns} ${name}: ${r.wallSeconds.toFixed(2)} s wall, ${r.peakRssMB.toFixed(0)} MB`);
      }
    }
    for (const name of selected)
      startup.push(
        summarise(
          name,
          all[name].label,
          tiny.records,
          rs.filter((r) => r.tool === name),
        ),
      );
    await removeOutputs('startup');
  }

  // Timed runs, round-robin so that noise from other work on the machine spreads over all tools.
  const timeRounds = async (
    input: string,
    records: number,
    tag: string,
  ): Promise<{ runs: RunRecord[]; summaries: Summary[]; ratios: Record<string, Ratio> }> => {
    const rs: RunRecord[] = [];
    for (let i = 1; i <= runs; i++) {
      for (const name of selected) {
        const r = await timeTool(all[name], input, i, tag);
        rs.push(r);
        say(
          `${tag} run ${i}/${runs} ${name}: ${r.wallSeconds.toFixed(2)} s wall, ${r.cpuSeconds.toFixed(2)} s CPU, ${r.peakRssMB.toFixed(0)} MB` +
            (r.engineSeconds !== undefined ? ` (engine pass ${r.engineSeconds} s)` : ''),
        );
      }
    }
    const sums = selected.map((name) =>
      summarise(
        name,
        all[name].label,
        records,
        rs.filter((r) => r.tool === name),
      ),
    );
    return { runs: rs, summaries: sums, ratios: ratiosOf(sums) };
  };
  const mainRounds = await timeRounds(pick(main), main.counts.records, 'main');
  const records = mainRounds.runs;
  const checks: Partial<Record<ToolName, OutputCheck>> = {};
  for (const name of selected) {
    checks[name] = await checkOutput(all[name], pick(main), 'main', settings);
    if (checks[name].records !== main.counts.records) {
      say(`WARNING: ${name} wrote ${checks[name].records} records for ${main.counts.records} input records`);
    }
  }
  const summaries = mainRounds.summaries;
  const ours = summaries.find((s) => s.tool === OURS);
  const ratios = mainRounds.ratios;

  // Real VCFs: all tools on Platinum Genomes GRCh38 chr21; ours alone on NIST and GIAB GRCh37.
  const real = !v.quick && !v['no-real'];
  const realGrch38 = real ? await realGrch38Input(say) : undefined;
  const realRounds = realGrch38 ? await timeRounds(realGrch38.path, realGrch38.records, 'real-grch38') : undefined;
  // Like for like on that input: its calls span all of chr21, the peers have only the transcripts
  // inside the FASTA window (all they can use) and ours by default all of chr21's, so ours writes a
  // CSQ entry for many more alleles. This row gives ours the peers' transcripts too.
  let realPeersGenes: Summary | undefined;
  if (realGrch38 && realRounds && selected.includes(OURS)) {
    await buildOurReference(say, 'peers');
    const tool = all['ours-peers'];
    const rs: RunRecord[] = [];
    for (let i = 1; i <= runs; i++) {
      const r = await timeTool(tool, realGrch38.path, i, 'real-peers-genes');
      say(`real-grch38 run ${i}/${runs} ours-peers: ${r.wallSeconds.toFixed(2)} s wall, ${r.peakRssMB.toFixed(0)} MB`);
      rs.push(r);
      await removeOutputs('real-peers-genes');
    }
    realPeersGenes = summarise('ours-peers', tool.label, realGrch38.records, rs);
  }
  const wholeGenome = real && selected.includes('ours') ? await wholeGenomeGrch37Reference(say) : undefined;
  const grch37Runs: Array<{ input: RealInput; summary: Summary }> = [];
  if (wholeGenome) {
    const tool = oursTool({ name: 'ours-tsv', label: 'GAS anntools, hg19 whole genome, +TSV', gasref: wholeGenome.path, tsv: true });
    for (const input of realGrch37Inputs()) {
      const rs: RunRecord[] = [];
      for (let i = 1; i <= runs; i++) {
        const r = await timeTool(tool, input.path, i, `real-${input.name}`);
        say(`real ${input.name} run ${i}/${runs}: ${r.wallSeconds.toFixed(2)} s wall, ${r.peakRssMB.toFixed(0)} MB`);
        rs.push(r);
        await removeOutputs(`real-${input.name}`);
      }
      grch37Runs.push({ input, summary: summarise('ours-tsv', tool.label, input.records, rs) });
    }
  }

  // Memory flatness: the same engine on 0.1x, 1x and repeat-x the main input.
  const flatness: Array<{
    input: string;
    records: number;
    runs: number;
    wallSeconds: number;
    cpuSeconds: number;
    peakRssMB: number;
    variantsPerSecond: number;
  }> = [];
  if (flat && small && large && ours) {
    // One thread count for all three sizes: the CLI's own choice depends on the input size, and
    // the question here is whether memory depends on it.
    const threads = Math.min(4, availableParallelism());
    const fixed = oursTool({ name: 'ours', label: `${all[OURS].label}, --threads ${threads}`, gasref: paths.gasref, tsv: false, threads });
    const flatRun = async (g: GeneratedInput, n: number, tag: string) => {
      const rs: RunRecord[] = [];
      for (let i = 1; i <= n; i++) {
        const r = await timeTool(fixed, pick(g) || g.bgzf, i, tag);
        say(`flatness ${g.name} run ${i}/${n}: ${r.wallSeconds.toFixed(2)} s, ${r.peakRssMB.toFixed(0)} MB`);
        rs.push(r);
        await removeOutputs(tag);
      }
      const s = summarise('ours', fixed.label, g.counts.records, rs);
      flatness.push({
        input: g.name,
        records: g.counts.records,
        runs: n,
        wallSeconds: s.wallSeconds,
        cpuSeconds: s.cpuSeconds,
        peakRssMB: s.peakRssMB,
        variantsPerSecond: s.variantsPerSecond,
      });
    };
    await flatRun(small, runs, 'flat-small');
    await flatRun(main, runs, 'flat-main');
    // The large input is run once: it is the slowest step and only its peak RSS matters here.
    await flatRun(large, 1, 'flat-large');
  }

  // Report.
  const finished = new Date();
  const out: string[] = [];
  out.push('');
  out.push(
    `Input: ${rel(pick(main))}: ${main.counts.records.toLocaleString('en')} records (${main.counts.snvRecords.toLocaleString('en')} SNVs, ` +
      `${main.counts.indelRecords.toLocaleString('en')} indels, ${main.counts.multiAllelicRecords.toLocaleString('en')} multi-allelic), ` +
      `GRCh38 chr21:${main.counts.firstPos.toLocaleString('en')}-${main.counts.lastPos.toLocaleString('en')}; ` +
      `median of ${runs} run${runs > 1 ? 's' : ''}, whole process. Gene models: ours ${ourRef.transcripts.toLocaleString('en')} transcripts ` +
      `(the whole Ensembl chr21 GFF3, FASTA given: consequences computed); bcftools csq and SnpEff the ${prepared.models.genes} genes / ` +
      `${prepared.models.transcripts} transcripts inside the FASTA window (chr21 ≤ 10 Mb), which is all the sequence they can use` +
      (ourWindowRef ? `; the old-config row ${ourWindowRef.transcripts.toLocaleString('en')} transcripts, no FASTA.` : '.'),
  );
  out.push('');
  out.push(summaryTable(summaries, checks));
  if (Object.keys(ratios).length) {
    out.push('');
    out.push(ratioTable(ratios));
  }
  if (ours?.engineSeconds !== undefined) {
    out.push('');
    out.push(
      `GAS anntools annotation pass alone (its own runtimeSeconds, without process start and reference load): ` +
        `${ours.engineSeconds.toFixed(2)} s = ${Math.round(ours.records / ours.engineSeconds).toLocaleString('en')} variants/s`,
    );
  }
  if (tiny && startup.length) {
    out.push('');
    out.push(`Start-up: ${rel(tiny.path)} (the first ${tiny.records} records of the main input), whole process, median of ${startupRuns}:`);
    out.push(
      formatTable(
        ['tool', 'wall s', 'CPU s', 'peak RSS MB'],
        startup.map((s) => [s.label, s.wallSeconds.toFixed(2), s.cpuSeconds.toFixed(2), s.peakRssMB.toFixed(0)]),
      ),
    );
  }
  if (realGrch38 && realRounds) {
    out.push('');
    out.push(`Real VCF: ${realGrch38.description}, ${realGrch38.records.toLocaleString('en')} records, same models; median of ${runs}:`);
    const realSummaries = [...realRounds.summaries, ...(realPeersGenes ? [realPeersGenes] : [])];
    out.push(summaryTable(realSummaries));
    const realRatios = ratiosOf(realSummaries);
    if (Object.keys(realRatios).length) out.push(ratioTable(realRatios));
  }
  if (wholeGenome && grch37Runs.length) {
    out.push('');
    out.push(
      `Real GRCh37 VCFs, our engine with the whole-genome hg19 reference (${wholeGenome.transcripts.toLocaleString('en')} refFlat transcripts, ` +
        `${wholeGenome.rsids.toLocaleString('en')} dbSNP entries, chr20 FASTA window), VCF + TSV as the service writes them; median of ${runs}:`,
    );
    out.push(
      formatTable(
        ['input', 'records', 'variants/s', 'wall s', 'CPU s', 'peak RSS MB'],
        grch37Runs.map(({ input, summary: g }) => [
          input.description,
          input.records.toLocaleString('en'),
          Math.round(g.variantsPerSecond).toLocaleString('en'),
          g.wallSeconds.toFixed(2),
          g.cpuSeconds.toFixed(2),
          g.peakRssMB.toFixed(0),
        ]),
      ),
    );
  }
  if (flatness.length) {
    out.push('');
    out.push(`Memory flatness (GAS anntools, --threads ${Math.min(4, availableParallelism())} for every size):`);
    out.push(
      formatTable(
        ['input', 'records', 'runs', 'peak RSS MB', 'wall s', 'variants/s'],
        flatness.map((f) => [
          f.input,
          f.records.toLocaleString('en'),
          String(f.runs),
          f.peakRssMB.toFixed(0),
          f.wallSeconds.toFixed(2),
          Math.round(f.variantsPerSecond).toLocaleString('en'),
        ]),
      ),
    );
  }
  if (ours) {
    const target = (ok: boolean) => (ok ? 'met' : 'NOT met');
    const realOurs = realRounds?.ratios[`${OURS}/bcftools`];
    const startOurs = startup.find((s) => s.tool === OURS);
    out.push('');
    out.push(`Issue 16 targets (${ours.label}, whole process, median of ${runs}):`);
    out.push(
      `  >= 1,000,000 variants/s on the main input (${main.counts.records.toLocaleString('en')} records): ${Math.round(ours.variantsPerSecond).toLocaleString('en')} (${target(ours.variantsPerSecond >= 1e6)})`,
    );
    if (ratios[`${OURS}/bcftools`])
      out.push(
        `  >= 1.0x bcftools csq on the main input: ${ratios[`${OURS}/bcftools`]!.variantsPerSecond.toFixed(3)}x (${target(ratios[`${OURS}/bcftools`]!.variantsPerSecond >= 1)})`,
      );
    if (realOurs)
      out.push(
        `  >= 0.5x bcftools csq on the Platinum chr21 VCF: ${realOurs.variantsPerSecond.toFixed(3)}x (${target(realOurs.variantsPerSecond >= 0.5)})`,
      );
    if (startOurs)
      out.push(
        `  start-up <= 0.25 s (${startOurs.records} records): ${startOurs.wallSeconds.toFixed(2)} s (${target(startOurs.wallSeconds <= 0.25)})`,
      );
    if (ratios[`${OURS}/snpeff`])
      out.push(
        `  >= 20x SnpEff: ${ratios[`${OURS}/snpeff`]!.variantsPerSecond.toFixed(2)}x (${target(ratios[`${OURS}/snpeff`]!.variantsPerSecond >= 20)})`,
      );
    if (flatness.length > 1) {
      const lo = flatness[0]!;
      const hi = flatness[flatness.length - 1]!;
      out.push(
        `  flat memory: ${hi.peakRssMB.toFixed(0)} MB at ${hi.records.toLocaleString('en')} records vs ${lo.peakRssMB.toFixed(0)} MB at ${lo.records.toLocaleString('en')} (${(hi.peakRssMB / lo.peakRssMB).toFixed(2)}x)`,
      );
    }
    if (grch37Runs.length) {
      const peak = Math.max(...grch37Runs.map((g) => g.summary.peakRssMB));
      out.push(`  < 400 MB with whole-genome hg19 refFlat and all shared dbSNP loaded: ${peak.toFixed(0)} MB (${target(peak < 400)})`);
    }
  }
  out.push('');
  out.push('Commands (one child process per run, under /usr/bin/time -f "%e %U %S %M"):');
  for (const name of selected) out.push(`  ${all[name].describe(rel(pick(main)), `.gas-bench/out/main/${name}`)}`);

  const stamp = started
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
  const jsonPath = join(BENCH_DIR, `results-${stamp}.json`);
  out.push('');
  out.push(`Results: ${rel(jsonPath)}`);
  process.stdout.write(out.join('\n') + '\n');

  await mkdir(BENCH_DIR, { recursive: true });
  await writeFile(
    jsonPath,
    JSON.stringify(
      {
        startedAt: started.toISOString(),
        finishedAt: finished.toISOString(),
        options: {
          quick: v.quick,
          runs,
          tools: selected,
          input: v.input,
          csqOutput: settings.csqOutput,
          variants,
          repeat,
          flat,
        },
        machine,
        versions,
        data: {
          fasta: { realBases: prepared.realBases, realSpan: prepared.realSpan, gapsOver1kb: prepared.gaps.length },
          models: { gff3: rel(paths.gff3), gtf: rel(paths.gtf), ...prepared.models },
          dbsnpSitesInWindow: prepared.dbsnpSites,
          sourceSha256: prepared.sourceSha256,
          ourReference: { ...ourRef, path: rel(ourRef.path), genes: rel(ourRef.genes) },
          ourWindowReference: ourWindowRef ? { ...ourWindowRef, path: rel(ourWindowRef.path), genes: rel(ourWindowRef.genes) } : undefined,
          snpeffDatabase: snpeffDb,
        },
        input: { path: rel(pick(main)), counts: main.counts, params: main.params },
        commands: Object.fromEntries(selected.map((n) => [n, all[n].describe(rel(pick(main)), `.gas-bench/out/main/${n}`)])),
        summaries,
        ratios,
        outputChecks: checks,
        startup: tiny ? { input: rel(tiny.path), records: tiny.records, runs: startupRuns, summaries: startup } : undefined,
        flatness,
        real: realRounds
          ? {
              input: realGrch38,
              summaries: realRounds.summaries,
              ratios: realRounds.ratios,
              runs: realRounds.runs,
              peersGenes: realPeersGenes,
            }
          : undefined,
        wholeGenomeGrch37: wholeGenome ? { reference: { ...wholeGenome, path: rel(wholeGenome.path) }, runs: grch37Runs } : undefined,
        runs: records,
      },
      null,
      2,
    ) + '\n',
  );
  if (!v['keep-outputs']) for (const tag of ['main', 'smoke', 'real-grch38', 'startup']) await removeOutputs(tag);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
