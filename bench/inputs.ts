// Everything the tools read, derived once from ../shared/data and cached under .gas-bench/:
// the chr21 FASTA renamed to `21` (for bcftools csq and SnpEff), the Ensembl GFF3 restricted to
// genes inside that sequence, its GTF conversion and SnpEff database, our reference file, and the
// generated VCFs. A cached file is reused while the key it was made from (source checksums,
// parameters, the code of this folder) is unchanged.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { FastaReader } from '../packages/anntools/src/fasta/index.ts';
import { sha256File } from '../packages/anntools/src/file-digest.ts';
import { buildReferenceFile } from '../packages/anntools/src/reference-file.ts';
import { ENGINE_NAME } from '../packages/anntools/src/engine.ts';
import { filterGff3, formatGff3, gff3ToGtf, readGff3 } from './gff3.ts';
import { EXONIC, GENIC, defaultGeneratorParams, placeableWeight, vcfHeader, writeVcf } from './generate.ts';
import type { GeneratorCounts, GeneratorInput, GeneratorParams } from './generate.ts';
import { run } from './measure.ts';
import { BENCH_DIR, REPO_ROOT } from './report.ts';

export { BENCH_DIR, REPO_ROOT };

export const DATA_DIR = process.env.GAS_SHARED_DATA ?? join(REPO_ROOT, '..', 'shared', 'data');

export const sources = {
  gff3: join(DATA_DIR, 'gene_models/grch38/Homo_sapiens.GRCh38.chr21.ensembl.gff3.gz'),
  fasta: join(DATA_DIR, 'reference/grch38/grch38.chr20_and_21_10M.fa.gz'),
  dbsnp: join(DATA_DIR, 'dbsnp/grch38/ensembl_vep84_variation_chr21.tsv.gz'),
};

/** Name used in the VCF, the GFF3 and the FASTA we hand to the peers (Ensembl's spelling). */
export const CHROM = '21';
export const SNPEFF_GENOME = 'GRCh38chr21bench';
export const SNPEFF_JAR = '/usr/share/java/snpeff.jar';

export const paths = {
  fasta: join(BENCH_DIR, 'ref', `${CHROM}.fa`),
  gff3: join(BENCH_DIR, 'models', 'Homo_sapiens.GRCh38.chr21_10M.ensembl.gff3'),
  gtf: join(BENCH_DIR, 'models', 'Homo_sapiens.GRCh38.chr21_10M.ensembl.gtf'),
  /** Ours as a user builds it: the FASTA (consequences) and every gene of the chr21 GFF3. */
  gasref: join(BENCH_DIR, 'ref', 'GRCh38-bench.gasref'),
  /** The old configuration, a labelled extra row only: no FASTA, only the genes inside the sequence window. */
  gasrefWindow: join(BENCH_DIR, 'ref', 'GRCh38-bench-window-nofasta.gasref'),
  /** The FASTA and only the peers' genes (those inside the sequence window): like for like on the real chr21 VCF. */
  gasrefPeers: join(BENCH_DIR, 'ref', 'GRCh38-bench-peers-genes.gasref'),
  snpeffConfig: join(BENCH_DIR, 'snpeff', 'snpEff.config'),
  snpeffData: join(BENCH_DIR, 'snpeff', 'data'),
  inputs: join(BENCH_DIR, 'inputs'),
  out: join(BENCH_DIR, 'out'),
  logs: join(BENCH_DIR, 'logs'),
};

type Say = (msg: string) => void;

let codeKey: string | undefined;
/** Changes whenever the benchmark's own code changes, so cached inputs follow it. */
async function benchCodeKey(): Promise<string> {
  if (codeKey) return codeKey;
  const h = createHash('sha256');
  for (const f of ['gff3.ts', 'generate.ts', 'inputs.ts']) h.update(await readFile(join(REPO_ROOT, 'bench', f)));
  return (codeKey = h.digest('hex').slice(0, 16));
}

/** Runs `make` unless `target` exists with a `.key` file holding `key`. */
async function cached<T>(target: string, key: string, make: () => Promise<T>): Promise<{ value: T | undefined; reused: boolean }> {
  const keyFile = `${target}.key`;
  if (existsSync(target) && existsSync(keyFile)) {
    const stored = JSON.parse(await readFile(keyFile, 'utf8')) as { key: string; value?: T };
    if (stored.key === key) return { value: stored.value, reused: true };
  }
  await mkdir(dirname(target), { recursive: true });
  const value = await make();
  await writeFile(keyFile, JSON.stringify({ key, value }, null, 2) + '\n');
  return { value, reused: false };
}

