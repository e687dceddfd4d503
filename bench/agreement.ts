// pnpm agreement [--datasets GRCh38,GRCh37-hg19,GRCh37-hs37d5] [--coding N] [--noncoding N] [--seed N]
//
// Agreement of our engine with SnpEff 5.1 and bcftools csq on the shared data: the same SNVs (every
// possible SNV at the coding positions of the models in each FASTA window, positions covering the
// other region classes, and the real call sets' records in the windows), the same gene models and
// the same FASTA for all three tools. Compares region class, the most severe coding consequence,
// per-transcript consequences, the most severe of VEP's terms (every variant, harmonised: see
// agreement-calls.ts) overall and per transcript, HGVS p./c. and protein changes, and groups every
// disagreement into a class with its reason. See docs/annotation.md, "Agreement with SnpEff and bcftools csq".
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { sha256File } from '../packages/anntools/src/file-digest.ts';
import { ENGINE_NAME } from '../packages/anntools/src/engine.ts';
import { BENCH_DIR, REPO_ROOT, SNPEFF_JAR } from './inputs.ts';
import { run } from './measure.ts';
import { formatTable, machineInfo } from './report.ts';
import { toolVersions } from './tools.ts';
import { DATASET_NAMES, missingSources, prepareDataset } from './agreement-data.ts';
import { summariseModels } from './agreement-models.ts';
import type { DatasetName } from './agreement-data.ts';
import { buildVariants, defaultSampleParams, writeVariants } from './agreement-variants.ts';
import type { SampleParams } from './agreement-variants.ts';
import { TOOL_LABELS, runCsq, runOurs, runSnpEff } from './agreement-calls.ts';
import type { ToolName, ToolRun } from './agreement-calls.ts';
import { METRICS, METRIC_HELP, PAIRS, compare } from './agreement-compare.ts';
import type { Comparison, Tally } from './agreement-compare.ts';
import { benchCommand } from './cli-options.ts';

const USAGE = `usage: pnpm agreement [--datasets LIST] [--coding N] [--noncoding N] [--seed N]
  --datasets LIST  windows to compare (default: ${DATASET_NAMES.join(',')})
  --coding N       coding transcripts per window whose every CDS base gets all three SNVs (default: all)
  --noncoding N    non-coding transcripts sampled per window for exon/splice/intron positions (default ${defaultSampleParams.nonCodingTranscripts})
  --seed N         sampling seed (default ${defaultSampleParams.seed})
`;

/** The targets: consequence agreement on SNVs in coding exons, and the most severe VEP term on every SNV. */
const TARGET = 0.99;
const TERM_TARGET = 0.995;

const say = (msg: string) => process.stderr.write(`agreement: ${msg}\n`);

/** Stops with the names of every missing tool and shared file, before any work. */
async function checkPrerequisites(): Promise<void> {
  const missing: string[] = [];
  for (const [cmd, args, pkg] of [
    ['bcftools', ['--version'], 'bcftools'],
    ['bgzip', ['--version'], 'tabix'],
    ['tabix', ['--version'], 'tabix'],
    ['java', ['-version'], 'default-jre-headless, which snpeff depends on'],
  ] as const) {
    const r = await run(cmd, [...args]).catch(() => ({ code: 127 }));
    if (r.code !== 0) missing.push(`${cmd} (Debian package ${pkg})`);
  }
  if (!existsSync(SNPEFF_JAR)) missing.push(`${SNPEFF_JAR} (Debian package snpeff)`);
  for (const f of missingSources()) missing.push(`${f} (shared data; see ../shared/data/PROVENANCE.md, or set GAS_SHARED_DATA)`);
  if (missing.length) {
    process.stderr.write(
      `agreement: cannot run, missing:\n${missing.map((m) => `  - ${m}`).join('\n')}\nInstall the tools with: apt-get install -y bcftools tabix snpeff\n`,
    );
    process.exit(2);
  }
}

const pct = (t: Tally | undefined) => (t && t.compared ? `${((100 * t.agreed) / t.compared).toFixed(2)}%` : '–');
const cell = (t: Tally | undefined) => (t ? `${t.agreed.toLocaleString('en')}/${t.compared.toLocaleString('en')} ${pct(t)}` : '');
const num = (n: number) => n.toLocaleString('en');

