/**
 * Coding consequences of one allele on one transcript: the CDS is spliced from the reference,
 * the change applied in transcript orientation, both sequences translated, and the proteins
 * compared. Pure apart from the SequenceSource it is given.
 *
 * Rules worth knowing:
 * - Only alleles touching coding bases are annotated; anything else returns null (region.ts says
 *   UTR, intron, splice site...). An insertion counts between two coding bases, and between a
 *   coding base and an intron (the splice site moves with the intron, so the bases join the
 *   exon); next to a UTR base (before c.1, after the stop) it is a UTR insertion.
 * - The FASTA wins over the VCF: when REF differs from the reference, the change is read as
 *   reference → ALT and `referenceMismatch` carries the reference bases (genomic strand).
 * - A deletion that crosses a coding edge is first slid over its equivalent placements: one that
 *   touches only UTR bases means the CDS is intact (null); one inside a single exon's coding part
 *   makes it a plain coding deletion; one wholly intronic leaves the exon intact (null). Otherwise
 *   it is judged by the coding bases it removes, as if splicing were intact, and its c.
 *   description spans the whole deletion with intron/UTR offsets ("c.10_10+2del", "c.-4_1del").
 *   MNVs and delins that cross an edge cannot be placed base by base: 'unknown'.
 * - One exonic function per allele, in this order: start_lost (codon 1 altered), frameshift,
 *   stop_lost, stop_gained, then synonymous/stop_retained, missense, in-frame indels. The frame
 *   is the mRNA's: a deletion from the stop into the 3' UTR counts the UTR bases it removes too.
 * - c. descriptions follow the transcript strand and the HGVS 3' rule: deletions and insertions are
 *   shifted 3' in transcript orientation within their exon's coding part (VCF left-aligns on the
 *   genome, which is 5' on a minus-strand transcript), and an insertion that repeats the bases
 *   before it is a dup. cdsPosition, proteinPosition, codonChange and aminoAcidChange describe the
 *   allele where the VCF puts it, as VEP does.
 * - p. descriptions compare whole proteins, so in-frame changes in repeats land on the 3'-most
 *   residues; a frameshift or a lost stop reads on into the 3' UTR for the new stop ("fsTer12",
 *   "extTer5"), "Ter?" when none is found there. A change whose first new residue is a stop is
 *   written as a nonsense ("p.Lys26Ter"), as HGVS prefers, whatever the nucleotide change.
 * - 'unknown' (coding_sequence_variant, MODIFIER, "p.?") when the bases are not there to judge:
 *   the source cannot give the CDS, the codons touched hold N, the allele touches the partial
 *   codon at the end of a 3'-incomplete model, the CDS has a stop before its end (selenoproteins),
 *   or the reference already carries the ALT. A model that starts mid-codon (GFF3/GTF phase) is
 *   counted from its first whole codon by the loaders; one without a stop is read in its frame.
 */
import type { Transcript } from '../transcript.ts';
import { isCoding } from '../transcript.ts';
import type { Allele } from './allele.ts';
import { isSequenceAllele } from './allele.ts';
import { geneticCodeFor, isPlainDna, reverseComplement, threeLetter, translate } from './codon-table.ts';
import type { GeneticCode } from './codon-table.ts';
import { cdsIndexOf, genomicOf, segmentOfIndex, transcriptSequence } from './consequence-model.ts';
import type { CodingLayout, CodingSegment, SequenceSource } from './consequence-model.ts';
import { cPosition, cRange, proteinChange, proteinDiff, residue, residueRange } from './hgvs.ts';

export type { SequenceSource } from './consequence-model.ts';
export { codingSequence } from './consequence-model.ts';

export type ExonicFunction =
  | 'synonymous'
  | 'missense'
  | 'stop_gained'
  | 'stop_lost'
  | 'start_lost'
  | 'frameshift'
  | 'inframe_insertion'
  | 'inframe_deletion'
  | 'inframe_delins'
  | 'stop_retained'
  | 'unknown';

