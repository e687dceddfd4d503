import type { SnpTableBuilder } from './snp-table.ts';
import { DbSnpFormatError, forEachLine, parseRsName, parseUInt, Rejections, RS_TOO_LARGE, rsTooLarge } from './load-common.ts';
import type { LoadOptions, LoadResult } from './load-common.ts';

/**
 * Loads a UCSC snp-table BED (chrom, chromStart, chromEnd, name=rsN, …; extra columns ignored). The
 * table has no alleles, so each row becomes a span entry:
 *   - chromStart is 0-based, so the first affected base is chromStart + 1 in 1-based terms and the
 *     span is chromEnd - chromStart bases long (1 for an SNV, n for an n-base deletion or MNP);
 *   - a zero-length row (chromStart == chromEnd) is an insertion between 1-based bases chromStart and
 *     chromStart + 1. It is stored as a 0-base span at chromStart + 1, which is where a VCF insertion
 *     anchored on base chromStart (REF=N, ALT=N…) lands after its anchor is stripped.
 * Rows whose name is not an rsID are skipped; `track`/`browser`/`#` lines are not data. Rows whose
 * rs number or position the table cannot hold are rejected (counted, the first few kept).
 */
export async function loadBed(path: string, builder: SnpTableBuilder, opts?: LoadOptions): Promise<LoadResult> {
  let records = 0;
  let skipped = 0;
  const rejections = new Rejections();
  await forEachLine(path, opts, (line, lineNo) => {
    if (line.length === 0 || line.charCodeAt(0) === 35 /* # */ || line.startsWith('track') || line.startsWith('browser')) return;
    // Field boundaries by indexOf: a split per row allocates five strings that are thrown away.
    const t1 = line.indexOf('\t');
    const t2 = t1 < 0 ? -1 : line.indexOf('\t', t1 + 1);
    const t3 = t2 < 0 ? -1 : line.indexOf('\t', t2 + 1);
    if (t3 < 0)
      throw new DbSnpFormatError(
        path,
        lineNo,
        'columns',
        `${line.split('\t').length} tab-separated columns, expected at least 4 (chrom, chromStart, chromEnd, name)`,
      );
    let t4 = line.indexOf('\t', t3 + 1);
    if (t4 < 0) t4 = line.length;
    if (t1 === 0) throw new DbSnpFormatError(path, lineNo, 'chrom', 'empty');
    const start = parseUInt(line, t1 + 1, t2);
    if (start < 0)
      throw new DbSnpFormatError(path, lineNo, 'chromStart', `${JSON.stringify(line.slice(t1 + 1, t2))} is not a 0-based position`);
    const end = parseUInt(line, t2 + 1, t3);
    if (end < 0) throw new DbSnpFormatError(path, lineNo, 'chromEnd', `${JSON.stringify(line.slice(t2 + 1, t3))} is not a position`);
    if (end < start) throw new DbSnpFormatError(path, lineNo, 'chromEnd', `${end} is before chromStart ${start}`);
    const rs = parseRsName(line, t3 + 1, t4);
    if (rs === RS_TOO_LARGE) return rejections.add(lineNo, 'name', rsTooLarge(line, t3 + 3, t4));
    if (rs < 0) {
      skipped++;
      return;
    }
    try {
      builder.addSpan(line.slice(0, t1), start + 1, rs, end - start);
    } catch (err) {
      return rejections.take(err, path, lineNo, 'chromStart');
    }
    records++;
  });
  return rejections.result(records, skipped);
}
