import { VcfFormatError } from './vcf-error.ts';

export interface VcfRecordSummary {
  alts: string[];
  snvs: number;
  indels: number;
  other: number;
}

const BASES = /^[ACGTNacgtn]+$/;
const SYMBOLIC = /^<[^<>]+>$/;
// Breakend notation: t[p[, t]p], ]p]t, [p[t, and single breakends .t / t.
const BREAKEND = /^([ACGTNacgtn]*[[\]][^[\]]+[[\]][ACGTNacgtn]*|\.[ACGTNacgtn]+|[ACGTNacgtn]+\.)$/;

/**
 * Checks the fixed columns of one data line and classifies each ALT. Throws VcfFormatError naming
 * the line and the column.
 */
export function checkRecord(fields: string[], lineNo: number): VcfRecordSummary {
  if (fields.length < 8) {
    throw new VcfFormatError(lineNo, 'columns', `expected at least 8 tab-separated columns, found ${fields.length}`);
  }
  const [chrom, pos, , ref, alt] = fields as [string, string, string, string, string];
  if (chrom === '' || /\s/.test(chrom)) throw new VcfFormatError(lineNo, 'CHROM', `invalid chromosome name "${chrom}"`);
  if (!/^\d+$/.test(pos)) throw new VcfFormatError(lineNo, 'POS', `expected a non-negative integer, got "${pos}"`);
  if (!BASES.test(ref)) throw new VcfFormatError(lineNo, 'REF', `expected bases A, C, G, T or N, got "${truncate(ref)}"`);
  const summary: VcfRecordSummary = { alts: [], snvs: 0, indels: 0, other: 0 };
  for (const a of alt.split(',')) {
    if (BASES.test(a)) {
      if (a.length === 1 && ref.length === 1) summary.snvs++;
      else if (a.length !== ref.length) summary.indels++;
      else summary.other++;
    } else if (a === '.' || a === '*' || SYMBOLIC.test(a) || BREAKEND.test(a)) {
      summary.other++;
    } else {
      throw new VcfFormatError(lineNo, 'ALT', `"${truncate(a)}" is neither bases, a symbolic allele, "*" nor "."`);
    }
    summary.alts.push(a);
  }
  return summary;
}

function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
