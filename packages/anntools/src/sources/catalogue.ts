// The public sources of reference data per genome build: where each file is published, where its
// publisher's checksum is, what our loaders make of it and the terms it comes under.
// `gas-annotate fetch-sources` downloads from here; `--list` prints it.
import type { BuildName } from '../reference-presets.ts';

export type SourceKind = 'genes' | 'dbsnp' | 'fasta';

/** Where the publisher's checksum for a file is, and in which format. */
export type ChecksumSource =
  /** `md5sum` output ("<hex>  <name>"): UCSC's md5sum.txt, NCBI's `<file>.md5`. */
  | { type: 'md5-list'; url: string }
  /** Ensembl's CHECKSUMS: `sum` output ("<checksum> <1 KiB blocks> <name>", BSD algorithm). */
  | { type: 'bsd-sum-list'; url: string }
  /** Nothing published: the file is recorded by SHA-256 and its gzip stream is checked instead. */
  | { type: 'none'; why: string };

/**
 * What has to happen to the downloaded file before `gas-annotate build-db` can read it:
 *  - none: the loader reads it as published;
 *  - fasta-plain: a plain-gzip FASTA cannot be read at random positions, so it is decompressed to a
 *    plain `.fa` and its `.fai` written (see prepare-fasta.ts);
 *  - dbsnp-vcf: NCBI names chromosomes by RefSeq accession and the file name does not say VCF, so
 *    the records are rewritten with `1`…`22`, `X`, `Y`, `MT` (see prepare-dbsnp.ts).
 */
export type Preparation = 'none' | 'fasta-plain' | 'dbsnp-vcf';

export interface SourceEntry {
  /** Stable name used by `--only` and in SOURCES.json. */
  id: string;
  kind: SourceKind;
  build: BuildName;
  /** Picked when `--only` names the kind (or is absent); the others only by id. */
  isDefault: boolean;
  title: string;
  url: string;
  /** Local file name in the download folder; unique across builds so one folder can hold both. */
  file: string;
  checksum: ChecksumSource;
  prepare: Preparation;
  /** Rough size of the download, for planning only; the real size is printed from the server's answer. */
  approxSize: string;
  /** What the file is and which `build-db` option reads it. */
  format: string;
  terms: string;
}

const UCSC = 'https://hgdownload.soe.ucsc.edu/goldenPath';
const NCBI_DBSNP = 'https://ftp.ncbi.nih.gov/snp/latest_release/VCF';
/** GRCh38 gene models and sequence are pinned to one release so that rebuilds are reproducible. */
export const ENSEMBL_GRCH38_RELEASE = 113;
/** Release 87 is the last Ensembl gene set computed on GRCh37; later grch37/ releases repeat it. */
export const ENSEMBL_GRCH37_RELEASE = 87;
const ENSEMBL_38 = `https://ftp.ensembl.org/pub/release-${ENSEMBL_GRCH38_RELEASE}`;
const ENSEMBL_37 = `https://ftp.ensembl.org/pub/grch37/release-${ENSEMBL_GRCH37_RELEASE}`;

const UCSC_TERMS =
  'UCSC Genome Browser data: free for any use, crediting the contributors; some tracks carry their own ' +
  'restrictions (https://genome.ucsc.edu/conditions.html). refFlat is derived from NCBI RefSeq.';
const UCSC_SEQ_TERMS = 'The GRC assembly sequence as released by UCSC; no use restrictions (https://genome.ucsc.edu/conditions.html).';
const NCBI_TERMS =
  'NCBI places no restrictions on the use or distribution of dbSNP data; submitters may claim rights to ' +
  'what they submitted (https://www.ncbi.nlm.nih.gov/home/about/policies/).';
const ENSEMBL_TERMS =
  'Ensembl imposes no restrictions on access to or use of its data (https://www.ensembl.org/info/about/legal/disclaimer.html).';
const UCSC_DATABASE_NO_CHECKSUM =
  'UCSC publishes no checksums for the goldenPath/*/database/ table dumps, which are regenerated as the tracks update';

const dbSnpFormat =
  'NCBI dbSNP VCF (BGZF, chromosomes named by RefSeq accession); rewritten to a VCF with 1-22/X/Y/MT names ' +
  '(other contigs dropped), then read by build-db --dbsnp';