export interface Prepared {
  sequence: string;
  chromLength: number;
  realBases: number;
  /** Real bases within 1 kb of a transcript, and inside exons. */
  genicBases: number;
  exonicBases: number;
  realSpan: [number, number];
  /** N runs of at least 1 kb inside the real span (1-based inclusive). */
  gaps: Array<[number, number]>;
  models: { genes: number; transcripts: number; droppedGenes: number; coding: number; gtfStopCodons: number };
  dbsnpSites: number;
  sourceSha256: Record<string, string>;
  generatorInput: GeneratorInput;
}

async function loadDbsnpSnvs(path: string, sequence: string): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  const input = createReadStream(path).pipe(createGunzip());
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    const f = line.split('\t');
    if (f[0] !== CHROM) continue;
    const failed = f[2];
    const strand = f[7];
    const alleles = f[6] ?? '';
    if ((failed !== '.' && failed !== '0') || (strand !== '.' && strand !== '1')) continue;
    if (!/^[ACGT](\/[ACGT])+$/.test(alleles)) continue;
    const pos0 = Number(f[4]) - 1;
    const [ref, ...alts] = alleles.split('/');
    if (sequence[pos0] !== ref || out.has(pos0)) continue;
    out.set(pos0, alts);
  }
  return out;
}

export async function prepareReferenceData(say: Say): Promise<Prepared> {
  for (const [what, p] of Object.entries(sources)) {
    if (!existsSync(p)) throw new Error(`benchmark source ${what} missing: ${p} (see ../shared/data/PROVENANCE.md)`);
  }
  const sourceSha256: Record<string, string> = {};
  for (const [what, p] of Object.entries(sources)) sourceSha256[what] = await sha256File(p);
  const code = await benchCodeKey();

  say('reading the chr21 FASTA window');
  const fa = FastaReader.open(sources.fasta);
  const chromLength = fa.length(CHROM);
  if (!chromLength) throw new Error(`${sources.fasta} has no chr21`);
  const sequence = fa.fetch(CHROM, 0, chromLength);
  fa.close();

  // Real sequence: everything that is not N. The window has a 5 Mb N prefix and 50 kb gaps.
  const gaps: Array<[number, number]> = [];
  let first = -1;
  let last = -1;
  for (let i = 0; i < sequence.length;) {
    if (sequence[i] === 'N') {
      let j = i;
      while (j < sequence.length && sequence[j] === 'N') j++;
      if (first >= 0 && j < sequence.length && j - i >= 1000) gaps.push([i + 1, j]);
      i = j;
    } else {
      if (first < 0) first = i;
      last = i;
      i++;
    }
  }

  // FASTA for the peers, named like the GFF3 (csq wants the VCF, FASTA and GFF3 to agree).
  await cached(paths.fasta, `${sourceSha256.fasta}:${code}`, async () => {
    say(`writing ${paths.fasta}`);
    const lines: string[] = [`>${CHROM}`];
    for (let i = 0; i < sequence.length; i += 60) lines.push(sequence.slice(i, i + 60));
    await writeFile(paths.fasta, lines.join('\n') + '\n');
    await writeFile(`${paths.fasta}.fai`, `${CHROM}\t${chromLength}\t${CHROM.length + 2}\t60\t61\n`);
  });

  say('reading the Ensembl GFF3');
  const all = await readGff3(sources.gff3);
  const filtered = filterGff3(all, CHROM, chromLength);
  // Where a region class other than intergenic applies (transcripts ± 1 kb), and exons.
  const classMask = new Uint8Array(chromLength);
  for (const f of filtered.features) {
    if ((f.attrs.get('ID') ?? '').startsWith('transcript:')) {
      for (let i = Math.max(0, f.start - 1001); i < Math.min(chromLength, f.end + 1000); i++) classMask[i]! |= GENIC;
    } else if (f.type === 'exon') {
      for (let i = f.start - 1; i < Math.min(f.end, chromLength); i++) classMask[i]! |= EXONIC;
    }
  }
  const modelKey = `${sourceSha256.gff3}:${sourceSha256.fasta}:${code}`;
  await cached(paths.gff3, modelKey, async () => {
    say(`writing ${paths.gff3} (${filtered.genes} genes, ${filtered.transcripts} transcripts inside chr21:1-${chromLength})`);
    await writeFile(paths.gff3, formatGff3(filtered.features));
  });
  const fetch = (s1: number, e1: number) => sequence.slice(s1 - 1, e1);
  const gtf = gff3ToGtf(filtered.features, fetch);
  await cached(paths.gtf, modelKey, async () => {
    say(`writing ${paths.gtf}`);
    await writeFile(paths.gtf, gtf.text);
  });

  const dbsnp = await loadDbsnpSnvs(sources.dbsnp, sequence);
  const generatorInput: GeneratorInput = {
    chrom: CHROM,
    chromLength: 46709983,
    sequence,
    classMask,
    dbsnp,
    assembly: 'GRCh38',
    source: `chr21 of ${sources.fasta.split('/').pop()} (sha256 ${sourceSha256.fasta!.slice(0, 12)}), models ${sources.gff3.split('/').pop()}`,
  };
  const { realBases, genicBases, exonicBases } = placeableWeight(generatorInput, defaultGeneratorParams);
  return {
    sequence,
    chromLength,
    realBases,
    genicBases,
    exonicBases,
    realSpan: [first + 1, last + 1],
    gaps,
    models: {
      genes: filtered.genes,
      transcripts: filtered.transcripts,
      droppedGenes: filtered.droppedGenes,
      coding: gtf.coding,
      gtfStopCodons: gtf.stopCodons,
    },
    dbsnpSites: dbsnp.size,
    sourceSha256,
    generatorInput,
  };
}

