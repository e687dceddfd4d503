import type { TranscriptIndex } from './annotation/transcript-index.ts';

/** What the engine needs of a dbSNP table: rs numbers for one allele (VCF POS, REF, ALT). */
export interface RsIdLookup {
  find(chrom: string, pos: number, ref: string, alt: string): readonly number[];
}

/** The reference data for one genome build, loaded once and shared by every job. */
export interface Reference {
  build: string;
  transcripts: TranscriptIndex;
  snps?: RsIdLookup;
}
