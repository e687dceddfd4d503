import type { Strand, Transcript } from '../transcript.ts';
import { GeneModelError } from './errors.ts';

/**
 * Digits only, so that '', '12a', '-1', '1e3' and ' 7' are refused: Number() would accept several of
 * them and a silently wrong coordinate is worse than an error. Returns -1 when not a plain integer.
 */
export function parseUint(text: string): number {
  const n = text.length;
  if (n === 0 || n > 15) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

export function parseStrand(text: string): Strand | null {
  return text === '+' || text === '-' ? text : null;
}

/**
 * What GTF and GFF3 collect per transcript while streaming, before the whole transcript is known.
 * Pieces are flat [start, end, start, end, ...] arrays, 0-based half-open, to keep millions of them cheap.
 */
export interface TranscriptParts {
  chrom: string;
  strand: Strand;
  /** First line that mentioned the transcript, for errors found only once it is complete. */
  line: number;
  exons: number[];
  /** CDS, codon and UTR pieces: the exon structure when a file has no exon features (GTF 2.2 allows it). */
  pieces: number[];
  cdsStart: number;
  cdsEnd: number;
  /** GFF3/GTF phase of the CDS piece at each end: the 5' one says how many bases precede its first whole codon. */
  phaseAtCdsStart: number;
  phaseAtCdsEnd: number;
}

export function newParts(chrom: string, strand: Strand, line: number): TranscriptParts {
  return { chrom, strand, line, exons: [], pieces: [], cdsStart: Infinity, cdsEnd: -Infinity, phaseAtCdsStart: 0, phaseAtCdsEnd: 0 };
}

/**
 * Adds one feature to a transcript's parts. CDS and start/stop codon features widen the coding span:
 * the engine reads refFlat's convention, whose CDS includes the stop codon. GTF's CDS stops before
 * it (the stop has its own stop_codon features) and Ensembl's GFF3 CDS includes it, so folding
 * codons into the span makes both agree (APP ENST00000346798: GFF3 CDS from 25881670, GTF CDS from
 * 25881673 with stop_codon 25881670-25881672). start_codon lies inside the CDS already; folding it
 * covers files whose CDS lines are missing.
 */
export function addPart(p: TranscriptParts, s: number, e: number, kind: 'exon' | 'coding' | 'other', phase = 0): void {
  if (kind === 'exon') {
    p.exons.push(s, e);
    return;
  }
  p.pieces.push(s, e);
  if (kind === 'coding') {
    if (s < p.cdsStart) {
      p.cdsStart = s;
      p.phaseAtCdsStart = phase;
    }
    if (e > p.cdsEnd) {
      p.cdsEnd = e;
      p.phaseAtCdsEnd = phase;
    }
  }
}

/** The phase column: 0, 1 or 2 for CDS features, '.' elsewhere (read as 0). */
export function parsePhase(text: string | undefined): number {
  return text === '1' ? 1 : text === '2' ? 2 : 0;
}

/** Sorted, exact duplicates dropped; overlapping (or, with merge, touching) pieces are joined when merge is set. */
function sortedIntervals(flat: number[], merge: boolean): { starts: number[]; ends: number[]; overlapAt: number } {
  const order: number[] = [];
  for (let i = 0; i < flat.length; i += 2) order.push(i);
  order.sort((a, b) => flat[a]! - flat[b]! || flat[a + 1]! - flat[b + 1]!);
  const starts: number[] = [];
  const ends: number[] = [];
  let overlapAt = -1;
  for (const i of order) {
    const s = flat[i]!;
    const e = flat[i + 1]!;
    const last = ends.length - 1;
    if (last >= 0 && s === starts[last] && e === ends[last]) continue;
    if (last >= 0 && (merge ? s <= ends[last]! : s < ends[last]!)) {
      if (!merge) {
        if (overlapAt < 0) overlapAt = last;
      } else {
        if (e > ends[last]!) ends[last] = e;
        continue;
      }
    }
    starts.push(s);
    ends.push(e);
  }
  return { starts, ends, overlapAt };
}

/** The position `n` exonic bases after `from` (0-based), stepping over introns. */
function stepForward(starts: number[], ends: number[], from: number, n: number): number {
  let pos = from;
  for (let i = 0; i < starts.length; i++) {
    if (ends[i]! <= pos) continue;
    const s = Math.max(starts[i]!, pos);
    if (ends[i]! - s > n) return s + n;
    n -= ends[i]! - s;
    pos = ends[i]!;
  }
  return pos;
}

/** The end (exclusive) `n` exonic bases before the exclusive end `from`, stepping over introns. */
function stepBack(starts: number[], ends: number[], from: number, n: number): number {
  let pos = from;
  for (let i = starts.length - 1; i >= 0; i--) {
    if (starts[i]! >= pos) continue;
    const e = Math.min(ends[i]!, pos);
    if (e - starts[i]! > n) return e - n;
    n -= e - starts[i]!;
    pos = starts[i]!;
  }
  return pos;
}

/** Inferred the way refFlat has to infer it, so that a biotype-less GTF gives what the refFlat would. */
export function inferBiotype(coding: boolean): string {
  return coding ? 'protein_coding' : 'ncRNA';
}

export function assemble(source: string, id: string, gene: string, biotype: string | undefined, parts: TranscriptParts): Transcript | null {
  const useExons = parts.exons.length > 0;
  if (!useExons && parts.pieces.length === 0) return null;
  const { starts, ends, overlapAt } = sortedIntervals(useExons ? parts.exons : parts.pieces, !useExons);
  if (overlapAt >= 0) {
    throw new GeneModelError(
      source,
      parts.line,
      'exon',
      `transcript ${id} has overlapping exons ${starts[overlapAt]! + 1}-${ends[overlapAt]} and ${starts[overlapAt + 1]! + 1}-${ends[overlapAt + 1]}`,
    );
  }
  const start = starts[0]!;
  const end = ends[ends.length - 1]!;
  let cdsStart = parts.cdsStart;
  let cdsEnd = parts.cdsEnd;
  const coding = cdsEnd > cdsStart;
  if (coding && (cdsStart < start || cdsEnd > end)) {
    throw new GeneModelError(
      source,
      parts.line,
      'CDS',
      `transcript ${id} has its CDS ${cdsStart + 1}-${cdsEnd} outside its exons ${start + 1}-${end}`,
    );
  }
  if (!coding) cdsStart = cdsEnd = end;
  // A model whose CDS starts mid-codon (an incomplete 5' end; GFF3/GTF phase 1 or 2): codons are
  // counted from the first whole one, as SnpEff and bcftools csq count them. The bases before it
  // belong to a codon the model does not hold, so they leave the CDS.
  const phase5 = parts.strand === '+' ? parts.phaseAtCdsStart : parts.phaseAtCdsEnd;
  if (coding && phase5 > 0 && cdsEnd - cdsStart > phase5) {
    if (parts.strand === '+') cdsStart = stepForward(starts, ends, cdsStart, phase5);
    else cdsEnd = stepBack(starts, ends, cdsEnd, phase5);
  }
  return {
    id,
    gene,
    chrom: parts.chrom,
    strand: parts.strand,
    start,
    end,
    cdsStart,
    cdsEnd,
    exonStarts: starts,
    exonEnds: ends,
    biotype: biotype ?? inferBiotype(coding),
  };
}
