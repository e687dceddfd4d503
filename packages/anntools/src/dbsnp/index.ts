import { basename } from 'node:path';
import type { SnpTableBuilder } from './snp-table.ts';
import { loadVcf } from './load-vcf.ts';
import { loadBed } from './load-bed.ts';
import { loadVepTsv } from './load-vep-tsv.ts';
import type { VepTsvOptions } from './load-vep-tsv.ts';
import type { LoadResult } from './load-common.ts';

export { SnpTable, SnpTableBuilder } from './snp-table.ts';
export { loadVcf } from './load-vcf.ts';
export { loadBed } from './load-bed.ts';
export { loadVepTsv, vepColumnsFor } from './load-vep-tsv.ts';
export type { VepTsvOptions } from './load-vep-tsv.ts';
export { DbSnpFormatError, describeRejections } from './load-common.ts';
export type { LoadOptions, LoadResult, RejectedEntry } from './load-common.ts';

export type DbSnpFormat = 'vcf' | 'bed' | 'vep-tsv';

/**
 * The format a file name announces, after any `.gz`/`.bgz`: `.vcf` → vcf, `.bed` → bed, `.tsv` or a
 * VEP cache file name (`all_vars`, `<chr>-<start>-<end>` chunk) → vep-tsv. Undefined when unknown.
 */
export function dbSnpFormatOf(path: string): DbSnpFormat | undefined {
  const name = basename(path)
    .toLowerCase()
    .replace(/\.b?gz$/, '');
  if (name.endsWith('.vcf')) return 'vcf';
  if (name.endsWith('.bed')) return 'bed';
  if (name.endsWith('.tsv') || name === 'all_vars' || /^[^.]+-\d+-\d+(_var)?$/.test(name)) return 'vep-tsv';
  return undefined;
}

/** Streams one dbSNP source into `builder`; the format comes from the file name unless given. */
export async function loadDbSnp(path: string, builder: SnpTableBuilder, format?: DbSnpFormat, opts?: VepTsvOptions): Promise<LoadResult> {
  const f = format ?? dbSnpFormatOf(path);
  switch (f) {
    case 'vcf':
      return loadVcf(path, builder, opts);
    case 'bed':
      return loadBed(path, builder, opts);
    case 'vep-tsv':
      return loadVepTsv(path, builder, opts);
    case undefined:
      throw new Error(
        `${path}: cannot tell the dbSNP format from the file name (expected .vcf, .bed or .tsv, optionally .gz); pass the format`,
      );
  }
}
