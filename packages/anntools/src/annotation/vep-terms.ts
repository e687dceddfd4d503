/**
 * Ensembl VEP's consequence terms of one allele on one transcript, as a bit mask (bit i is TERMS[i],
 * in VEP's severity order, so the lowest set bit is the most severe term). Beside the ANNOVAR-style
 * region class (region.ts), not instead of it: the two answer different questions.
 *
 * Positions follow VEP (Bio::EnsEMBL::Variation::BaseTranscriptVariationAllele::_intron_effects
 * and Utils::VariationEffect, release 115): 1-based, an allele spans [vs, ve], and an insertion has
 * vs = ve + 1 (it goes between ve and vs). VEP's overlap(a, b, lo, hi) is b >= lo && a <= hi, so an
 * insertion overlaps a region only when both bases beside it are in it. For an intron whose first
 * and last bases are is and ie:
 *   - splice_donor_variant / splice_acceptor_variant: the first two bases (is..is+1) or the last two
 *     (ie-1..ie), donor at the transcript's 5' side of the intron;
 *   - splice_donor_5th_base_variant: intron base +5 (is+4 on '+', ie-4 on '-');
 *   - splice_donor_region_variant: intron bases +3..+6, unless +5 already says more;
 *   - splice_polypyrimidine_tract_variant: acceptor -17..-3 (ie-16..ie-2 on '+', is+2..is+16 on '-'),
 *     only when the allele touches no exon;
 *   - splice_region_variant: 3-8 bases into the intron at either end (is+2..is+7, ie-7..ie-2), or 1-3
 *     exon bases beside it (is-3..is-1, ie+1..ie+3), and insertions at a few edges; never together
 *     with the donor, acceptor, 5th-base or donor-region terms (polypyrimidine tract and splice
 *     region do go together).
 *   - intron_variant: the intron past its first and last two bases.
 * Introns of 12 bases or fewer are VEP's "frameshift introns" (gaps in a model that keep the
 * frame): no splice or intron term there.
 *
 * Not done as VEP does: VEP shifts indels 3' along the transcript before calling these terms, ours
 * use the allele where the VCF puts it (left-aligned), so an indel in a repeat at a splice edge can
 * differ; upstream/downstream reach as far as the transcript index's flank (1 kb, ANNOVAR's), not
 * VEP's 5 kb.
 */
import type { Transcript } from '../transcript.ts';
import { isCoding } from '../transcript.ts';
import type { Impact } from './consequence.ts';

/** VEP's transcript consequence terms in its severity order (Constants.pm rank), with their impact. */
export const TERMS = [
  'transcript_ablation',
  'splice_acceptor_variant',
  'splice_donor_variant',
  'stop_gained',
  'frameshift_variant',
  'stop_lost',
  'start_lost',
  'inframe_insertion',
  'inframe_deletion',
  'missense_variant',
  'protein_altering_variant',
  'splice_donor_5th_base_variant',
  'splice_region_variant',
  'splice_donor_region_variant',
  'splice_polypyrimidine_tract_variant',
  'incomplete_terminal_codon_variant',
  'start_retained_variant',
  'stop_retained_variant',
  'synonymous_variant',
  'coding_sequence_variant',
  '5_prime_UTR_variant',
  '3_prime_UTR_variant',
  'non_coding_transcript_exon_variant',
  'intron_variant',
  'NMD_transcript_variant',
  'non_coding_transcript_variant',
  'upstream_gene_variant',
  'downstream_gene_variant',
  'intergenic_variant',
] as const;
export type VepTerm = (typeof TERMS)[number];

const IMPACT_OF: Record<VepTerm, Impact> = {
  transcript_ablation: 'HIGH',
  splice_acceptor_variant: 'HIGH',
  splice_donor_variant: 'HIGH',
  stop_gained: 'HIGH',
  frameshift_variant: 'HIGH',
  stop_lost: 'HIGH',
  start_lost: 'HIGH',
  inframe_insertion: 'MODERATE',
  inframe_deletion: 'MODERATE',
  missense_variant: 'MODERATE',
  protein_altering_variant: 'MODERATE',
  splice_donor_5th_base_variant: 'LOW',
  splice_region_variant: 'LOW',
  splice_donor_region_variant: 'LOW',
  splice_polypyrimidine_tract_variant: 'LOW',
  incomplete_terminal_codon_variant: 'LOW',
  start_retained_variant: 'LOW',
  stop_retained_variant: 'LOW',
  synonymous_variant: 'LOW',
  coding_sequence_variant: 'MODIFIER',
  '5_prime_UTR_variant': 'MODIFIER',
  '3_prime_UTR_variant': 'MODIFIER',
  non_coding_transcript_exon_variant: 'MODIFIER',
  intron_variant: 'MODIFIER',
  NMD_transcript_variant: 'MODIFIER',
  non_coding_transcript_variant: 'MODIFIER',
  upstream_gene_variant: 'MODIFIER',
  downstream_gene_variant: 'MODIFIER',
  intergenic_variant: 'MODIFIER',
};
/** Impact of TERMS[i]. */
export const IMPACTS: readonly Impact[] = TERMS.map((t) => IMPACT_OF[t]);

