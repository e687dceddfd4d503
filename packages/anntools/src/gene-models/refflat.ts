import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { canonicalChrom } from '../chrom-alias.ts';
import { readLines } from '../line-reader.ts';
import type { Transcript } from '../transcript.ts';
import { failAt as fail } from './errors.ts';
import { inferBiotype, parseStrand, parseUint } from './parts.ts';

/**
 * The UCSC genePred family, told apart by where the strand column sits and by the column count:
 *   genePred     name chrom strand txStart txEnd cdsStart cdsEnd exonCount exonStarts exonEnds (10)
 *   knownGene    genePred + proteinID alignID (12)
 *   genePredExt  genePred + score name2 cdsStartStat cdsEndStat exonFrames (15)
 *   refFlat      geneName + genePred (11)
 *   refGene etc. bin + genePred (11) or bin + genePredExt (16), as the UCSC MySQL dumps have them
 * refFlat and bin+genePred both have 11 columns; a bin is a number and a gene symbol never is.
 */
interface Layout {
  /** Index of the name column; the genePred columns follow it. */
  at: number;
  /** Index of the gene symbol column, or -1 to use the name. */
  gene: number;
}

function layoutOf(cols: string[]): Layout | null {
  const n = cols.length;
  if (n >= 10 && (cols[2] === '+' || cols[2] === '-')) return { at: 0, gene: n >= 15 ? 11 : -1 };
  if (n >= 11 && (cols[3] === '+' || cols[3] === '-')) {
    if (n >= 16) return { at: 1, gene: 12 };
    return parseUint(cols[0]!) >= 0 ? { at: 1, gene: -1 } : { at: 1, gene: 0 };
  }
  return null;
}

/**
 * Comma-separated, usually comma-terminated, as UCSC writes them; -1 entries mark a bad number.
 * Scanned in place: slicing every value out first doubled the time to load a whole genome.
 */
function parseList(text: string): number[] {
  const out: number[] = [];
  const n = text.length;
  let v = 0;
  let digits = 0;
  let bad = false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 44 /* , */) {
      out.push(bad || digits === 0 ? -1 : v);
      v = 0;
      digits = 0;
      bad = false;
    } else {
      const d = c - 48;
      if (d < 0 || d > 9 || ++digits > 15) bad = true;
      else v = v * 10 + d;
    }
  }
  if (digits > 0 || bad) out.push(bad ? -1 : v);
  return out;
}

function int(cols: string[], k: number, field: string, source: string, lineNo: number): number {
  const v = parseUint(cols[k]!);
  if (v < 0) fail(source, lineNo, field, `${JSON.stringify(cols[k])} is not a non-negative integer`);
  return v;
}

/**
 * One genePred-family line → a Transcript, or null for blank and `#` header lines (UCSC table browser
 * output starts with `#name` or `#bin`). Throws GeneModelError naming the line and the field.
 */
export function parseRefFlatLine(line: string, lineNo: number, source = 'refFlat'): Transcript | null {
  if (line.length === 0 || line.charCodeAt(0) === 35 /* # */) return null;
  const cols = line.split('\t');
  const layout = layoutOf(cols);
  if (layout === null) {
    return fail(
      source,
      lineNo,
      'columns',
      `${cols.length} tab-separated columns without a strand in column 3 or 4; expected refFlat (11), genePred (10) or genePredExt (15)`,
    );
  }
  const a = layout.at;
  const id = cols[a]!;
  if (id.length === 0) fail(source, lineNo, 'name', 'empty');
  const rawChrom = cols[a + 1]!;
  if (rawChrom.length === 0) fail(source, lineNo, 'chrom', 'empty');
  const strand = parseStrand(cols[a + 2]!)!;
  const start = int(cols, a + 3, 'txStart', source, lineNo);
  const end = int(cols, a + 4, 'txEnd', source, lineNo);
  let cdsStart = int(cols, a + 5, 'cdsStart', source, lineNo);
  let cdsEnd = int(cols, a + 6, 'cdsEnd', source, lineNo);
  const exonCount = int(cols, a + 7, 'exonCount', source, lineNo);
  if (end <= start) fail(source, lineNo, 'txEnd', `${end} is not after txStart ${start}`);
  if (exonCount === 0) fail(source, lineNo, 'exonCount', 'no exons');
  const exonStarts = parseList(cols[a + 8]!);
  const exonEnds = parseList(cols[a + 9]!);
  if (exonStarts.length !== exonCount) fail(source, lineNo, 'exonStarts', `${exonStarts.length} values for exonCount ${exonCount}`);
  if (exonEnds.length !== exonCount) fail(source, lineNo, 'exonEnds', `${exonEnds.length} values for exonCount ${exonCount}`);
  let prevEnd = start;
  for (let i = 0; i < exonCount; i++) {
    const s = exonStarts[i]!;
    const e = exonEnds[i]!;
    if (s < 0) fail(source, lineNo, 'exonStarts', `value ${i + 1} is not a non-negative integer`);
    if (e < 0) fail(source, lineNo, 'exonEnds', `value ${i + 1} is not a non-negative integer`);
    if (e <= s) fail(source, lineNo, 'exonEnds', `exon ${i + 1} ends at ${e}, not after its start ${s}`);
    if (s < prevEnd) {
      fail(
        source,
        lineNo,
        'exonStarts',
        i === 0
          ? `exon 1 starts at ${s}, before txStart ${start}`
          : `exon ${i + 1} starts at ${s}, before exon ${i} ends (${prevEnd}); exons must be sorted and disjoint`,
      );
    }
    prevEnd = e;
  }
  if (prevEnd > end) fail(source, lineNo, 'exonEnds', `last exon ends at ${prevEnd}, after txEnd ${end}`);
  // UCSC marks non-coding with cdsStart == cdsEnd (usually both txEnd); some genePred writers leave
  // cdsStart > cdsEnd instead. One form, the one Transcript documents, for all of them.
  if (cdsEnd <= cdsStart) {
    cdsStart = cdsEnd = end;
  } else {
    if (cdsStart < start) fail(source, lineNo, 'cdsStart', `${cdsStart} is before txStart ${start}`);
    if (cdsEnd > end) fail(source, lineNo, 'cdsEnd', `${cdsEnd} is after txEnd ${end}`);
  }
  const gene = layout.gene >= 0 && cols[layout.gene]!.length > 0 ? cols[layout.gene]! : id;
  return {
    id,
    gene,
    chrom: canonicalChrom(rawChrom),
    strand,
    start,
    end,
    cdsStart,
    cdsEnd,
    exonStarts,
    exonEnds,
    biotype: inferBiotype(cdsEnd > cdsStart),
  };
}

/** Reads any genePred-family stream (plain, gzip or BGZF) in file order. */
export async function readRefFlat(input: Readable, source = 'refFlat'): Promise<Transcript[]> {
  const out: Transcript[] = [];
  for await (const [line, lineNo] of readLines(input)) {
    const t = parseRefFlatLine(line, lineNo, source);
    if (t !== null) out.push(t);
  }
  return out;
}

export async function loadRefFlat(path: string): Promise<Transcript[]> {
  return readRefFlat(createReadStream(path), path);
}
