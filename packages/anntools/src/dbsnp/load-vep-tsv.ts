import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { SnpTableBuilder } from './snp-table.ts';
import { DbSnpFormatError, forEachLine, parseRsName, parseUInt, Rejections, RS_TOO_LARGE, rsTooLarge } from './load-common.ts';
import type { LoadOptions, LoadResult } from './load-common.ts';

export interface VepTsvOptions extends LoadOptions {
  /**
   * Column names in file order (info.txt `variation_cols`). Default: read from `<file>.info.txt`
   * next to the file, or the cache's `info.txt` two folders up, or the fixed leading columns that
   * every VEP cache version shares.
   */
  columns?: readonly string[];
  /** Also load variants Ensembl flagged as failed (VEP leaves them out unless run with --failed). */
  includeFailed?: boolean;
}

/** Leading columns common to VEP caches since release 7x; the rest vary by release. */
const DEFAULT_COLUMNS = ['chr', 'variation_name', 'failed', 'somatic', 'start', 'end', 'allele_string', 'strand'];

/** `variation_cols` of a VEP cache info.txt, if one belongs to this file. */
export function vepColumnsFor(path: string): string[] | undefined {
  const candidates = [path.replace(/(\.tsv)?(\.b?gz)?$/, '') + '.info.txt'];
  // In a VEP cache the file is <species>/<release>_<assembly>/<chr>/all_vars.gz beside that folder's info.txt.
  if (/^(all_vars|\d+-\d+(_var)?)(\.gz)?$/.test(basename(path))) candidates.push(join(dirname(dirname(path)), 'info.txt'));
  for (const c of candidates) {
    if (!existsSync(c)) continue;
    const m = /^variation_cols\t(.+)$/m.exec(readFileSync(c, 'utf8'));
    if (m) return m[1]!.trim().split(',');
  }
  return undefined;
}

const COMPLEMENT: Record<string, string> = { A: 'T', C: 'G', G: 'C', T: 'A', N: 'N', '-': '-' };

function reverseComplement(a: string): string {
  let out = '';
  for (let i = a.length - 1; i >= 0; i--) out += COMPLEMENT[a[i]!.toUpperCase()] ?? 'N';
  return out;
}

function isNucleotides(a: string): boolean {
  if (a === '-') return true;
  for (let i = 0; i < a.length; i++) {
    const c = a.charCodeAt(i) | 0x20;
    if (c !== 97 && c !== 99 && c !== 103 && c !== 116 && c !== 110) return false;
  }
  return a.length > 0;
}

/**
 * Loads an Ensembl VEP cache variation file (`all_vars`, tab-separated, no header, 1-based).
 *
 * Ensembl writes alleles without an anchor base: `start` is the first affected base, `-` the empty
 * allele, and an insertion has end = start - 1 (it goes between end and start). Turning that into a
 * VCF record would need the base before `start`, i.e. the reference sequence, so the alleles are
 * stored as they are, with REF `-` as an empty REF at `start`. SnpTable keys every entry by its
 * minimal representation, and a VCF query's minimal form is exactly the Ensembl form (anchor
 * stripped: pos + 1, REF and ALT without their first base, empty for `-`), so
 *   VCF 21:100 CTT>C  ≡ Ensembl start 101 end 102 `TT/-`
 *   VCF 21:100 C>CA   ≡ Ensembl start 101 end 100 `-/A`.
 * Allele strings on strand -1 are reverse-complemented to the forward strand.
 *
 * Kept without alleles (position only, any allele at `start` matches): allele strings that are not
 * nucleotides (`(CA)17/(CA)21`, `(267_BP_DELETION)/-`, `(D21S1907)`), and REF alleles whose length
 * disagrees with start..end (Ensembl flags these as failed, so only with includeFailed).
 * Skipped: names that are not rsIDs (COSMIC `COSM…`, HGMD `CM…`, `TMP_ESP_…`) and failed variants.
 * Rejected (counted, the first few kept): rs numbers and positions the table cannot hold.
 */
export async function loadVepTsv(path: string, builder: SnpTableBuilder, opts?: VepTsvOptions): Promise<LoadResult> {
  const cols = opts?.columns ?? vepColumnsFor(path) ?? DEFAULT_COLUMNS;
  const col = (name: string): number => {
    const i = cols.indexOf(name);
    if (i < 0) throw new Error(`${path}: column list has no ${name}: ${cols.join(',')}`);
    return i;
  };
  const cChr = col('chr');
  const cName = col('variation_name');
  const cFailed = cols.indexOf('failed');
  const cStart = col('start');
  const cEnd = col('end');
  const cAlleles = col('allele_string');
  const cStrand = cols.indexOf('strand');
  const need = Math.max(cChr, cName, cFailed, cStart, cEnd, cAlleles, cStrand) + 1;
  const includeFailed = opts?.includeFailed ?? false;

  let records = 0;
  let skipped = 0;
  const rejections = new Rejections();
  await forEachLine(path, opts, (line, lineNo) => {
    if (line.length === 0 || line.charCodeAt(0) === 35 /* # */) return;
    const f = line.split('\t', need);
    if (f.length < need)
      throw new DbSnpFormatError(
        path,
        lineNo,
        'columns',
        `${f.length} tab-separated columns, expected at least ${need} (${cols.slice(0, need).join(',')})`,
      );
    const chrom = f[cChr]!;
    if (chrom.length === 0) throw new DbSnpFormatError(path, lineNo, 'chr', 'empty');
    const rs = parseRsName(f[cName]!);
    if (rs === RS_TOO_LARGE) return rejections.add(lineNo, 'variation_name', rsTooLarge(f[cName]!, 2));
    const failed = cFailed >= 0 ? f[cFailed]! : '.';
    if (rs < 0 || (!includeFailed && failed !== '.' && failed !== '0' && failed !== '')) {
      skipped++;
      return;
    }
    const start = parseUInt(f[cStart]!);
    if (start < 1) throw new DbSnpFormatError(path, lineNo, 'start', `${JSON.stringify(f[cStart])} is not a 1-based position`);
    const endText = f[cEnd]!;
    const end = endText === '.' || endText === '' ? start : parseUInt(endText);
    if (end < 0) throw new DbSnpFormatError(path, lineNo, 'end', `${JSON.stringify(endText)} is not a position`);
    if (end < start - 1) throw new DbSnpFormatError(path, lineNo, 'end', `${end} is more than one base before start ${start}`);
    const alleleText = f[cAlleles]!;
    if (alleleText.length === 0) throw new DbSnpFormatError(path, lineNo, 'allele_string', 'empty');
    const parts = alleleText.split('/');
    const reverse = cStrand >= 0 && f[cStrand] === '-1';
    let added = 1;
    try {
      if (parts.length >= 2 && parts.every(isNucleotides)) {
        const alleles = reverse ? parts.map(reverseComplement) : parts;
        const ref = alleles[0]!;
        if ((ref === '-' ? 0 : ref.length) === end - start + 1) added = builder.add(chrom, start, rs, ref, alleles.slice(1));
        else builder.addSpan(chrom, start, rs);
      } else {
        builder.addSpan(chrom, start, rs);
      }
    } catch (err) {
      return rejections.take(err, path, lineNo, 'allele_string');
    }
    if (added > 0) records++;
    else skipped++;
  });
  return rejections.result(records, skipped);
}
