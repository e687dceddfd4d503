// HGVS coordinates (c.) of genomic positions on a coding transcript, and protein (p.) descriptions.
import type { Transcript } from '../transcript.ts';
import { threeLetter } from './codon-table.ts';

/**
 * Position of exonic base `g` in the processed transcript, counted from its 5' end (0-based), or
 * undefined when `g` is not in an exon.
 */
function transcriptIndex(t: Transcript, g: number): number | undefined {
  let before = 0;
  let total = 0;
  let found: number | undefined;
  for (let i = 0; i < t.exonStarts.length; i++) {
    const xs = t.exonStarts[i]!;
    const xe = t.exonEnds[i]!;
    if (g >= xs && g < xe) found = before + (g - xs);
    if (xe <= g) before += xe - xs;
    total += xe - xs;
  }
  if (found === undefined) return undefined;
  return t.strand === '+' ? found : total - 1 - found;
}

function exonicLength(t: Transcript): number {
  let n = 0;
  for (let i = 0; i < t.exonStarts.length; i++) n += t.exonEnds[i]! - t.exonStarts[i]!;
  return n;
}

function codingLength(t: Transcript): number {
  let n = 0;
  for (let i = 0; i < t.exonStarts.length; i++)
    n += Math.max(0, Math.min(t.exonEnds[i]!, t.cdsEnd) - Math.max(t.exonStarts[i]!, t.cdsStart));
  return n;
}

/** What the numbering of a transcript rests on: where c.1 is, and the lengths. */
export interface Numbering {
  /** Transcript index of c.1 (0 on a non-coding transcript: n.1). */
  first: number;
  /** Bases numbered 1..len: the CDS, or the whole transcript when non-coding. */
  len: number;
  exonic: number;
}

// Worked out once per transcript: every HGVSc of every allele near it needs them, several times.
const NUMBERING = new WeakMap<Transcript, Numbering>();

export function numbering(t: Transcript): Numbering {
  let n = NUMBERING.get(t);
  if (n === undefined) {
    const coding = t.cdsEnd > t.cdsStart;
    const exonic = exonicLength(t);
    n = {
      first: coding ? (transcriptIndex(t, t.strand === '+' ? t.cdsStart : t.cdsEnd - 1) ?? 0) : 0,
      len: coding ? codingLength(t) : exonic,
      exonic,
    };
    NUMBERING.set(t, n);
  }
  return n;
}

/**
 * c. number of a transcript index: 1..L in the CDS, -n before it, *n after it (no 0). On a
 * non-coding transcript the n. number: 1..L over the whole transcript, the same way.
 */
function cFromIndex(t: Transcript, index: number): string {
  const { first, len } = numbering(t);
  const n = index - first;
  if (n < 0) return `${n}`;
  if (n < len) return `${n + 1}`;
  return `*${n - len + 1}`;
}

/**
 * The HGVS c. position of genomic base `g` (0-based) on coding transcript `t` (the n. position on a
 * non-coding one): "76", "-12", "*5",
 * and for intron bases the nearest exon base with an offset ("88+2", "89-1"). An intron base
 * exactly in the middle counts from the exon on its 5' side (+), as HGVS asks. Bases beyond the
 * transcript continue the -n/*n numbering, as HGVS does for upstream/downstream positions.
 */
export function cPosition(t: Transcript, g: number): string {
  const exonic = transcriptIndex(t, g);
  if (exonic !== undefined) return cFromIndex(t, exonic);
  const plus = t.strand === '+';
  // The exons bound the transcript here, whatever span the source gave it.
  const first = t.exonStarts[0]!;
  const last = t.exonEnds[t.exonEnds.length - 1]!;
  if (g < first || g >= last) {
    const len = numbering(t).exonic;
    const fivePrimeSide = plus ? g < first : g >= last;
    const beyond = g < first ? first - g : g - last + 1;
    return cFromIndex(t, fivePrimeSide ? -beyond : len - 1 + beyond);
  }
  for (let i = 0; i + 1 < t.exonStarts.length; i++) {
    const left = t.exonEnds[i]! - 1;
    const right = t.exonStarts[i + 1]!;
    if (g <= left || g >= right) continue;
    const dl = g - left;
    const dr = right - g;
    // The 5' neighbour in transcript order is the left exon on '+', the right one on '-'.
    const [five, dFive, three, dThree] = plus ? [left, dl, right, dr] : [right, dr, left, dl];
    return dFive <= dThree ? `${cPosition(t, five)}+${dFive}` : `${cPosition(t, three)}-${dThree}`;
  }
  throw new Error(`cPosition: ${g} is inside ${t.id} but neither in an exon nor an intron`);
}

/** "c.76" or "c.76_78" for genomic bases `a` and `b` given in transcript order (5' first). */
export function cRange(t: Transcript, a: number, b: number): string {
  return a === b ? cPosition(t, a) : `${cPosition(t, a)}_${cPosition(t, b)}`;
}

/** One residue with its 1-based number: "Lys26". */
export function residue(protein: string, index0: number): string {
  return `${threeLetter(protein[index0] ?? 'X')}${index0 + 1}`;
}

/** "Lys26" or "Lys26_Gly28" for residues [from, to) of `protein` (0-based half-open, to > from). */
export function residueRange(protein: string, from: number, to: number): string {
  return to - from === 1 ? residue(protein, from) : `${residue(protein, from)}_${residue(protein, to - 1)}`;
}

export interface ProteinDiff {
  /** 0-based index of the first residue that differs. */
  at: number;
  /** Residues of the reference replaced, and those put in their place. */
  del: string;
  ins: string;
}

/**
 * The smallest difference between two proteins. Trimming the common prefix before the suffix puts
 * deletions, insertions and duplications in repeats on their 3'-most residues, the HGVS rule.
 */
export function proteinDiff(ref: string, alt: string): ProteinDiff {
  let p = 0;
  while (p < ref.length && p < alt.length && ref[p] === alt[p]) p++;
  let s = 0;
  while (s < ref.length - p && s < alt.length - p && ref[ref.length - 1 - s] === alt[alt.length - 1 - s]) s++;
  return { at: p, del: ref.slice(p, ref.length - s), ins: alt.slice(p, alt.length - s) };
}

/** The p. description of an in-frame change that leaves the stop where it was (`ref`, `alt`: whole proteins). */
export function proteinChange(ref: string, d: ProteinDiff): string {
  const { at: p, del, ins } = d;
  if (del.length === 0 && ins.length === 0) return 'p.=';
  if (del.length === 0) {
    const n = ins.length;
    if (p >= n && ref.slice(p - n, p) === ins) return `p.${residueRange(ref, p - n, p)}dup`;
    // Before Met1 or after the stop: start and stop changes are described by the caller.
    if (p === 0 || p >= ref.length) return 'p.?';
    return `p.${residue(ref, p - 1)}_${residue(ref, p)}ins${threeLetter(ins)}`;
  }
  if (ins.length === 0) return `p.${residueRange(ref, p, p + del.length)}del`;
  if (del.length === 1 && ins.length === 1) return `p.${residue(ref, p)}${threeLetter(ins)}`;
  return `p.${residueRange(ref, p, p + del.length)}delins${threeLetter(ins)}`;
}