export const sourceCatalogue: Record<BuildName, SourceEntry[]> = {
  GRCh37: [
    {
      id: 'refflat',
      kind: 'genes',
      build: 'GRCh37',
      isDefault: true,
      title: 'UCSC refFlat for hg19 (NCBI RefSeq transcripts)',
      url: `${UCSC}/hg19/database/refFlat.txt.gz`,
      file: 'hg19.refFlat.txt.gz',
      checksum: { type: 'none', why: UCSC_DATABASE_NO_CHECKSUM },
      prepare: 'none',
      approxSize: '~8 MB',
      format: 'UCSC refFlat (genePred with gene symbol), plain gzip; build-db --genes reads it as is',
      terms: UCSC_TERMS,
    },
    {
      id: 'ensembl-gtf',
      kind: 'genes',
      build: 'GRCh37',
      isDefault: false,
      title: `Ensembl ${ENSEMBL_GRCH37_RELEASE} gene set on GRCh37 (GTF)`,
      url: `${ENSEMBL_37}/gtf/homo_sapiens/Homo_sapiens.GRCh37.${ENSEMBL_GRCH37_RELEASE}.gtf.gz`,
      file: `Homo_sapiens.GRCh37.${ENSEMBL_GRCH37_RELEASE}.gtf.gz`,
      checksum: { type: 'bsd-sum-list', url: `${ENSEMBL_37}/gtf/homo_sapiens/CHECKSUMS` },
      prepare: 'none',
      approxSize: '~40 MB',
      format: 'Ensembl GTF, plain gzip; build-db --genes reads it as is',
      terms: ENSEMBL_TERMS,
    },
    {
      id: 'dbsnp',
      kind: 'dbsnp',
      build: 'GRCh37',
      isDefault: true,
      title: 'NCBI dbSNP latest release on GRCh37.p13 (GCF_000001405.25)',
      url: `${NCBI_DBSNP}/GCF_000001405.25.gz`,
      file: 'GCF_000001405.25.gz',
      checksum: { type: 'md5-list', url: `${NCBI_DBSNP}/GCF_000001405.25.gz.md5` },
      prepare: 'dbsnp-vcf',
      approxSize: '~25 GB',
      format: dbSnpFormat,
      terms: NCBI_TERMS,
    },
    {
      id: 'fasta-ucsc',
      kind: 'fasta',
      build: 'GRCh37',
      isDefault: true,
      title: 'UCSC hg19 genome sequence (chrM is NC_001807, not the rCRS of GRCh37 MT)',
      url: `${UCSC}/hg19/bigZips/hg19.fa.gz`,
      file: 'hg19.fa.gz',
      checksum: { type: 'md5-list', url: `${UCSC}/hg19/bigZips/md5sum.txt` },
      prepare: 'fasta-plain',
      approxSize: '~0.9 GB (3.1 GB decompressed)',
      format: 'FASTA, plain gzip; decompressed to hg19.fa with a .fai index, which build-db --fasta reads',
      terms: UCSC_SEQ_TERMS,
    },
    {
      id: 'fasta-ensembl',
      kind: 'fasta',
      build: 'GRCh37',
      isDefault: false,
      title: `Ensembl GRCh37 primary assembly (release ${ENSEMBL_GRCH37_RELEASE}; MT is the rCRS)`,
      url: `${ENSEMBL_37}/fasta/homo_sapiens/dna/Homo_sapiens.GRCh37.dna.primary_assembly.fa.gz`,
      file: 'Homo_sapiens.GRCh37.dna.primary_assembly.fa.gz',
      checksum: { type: 'bsd-sum-list', url: `${ENSEMBL_37}/fasta/homo_sapiens/dna/CHECKSUMS` },
      prepare: 'fasta-plain',
      approxSize: '~0.9 GB (3.1 GB decompressed)',
      format: 'FASTA, plain gzip; decompressed to a plain .fa with a .fai index, which build-db --fasta reads',
      terms: ENSEMBL_TERMS,
    },
  ],
  GRCh38: [
    {
      id: 'refflat',
      kind: 'genes',
      build: 'GRCh38',
      isDefault: true,
      title: 'UCSC refFlat for hg38 (NCBI RefSeq transcripts)',
      url: `${UCSC}/hg38/database/refFlat.txt.gz`,
      file: 'hg38.refFlat.txt.gz',
      checksum: { type: 'none', why: UCSC_DATABASE_NO_CHECKSUM },
      prepare: 'none',
      approxSize: '~8 MB',
      format: 'UCSC refFlat (genePred with gene symbol), plain gzip; build-db --genes reads it as is',
      terms: UCSC_TERMS,
    },
    {
      id: 'ensembl-gtf',
      kind: 'genes',
      build: 'GRCh38',
      isDefault: false,
      title: `Ensembl ${ENSEMBL_GRCH38_RELEASE} gene set on GRCh38 (GTF)`,
      url: `${ENSEMBL_38}/gtf/homo_sapiens/Homo_sapiens.GRCh38.${ENSEMBL_GRCH38_RELEASE}.gtf.gz`,
      file: `Homo_sapiens.GRCh38.${ENSEMBL_GRCH38_RELEASE}.gtf.gz`,
      checksum: { type: 'bsd-sum-list', url: `${ENSEMBL_38}/gtf/homo_sapiens/CHECKSUMS` },
      prepare: 'none',
      approxSize: '~55 MB',
      format: 'Ensembl GTF, plain gzip; build-db --genes reads it as is',
      terms: ENSEMBL_TERMS,
    },
    {
      id: 'dbsnp',
      kind: 'dbsnp',
      build: 'GRCh38',
      isDefault: true,
      title: 'NCBI dbSNP latest release on GRCh38.p14 (GCF_000001405.40)',
      url: `${NCBI_DBSNP}/GCF_000001405.40.gz`,
      file: 'GCF_000001405.40.gz',
      checksum: { type: 'md5-list', url: `${NCBI_DBSNP}/GCF_000001405.40.gz.md5` },
      prepare: 'dbsnp-vcf',
      approxSize: '~27 GB',
      format: dbSnpFormat,
      terms: NCBI_TERMS,
    },
    {
      id: 'fasta-ucsc',
      kind: 'fasta',
      build: 'GRCh38',
      isDefault: true,
      title: 'UCSC hg38 genome sequence',
      url: `${UCSC}/hg38/bigZips/hg38.fa.gz`,
      file: 'hg38.fa.gz',
      checksum: { type: 'md5-list', url: `${UCSC}/hg38/bigZips/md5sum.txt` },
      prepare: 'fasta-plain',
      approxSize: '~0.95 GB (3.2 GB decompressed)',
      format: 'FASTA, plain gzip; decompressed to hg38.fa with a .fai index, which build-db --fasta reads',
      terms: UCSC_SEQ_TERMS,
    },
    {
      id: 'fasta-ensembl',
      kind: 'fasta',
      build: 'GRCh38',
      isDefault: false,
      title: `Ensembl GRCh38 primary assembly (release ${ENSEMBL_GRCH38_RELEASE})`,
      url: `${ENSEMBL_38}/fasta/homo_sapiens/dna/Homo_sapiens.GRCh38.dna.primary_assembly.fa.gz`,
      file: 'Homo_sapiens.GRCh38.dna.primary_assembly.fa.gz',
      checksum: { type: 'bsd-sum-list', url: `${ENSEMBL_38}/fasta/homo_sapiens/dna/CHECKSUMS` },
      prepare: 'fasta-plain',
      approxSize: '~0.85 GB (3.1 GB decompressed)',
      format: 'FASTA, plain gzip; decompressed to a plain .fa with a .fai index, which build-db --fasta reads',
      terms: ENSEMBL_TERMS,
    },
  ],
};