const ROW_LABELS: Array<[string, string, string]> = [
  ['consequence', 'snv', 'consequence, SNVs in a CDS (target ≥ 99%)'],
  ['consequence per transcript', 'snv', 'consequence per transcript, SNVs'],
  ['most severe term', 'snv', 'most severe VEP term, SNVs (target ≥ 99.5%)'],
  ['most severe term per transcript', 'snv', 'most severe VEP term per transcript, SNVs'],
  ['most severe term', 'indel', 'most severe VEP term, indels'],
  ['region class', 'snv', 'region class, SNVs'],
  ['HGVS p.', 'snv', 'HGVS p., SNVs'],
  ['protein change', 'snv', 'protein change, SNVs'],
  ['HGVS c.', 'snv', 'HGVS c., SNVs'],
  ['consequence', 'indel', 'consequence, indels in a CDS'],
  ['region class', 'indel', 'region class, indels'],
  ['consequence', 'real snv', 'of which real call-set SNVs: consequence'],
  ['region class', 'real snv', 'of which real call-set SNVs: region class'],
  ['most severe term', 'real snv', 'of which real call-set SNVs: most severe VEP term'],
];

function agreementTable(tallies: Comparison['tallies']): string {
  const rows: string[][] = [];
  for (const [metric, kind, label] of ROW_LABELS) {
    const byPair = tallies[metric]?.[kind];
    if (!byPair) continue;
    rows.push([label, ...PAIRS.map((p) => cell(byPair[p.join('/')]))]);
  }
  return formatTable(['comparison', ...PAIRS.map((p) => `${TOOL_LABELS[p[0]]} vs ${TOOL_LABELS[p[1]]}`)], rows);
}

function addTallies(into: Comparison['tallies'], from: Comparison['tallies']): void {
  for (const [metric, byKind] of Object.entries(from)) {
    for (const [kind, byPair] of Object.entries(byKind)) {
      for (const [pair, t] of Object.entries(byPair)) {
        const x = (((into[metric] ??= {})[kind] ??= {})[pair] ??= { compared: 0, agreed: 0 });
        x.compared += t.compared;
        x.agreed += t.agreed;
      }
    }
  }
}

/** "607 = 383 definition + 218 ours + 6 model" per metric, variant kind and pair. */
function causeSummary(c: Comparison): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const k of c.classes) {
    const key = `${k.metric} (${k.kindOfVariant}) ${k.pair}`;
    (out[key] ??= {})[k.cause] = (out[key][k.cause] ?? 0) + k.count;
  }
  return out;
}