export type Impact = 'HIGH' | 'MODERATE' | 'LOW' | 'MODIFIER';

export interface CodingConsequence {
  transcriptId: string;
  gene: string;
  exonicFunction: ExonicFunction;
  /** "c.76A>T", "c.77_78del", "c.76_77insG", "c.76dup", "c.76_77delinsTT" on the transcript strand. */
  hgvsC: string;
  /** "p.Lys26Ter", "p.Lys26=", "p.Lys26AsnfsTer5", "p.Met1?", "p.Lys26_Gly28del"; "p.?" when unknown. */
  hgvsP: string;
  /** VEP's Codons: the codons touched, changed bases uppercase ("aAa/aTa"); '-' for none. */
  codonChange?: string;
  /** VEP's Amino_acids, one-letter: "K/I", "K/*", "K" when synonymous, "K/X" for a frameshift. */
  aminoAcidChange?: string;
  /** 1-based codon of the first base touched (of the base before an insertion). */
  proteinPosition?: number;
  /** 1-based CDS position of the first base touched (of the base before an insertion). */
  cdsPosition?: number;
  soTerm: string;
  impact: Impact;
  /** The reference bases (genomic strand) when they differ from the VCF REF; the annotation uses them. */
  referenceMismatch?: string;
}

const TERMS: Record<ExonicFunction, [string, Impact]> = {
  synonymous: ['synonymous_variant', 'LOW'],
  missense: ['missense_variant', 'MODERATE'],
  stop_gained: ['stop_gained', 'HIGH'],
  stop_lost: ['stop_lost', 'HIGH'],
  start_lost: ['start_lost', 'HIGH'],
  frameshift: ['frameshift_variant', 'HIGH'],
  inframe_insertion: ['inframe_insertion', 'MODERATE'],
  inframe_deletion: ['inframe_deletion', 'MODERATE'],
  inframe_delins: ['protein_altering_variant', 'MODERATE'],
  stop_retained: ['stop_retained_variant', 'LOW'],
  unknown: ['coding_sequence_variant', 'MODIFIER'],
};

/** The allele in CDS coordinates (transcript orientation, 0-based half-open). */
interface CdsChange {
  start: number;
  end: number;
  /** ALT in transcript orientation ('' for the coding part of a deletion). */
  alt: string;
  insertion: boolean;
  /** The coding segment the change lies in; undefined when it crosses a coding edge. */
  segment?: CodingSegment;
  /** The genomic allele this change stands for (an equivalent placement may replace the VCF's). */
  allele: Allele;
}

function inExon(t: Transcript, g: number): boolean {
  for (let i = 0; i < t.exonStarts.length; i++) if (g >= t.exonStarts[i]! && g < t.exonEnds[i]!) return true;
  return false;
}

function isIntronic(t: Transcript, g: number): boolean {
  return g >= t.exonStarts[0]! && g < t.exonEnds[t.exonEnds.length - 1]! && !inExon(t, g);
}

/**
 * An insertion counts as coding between two coding bases of one exon, and also between a coding
 * base and an intron: the splice site moves with the intron, so the inserted bases join the exon.
 * Next to a UTR base (before c.1, after the stop) the bases are UTR.
 */
function locateInsertion(t: Transcript, layout: CodingLayout, allele: Allele): CdsChange | null {
  const alt = layout.plus ? allele.alt : reverseComplement(allele.alt);
  const p = allele.start;
  const before = cdsIndexOf(layout, p - 1);
  const after = cdsIndexOf(layout, p);
  if (before !== undefined && after !== undefined) {
    if (Math.abs(before - after) !== 1) return null;
    const at = Math.max(before, after);
    return { start: at, end: at, alt, insertion: true, segment: segmentOfIndex(layout, at), allele };
  }
  const k = before ?? after;
  if (k === undefined || !isIntronic(t, before === undefined ? p - 1 : p)) return null;
  // In transcript order the coding neighbour comes first when it is the genomic left one on '+'.
  const codingFirst = layout.plus === (before !== undefined);
  const at = codingFirst ? k + 1 : k;
  if (at <= 0 || at >= layout.length) return null;
  return { start: at, end: at, alt, insertion: true, segment: segmentOfIndex(layout, k), allele };
}

