/**
 * One ALT of a VCF record reduced to its minimal form. VCF anchors indels on a preceding base
 * (REF=AT ALT=A at 100 deletes the T at 101); the engine works on the changed bases only, 0-based
 * half-open: the deletion above is [100, 101), an insertion is the empty span between two bases.
 */
export type AlleleKind = 'snv' | 'mnv' | 'insertion' | 'deletion' | 'delins' | 'symbolic' | 'missing' | 'star' | 'breakend' | 'reference';

export interface Allele {
  kind: AlleleKind;
  /** 0-based half-open span of the changed REF bases (start === end for an insertion). */
  start: number;
  end: number;
  /** REF and ALT bases after removing what they share (uppercase; '' for the empty side). */
  ref: string;
  alt: string;
}

const SIMPLE = /^[ACGTNacgtn]+$/;

/** `pos` is the VCF POS (1-based). Alleles that are not bases keep the record's span and say why. */
export function reduceAllele(pos: number, ref: string, alt: string): Allele {
  const start0 = pos - 1;
  if (alt === '*') return { kind: 'star', start: start0, end: start0 + ref.length, ref, alt };
  if (alt === '.' || alt === '') return { kind: 'missing', start: start0, end: start0 + ref.length, ref, alt };
  if (alt.startsWith('<')) return { kind: 'symbolic', start: start0, end: start0 + ref.length, ref, alt };
  if (!SIMPLE.test(alt)) return { kind: 'breakend', start: start0, end: start0 + ref.length, ref, alt };
  let r = ref.toUpperCase();
  let a = alt.toUpperCase();
  if (r === a) return { kind: 'reference', start: start0, end: start0 + r.length, ref: r, alt: a };
  // Shared suffix first, then prefix, as VCF normalisation does (keeps the anchor on the left).
  let suffix = 0;
  while (suffix < r.length && suffix < a.length && r[r.length - 1 - suffix] === a[a.length - 1 - suffix]) suffix++;
  r = r.slice(0, r.length - suffix);
  a = a.slice(0, a.length - suffix);
  let prefix = 0;
  while (prefix < r.length && prefix < a.length && r[prefix] === a[prefix]) prefix++;
  r = r.slice(prefix);
  a = a.slice(prefix);
  const start = start0 + prefix;
  const end = start + r.length;
  let kind: AlleleKind;
  if (r.length === 0) kind = 'insertion';
  else if (a.length === 0) kind = 'deletion';
  else if (r.length === 1 && a.length === 1) kind = 'snv';
  else if (r.length === a.length) kind = 'mnv';
  else kind = 'delins';
  return { kind, start, end, ref: r, alt: a };
}

/** Alleles the engine annotates by position; the others pass through with a reason. */
export function isSequenceAllele(a: Allele): boolean {
  return a.kind === 'snv' || a.kind === 'mnv' || a.kind === 'insertion' || a.kind === 'deletion' || a.kind === 'delins';
}

export function whyNotAnnotated(a: Allele): string | undefined {
  switch (a.kind) {
    case 'symbolic':
      return 'symbolic_allele';
    case 'missing':
      return 'missing_allele';
    case 'star':
      return 'overlapping_deletion';
    case 'breakend':
      return 'breakend';
    case 'reference':
      return 'reference_allele';
    default:
      return undefined;
  }
}
