import type { SnpTableBuilder } from './snp-table.ts';
import {
  DbSnpFormatError,
  forEachLine,
  parseRsDigits,
  parseRsName,
  parseUInt,
  Rejections,
  RS_TOO_LARGE,
  rsTooLarge,
} from './load-common.ts';
import type { LoadOptions, LoadResult } from './load-common.ts';

/**
 * Loads a dbSNP-style VCF (plain, gzip or BGZF). rsIDs come from two places, merged:
 *   - the ID column, `rs123` tokens of a `;`-joined list (other ids are ignored: ClinVar puts its
 *     VariationID there);
 *   - INFO `RS=` (dbSNP repeats the ID there; ClinVar has its only rsID there), `,` or `|` separated.
 * Each ALT becomes one allele entry. Lines are skipped when they carry no rsID or no nucleotide ALT
 * (ALT `.`, `<DEL>`, `*`, breakends). rsIDs and positions the table cannot hold are rejected one by
 * one (counted, the first few kept with their line) and the record's other rsIDs still load.
 */
export async function loadVcf(path: string, builder: SnpTableBuilder, opts?: LoadOptions): Promise<LoadResult> {
  let records = 0;
  let skipped = 0;
  const rejections = new Rejections();
  const rsList: number[] = [];
  await forEachLine(path, opts, (line, lineNo) => {
    if (line.length === 0 || line.charCodeAt(0) === 35 /* # */) return;
    // INFO is the 8th column; splitting further would only allocate FORMAT and sample columns.
    const f = line.split('\t', 8);
    if (f.length < 8) throw new DbSnpFormatError(path, lineNo, 'columns', `${f.length} tab-separated columns, a VCF record has at least 8`);
    const [chrom, posText, id, ref, altText, , , info] = f as [string, string, string, string, string, string, string, string];
    if (chrom.length === 0) throw new DbSnpFormatError(path, lineNo, 'CHROM', 'empty');
    const pos = parseUInt(posText);
    if (pos < 1) throw new DbSnpFormatError(path, lineNo, 'POS', `${JSON.stringify(posText)} is not a position`);

    rsList.length = 0;
    const rejectedBefore = rejections.count;
    if (id !== '.') {
      for (const tok of id.includes(';') ? id.split(';') : [id]) {
        const rs = parseRsName(tok);
        if (rs === RS_TOO_LARGE) rejections.add(lineNo, 'ID', rsTooLarge(tok, 2));
        else if (rs > 0 && !rsList.includes(rs)) rsList.push(rs);
      }
    }
    // Start of the RS key, or -1; `;RS=` so that keys merely ending in RS (e.g. dbSNP_RS) are not taken.
    const semi = info.indexOf(';RS=');
    const at = info.startsWith('RS=') ? 0 : semi < 0 ? -1 : semi + 1;
    if (at >= 0) {
      const end = info.indexOf(';', at);
      const value = info.slice(at + 3, end === -1 ? info.length : end);
      for (const tok of value.split(/[,|]/)) {
        const rs = parseRsDigits(tok);
        if (rs === RS_TOO_LARGE) {
          rejections.add(lineNo, 'INFO/RS', rsTooLarge(tok));
          continue;
        }
        if (rs < 0) throw new DbSnpFormatError(path, lineNo, 'INFO/RS', `${JSON.stringify(tok)} is not an rs number`);
        if (!rsList.includes(rs)) rsList.push(rs);
      }
    }
    if (rsList.length === 0 || altText === '.') {
      // A record whose only rsIDs were rejected is counted there, not as skipped.
      if (rejections.count === rejectedBefore) skipped++;
      return;
    }
    const alts = altText.split(',');
    let added = 0;
    for (const rs of rsList) {
      try {
        added += builder.add(chrom, pos, rs, ref, alts);
      } catch (err) {
        rejections.take(err, path, lineNo, 'REF/ALT');
      }
    }
    if (added > 0) records++;
    else if (rejections.count === rejectedBefore) skipped++;
  });
  return rejections.result(records, skipped);
}
