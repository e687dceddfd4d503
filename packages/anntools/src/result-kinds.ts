// The files one run of the engine produces, by kind. The annotator names them and keeps their blob
// keys in the job under the kind; the gateway serves and previews them by kind. Both take the kinds
// from here (through the light entry, ./format.ts) so neither keeps a copy that could drift.

export interface ResultKindInfo {
  /** Appended to the input's base name: `sample.vcf.gz` -> `sample` + suffix. */
  suffix: string;
  /** Stored with the file, and served with `; charset=utf-8`: every result is UTF-8 text. */
  mediaType: string;
}

export const RESULT_KINDS = {
  /** The input VCF with the GAS_ INFO fields added. */
  vcf: { suffix: '.annot.vcf', mediaType: 'text/x-vcf' },
  /** One row per ALT allele under a header row of TSV_COLUMNS; only when the run had a reference. */
  tsv: { suffix: '.annot.tsv', mediaType: 'text/tab-separated-values' },
  /** The AnnotationSummary as JSON. */
  summary: { suffix: '.summary.json', mediaType: 'application/json' },
  /** The counts in the original AnnTools labels (formatCountLog). */
  log: { suffix: '.count.log', mediaType: 'text/plain' },
} as const satisfies Record<string, ResultKindInfo>;

export type ResultKind = keyof typeof RESULT_KINDS;

export const resultKinds = Object.keys(RESULT_KINDS) as ResultKind[];

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
  'SKIP_REASON',
];
