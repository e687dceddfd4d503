import { sanitizeName } from '@gas/storage';
import { RESULT_KINDS, resultKinds } from '@gas/anntools/format';
import type { ResultKind } from '@gas/anntools/format';

/** `sample.vcf.gz` → `sample.annot.vcf` and `sample.count.log`, as the original AnnTools named them. */
export function resultNames(inputName: string): Record<ResultKind, string> {
  const base =
    sanitizeName(inputName)
      .replace(/\.(vcf|txt)(\.b?gz)?$/i, '')
      .replace(/\.b?gz$/i, '') || 'input';
  const names = {} as Record<ResultKind, string>;
  for (const kind of resultKinds) names[kind] = base + RESULT_KINDS[kind].suffix;
  return names;
}