/**
 * Our reference file, rebuilt on every invocation: the engine's format changes under active work.
 * By default as a user builds it (`build-db --genes <the chr21 GFF3> --dbsnp ... --fasta ...`): the
 * whole gene model set of the source GFF3 and the shared BGZF FASTA, so consequences are computed
 * like the peers'. `window` builds the old configuration instead: no FASTA, and only the genes inside
 * the sequence window the peers are given.
 */
export async function buildOurReference(
  say: Say,
  kind: 'user' | 'window' | 'peers' = 'user',
): Promise<{ path: string; seconds: number; transcripts: number; rsids: number; genes: string; fasta?: string }> {
  const out = { user: paths.gasref, window: paths.gasrefWindow, peers: paths.gasrefPeers }[kind];
  const genes = kind === 'user' ? sources.gff3 : paths.gff3;
  const withFasta = kind !== 'window';
  await mkdir(dirname(out), { recursive: true });
  const t0 = performance.now();
  const m = await buildReferenceFile({
    build: 'GRCh38',
    genes: [genes],
    dbsnp: [sources.dbsnp],
    ...(withFasta ? { fasta: sources.fasta } : {}),
    out,
    engine: ENGINE_NAME,
    onProgress: (msg) => say(`build-db (${kind}): ${msg}`),
  });
  return {
    path: out,
    seconds: (performance.now() - t0) / 1000,
    transcripts: m.counts.transcripts,
    rsids: m.counts.rsids,
    genes,
    ...(withFasta ? { fasta: sources.fasta } : {}),
  };
}

/** A SnpEff genome built offline from a GTF and a FASTA, with a config of its own. */
export interface SnpEffGenome {
  genome: string;
  /** The `.genome` line of the config. */
  description: string;
  /** Chromosome names, each given the standard codon table. */
  chroms: string[];
  gtf: string;
  /** Plain, or gzip/BGZF (linked as sequences.fa.gz, which SnpEff reads too). */
  fasta: string;
  config: string;
  dataDir: string;
  log: string;
}

/** Builds `g` once; it is rebuilt when the GTF or the FASTA changes. */
export async function buildSnpEffGenome(say: Say, g: SnpEffGenome): Promise<{ seconds: number; reused: boolean; log: string }> {
  const genomeDir = join(g.dataDir, g.genome);
  const predictor = join(genomeDir, 'snpEffectPredictor.bin');
  const key = `${await sha256File(g.gtf)}:${await sha256File(g.fasta)}`;
  let seconds = 0;
  const { reused } = await cached(predictor, key, async () => {
    say(`building the SnpEff database ${g.genome} (once)`);
    await rm(genomeDir, { recursive: true, force: true });
    await mkdir(genomeDir, { recursive: true });
    await mkdir(dirname(g.log), { recursive: true });
    await writeFile(
      g.config,
      [
        `# gas-bench: SnpEff ${g.genome} built offline from ${g.gtf}`,
        `data.dir = ${g.dataDir}`,
        `${g.genome}.genome : ${g.description}`,
        ...g.chroms.map((c) => `${g.genome}.${c}.codonTable : Standard`),
        '',
      ].join('\n'),
    );
    await symlink(g.gtf, join(genomeDir, 'genes.gtf'));
    await symlink(g.fasta, join(genomeDir, g.fasta.endsWith('.gz') ? 'sequences.fa.gz' : 'sequences.fa'));
    const t0 = performance.now();
    const r = await run(
      'java',
      ['-Xmx2g', '-jar', SNPEFF_JAR, 'build', '-gtf22', '-noCheckCds', '-noCheckProtein', '-noLog', '-v', '-c', g.config, g.genome],
      {
        stdoutFile: g.log,
        stderrFile: g.log,
      },
    );
    seconds = (performance.now() - t0) / 1000;
    if (r.code !== 0 || !existsSync(predictor)) throw new Error(`SnpEff build failed (exit ${r.code}); see ${g.log}:\n${r.stderrTail}`);
  });
  return { seconds, reused, log: g.log };
}

