import type { TranscriptIndex } from './annotation/transcript-index.ts';

/** What the engine needs of a dbSNP table: rs numbers for one allele (VCF POS, REF, ALT). */
export interface RsIdLookup {
  find(chrom: string, pos: number, ref: string, alt: string): readonly number[];
  /** A few single-base entries as VCF POS, REF and ALT, to warm the engine up with hits. */
  examples?(limit: number): Array<{ chrom: string; pos: number; ref: string; alt: string }>;
}

/** Reference bases, 0-based half-open; may be lowercase (soft-masked). FastaReader fits. */
export interface SequenceSource {
  fetch(chrom: string, start0: number, end0: number): string;
}

/**
 * Which chromosomes a reference can annotate, by canonical name (chrom-alias.ts): a variant
 * elsewhere comes out intergenic with no genes, without an rsID, or with an unknown consequence.
 */
export interface ReferenceCoverage {
  /** Chromosomes with gene models. */
  genes: string[];
  /** Chromosomes with dbSNP entries (an entry anywhere on it: a source may hold only part of one). */
  dbsnp: string[];
  /** Chromosomes in the FASTA, each with its 1-based inclusive spans of real (not N) sequence. */
  sequence: Record<string, Array<[number, number]>>;
}

/** The reference data for one genome build, loaded once and shared by every job. */
export interface Reference {
  build: string;
  transcripts: TranscriptIndex;
  snps?: RsIdLookup;
  /** With a FASTA: coding consequences (codon, amino acid, HGVS, SO term). */
  sequence?: SequenceSource;
  /** What the reference covers, for the summary's per-chromosome coverage and warnings. */
  coverage?: ReferenceCoverage;
}