async function gitState(): Promise<{ commit: string; engineSourceChanged: boolean }> {
  const head = await run('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT }).catch(() => ({ code: 1, stdout: '' }));
  const status = await run('git', ['status', '--porcelain', '--', 'packages/anntools/src'], { cwd: REPO_ROOT }).catch(() => ({
    code: 1,
    stdout: '',
  }));
  return { commit: head.code === 0 ? head.stdout.trim() : 'unknown', engineSourceChanged: status.stdout.trim().length > 0 };
}

async function main(): Promise<void> {
  const {
    values: v,
    fail,
    integer,
  } = benchCommand('agreement', USAGE, {
    datasets: { type: 'string', default: DATASET_NAMES.join(',') },
    coding: { type: 'string' },
    noncoding: { type: 'string' },
    seed: { type: 'string' },
  });
  const datasets = v.datasets
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean) as DatasetName[];
  for (const d of datasets) if (!DATASET_NAMES.includes(d)) fail(`unknown dataset ${d} (choose from ${DATASET_NAMES.join(', ')})`);
  const params: SampleParams = {
    ...defaultSampleParams,
    seed: integer('seed', v.seed, defaultSampleParams.seed, 0),
    codingTranscripts: integer('coding', v.coding, defaultSampleParams.codingTranscripts, 0),
    nonCodingTranscripts: integer('noncoding', v.noncoding, defaultSampleParams.nonCodingTranscripts, 0),
  };
  await checkPrerequisites();
  const started = new Date();

  const results: Array<Record<string, unknown>> = [];
  const report: string[] = [];
  const total: Comparison['tallies'] = {};
  let unexplained = 0;
  for (const name of datasets) {
    const ds = await prepareDataset(say, name);
    await mkdir(ds.workDir, { recursive: true });
    const set = await buildVariants(ds, params);
    const vcf = join(ds.workDir, `agreement-${name}.vcf`);
    await writeVariants(ds, set, vcf);
    const kinds = { snv: 0, indel: 0, mnv: 0, real: 0 };
    for (const x of set.variants) {
      kinds[x.kind]++;
      if (x.sources.some((s) => s.startsWith('vcf:'))) kinds.real++;
    }
    say(`${name}: ${num(set.variants.length)} records → ${relative(REPO_ROOT, vcf)}; running the three tools`);
    const outDir = join(ds.workDir, 'out');
    await rm(outDir, { recursive: true, force: true });
    await mkdir(outDir, { recursive: true });
    const byId = new Map(set.variants.map((x) => [x.id, { pos: x.pos, alt: x.alt }]));
    // One after the other: the machine may be timing other work.
    const runs: Record<ToolName, ToolRun> = {
      ours: await runOurs(say, ds, vcf, outDir),
      snpeff: await runSnpEff(ds, vcf, outDir, byId),
      csq: await runCsq(ds, vcf, outDir, byId),
    };
    const comparison = compare(ds, set.variants, { ours: runs.ours.calls, snpeff: runs.snpeff.calls, csq: runs.csq.calls });
    addTallies(total, comparison.tallies);

    const coding = ds.transcripts.filter((t) => t.cds.length > 0).length;
    const modelSummary = summariseModels(ds.transcripts, ds.fetch);
    const odd = Object.entries(modelSummary)
      .filter(([, x]) => Array.isArray(x))
      .map(([k, x]) => `${k}: ${(x as string[]).join(' ')}`);
    report.push(
      '',
      `== ${name}: ${ds.description}`,
      `   models: ${ds.transcripts.length} transcripts (${coding} coding); input: ${num(set.variants.length)} records, one ALT each ` +
        `(${num(kinds.snv)} SNVs, ${num(kinds.indel)} indels, ${num(kinds.mnv)} MNVs; ${num(kinds.real)} from the real call sets)`,
      `   coding models: ${String(modelSummary.clean)} of ${String(modelSummary.coding)} translate to M…* cleanly; ${String(modelSummary.splitCodons)} codons split by an intron (start codon: ${String(modelSummary.startSplit)}, stop codon: ${String(modelSummary.stopSplit)})`,
      ...odd.map((o) => `     ${o}`),
      '',
      agreementTable(comparison.tallies),
      '',
      'Disagreement classes (count, cause, class; the most frequent value pairs):',
    );
    for (const c of comparison.classes) {
      if (c.cause === 'unexplained') unexplained += c.count;
      report.push(`  ${c.metric} (${c.kindOfVariant}) ${c.pair.replace('/', ' vs ')}: ${num(c.count)} × [${c.cause}] ${c.id}`);
      report.push(
        `      ${Object.entries(c.values)
          .sort((x, y) => y[1] - x[1])
          .slice(0, 3)
          .map(([k, n]) => `${k} (${num(n)})`)
          .join('; ')}`,
      );
      for (const e of c.examples.slice(0, 2))
        report.push(`      e.g. ${e.variant}${e.transcript ? ` ${e.transcript}` : ''}: ${e.values.join(' vs ')}`);
    }
    if (comparison.classes.length === 0) report.push('  none');
    const k = comparison.ourFunctionConsistency;
    report.push(`Our FUNCTION column vs the most severe of our own per-transcript p.: ${num(k.agreed)}/${num(k.compared)}`);
    if (Object.keys(comparison.unmappedTerms).length)
      report.push(`Terms outside the unified vocabulary: ${JSON.stringify(comparison.unmappedTerms)}`);

    const sha256: Record<string, string> = {};
    for (const [key, p] of Object.entries(ds.sourceFiles)) sha256[key] = await sha256File(p);
    for (const [key, p] of Object.entries({ gff3: ds.gff3, gtf: ds.gtf, ourGenes: ds.ourGenes, agreementVcf: vcf }))
      sha256[`derived:${key}`] = await sha256File(p);
    results.push({
      dataset: name,
      description: ds.description,
      window: `${ds.chrom}:${ds.window[0]}-${ds.window[1]}`,
      models: {
        transcripts: ds.transcripts.length,
        coding,
        codingModels: modelSummary,
        gff3: relative(REPO_ROOT, ds.gff3),
        gtf: relative(REPO_ROOT, ds.gtf),
        ours: ds.ourGenes.startsWith(REPO_ROOT) ? relative(REPO_ROOT, ds.ourGenes) : ds.ourGenes,
      },
      input: {
        vcf: relative(REPO_ROOT, vcf),
        records: set.variants.length,
        kinds,
        bySource: set.counts,
        droppedRealRecords: set.dropped,
        sampledTranscripts: set.sampled,
      },
      sha256,
      commands: Object.fromEntries(Object.entries(runs).map(([key, r]) => [key, r.command])),
      seconds: Object.fromEntries(Object.entries(runs).map(([key, r]) => [key, Math.round(r.seconds * 100) / 100])),
      toolMessages: Object.fromEntries(Object.entries(runs).map(([key, r]) => [key, r.notes.slice(0, 50)])),
      tallies: comparison.tallies,
      disagreementsByCause: causeSummary(comparison),
      classes: comparison.classes,
      ourFunctionConsistency: comparison.ourFunctionConsistency,
      unmappedTerms: comparison.unmappedTerms,
    });
  }

  const head: string[] = [];
  const tools = await toolVersions();
  const versions = {
    node: tools.node,
    bcftools: tools.bcftools,
    snpeff: tools.snpeff,
    java: tools.java,
    engine: ENGINE_NAME,
    ...(await gitState()),
  };
  head.push(`Agreement of GAS anntools with SnpEff and bcftools csq on the same VCF, gene models and FASTA windows`);
  head.push(
    `${versions.bcftools}; ${versions.snpeff}; ${versions.java}; engine ${versions.engine} at ${versions.commit.slice(0, 12)}${versions.engineSourceChanged ? ' (packages/anntools/src has uncommitted changes)' : ''}`,
  );
  report.push('', `== All windows`, '', agreementTable(total));
  const verdict: string[] = [];
  for (const pair of PAIRS.filter((p) => p[0] === 'ours')) {
    const t = total.consequence?.snv?.[pair.join('/')];
    if (t) verdict.push(`${TOOL_LABELS[pair[1]]}: ${pct(t)} (${t.agreed / t.compared >= TARGET ? 'met' : 'NOT met'})`);
  }
  report.push('', `Target ≥ 99% consequence agreement on SNVs in coding exons, all windows: ${verdict.join('; ')}`);
  const termVerdict: string[] = [];
  for (const pair of PAIRS.filter((p) => p[0] === 'ours')) {
    const t = total['most severe term']?.snv?.[pair.join('/')];
    if (t) termVerdict.push(`${TOOL_LABELS[pair[1]]}: ${pct(t)} (${t.agreed / t.compared >= TERM_TARGET ? 'met' : 'NOT met'})`);
  }
  report.push(`Target ≥ 99.5% the same most severe VEP term (harmonised) on SNVs, all windows: ${termVerdict.join('; ')}`);
  if (unexplained) report.push(`WARNING: ${num(unexplained)} disagreements fall in no explained class (see "unexplained" above).`);
  const stamp = started
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
  const jsonPath = join(BENCH_DIR, `agreement-${stamp}.json`);
  report.push('', `Results: ${relative(REPO_ROOT, jsonPath)}`);
  process.stdout.write([...head, ...report].join('\n') + '\n');

  await mkdir(BENCH_DIR, { recursive: true });
  await writeFile(
    jsonPath,
    JSON.stringify(
      {
        startedAt: started.toISOString(),
        finishedAt: new Date().toISOString(),
        machine: await machineInfo(),
        versions,
        params: { ...params, codingTranscripts: Number.isFinite(params.codingTranscripts) ? params.codingTranscripts : 'all' },
        metrics: METRIC_HELP,
        metricOrder: METRICS,
        total,
        unexplained,
        datasets: results,
      },
      null,
      2,
    ) + '\n',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`agreement: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
