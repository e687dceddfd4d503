import { sanitizeName } from '@gas/storage';

/** `sample.vcf.gz` → `sample.annot.vcf` and `sample.count.log`, as the original AnnTools named them. */
export function resultNames(inputName: string): { vcf: string; log: string; tsv: string; summary: string } {
  const base = sanitizeName(inputName).replace(/\.(vcf|txt)(\.b?gz)?$/i, '').replace(/\.b?gz$/i, '') || 'input';
  return { vcf: `${base}.annot.vcf`, log: `${base}.count.log`, tsv: `${base}.annot.tsv`, summary: `${base}.summary.json` };
}
