/**
 * One spelling per chromosome, used everywhere inside the engine: no `chr` prefix, mitochondria as
 * `MT` (`chrM`, `M`, `chrMT` → `MT`). Inputs keep their own spelling in the output; only lookups use
 * this form, so `chr21` in a VCF finds `21` in an Ensembl GFF3 and the reverse.
 */
export function canonicalChrom(name: string): string {
  let c = name.startsWith('chr') || name.startsWith('Chr') || name.startsWith('CHR') ? name.slice(3) : name;
  if (c === 'M' || c === 'm' || c === 'Mt' || c === 'mt') c = 'MT';
  return c;
}
