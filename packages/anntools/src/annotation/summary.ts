// Counts for the web page's summary and the .count.log, accumulated per variant allele.
import type { DetectedBuild, JobWarningText } from '../genome-build.ts';

/** The additive part of the summary: what each chunk of the input counts, summed in order. */
export interface AnnotationCounts {
  records: number;
  alleles: number;
  snvs: number;
  indels: number;
  other: number;
  /** Sequence alleles that got a region class. */
  annotatedAlleles: number;
  /** Alleles passed through unannotated, by reason (symbolic_allele, missing_allele, ...). */
  skipped: Record<string, number>;
  /** Region class (combined, e.g. "exonic;splicing") → alleles. */
  regions: Record<string, number>;
  /** Most severe exonic function per allele (missense, synonymous, ...) → alleles; needs a FASTA. */
  functions: Record<string, number>;
  /** Records per chromosome, in the order the input first shows them. */
  chromosomes: Record<string, number>;
  transitions: number;
  transversions: number;
  /** Alleles with at least one rsID, and records with at least one. */
  rsidAlleles: number;
  rsidRecords: number;
}

/**
 * Records whose POS is not a base of their chromosome (0, or past its length), which are not
 * annotated, and the first of them, for the warning.
 */
export interface OutsideChromosome {
  records: number;
  /** The first one's line: within its chunk in a ChunkResult, in the whole file after the run. */
  line: number;
  /** Its chromosome as the input spells it, its POS, and where its REF ends (POS for one base). */
  chrom: string;
  pos: number;
  refEnd: number;
  /** The chromosome's length checked against, and where it came from: a build's name, or 'header' (the input's ##contig line); null when unknown (POS 0). */
  length: number | null;
  lengthFrom: string | null;
}

/** One of the input's chromosomes (as the input spells it) and what the reference has for it. */
export interface ChromosomeCoverage {
  chrom: string;
  records: number;
  /** The reference has gene models on this chromosome. */
  genes: boolean;
  /** The reference has dbSNP entries on this chromosome (maybe only on part of it). */
  dbsnp: boolean;
  /** 1-based inclusive spans of reference sequence (codon changes need it); empty without. */
  sequence: Array<[number, number]>;
}

export interface AnnotationSummary extends AnnotationCounts {
  engine: string;
  build: string | null;
  headerLines: number;
  tiTv: number | null;
  rsidRate: number | null;
  runtimeSeconds: number;
  /** The build the input's header points to (contig lengths, ##reference), null when it does not say. */
  headerBuild?: { build: DetectedBuild; basis: string } | null;
  /** Per input chromosome, in input order; null for a run without a reference. Absent in older summaries. */
  coverage?: ChromosomeCoverage[] | null;
  /** What a user must know about these results (another build, chromosomes the reference lacks). */
  warnings?: JobWarningText[];
}

export function emptyCounts(): AnnotationCounts {
  return {
    records: 0,
    alleles: 0,
    snvs: 0,
    indels: 0,
    other: 0,
    annotatedAlleles: 0,
    skipped: {},
    regions: {},
    functions: {},
    chromosomes: {},
    transitions: 0,
    transversions: 0,
    rsidAlleles: 0,
    rsidRecords: 0,
  };
}

export function emptySummary(engine: string, build: string | null): AnnotationSummary {
  return {
    engine,
    build,
    headerLines: 0,
    ...emptyCounts(),
    tiTv: null,
    rsidRate: null,
    runtimeSeconds: 0,
    headerBuild: null,
    coverage: null,
    warnings: [],
  };
}

const COUNTERS = [
  'records',
  'alleles',
  'snvs',
  'indels',
  'other',
  'annotatedAlleles',
  'transitions',
  'transversions',
  'rsidAlleles',
  'rsidRecords',
] as const;
const TALLIES = ['skipped', 'regions', 'functions', 'chromosomes'] as const;

