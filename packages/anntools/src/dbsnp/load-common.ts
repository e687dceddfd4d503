import { createReadStream } from 'node:fs';
import { readLines, defaultLimits } from '../line-reader.ts';
import type { LineReaderLimits } from '../line-reader.ts';
import { VcfFormatError } from '../vcf-error.ts';
import { TableLimitError } from './snp-table.ts';

/** A problem in a dbSNP source file, located by file, 1-based line number and field. */
export class DbSnpFormatError extends Error {
  constructor(
    readonly path: string,
    readonly line: number,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${path}: line ${line}: ${field}: ${reason}`);
    this.name = 'DbSnpFormatError';
  }
}

export interface LoadOptions {
  /** Called for every line read (header lines included), e.g. to report progress. */
  onLine?: (lineNo: number, line: string) => void;
  limits?: LineReaderLimits;
}

export interface LoadResult {
  /** Data lines that added at least one entry to the builder. */
  records: number;
  /** Data lines left out by design: no rsID, no usable allele, or filtered (see each loader). */
  skipped: number;
  /** Entries the table cannot hold (an rs number above 2^32-1, a position above 2^31-1), each counted. */
  rejected: number;
  /** The first few of them, in file order. */
  rejectedExamples: RejectedEntry[];
}

/** One source entry the table cannot hold, located by its 1-based line and field. */
export interface RejectedEntry {
  line: number;
  field: string;
  reason: string;
}

/** Examples of rejected entries kept per source: enough to see what went wrong, not a copy of it. */
export const REJECTED_EXAMPLES = 5;

/** Counts a source's rejected entries and keeps the first few. */
export class Rejections {
  count = 0;
  readonly examples: RejectedEntry[] = [];

  add(line: number, field: string, reason: string): void {
    this.count++;
    if (this.examples.length < REJECTED_EXAMPLES) this.examples.push({ line, field, reason });
  }

  /** Whether `err` was a TableLimitError (then counted), or else a format error to locate. */
  take(err: unknown, path: string, line: number, field: string): void {
    if (err instanceof TableLimitError) this.add(line, field, err.message);
    else locate(err, path, line, field);
  }

  result(records: number, skipped: number): LoadResult {
    return { records, skipped, rejected: this.count, rejectedExamples: this.examples };
  }
}

/** "N entries the table cannot hold (line 3 ID: rs number … ; …)", for a source's report. */
export function describeRejections(r: Pick<LoadResult, 'rejected' | 'rejectedExamples'>): string {
  const shown = r.rejectedExamples.map((e) => `line ${e.line} ${e.field}: ${e.reason}`).join('; ');
  const more = r.rejected > r.rejectedExamples.length ? `; ${r.rejected - r.rejectedExamples.length} more` : '';
  return `${r.rejected} ${r.rejected === 1 ? 'entry' : 'entries'} the table cannot hold (${shown}${more})`;
}

/**
 * Calls `each` for every line of a plain, gzip or BGZF file. A callback rather than a generator
 * because a second async-generator layer over readLines costs a promise round trip per line, which
 * is most of the load time for an 800k-line table.
 */
export async function forEachLine(
  path: string,
  opts: LoadOptions | undefined,
  each: (line: string, lineNo: number) => void,
): Promise<void> {
  const onLine = opts?.onLine;
  try {
    for await (const [line, lineNo] of readLines(createReadStream(path), opts?.limits ?? defaultLimits)) {
      if (onLine !== undefined) onLine(lineNo, line);
      each(line, lineNo);
    }
  } catch (err) {
    if (err instanceof VcfFormatError) throw new DbSnpFormatError(path, err.line, err.field, err.reason);
    throw err;
  }
}

const MAX_RS = 0xffffffff;
/** parseRsDigits/parseRsName: an rs number the table cannot hold (above 2^32-1). */
export const RS_TOO_LARGE = -2;

/**
 * Digits only, 1..2^32-1; RS_TOO_LARGE for a larger number (or 0, which no rsID is), -1 for
 * anything else, so each loader can say which field was wrong.
 */
export function parseRsDigits(s: string, from = 0, to = s.length): number {
  const n = to - from;
  if (n < 1) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v >= 1 && v <= MAX_RS ? v : RS_TOO_LARGE;
}

/** Why an rs number was rejected, for a Rejections entry. */
export function rsTooLarge(s: string, from = 0, to = s.length): string {
  const digits = s.slice(from, to);
  return /^0+$/.test(digits)
    ? `rs number ${digits} is not in 1..${MAX_RS}`
    : `rs number ${digits} is above ${MAX_RS}, the largest the table holds`;
}

/**
 * `rs123` in s[from, to) → 123; -1 for names that are not rsIDs (COSMIC, HGMD, ClinVar ids, `.`);
 * RS_TOO_LARGE for an rsID whose number the table cannot hold.
 */
export function parseRsName(s: string, from = 0, to = s.length): number {
  return to - from > 2 && s.charCodeAt(from) === 114 /* r */ && s.charCodeAt(from + 1) === 115 /* s */
    ? parseRsDigits(s, from + 2, to)
    : -1;
}

/** A non-negative decimal integer in s[from, to), no sign or spaces; -1 otherwise. */
export function parseUInt(s: string, from = 0, to = s.length): number {
  if (to <= from || to - from > 10) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** A builder RangeError (bad position, rs number or allele) re-thrown with its file location. */
export function locate(err: unknown, path: string, line: number, field: string): never {
  if (err instanceof RangeError) throw new DbSnpFormatError(path, line, field, err.message);
  throw err;
}
