/** Coordinates are 0-based half-open (UCSC style) everywhere inside the engine. */
export type Strand = '+' | '-';

export interface Transcript {
  /** Transcript accession (NM_007294, ENST00000357654). */
  id: string;
  /** Gene symbol (BRCA1); the accession when the source has none. */
  gene: string;
  /** canonicalChrom() of the source's name. */
  chrom: string;
  strand: Strand;
  /** Transcript span: first base (0-based) and one past the last. */
  start: number;
  end: number;
  /** Coding span, 0-based half-open; cdsStart === cdsEnd for non-coding transcripts. */
  cdsStart: number;
  cdsEnd: number;
  /** Exons in ascending genomic order, 0-based half-open; same length. */
  exonStarts: number[];
  exonEnds: number[];
  /** protein_coding, lncRNA, ... where the source says; refFlat infers from NM_/NR_ and the CDS. */
  biotype: string;
}

export function isCoding(t: Transcript): boolean {
  return t.cdsEnd > t.cdsStart;
}