/** Adds one chunk's counts; chunks added in input order keep chromosomes in input order. */
export function addCounts(into: AnnotationCounts, from: AnnotationCounts): void {
  for (const k of COUNTERS) into[k] += from[k];
  for (const k of TALLIES) for (const [name, n] of Object.entries(from[k])) into[k][name] = (into[k][name] ?? 0) + n;
}

/** TI_TV's values. */
export const TRANSITION = 1;
export const TRANSVERSION = 2;

/**
 * What an SNV is, by its REF and ALT bytes (`ref << 8 | alt`): TRANSITION (purine to purine or
 * pyrimidine to pyrimidine), TRANSVERSION, or 0 when either base is not A, C, G or T (N), as
 * bcftools stats counts; either case.
 */
export const TI_TV = new Uint8Array(1 << 16);
const isPurine = (b: string): boolean => b === 'A' || b === 'G';
for (const r of 'ACGTacgt') {
  for (const a of 'ACGTacgt') {
    const [R, A] = [r.toUpperCase(), a.toUpperCase()];
    if (R !== A) TI_TV[(r.charCodeAt(0) << 8) | a.charCodeAt(0)] = isPurine(R) === isPurine(A) ? TRANSITION : TRANSVERSION;
  }
}

export function finishSummary(s: AnnotationSummary, seconds: number): AnnotationSummary {
  s.tiTv = s.transversions > 0 ? Math.round((s.transitions / s.transversions) * 1000) / 1000 : null;
  s.rsidRate = s.alleles > 0 ? Math.round((s.rsidAlleles / s.alleles) * 10000) / 10000 : null;
  s.runtimeSeconds = Math.round(seconds * 1000) / 1000;
  return s;
}

/**
 * The `.count.log` the original AnnTools wrote, with its labels, counted right: every number is a
 * count of variant alleles (one per ALT of a record) or of records, never of isoforms, and Total is the number of
 * records rather than records + 1.
 */
export function formatCountLog(inputName: string, s: AnnotationSummary): string {
  const r = (k: string) =>
    Object.entries(s.regions)
      .filter(([name]) => name.split(';').includes(k))
      .reduce((n, [, v]) => n + v, 0);
  const pct = (n: number, d: number) => (d > 0 ? ((n / d) * 100).toFixed(2) : '0.00');
  const lines = [
    `## Input: ${inputName}`,
    `## Genome build: ${s.build ?? 'none (no reference data: counts only)'}`,
    '## Total and In dbSNP count records; the counts after "Variants located" are of variant alleles (each ALT once), never of isoforms',
    `Total: ${s.records}`,
    `Alleles: ${s.alleles}`,
    `In dbSNP: ${s.rsidRecords} (${pct(s.rsidRecords, s.records)}%)`,
    'Variants located:',
    `In interGenic ${r('intergenic')}`,
    `In CDS ${r('exonic')}`,
    `In '3 UTR ${r('UTR3')}`,
    `In '5 UTR ${r('UTR5')}`,
    `In Intronic ${r('intronic')}`,
    `In Non_coding_intronic ${r('ncRNA_intronic')}`,
    `In Exonic ${r('exonic') + r('UTR5') + r('UTR3')}`,
    `In Non_coding_exonic ${r('ncRNA_exonic')}`,
    `In Splicing ${r('splicing') + r('ncRNA_splicing')}`,
    `In Upstream ${r('upstream')}`,
    `In Downstream ${r('downstream')}`,
    `Not annotated ${Object.values(s.skipped).reduce((a, b) => a + b, 0)}${
      Object.keys(s.skipped).length
        ? ` (${Object.entries(s.skipped)
            .map(([k, v]) => `${k}: ${v}`)
            .join(', ')})`
        : ''
    }`,
    ...Object.entries(s.functions).map(([f, n]) => `Exonic function ${f} ${n}`),
    `SNVs ${s.snvs}, indels ${s.indels}, other ${s.other}`,
    `Ti/Tv ${s.tiTv ?? 'n/a'}`,
    `Run time (s): ${s.runtimeSeconds.toFixed(3)}`,
  ];
  return lines.join('\n') + '\n';
}
