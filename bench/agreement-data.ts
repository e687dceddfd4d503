// The windows of the agreement study: each is one chromosome stretch with real sequence in a shared
// FASTA and the gene models wholly inside it, written in the forms the three tools read (GFF3 for
// csq, GTF → SnpEff database, the native file for our engine), all under one chromosome name.
//
// - GRCh38: chr21:1-10,000,000 with the Ensembl GFF3, exactly as `pnpm bench` prepares it
//   (bench/inputs.ts: the FASTA renamed `21`, the GFF3 restricted to genes inside the window, its
//   GTF, the SnpEff database).
// - GRCh37: the hg19 refFlat on the two chr20 windows that have real sequence: chr20:9,995,001-11,095,000
//   of the UCSC hg19 FASTA (`chr20`) and 20:1-1,000,000 of the hs37d5 FASTA (`20`). refFlat is
//   converted to GFF3 (bench/refflat.ts) and from there to GTF (bench/gff3.ts); our engine reads the
//   refFlat rows themselves.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FastaReader } from '../packages/anntools/src/fasta/index.ts';
import {
  BENCH_DIR,
  DATA_DIR,
  SNPEFF_GENOME,
  buildSnpEffDatabase,
  buildSnpEffGenome,
  paths,
  prepareReferenceData,
  sources,
} from './inputs.ts';
import { formatGff3, gff3ToGtf, readGff3 } from './gff3.ts';
import type { GffFeature } from './gff3.ts';
import { readRefFlatWindow, refFlatToGff3 } from './refflat.ts';
import { transcriptsFromGff3 } from './agreement-models.ts';
import type { Fetch, ModelTranscript } from './agreement-models.ts';

export const AGREEMENT_DIR = join(BENCH_DIR, 'agreement');

/** Shared files the study reads, beyond those of `pnpm bench` (bench/inputs.ts `sources`). */
export const agreementSources = {
  refFlat: join(DATA_DIR, 'gene_models/grch37/refFlat_hg19.txt.gz'),
  hg19Fasta: join(DATA_DIR, 'reference/grch37/ucsc.hg19.chr20.unittest.fasta.gz'),
  hs37d5Fasta: join(DATA_DIR, 'reference/grch37/hs37d5_chr20_1_1000000.fa.gz'),
  pgHg38: join(DATA_DIR, 'vcf/grch38/PlatinumGenomes_NA12878_hg38_chr21.vcf.gz'),
  exomeGrch38: join(DATA_DIR, 'vcf/grch38/1000G_exome_10samples_GRCh38.vcf.gz'),
  giabHg19: join(DATA_DIR, 'vcf/grch37/GIAB_NA12878_hg19_chr20_10.0-10.1Mb.vcf.gz'),
  hg001: join(DATA_DIR, 'vcf/grch37/GIAB_HG001_GRCh37_v3.3.2_highconf_chr20.vcf.gz'),
  nist: join(DATA_DIR, 'vcf/grch37/NIST_NA12878_v2.19_complex_1ormoreindels.vcf.gz'),
};

/** A real call set and the region of it that falls in the window, in the file's own names. */
export interface RealVcf {
  name: string;
  path: string;
  region: string;
}

export interface Dataset {
  name: string;
  /** `--build` for our build-db. */
  build: string;
  description: string;
  /** The one chromosome name in the VCF, GFF3, GTF and peer FASTA. */
  chrom: string;
  chromLength: number;
  /** 1-based inclusive span with real sequence; the models lie wholly inside it. */
  window: [number, number];
  fetch: Fetch;
  features: GffFeature[];
  transcripts: ModelTranscript[];
  gff3: string;
  gtf: string;
  /** FASTA for csq (names as `chrom`). */
  peerFasta: string;
  /** Gene model file and FASTA for our build-db. */
  ourGenes: string;
  ourFasta: string;
  snpeff: { config: string; genome: string };
  realVcfs: RealVcf[];
  /** Shared source files, for checksums in the results. */
  sourceFiles: Record<string, string>;
  workDir: string;
}

type Say = (msg: string) => void;

export function missingSources(): string[] {
  return [...Object.values(sources), ...Object.values(agreementSources)].filter((p) => !existsSync(p));
}

function windowFetch(seq: string, offset1: number): Fetch {
  // Outside the fetched window is unknown sequence, as it is N in the FASTA.
  return (s, e) => {
    let out = '';
    for (let p = s; p <= e; p++) out += seq[p - offset1] ?? 'N';
    return out;
  };
}

async function grch38(say: Say): Promise<Dataset> {
  const prepared = await prepareReferenceData(say);
  await buildSnpEffDatabase(say, prepared);
  const features = await readGff3(paths.gff3);
  const seq = prepared.sequence.toUpperCase();
  return {
    name: 'GRCh38',
    build: 'GRCh38',
    description: `GRCh38 chr21:${prepared.realSpan[0].toLocaleString('en')}-${prepared.realSpan[1].toLocaleString('en')}, Ensembl GFF3 (release ~84) genes wholly inside chr21:1-10,000,000`,
    chrom: '21',
    chromLength: 46709983,
    window: prepared.realSpan,
    fetch: windowFetch(seq, 1),
    features,
    transcripts: transcriptsFromGff3(features),
    gff3: paths.gff3,
    gtf: paths.gtf,
    peerFasta: paths.fasta,
    ourGenes: paths.gff3,
    ourFasta: sources.fasta,
    snpeff: { config: paths.snpeffConfig, genome: SNPEFF_GENOME },
    realVcfs: [
      { name: 'PlatinumGenomes_hg38', path: agreementSources.pgHg38, region: 'chr21:1-10000000' },
      { name: '1000G_exome_GRCh38', path: agreementSources.exomeGrch38, region: 'chr21:1-10000000' },
    ],
    sourceFiles: { gff3: sources.gff3, fasta: sources.fasta, pgHg38: agreementSources.pgHg38, exomeGrch38: agreementSources.exomeGrch38 },
    workDir: join(AGREEMENT_DIR, 'GRCh38'),
  };
}

