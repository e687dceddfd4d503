// The files one run of the engine produces, by kind. The annotator names them and keeps their blob
// keys in the job under the kind; the gateway serves and previews them by kind. Both take the kinds
// from here (through the light entry, ./format.ts) so neither keeps a copy that could drift.

export interface ResultKindInfo {
  /** Appended to the input's base name: `sample.vcf.gz` -> `sample` + suffix. */
  suffix: string;
  /** Stored with the file and served with it; text kinds are served with `; charset=utf-8`. */
  mediaType: string;
  /** Stored compressed (BGZF, gzip, or the binary tabix index): served as it is, without a charset. */
  compressed: boolean;
  /** Jobs completed before results were stored compressed keep plain text under this suffix and type. */
  plain?: { suffix: string; mediaType: string };
}

export const RESULT_KINDS = {
  /** The input VCF with the GAS_ INFO fields added, as BGZF (bgzip's format: any gzip reader, and htslib, read it). */
  vcf: {
    suffix: '.annot.vcf.gz',
    mediaType: 'application/gzip',
    compressed: true,
    plain: { suffix: '.annot.vcf', mediaType: 'text/x-vcf' },
  },
  /** The tabix index of the vcf result; only when the records are sorted (by position within contiguous chromosomes). */
  tbi: { suffix: '.annot.vcf.gz.tbi', mediaType: 'application/octet-stream', compressed: true },
  /** One row per ALT allele under a header row of TSV_COLUMNS, gzip-compressed; only when the run had a reference. */
  tsv: {
    suffix: '.annot.tsv.gz',
    mediaType: 'application/gzip',
    compressed: true,
    plain: { suffix: '.annot.tsv', mediaType: 'text/tab-separated-values' },
  },
  /** The AnnotationSummary as JSON. */
  summary: { suffix: '.summary.json', mediaType: 'application/json', compressed: false },
  /** The counts in the original AnnTools labels (formatCountLog). */
  log: { suffix: '.count.log', mediaType: 'text/plain', compressed: false },
} as const satisfies Record<string, ResultKindInfo>;

export type ResultKind = keyof typeof RESULT_KINDS;

export const resultKinds = Object.keys(RESULT_KINDS) as ResultKind[];

/**
 * How a stored result of this kind is to be read and served, from its blob key: results of jobs
 * from before compression are plain text under the kind's plain suffix.
 */
export function storedResult(kind: ResultKind, key: string): { compressed: boolean; contentType: string } {
  const info: ResultKindInfo = RESULT_KINDS[kind];
  if (info.compressed && !(info.plain && key.endsWith(info.plain.suffix))) return { compressed: true, contentType: info.mediaType };
  const type = info.plain && key.endsWith(info.plain.suffix) ? info.plain.mediaType : info.mediaType;
  return { compressed: false, contentType: `${type}; charset=utf-8` };
}

/** The header row of the tsv result; each row holds these fields of one ALT allele. */
export const TSV_COLUMNS = [
  'CHROM',
  'POS',
  'ID',
  'REF',
  'ALT',
  'ALT_INDEX',
  'REGION',
  'GENES',
  'DETAIL',
  'RSIDS',
  'FUNCTION',
  'SO_TERM',
  'IMPACT',
  'AA_CHANGE',
  'CONSEQUENCE',
  'SKIP_REASON',
];