const bit = (term: VepTerm): number => 1 << TERMS.indexOf(term);
export const ACCEPTOR = bit('splice_acceptor_variant');
export const DONOR = bit('splice_donor_variant');
export const FIFTH_BASE = bit('splice_donor_5th_base_variant');
export const SPLICE_REGION = bit('splice_region_variant');
export const DONOR_REGION = bit('splice_donor_region_variant');
export const POLYPYRIMIDINE = bit('splice_polypyrimidine_tract_variant');
export const CODING_UNKNOWN = bit('coding_sequence_variant');
export const UTR5 = bit('5_prime_UTR_variant');
export const UTR3 = bit('3_prime_UTR_variant');
export const NC_EXON = bit('non_coding_transcript_exon_variant');
export const INTRON = bit('intron_variant');
export const NMD = bit('NMD_transcript_variant');
export const NC_TRANSCRIPT = bit('non_coding_transcript_variant');
export const UPSTREAM = bit('upstream_gene_variant');
export const DOWNSTREAM = bit('downstream_gene_variant');
export const INTERGENIC = bit('intergenic_variant');

const BY_NAME = new Map<string, number>(TERMS.map((t, i) => [t, 1 << i]));

/** The bit of a VEP term (the SO terms consequence.ts gives are all VEP terms); 0 for another. */
export function termBit(term: string): number {
  return BY_NAME.get(term) ?? 0;
}

/** Index in TERMS of the most severe term of a non-empty mask. */
export function mostSevere(mask: number): number {
  return 31 - Math.clz32(mask & -mask);
}

const TEXT = new Map<number, string>();

/** The terms of a mask joined by '&', most severe first, as VEP writes them; built once per mask. */
export function termsText(mask: number): string {
  let text = TEXT.get(mask);
  if (text === undefined) {
    const names: string[] = [];
    for (let i = 0; i < TERMS.length; i++) if (mask & (1 << i)) names.push(TERMS[i]!);
    text = names.join('&');
    TEXT.set(mask, text);
  }
  return text;
}

/** VEP's overlap(): [a, b] against [lo, hi], where an insertion is b = a - 1. */
function ov(a: number, b: number, lo: number, hi: number): boolean {
  return b >= lo && a <= hi;
}

/**
 * The splice and intron terms of the allele [vs, ve] (VEP coordinates, above) on `t`. Only the
 * introns near the allele are looked at: the exons are sorted, so a binary search finds them.
 */