interface RefFlatWindow {
  name: string;
  description: string;
  fasta: string;
  /** Sequence name in that FASTA; also the name every tool is given. */
  chrom: string;
  window: [number, number];
  realVcfs: RealVcf[];
}

async function refFlatDataset(say: Say, w: RefFlatWindow): Promise<Dataset> {
  const workDir = join(AGREEMENT_DIR, w.name);
  await mkdir(workDir, { recursive: true });
  const fa = FastaReader.open(w.fasta);
  const chromLength = fa.length(w.chrom);
  if (!chromLength) throw new Error(`${w.fasta} has no ${w.chrom}`);
  const seq = fa.fetch(w.chrom, w.window[0] - 1, w.window[1]).toUpperCase();
  fa.close();
  const fetch = windowFetch(seq, w.window[0]);
  const rows = await readRefFlatWindow(agreementSources.refFlat, 'chr20', w.window[0] - 1, w.window[1]);
  const features = refFlatToGff3(rows, w.chrom);
  const gff3 = join(workDir, `refFlat_hg19.${w.name}.gff3`);
  const gtf = join(workDir, `refFlat_hg19.${w.name}.gtf`);
  // The file name tells our loader the format ("refflat").
  const ourGenes = join(workDir, `refFlat_hg19.${w.name}.txt`);
  await writeFile(gff3, formatGff3(features));
  await writeFile(gtf, gff3ToGtf(features, fetch).text);
  await writeFile(ourGenes, rows.map((r) => r.line + '\n').join(''));
  say(`${w.name}: ${rows.length} refFlat transcripts wholly inside ${w.chrom}:${w.window[0]}-${w.window[1]}`);
  const genome = `agreement_${w.name.replace(/[^A-Za-z0-9]/g, '_')}`;
  const config = join(workDir, 'snpeff', 'snpEff.config');
  await buildSnpEffGenome(say, {
    genome,
    description: `${w.description} (UCSC refFlat via GFF3 and GTF, gas-bench agreement)`,
    chroms: [w.chrom],
    gtf,
    fasta: w.fasta,
    config,
    dataDir: join(workDir, 'snpeff', 'data'),
    log: join(workDir, 'snpeff-build.log'),
  });
  return {
    name: w.name,
    build: 'GRCh37',
    description: w.description,
    chrom: w.chrom,
    chromLength,
    window: w.window,
    fetch,
    features,
    transcripts: transcriptsFromGff3(features),
    gff3,
    gtf,
    peerFasta: w.fasta,
    ourGenes,
    ourFasta: w.fasta,
    snpeff: { config, genome },
    realVcfs: w.realVcfs,
    sourceFiles: { refFlat: agreementSources.refFlat, fasta: w.fasta, ...Object.fromEntries(w.realVcfs.map((v) => [v.name, v.path])) },
    workDir,
  };
}

export const DATASET_NAMES = ['GRCh38', 'GRCh37-hg19', 'GRCh37-hs37d5'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

export async function prepareDataset(say: Say, name: DatasetName): Promise<Dataset> {
  switch (name) {
    case 'GRCh38':
      return grch38(say);
    case 'GRCh37-hg19':
      return refFlatDataset(say, {
        name,
        description: 'GRCh37/hg19 chr20:9,995,001-11,095,000 (UCSC hg19 FASTA), hg19 refFlat transcripts wholly inside',
        fasta: agreementSources.hg19Fasta,
        chrom: 'chr20',
        window: [9_995_001, 11_095_000],
        realVcfs: [
          { name: 'GIAB_NA12878_hg19_100kb', path: agreementSources.giabHg19, region: 'chr20:9995001-11095000' },
          { name: 'GIAB_HG001_v3.3.2', path: agreementSources.hg001, region: '20:9995001-11095000' },
          { name: 'NIST_NA12878_v2.19', path: agreementSources.nist, region: '20:9995001-11095000' },
        ],
      });
    case 'GRCh37-hs37d5':
      return refFlatDataset(say, {
        name,
        description: 'GRCh37 20:1-1,000,000 (hs37d5 FASTA), hg19 refFlat transcripts wholly inside',
        fasta: agreementSources.hs37d5Fasta,
        chrom: '20',
        window: [1, 1_000_000],
        realVcfs: [
          { name: 'GIAB_HG001_v3.3.2', path: agreementSources.hg001, region: '20:1-1000000' },
          { name: 'NIST_NA12878_v2.19', path: agreementSources.nist, region: '20:1-1000000' },
        ],
      });
  }
}