export function isBuildName(s: string): s is BuildName {
  return Object.hasOwn(sourceCatalogue, s);
}

/** Small before large: a failure in the 25 GB dbSNP download then leaves the rest in place. */
const KIND_ORDER: SourceKind[] = ['genes', 'fasta', 'dbsnp'];

/**
 * The entries `--only` asks for: each word is a kind (its default entry) or an entry id. No words:
 * every default entry. Unknown words throw, listing what exists.
 */
export function selectSources(build: BuildName, only?: readonly string[]): SourceEntry[] {
  const all = sourceCatalogue[build];
  const picked = new Set<SourceEntry>();
  if (!only || only.length === 0) for (const e of all) if (e.isDefault) picked.add(e);
  for (const word of only ?? []) {
    const byKind = all.filter((e) => e.kind === word && e.isDefault);
    const hits = byKind.length > 0 ? byKind : all.filter((e) => e.id === word);
    if (hits.length === 0) {
      const kinds = [...new Set(all.map((e) => e.kind))];
      throw new Error(
        `--only: no source "${word}" for ${build}; choose from the kinds ${kinds.join(', ')} or the ids ${all.map((e) => e.id).join(', ')}`,
      );
    }
    for (const e of hits) picked.add(e);
  }
  return all.filter((e) => picked.has(e)).sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind));
}