export function spliceTerms(t: Transcript, vs: number, ve: number, touchesExon: boolean): number {
  const starts = t.exonStarts;
  const ends = t.exonEnds;
  const n = starts.length;
  if (n < 2) return 0;
  const insertion = vs === ve + 1;
  const min = insertion ? ve : vs;
  const max = insertion ? vs : ve;
  const plus = t.strand === '+';
  // The first intron whose right flank (its last base + 3) reaches min: introns before it are too far left.
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid + 1]! + 3 < min) lo = mid + 1;
    else hi = mid;
  }
  let startSite = false;
  let endSite = false;
  let fifth = false;
  let donorRegion = false;
  let poly = false;
  let region = false;
  let intronic = false;
  for (let i = lo; i < n - 1; i++) {
    // 1-based first and last intron bases.
    const is = ends[i]! + 1;
    const ie = starts[i + 1]!;
    if (is - 3 > max) break;
    if (ie < is || ie - is + 1 <= 12) continue;
    if (ov(vs, ve, is + 2, ie - 2) || (insertion && (vs === is + 2 || ve === ie - 2))) intronic = true;
    if (plus ? ov(min, max, ie - 16, ie - 2) : ov(min, max, is + 2, is + 16)) poly = true;
    if (!(ov(min, max, is - 3, is + 7) || ov(min, max, ie - 7, ie + 3))) continue;
    if (ov(vs, ve, is, is + 1)) startSite = true;
    if (ov(vs, ve, ie - 1, ie)) endSite = true;
    if (plus ? ov(vs, ve, is + 4, is + 4) : ov(vs, ve, ie - 4, ie - 4)) fifth = true;
    if (plus ? ov(vs, ve, is + 2, is + 5) : ov(vs, ve, ie - 5, ie - 2)) donorRegion = true;
    // VEP keeps the last boundary intron's answer, and none once a splice site is hit.
    if (!startSite && !endSite) {
      region =
        ov(vs, ve, is + 2, is + 7) ||
        ov(vs, ve, ie - 7, ie - 2) ||
        ov(vs, ve, is - 3, is - 1) ||
        ov(vs, ve, ie + 1, ie + 3) ||
        (insertion && (vs === is || ve === ie || vs === is + 2 || ve === ie - 2));
    }
  }
  const donor = plus ? startSite : endSite;
  const acceptor = plus ? endSite : startSite;
  let mask = 0;
  if (acceptor) mask |= ACCEPTOR;
  if (donor) mask |= DONOR;
  if (fifth) mask |= FIFTH_BASE;
  else if (donorRegion) mask |= DONOR_REGION;
  if (poly && !touchesExon) mask |= POLYPYRIMIDINE;
  if (region && !donor && !acceptor && !fifth && !donorRegion) mask |= SPLICE_REGION;
  if (intronic) mask |= INTRON;
  return mask;
}

/**
 * Every VEP term of the allele [vs, ve] on `t` but the coding ones, which come from
 * codingConsequence (the caller adds them): flanks with their distance, UTRs, non-coding exons,
 * splice and intron terms, NMD and non-coding transcripts. With `codingUnknown`, overlapping the
 * CDS's exonic bases gives coding_sequence_variant (no FASTA to judge them by).
 * `distance` receives the bases to the transcript for upstream/downstream, else 0.
 */
export function transcriptTerms(t: Transcript, vs: number, ve: number, codingUnknown: boolean, distance: { value: number }): number {
  const insertion = vs === ve + 1;
  const ts = t.start + 1;
  const te = t.end;
  distance.value = 0;
  if (!ov(vs, ve, ts, te)) {
    const before = (insertion ? vs : ve) < ts;
    distance.value = before ? ts - (insertion ? vs : ve) : (insertion ? ve : vs) - te;
    return (t.strand === '+') === before ? UPSTREAM : DOWNSTREAM;
  }
  const coding = isCoding(t);
  const cs = t.cdsStart + 1;
  const ce = t.cdsEnd;
  let mask = 0;
  let exon = false;
  let exonic5 = false;
  let exonic3 = false;
  let cds = false;
  for (let i = 0; i < t.exonStarts.length; i++) {
    const xs = t.exonStarts[i]! + 1;
    const xe = t.exonEnds[i]!;
    if (!ov(vs, ve, xs, xe)) continue;
    exon = true;
    if (!coding) continue;
    // The parts of this exon before and after the CDS, and in it.
    if (xs < cs && ov(vs, ve, xs, Math.min(xe, cs - 1))) exonic5 = true;
    if (xe > ce && ov(vs, ve, Math.max(xs, ce + 1), xe)) exonic3 = true;
    if (ov(vs, ve, Math.max(xs, cs), Math.min(xe, ce))) cds = true;
  }
  // VEP counts an insertion right before the first coding base (genomic) as UTR, and right after the last.
  if (coding && insertion && vs === cs) exonic5 = true;
  if (coding && insertion && ve === ce) exonic3 = true;
  if (coding) {
    const plus = t.strand === '+';
    if (exonic5) mask |= plus ? UTR5 : UTR3;
    if (exonic3) mask |= plus ? UTR3 : UTR5;
    if (cds && codingUnknown) mask |= CODING_UNKNOWN;
  } else if (exon) mask |= NC_EXON;
  mask |= spliceTerms(t, vs, ve, exon);
  if (t.biotype === 'nonsense_mediated_decay') mask |= NMD;
  if (!coding && !exon) mask |= NC_TRANSCRIPT;
  return mask;
}

/** VEP's coordinates of the 0-based half-open span [start, end) (an insertion when start === end). */
export function vepStart(start: number): number {
  return start + 1;
}
export function vepEnd(start: number, end: number): number {
  return start === end ? start : end;
}
