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

/** The reference data for one genome build, loaded once and shared by every job. */
export interface Reference {
  build: string;
  transcripts: TranscriptIndex;
  snps?: RsIdLookup;
  /** With a FASTA: coding consequences (codon, amino acid, HGVS, SO term). */
  sequence?: SequenceSource;
}
