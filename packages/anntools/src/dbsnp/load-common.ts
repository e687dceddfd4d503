import { createReadStream } from 'node:fs';
import { readLines, defaultLimits } from '../line-reader.ts';
import type { LineReaderLimits } from '../line-reader.ts';
import { VcfFormatError } from '../vcf-error.ts';

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
  /** Data lines left out: no rsID, no usable allele, or filtered (see each loader). */
  skipped: number;
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

/** Digits only, 1..2^32-1; anything else is -1 so each loader can say which field was wrong. */
export function parseRsDigits(s: string, from = 0, to = s.length): number {
  const n = to - from;
  if (n < 1 || n > 10) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v >= 1 && v <= MAX_RS ? v : -1;
}

/** `rs123` in s[from, to) → 123; -1 for names that are not rsIDs (COSMIC, HGMD, ClinVar ids, `.`). */
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