/** SnpEff database from the GTF + FASTA, built offline once. */
export async function buildSnpEffDatabase(say: Say, prepared: Prepared): Promise<{ seconds: number; reused: boolean; log: string }> {
  return buildSnpEffGenome(say, {
    genome: SNPEFF_GENOME,
    description: `Homo_sapiens GRCh38 chr21:1-${prepared.chromLength} (Ensembl GFF3 via GTF, gas-bench)`,
    chroms: [CHROM],
    gtf: paths.gtf,
    fasta: paths.fasta,
    config: paths.snpeffConfig,
    dataDir: paths.snpeffData,
    log: join(paths.logs, 'snpeff-build.log'),
  });
}

export interface GeneratedInput {
  name: string;
  plain: string;
  bgzf: string;
  counts: GeneratorCounts;
  params: GeneratorParams;
  reused: boolean;
}

export async function bgzip(plain: string, out: string): Promise<void> {
  const tmp = `${out}.partial`;
  const r = await run('bgzip', ['-c', '-f', plain], { stdoutFile: tmp });
  if (r.code !== 0) throw new Error(`bgzip ${plain} failed: ${r.stderrTail}`);
  await rename(tmp, out);
}

export async function generateInput(say: Say, prepared: Prepared, name: string, targetSnvs: number): Promise<GeneratedInput> {
  const params: GeneratorParams = { ...defaultGeneratorParams, targetSnvs };
  const plain = join(paths.inputs, `${name}.vcf`);
  const bgzf = `${plain}.gz`;
  const key = JSON.stringify({ params, sources: prepared.sourceSha256, code: await benchCodeKey() });
  const { value, reused } = await cached(bgzf, key, async () => {
    say(`generating ${plain} (≥ ${targetSnvs.toLocaleString('en')} SNVs)`);
    await mkdir(paths.inputs, { recursive: true });
    const counts = await writeVcf(plain, prepared.generatorInput, params);
    say(`bgzip ${plain}`);
    await bgzip(plain, bgzf);
    return counts;
  });
  if (!existsSync(plain)) throw new Error(`${plain} is missing while ${bgzf} is cached: delete ${bgzf}.key to regenerate`);
  return { name, plain, bgzf, counts: value!, params, reused };
}

/** `times` copies of the records of `base` after its header, bgzipped (for the memory-flatness run). */
export async function repeatInput(say: Say, prepared: Prepared, base: GeneratedInput, times: number): Promise<GeneratedInput> {
  const name = `${base.name}-x${times}`;
  const bgzf = join(paths.inputs, `${name}.vcf.gz`);
  const key = JSON.stringify({ base: base.params, times, sources: prepared.sourceSha256, code: await benchCodeKey() });
  const { value, reused } = await cached(bgzf, key, async () => {
    say(`writing ${bgzf} (${times} × the records of ${base.name})`);
    const text = await readFile(base.plain, 'latin1');
    const bodyAt = text.indexOf('\n#CHROM');
    const headerEnd = text.indexOf('\n', bodyAt + 1) + 1;
    const header = vcfHeader(prepared.generatorInput, base.params, ` repeated=${times}`);
    const body = Buffer.from(text.slice(headerEnd), 'latin1');
    const tmp = `${bgzf}.partial`;
    const out = createWriteStream(tmp);
    const child = spawn('bgzip', ['-c'], { stdio: ['pipe', 'pipe', 'inherit'] });
    child.stdout.pipe(out);
    const write = async (b: Buffer | string) => {
      if (!child.stdin.write(b)) await once(child.stdin, 'drain');
    };
    await write(header);
    for (let k = 0; k < times; k++) await write(body);
    child.stdin.end();
    const [code] = (await once(child, 'close')) as [number];
    if (!out.writableFinished) await once(out, 'finish');
    if (code !== 0) throw new Error(`bgzip exited with ${code}`);
    await rename(tmp, bgzf);
    const c = base.counts;
    return {
      ...c,
      records: c.records * times,
      snvRecords: c.snvRecords * times,
      indelRecords: c.indelRecords * times,
      multiAllelicRecords: c.multiAllelicRecords * times,
      alleles: c.alleles * times,
      dbsnpSeededRecords: c.dbsnpSeededRecords * times,
      genicRecords: c.genicRecords * times,
      exonicRecords: c.exonicRecords * times,
      transitions: c.transitions * times,
      transversions: c.transversions * times,
    } satisfies GeneratorCounts;
  });
  return { name, plain: '', bgzf, counts: value!, params: base.params, reused };
}
