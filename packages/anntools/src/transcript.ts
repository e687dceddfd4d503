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
  /** The gene's stable id where the source gives one (GFF3/GTF: ENSG…); VEP's Gene column. */
  geneId?: string;
  /** What a MANE summary given to build-db says of this transcript (VEP's MANE and gene columns). */
  mane?: TranscriptMane;
}

/** MANE (GRCh38) facts about a transcript, as VEP reports them; absent fields are unknown. */
export interface TranscriptMane {
  /** The matching MANE Select transcript of the other source (RefSeq NM_ for Ensembl, ENST for RefSeq), versioned. */
  select?: string;
  /** The same for MANE Plus Clinical. */
  plusClinical?: string;
  /** HGNC:1100. */
  hgnc?: string;
  /** The gene's stable id in the transcript's own source (ENSG… or the NCBI GeneID). */
  gene?: string;
  /** The protein's accession in the transcript's own source (ENSP… or NP_…), for HGVSp. */
  protein?: string;
}

export function isCoding(t: Transcript): boolean {
  return t.cdsEnd > t.cdsStart;
}
