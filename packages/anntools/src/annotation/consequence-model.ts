// The coding sequence of a transcript in transcript orientation, and the map between genomic
// positions and CDS positions.
import type { Transcript } from '../transcript.ts';
import type { SequenceSource } from '../reference.ts';
import { reverseComplement } from './codon-table.ts';

export type { SequenceSource } from '../reference.ts';

/** One exon's coding part. */
export interface CodingSegment {
  /** Genomic span, 0-based half-open. */
  gStart: number;
  gEnd: number;
  /** CDS index (0-based, transcript orientation) of the segment's 5'-most base. */
  cStart: number;
}

export interface CodingLayout {
  plus: boolean;
  /** Coding segments in transcript order (descending genomic order on '-'). */
  segments: CodingSegment[];
  /** CDS length including the stop codon. */
  length: number;
}

export function codingLayout(t: Transcript): CodingLayout {
  const plus = t.strand === '+';
  const spans: Array<[number, number]> = [];
  for (let i = 0; i < t.exonStarts.length; i++) {
    const s = Math.max(t.exonStarts[i]!, t.cdsStart);
    const e = Math.min(t.exonEnds[i]!, t.cdsEnd);
    if (e > s) spans.push([s, e]);
  }
  if (!plus) spans.reverse();
  const segments: CodingSegment[] = [];
  let length = 0;
  for (const [s, e] of spans) {
    segments.push({ gStart: s, gEnd: e, cStart: length });
    length += e - s;
  }
  return { plus, segments, length };
}

/** The segment holding genomic base `g`, or undefined outside the CDS. */
export function segmentAt(layout: CodingLayout, g: number): CodingSegment | undefined {
  for (const seg of layout.segments) if (g >= seg.gStart && g < seg.gEnd) return seg;
  return undefined;
}

/** CDS index (0-based, transcript orientation) of genomic base `g`, or undefined outside the CDS. */
export function cdsIndexOf(layout: CodingLayout, g: number): number | undefined {
  const seg = segmentAt(layout, g);
  if (!seg) return undefined;
  return layout.plus ? seg.cStart + (g - seg.gStart) : seg.cStart + (seg.gEnd - 1 - g);
}

/** The segment holding CDS index `i`. */
export function segmentOfIndex(layout: CodingLayout, i: number): CodingSegment | undefined {
  for (const seg of layout.segments) if (i >= seg.cStart && i < seg.cStart + (seg.gEnd - seg.gStart)) return seg;
  return undefined;
}

/** Genomic base of CDS index `i` (0 ≤ i < length). */
export function genomicOf(layout: CodingLayout, i: number): number {
  const seg = segmentOfIndex(layout, i);
  if (!seg) throw new RangeError(`CDS index ${i} is outside 0..${layout.length - 1}`);
  return layout.plus ? seg.gStart + (i - seg.cStart) : seg.gEnd - 1 - (i - seg.cStart);
}

function fetchExact(seq: SequenceSource, chrom: string, start: number, end: number): string {
  const bases = seq.fetch(chrom, start, end).toUpperCase();
  // A source clips at the sequence end; a short answer means the bases are not there to judge.
  if (bases.length !== end - start)
    throw new Error(`${chrom}:${start}-${end}: the sequence source gave ${bases.length} of ${end - start} bases`);
  return bases;
}

/**
 * The CDS of `t` from cdsStart to cdsEnd (stop codon included, as refFlat counts it), uppercase, in
 * transcript orientation. Throws when the source cannot give every base.
 */
export function codingSequence(t: Transcript, seq: SequenceSource, layout: CodingLayout = codingLayout(t)): string {
  let out = '';
  for (const seg of layout.segments) {
    const bases = fetchExact(seq, t.chrom, seg.gStart, seg.gEnd);
    out += layout.plus ? bases : reverseComplement(bases);
  }
  return out;
}

/** The 3' UTR in transcript orientation: where a lost stop or a shifted frame reads on to. */
export function threePrimeUtr(t: Transcript, seq: SequenceSource): string {
  const plus = t.strand === '+';
  let out = '';
  const idx = t.exonStarts.map((_, i) => i);
  if (!plus) idx.reverse();
  for (const i of idx) {
    const s = plus ? Math.max(t.exonStarts[i]!, t.cdsEnd) : t.exonStarts[i]!;
    const e = plus ? t.exonEnds[i]! : Math.min(t.exonEnds[i]!, t.cdsStart);
    if (e <= s) continue;
    const bases = fetchExact(seq, t.chrom, s, e);
    out += plus ? bases : reverseComplement(bases);
  }
  return out;
}

export interface TranscriptSequence {
  layout: CodingLayout;
  /** undefined when the source could not give the CDS. */
  cds?: string;
  /** '' when the transcript has no 3' UTR or the source could not give it. */
  utr3: string;
  /** The CDS translated, filled in by the first caller that needs it. */
  protein?: string;
}

/*
 * Variants come sorted, so neighbouring calls ask for the same few transcripts: a small LRU per
 * source saves refetching and re-splicing the CDS (a whole gene's worth) for every variant in it,
 * while keeping memory flat on a whole genome. Keyed weakly by the source so a closed reader and its
 * entries go together.
 */
const CACHE_SIZE = 32;
const cache = new WeakMap<SequenceSource, Map<Transcript, TranscriptSequence>>();

export function transcriptSequence(t: Transcript, seq: SequenceSource): TranscriptSequence {
  let perSource = cache.get(seq);
  if (!perSource) {
    perSource = new Map();
    cache.set(seq, perSource);
  }
  const hit = perSource.get(t);
  if (hit) {
    perSource.delete(t);
    perSource.set(t, hit);
    return hit;
  }
  const layout = codingLayout(t);
  let cds: string | undefined;
  let utr3 = '';
  try {
    cds = codingSequence(t, seq, layout);
  } catch {
    cds = undefined;
  }
  if (cds !== undefined) {
    try {
      utr3 = threePrimeUtr(t, seq);
    } catch {
      utr3 = '';
    }
  }
  const built: TranscriptSequence = { layout, cds, utr3 };
  perSource.set(t, built);
  if (perSource.size > CACHE_SIZE) perSource.delete(perSource.keys().next().value!);
  return built;
}