type Placement = { kind: 'coding'; change: CdsChange } | { kind: 'crossing'; change: CdsChange } | { kind: 'utr' } | { kind: 'intron' };

/** How [s, e) (a substitution or deletion) sits against the coding segments of `t`. */
function place(t: Transcript, layout: CodingLayout, allele: Allele): Placement {
  let lo = Infinity;
  let hi = -Infinity;
  let coding = 0;
  let segments = 0;
  let only: CodingSegment | undefined;
  for (const seg of layout.segments) {
    const s = Math.max(allele.start, seg.gStart);
    const e = Math.min(allele.end, seg.gEnd);
    if (s >= e) continue;
    coding += e - s;
    segments++;
    only = seg;
    for (const g of [s, e - 1]) {
      const i = cdsIndexOf(layout, g)!;
      lo = Math.min(lo, i);
      hi = Math.max(hi, i);
    }
  }
  if (coding === 0) {
    for (let g = allele.start; g < allele.end; g++) if (inExon(t, g)) return { kind: 'utr' };
    return { kind: 'intron' };
  }
  const alt = layout.plus ? allele.alt : reverseComplement(allele.alt);
  // Removing an intron between two coding parts leaves those parts adjacent in the CDS, so the
  // coding bases a deletion takes are always one CDS range.
  const change: CdsChange = { start: lo, end: hi + 1, alt, insertion: false, allele };
  if (coding === allele.end - allele.start && segments === 1) return { kind: 'coding', change: { ...change, segment: only } };
  return { kind: 'crossing', change };
}

/** Bases a deletion may slide over on the genome and still mean the same sequence. */
const SLIDE_WINDOW = 200;

/**
 * A deletion that crosses a coding edge may be written elsewhere with the same result (VCF
 * left-aligns it; HGVS would right-align it). Every equivalent placement is tried: one that touches
 * only UTR bases means the CDS is intact (a UTR variant: null); else one inside a single exon's
 * coding part is used as a plain coding deletion; else one wholly in the intron means the exon is
 * intact (null); else the deletion really crosses and its coding part decides.
 */
function locateCrossingDeletion(t: Transcript, layout: CodingLayout, crossing: CdsChange, seq: SequenceSource): CdsChange | null {
  const a = crossing.allele;
  const n = a.end - a.start;
  let window: string;
  const from = Math.max(0, a.start - SLIDE_WINDOW);
  try {
    window = seq.fetch(t.chrom, from, a.end + SLIDE_WINDOW).toUpperCase();
  } catch {
    return crossing;
  }
  const at = (g: number) => window[g - from];
  let left = a.start;
  while (left - 1 >= from && at(left - 1) !== undefined && at(left - 1) === at(left - 1 + n)) left--;
  let right = a.start;
  while (at(right) !== undefined && at(right + n) !== undefined && at(right) === at(right + n)) right++;
  let coding: CdsChange | undefined;
  let intronOnly = false;
  for (let s = left; s <= right; s++) {
    const moved: Allele = { ...a, start: s, end: s + n, ref: window.slice(s - from, s - from + n) };
    const where = place(t, layout, moved);
    if (where.kind === 'utr') return null;
    if (where.kind === 'coding') coding ??= where.change;
    if (where.kind === 'intron') intronOnly = true;
  }
  if (coding) return coding;
  return intronOnly ? null : crossing;
}

function locate(t: Transcript, layout: CodingLayout, allele: Allele, seq: SequenceSource): CdsChange | null {
  if (allele.start === allele.end) return locateInsertion(t, layout, allele);
  const where = place(t, layout, allele);
  if (where.kind === 'utr' || where.kind === 'intron') return null;
  if (where.kind === 'coding') return where.change;
  return allele.kind === 'deletion' ? locateCrossingDeletion(t, layout, where.change, seq) : where.change;
}

