#!/usr/bin/env node
// gas-annotate build-db --build GRCh37 --genes FILE [--genes FILE ...] [--dbsnp FILE ...] [--fasta FILE] [--mane FILE] --out FILE
// gas-annotate annotate <input.vcf[.gz]> [--reference FILE.gasref | --genes FILE] [--out-dir DIR] [--threads N] [--compress]
//   writes <name>.annot.vcf, <name>.annot.tsv (with a reference, unless --no-tsv), <name>.count.log, <name>.summary.json;
//   with --compress, <name>.annot.vcf.gz (BGZF) with its tabix index <name>.annot.vcf.gz.tbi and <name>.annot.tsv.gz, as the service stores them.
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { annotateVcf } from './engine.ts';
import { formatCountLog } from './annotation/summary.ts';
import { VcfFormatError } from './vcf-error.ts';
import { TranscriptIndex } from './annotation/transcript-index.ts';
import { loadGeneModels } from './gene-models/index.ts';
import type { Reference } from './reference.ts';
import { buildReferenceFile, parseReferenceFile, readReferenceBytes } from './reference-file.ts';
import { ENGINE_NAME } from './engine.ts';
import { RESULT_KINDS } from './result-kinds.ts';
import { AnnotationPool } from './annotation-pool.ts';
import { BgzfWriter } from './bgzf-writer.ts';
import { indexedBgzfWriter } from './tabix-index.ts';
import { FETCH_SOURCES_USAGE_LINE, fetchSourcesCommand } from './sources/fetch-sources-cli.ts';
import { BASE_URL_ENV } from './sources/mirror.ts';

const USAGE = [
  'usage: gas-annotate build-db --build NAME --genes FILE [--genes FILE ...] [--dbsnp FILE ...] [--fasta FILE] [--mane MANE.summary.txt.gz] --out FILE.gasref',
  "         --mane: the MANE summary (GRCh38), for the CSQ field's MANE_SELECT, CANONICAL, Gene, HGNC_ID and HGVSp protein ids",
  '       gas-annotate annotate <input.vcf[.gz]> [--reference FILE.gasref | --genes FILE [--build NAME]] [--out-dir DIR] [--threads N] [--no-tsv] [--no-csq] [--compress]',
  '         --no-tsv: write the annotated VCF only, not the TSV with one row per allele',
  "         --no-csq: leave out the CSQ INFO field (Ensembl VEP's per-transcript consequences; the GAS_ fields stay)",
  '         --compress: write the VCF as BGZF (.annot.vcf.gz) with a tabix index (.tbi, when sorted) and the TSV gzip-compressed (.annot.tsv.gz)',
  '         --threads: threads annotating in parallel with --reference (default: 1 below about 32 MB of VCF text, else the cores, at most 4)',
  `       ${FETCH_SOURCES_USAGE_LINE}`,
  '',
].join('\n');