/**
 * The c. description without the sequence: the VCF's bases, where the VCF puts them (not shifted
 * 3'). On a non-coding transcript the n. description. VEP's HGVSc for intronic, UTR and non-coding
 * alleles comes from here too.
 */
export function hgvsCFromAllele(t: Transcript, allele: Allele): string {
  const plus = t.strand === '+';
  const c = isCoding(t) ? 'c.' : 'n.';
  const ref = plus ? allele.ref : reverseComplement(allele.ref);
  const alt = plus ? allele.alt : reverseComplement(allele.alt);
  if (allele.start === allele.end) {
    const [a, b] = plus ? [allele.start - 1, allele.start] : [allele.start, allele.start - 1];
    return `${c}${cPosition(t, a)}_${cPosition(t, b)}ins${alt}`;
  }
  const [first, last] = plus ? [allele.start, allele.end - 1] : [allele.end - 1, allele.start];
  const range = cRange(t, first, last);
  if (allele.kind === 'snv') return `${c}${range}${ref}>${alt}`;
  if (allele.kind === 'deletion') return `${c}${range}del`;
  return `${c}${range}delins${alt}`;
}

/**
 * The c. description of a change inside one exon's coding part, shifted 3' in transcript
 * orientation. Shifting stops at the exon's coding edge: past it the description would leave the
 * exon (or the CDS), which HGVS handles on the genome rather than the transcript.
 */
function hgvsCInExon(t: Transcript, layout: CodingLayout, cds: string, change: CdsChange, kind: Allele['kind']): string {
  let { start, end, alt } = change;
  if (kind === 'snv') return `c.${start + 1}${cds[start]}>${alt}`;
  if (kind === 'mnv' || kind === 'delins') return `c.${span(start, end)}delins${alt}`;
  const seg = change.segment!;
  const segEnd = seg.cStart + (seg.gEnd - seg.gStart);
  if (kind === 'deletion') {
    while (end < segEnd && cds[start] === cds[end]) {
      start++;
      end++;
    }
    return `c.${span(start, end)}del`;
  }
  while (start < segEnd && cds[start] === alt[0]) {
    alt = alt.slice(1) + alt[0];
    start++;
  }
  const n = alt.length;
  if (start - n >= seg.cStart && cds.slice(start - n, start) === alt) return `c.${span(start - n, start)}dup`;
  // At the exon's coding edge the neighbour on that side is intronic: the map names it ("88+1").
  const step = layout.plus ? 1 : -1;
  const before = start > seg.cStart ? `${start}` : cPosition(t, genomicOf(layout, start) - step);
  const after = start < segEnd ? `${start + 1}` : cPosition(t, genomicOf(layout, start - 1) + step);
  return `c.${before}_${after}ins${alt}`;
}

/** "77" or "77_79" for CDS indexes [start, end). */
function span(start: number, end: number): string {
  return end - start === 1 ? `${start + 1}` : `${start + 1}_${end}`;
}

function firstDifference(a: string, b: string): number {
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  return p;
}

/** The new stop: "Ter12" counted as HGVS does, or "Ter?" when translation ran out first. */
function newStop(alt: string, from: number, offset: number): string {
  return alt.endsWith('*') ? `Ter${alt.length - 1 - from + offset}` : 'Ter?';
}

/** A frameshift's p.: "p.Lys26AsnfsTer5", "p.Lys26Ter" for an immediate stop, "p.Ter100GlnextTer7" at the stop. */
function frameshiftP(ref: string, alt: string): string {
  const p = firstDifference(ref, alt);
  if (p >= ref.length) return 'p.?';
  const altAa = alt[p];
  if (ref[p] === '*') return altAa === undefined ? 'p.?' : `p.${residue(ref, p)}${threeLetter(altAa)}ext${newStop(alt, p, 0)}`;
  if (altAa === undefined) return `p.${residue(ref, p)}fs`;
  if (altAa === '*') return `p.${residue(ref, p)}Ter`;
  return `p.${residue(ref, p)}${threeLetter(altAa)}fs${newStop(alt, p, 1)}`;
}

interface Classified {
  fn: ExonicFunction;
  hgvsP: string;
}

/**
 * The protein of the CDS with the change applied, read on into the 3' UTR until the first stop (a
 * model without a stop, an incomplete 3' end, has no UTR that follows in frame): what translating
 * the whole altered CDS gives, without translating the whole CDS for every allele. Codons before
 * the change are the reference protein's; after an in-frame change within the CDS they are too.
 * `ref` is `cds` translated, with no stop but at its end.
 */
function alteredProtein(
  cds: string,
  ref: string,
  refHasStop: boolean,
  utr3: string,
  change: CdsChange,
  crosses: boolean,
  code: GeneticCode,
): string {
  const { start, end, alt, insertion } = change;
  const ws = start - (start % 3);
  const prefix = ref.slice(0, ws / 3);
  // The change comes after the stop: translation has ended before it.
  if (refHasStop && prefix.length === ref.length) return prefix;
  const lengthDelta = alt.length - (end - start);
  if (crosses || lengthDelta % 3 !== 0) {
    // A shifted frame, or a deletion into the UTR: everything from the changed codon on.
    return prefix + translate(cds.slice(ws, start) + alt + cds.slice(end) + (refHasStop ? utr3 : ''), code, true);
  }
  const we = insertion ? (start % 3 === 0 ? start : ws + 3) : Math.ceil(end / 3) * 3;
  const middle = translate(cds.slice(ws, start) + alt + cds.slice(end, we), code, true);
  if (middle.endsWith('*')) return prefix + middle;
  const suffix = ref.slice(we / 3);
  // The change took the stop codon (the last one): read on into the UTR.
  return prefix + middle + (suffix === '' && refHasStop ? translate(utr3, code, true) : suffix);
}