async function buildDb(values: {
  build?: string;
  genes?: string[];
  dbsnp?: string[];
  fasta?: string;
  mane?: string;
  out?: string;
}): Promise<number> {
  if (!values.build || !values.genes?.length || !values.out) {
    process.stderr.write(USAGE);
    return 2;
  }
  const t0 = performance.now();
  let m: Awaited<ReturnType<typeof buildReferenceFile>>;
  try {
    m = await buildReferenceFile({
      build: values.build,
      genes: values.genes,
      dbsnp: values.dbsnp ?? [],
      fasta: values.fasta,
      mane: values.mane,
      out: values.out,
      engine: ENGINE_NAME,
      onProgress: (msg) => process.stderr.write(`gas-annotate: ${msg}\n`),
      onWarning: (msg) => process.stderr.write(`gas-annotate: warning: ${msg}\n`),
    });
  } catch (err) {
    // A source that yields nothing or has a malformed line: its path and line, without a stack trace.
    process.stderr.write(`gas-annotate: build-db: ${(err as Error).message}\n`);
    return 1;
  }
  process.stdout.write(
    `${values.out}: ${m.build}, ${m.counts.transcripts} transcripts (${m.counts.codingTranscripts} coding) of ${m.counts.genes} genes, ` +
      `${m.counts.rsids} dbSNP entries, built in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  return 0;
}

/**
 * A worker pays for itself only on larger inputs: it takes about 0.3 s to start and to build its own
 * gene-model index (more for whole-genome models), while a thread annotates about 15 MB of VCF text
 * a second. Below about 32 MB of text (gzip counted as 6x its size) one thread is faster.
 */
function defaultThreads(input: string): number {
  const bytes = statSync(input).size * (/\.b?gz$/.test(input) ? 6 : 1);
  return bytes < 32 * 1024 * 1024 ? 1 : Math.min(4, availableParallelism());
}

function parseCommandLine(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'out-dir': { type: 'string', default: '.' },
      genes: { type: 'string', multiple: true },
      dbsnp: { type: 'string', multiple: true },
      reference: { type: 'string' },
      fasta: { type: 'string' },
      mane: { type: 'string' },
      build: { type: 'string' },
      out: { type: 'string' },
      threads: { type: 'string' },
      'no-tsv': { type: 'boolean', default: false },
      'no-csq': { type: 'boolean', default: false },
      compress: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'fetch-sources') return fetchSourcesCommand(argv.slice(1), process.env[BASE_URL_ENV]);
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (err) {
    // An unknown option or a missing value: say which, then how to call it.
    process.stderr.write(`gas-annotate: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { positionals, values } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [cmd, input] = positionals;
  if (cmd === 'build-db') return buildDb(values);
  if (cmd !== 'annotate' || !input) {
    process.stderr.write(USAGE);
    return 2;
  }
  if (!existsSync(input)) {
    process.stderr.write(`gas-annotate: ${input}: no such file\n`);
    return 1;
  }
  const outDir = values['out-dir'];
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) {
    process.stderr.write(`gas-annotate: --threads must be a whole number ≥ 1, got "${values.threads}"\n`);
    return 2;
  }
  await mkdir(outDir, { recursive: true });
  let reference: Reference | undefined;
  let pool: AnnotationPool | undefined;
  if (values.reference) {
    const bytes = await readReferenceBytes(values.reference);
    const workers = (threads ?? defaultThreads(input)) - 1;
    // The workers start (and read their copy of the gene models) while this thread begins; the
    // first chunks wait in their queues meanwhile.
    pool = workers > 0 ? AnnotationPool.spawn({ references: [{ path: values.reference, bytes }], workers }) : undefined;
    reference = parseReferenceFile(bytes, values.reference);
  } else if (values.genes?.length) {
    const transcripts = (await Promise.all(values.genes.map((g) => loadGeneModels(g)))).flat();
    reference = { build: values.build ?? 'unknown', transcripts: new TranscriptIndex(transcripts) };
  }
  const closePool = async (): Promise<void> => pool?.close();
  const name = basename(input).replace(/\.vcf(\.b?gz)?$/, '');
  const compress = values.compress;
  const suffix = (kind: 'vcf' | 'tsv') => (compress ? RESULT_KINDS[kind].suffix : RESULT_KINDS[kind].plain.suffix);
  const vcfFile = createWriteStream(join(outDir, name + suffix('vcf')));
  const tsvFile = reference && !values['no-tsv'] ? createWriteStream(join(outDir, name + suffix('tsv'))) : undefined;
  // Compressed, the engine writes into BGZF writers that feed the files (the VCF's index is built on the way).
  const indexed = compress ? indexedBgzfWriter() : undefined;
  const vcfOut = indexed ? indexed.writer : vcfFile;
  const tsvOut = tsvFile && compress ? new BgzfWriter() : tsvFile;
  if (vcfOut !== vcfFile) vcfOut.pipe(vcfFile);
  if (tsvOut && tsvFile && tsvOut !== tsvFile) tsvOut.pipe(tsvFile);
  const writeIndex = async (): Promise<void> => {
    if (!indexed) return;
    await finished(vcfFile);
    const tbi = indexed.indexer.finish();
    if (tbi) await writeFile(join(outDir, name + RESULT_KINDS.tbi.suffix), tbi);
    else process.stderr.write(`gas-annotate: no tabix index: ${indexed.indexer.unindexable}\n`);
  };
  try {
    const summary = await annotateVcf({
      input: createReadStream(input),
      vcfOut,
      tsvOut,
      reference,
      pool,
      csq: !values['no-csq'],
      reuseOutputBuffers: true,
    });
    vcfOut.end();
    tsvOut?.end();
    // The last output is still being written: the small files and the workers' exit go meanwhile.
    await Promise.all([
      finished(vcfFile),
      tsvFile ? finished(tsvFile) : undefined,
      writeIndex(),
      writeFile(join(outDir, name + RESULT_KINDS.log.suffix), formatCountLog(basename(input), summary)),
      writeFile(join(outDir, name + RESULT_KINDS.summary.suffix), JSON.stringify(summary, null, 2) + '\n'),
      closePool(),
    ]);
    process.stdout.write(`${summary.records} records, ${summary.alleles} alleles, ${summary.runtimeSeconds} s\n`);
    return 0;
  } catch (err) {
    // A write still in flight fails on the destroyed file; the run has failed already, and that
    // second error must not end the process with a stack trace after the message.
    for (const s of [vcfOut, tsvOut, vcfFile, tsvFile]) s?.on('error', () => undefined).destroy();
    process.stderr.write(`gas-annotate: ${input}: ${err instanceof VcfFormatError ? err.message : String(err)}\n`);
    return 1;
  } finally {
    await closePool();
  }
}

process.exitCode = await main(process.argv.slice(2));