/** `utrRemoved`: 3' UTR bases a deletion takes along with the end of the CDS (already cut from `utr3`). */
function classify(
  cds: string,
  ref: string,
  utr3: string,
  utrRemoved: number,
  change: CdsChange,
  crosses: boolean,
  kind: Allele['kind'],
  code: GeneticCode,
): Classified {
  const refHasStop = ref.endsWith('*');
  const alt = alteredProtein(cds, ref, refHasStop, utr3, change, crosses, code);
  const { start, end, insertion } = change;
  const startCodonTouched = insertion ? start > 0 && start < 3 : start < 3;
  // Only an ATG (Met) start can be lost: a model whose first codon is something else (an
  // incomplete 5' end, or a rare non-AUG start) is read like any other codon, as SnpEff and csq do.
  if (startCodonTouched && ref[0] === 'M' && (cds.slice(0, start) + change.alt + cds.slice(end)).slice(0, 3) !== cds.slice(0, 3))
    return { fn: 'start_lost', hgvsP: `p.${residue(ref, 0)}?` };
  // The frame is that of the mRNA: a deletion from the stop into the UTR counts all it removes.
  const delta = change.alt.length - (end - start) - utrRemoved;
  // Also when the shift starts at the stop (HGVS then writes "ext"), as VEP, ANNOVAR and bcftools
  // all put the frameshift first.
  if (delta % 3 !== 0) return { fn: 'frameshift', hgvsP: frameshiftP(ref, alt) };

  const refStop = refHasStop ? ref.length - 1 : ref.length;
  const expectedStop = refStop + delta / 3;
  const altStop = alt.endsWith('*') ? alt.length - 1 : -1;
  const firstCodon = Math.floor((insertion ? Math.max(0, start - 1) : start) / 3);
  const lastCodon = Math.floor((insertion ? start : end - 1) / 3);

  if (ref === alt) {
    const touchesStop = refHasStop && (insertion ? start >= cds.length - 3 : end > cds.length - 3);
    if (touchesStop) return { fn: 'stop_retained', hgvsP: `p.${residue(ref, refStop)}=` };
    const last = Math.min(lastCodon, ref.length - 1);
    return { fn: 'synonymous', hgvsP: `p.${residueRange(ref, firstCodon, Math.max(firstCodon, last) + 1)}=` };
  }
  const p = firstDifference(ref, alt);
  if (refHasStop && (altStop < 0 || altStop > expectedStop)) {
    if (ref[p] === '*' && alt[p] !== undefined)
      return { fn: 'stop_lost', hgvsP: `p.${residue(ref, p)}${threeLetter(alt[p])}ext${newStop(alt, p, 0)}` };
    // The change starts before the stop and takes it: the residues from there on are replaced.
    return { fn: 'stop_lost', hgvsP: altStop < 0 ? 'p.?' : `p.${residueRange(ref, p, ref.length)}delins${threeLetter(alt.slice(p))}` };
  }
  if (altStop >= 0 && altStop < expectedStop) {
    if (alt[p] === '*') return { fn: 'stop_gained', hgvsP: `p.${residue(ref, p)}Ter` };
    // Residues inserted between two codons, ending in the new stop.
    if (insertion && start % 3 === 0 && p === start / 3 && p > 0) {
      return { fn: 'stop_gained', hgvsP: `p.${residue(ref, p - 1)}_${residue(ref, p)}ins${threeLetter(alt.slice(p))}` };
    }
    return { fn: 'stop_gained', hgvsP: `p.${residue(ref, p)}delins${threeLetter(alt.slice(p))}` };
  }
  const diff = proteinDiff(ref, alt);
  const hgvsP = proteinChange(ref, diff);
  if (kind === 'snv' || kind === 'mnv') return { fn: 'missense', hgvsP };
  if (kind === 'insertion') return { fn: 'inframe_insertion', hgvsP };
  if (kind === 'deletion') return { fn: 'inframe_deletion', hgvsP };
  // A delins is named by what it does to the protein: pure gain, pure loss, or both.
  if (diff.del.length === 0) return { fn: 'inframe_insertion', hgvsP };
  if (diff.ins.length === 0) return { fn: 'inframe_deletion', hgvsP };
  return { fn: 'inframe_delins', hgvsP };
}

/** VEP's Codons and Amino_acids for the codons the allele touches where the VCF puts it. */
function codonsAndResidues(cds: string, change: CdsChange, frameshift: boolean, code: GeneticCode): { codons: string; residues: string } {
  const { start, end, alt, insertion } = change;
  const ws = start - (start % 3);
  const we = insertion ? (start % 3 === 0 ? start : ws + 3) : Math.min(cds.length, Math.ceil(end / 3) * 3);
  const lead = cds.slice(ws, start).toLowerCase();
  const tail = cds.slice(end, we).toLowerCase();
  const refCodons = lead + cds.slice(start, end) + tail;
  const altCodons = lead + alt + tail;
  const refAa = translate(refCodons.toUpperCase(), code);
  const altAa = frameshift ? 'X' : translate(altCodons.toUpperCase(), code);
  return {
    codons: `${refCodons || '-'}/${altCodons || '-'}`,
    residues: refAa === altAa ? refAa : `${refAa || '-'}/${altAa || '-'}`,
  };
}

/**
 * The coding consequence of `allele` on `t`, or null when the allele touches no coding base of
 * `t` (or is not a sequence allele). Never throws for missing sequence: that gives 'unknown'.
 */
export function codingConsequence(t: Transcript, allele: Allele, seq: SequenceSource): CodingConsequence | null {
  if (!isCoding(t) || !isSequenceAllele(allele)) return null;
  const sequence = transcriptSequence(t, seq);
  const { layout, utr3 } = sequence;
  const change = locate(t, layout, allele, seq);
  if (!change) return null;
  const crosses = change.segment === undefined;
  const code = geneticCodeFor(t.chrom);
  const referenceMismatch = mismatch(t, allele, seq);
  const positions = {
    cdsPosition: change.insertion ? change.start : change.start + 1,
    proteinPosition: Math.floor((change.insertion ? change.start - 1 : change.start) / 3) + 1,
  };
  const unknown = (): CodingConsequence => ({
    transcriptId: t.id,
    gene: t.gene,
    exonicFunction: 'unknown',
    hgvsC: hgvsCFromAllele(t, change.allele),
    hgvsP: 'p.?',
    ...positions,
    soTerm: TERMS.unknown[0],
    impact: TERMS.unknown[1],
    ...(referenceMismatch !== undefined ? { referenceMismatch } : {}),
  });
  if (sequence.cds === undefined) return unknown();
  // A 3'-incomplete model (no stop; a length that is not a multiple of 3) is read in its frame up
  // to its last whole codon, as csq and SnpEff read it; the partial codon after that has no
  // consequence to give.
  const whole = sequence.cds.length - (sequence.cds.length % 3);
  if (change.end > whole || (change.insertion && change.start >= whole && whole < sequence.cds.length)) return unknown();
  const cds = whole === sequence.cds.length ? sequence.cds : sequence.cds.slice(0, whole);
  const refProtein = (sequence.protein ??= translate(cds, code));
  const firstStop = refProtein.indexOf('*');
  if (firstStop >= 0 && firstStop < refProtein.length - 1) return unknown();
  if (crosses && allele.kind !== 'deletion') return unknown();
  const ws = change.start - (change.start % 3);
  const we = Math.min(cds.length, Math.ceil(Math.max(change.end, change.start + 1) / 3) * 3);
  if (!isPlainDna(cds.slice(ws, we)) || !isPlainDna(change.alt)) return unknown();
  // No change to the CDS (the same bases written again).
  if (change.alt.length === change.end - change.start && cds.startsWith(change.alt, change.start)) return unknown();

  // A deletion running on past the stop also takes the first bases of the 3' UTR it reads into.
  const utrRemoved = crosses ? utr3BasesIn(t, change.allele) : 0;
  const { fn, hgvsP } = classify(cds, refProtein, utr3.slice(utrRemoved), utrRemoved, change, crosses, allele.kind, code);
  const shifted = (change.alt.length - (change.end - change.start) - utrRemoved) % 3 !== 0;
  const { codons, residues } = codonsAndResidues(cds, change, shifted, code);
  const hgvsC = crosses ? hgvsCFromAllele(t, change.allele) : hgvsCInExon(t, layout, cds, change, allele.kind);
  return {
    transcriptId: t.id,
    gene: t.gene,
    exonicFunction: fn,
    hgvsC,
    hgvsP,
    codonChange: codons,
    aminoAcidChange: residues,
    ...positions,
    soTerm: TERMS[fn][0],
    impact: TERMS[fn][1],
    ...(referenceMismatch !== undefined ? { referenceMismatch } : {}),
  };
}

/** The reference bases under REF (genomic strand) when they differ from it; undefined when they agree or cannot be read. */
function mismatch(t: Transcript, allele: Allele, seq: SequenceSource): string | undefined {
  if (allele.start === allele.end) return undefined;
  let fasta: string;
  try {
    fasta = seq.fetch(t.chrom, allele.start, allele.end).toUpperCase();
  } catch {
    return undefined;
  }
  return fasta.length === allele.ref.length && fasta !== allele.ref ? fasta : undefined;
}

/** Exonic bases of the allele on the 3' side of the CDS. */
function utr3BasesIn(t: Transcript, allele: Allele): number {
  const plus = t.strand === '+';
  const from = plus ? Math.max(allele.start, t.cdsEnd) : allele.start;
  const to = plus ? allele.end : Math.min(allele.end, t.cdsStart);
  let n = 0;
  for (let i = 0; i < t.exonStarts.length; i++) n += Math.max(0, Math.min(to, t.exonEnds[i]!) - Math.max(from, t.exonStarts[i]!));
  return n;
}
