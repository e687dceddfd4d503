import type { Transcript } from '../transcript.ts';
import { SPLICE_DISTANCE } from './region.ts';

const UNSAFE = /[;=,&|\s]/;
const UNSAFE_ALL = /[;=,&|\s]/g;
const BUCKET_SHIFT = 16; // 64 kb buckets: a handful of transcripts each, long genes span a few dozen
/**
 * "No edge on this side": past the end of any chromosome (the longest human one has 249 Mb), and
 * still a small integer to V8, where Number.MAX_SAFE_INTEGER would turn the span's fields into
 * doubles and send the code that reads them back to be compiled again.
 */
const NO_EDGE = 2 ** 30 - 1;

interface ChromIndex {
  transcripts: Transcript[];
  /** Bucket number → indexes of transcripts whose span plus flank touches it. */
  buckets: Map<number, number[]>;
  /** For flanking genes: transcripts by end, and by start. */
  byEnd: Transcript[];
  byStart: Transcript[];
}

/**
 * A copy of `t` made by one object literal, so every transcript the index holds has the same shape
 * (whatever parser or spread made it): V8's optimized lookups then see one shape, not several. Ids
 * and symbols end up in INFO values, which may not hold ; = , & | or white space.
 */
function sameShape(t: Transcript): Transcript {
  return {
    id: UNSAFE.test(t.id) ? t.id.replace(UNSAFE_ALL, '_') : t.id,
    gene: UNSAFE.test(t.gene) ? t.gene.replace(UNSAFE_ALL, '_') : t.gene,
    chrom: t.chrom,
    strand: t.strand,
    start: t.start,
    end: t.end,
    cdsStart: t.cdsStart,
    cdsEnd: t.cdsEnd,
    exonStarts: t.exonStarts,
    exonEnds: t.exonEnds,
    biotype: t.biotype,
    // Always present (undefined when unknown), so every transcript has the one shape.
    geneId: t.geneId,
    mane: t.mane,
  };
}

/**
 * Transcripts by chromosome with a bucket index built once: a lookup costs one Map read and a scan
 * of a short list, whatever the input size, and needs no ordering of the input.
 */
export class TranscriptIndex {
  private readonly chroms = new Map<string, ChromIndex>();
  private lastChrom = '';
  private last: ChromIndex | undefined;

  constructor(
    transcripts: Transcript[],
    /** Distance within which a variant counts as upstream/downstream (ANNOVAR: 1 kb). */
    readonly flank = 1000,
  ) {
    const by = new Map<string, Transcript[]>();
    for (const source of transcripts) {
      const t = sameShape(source);
      let list = by.get(t.chrom);
      if (!list) by.set(t.chrom, (list = []));
      list.push(t);
    }
    for (const [chrom, list] of by) {
      list.sort((a, b) => a.start - b.start || a.end - b.end);
      const buckets = new Map<number, number[]>();
      list.forEach((t, i) => {
        const from = Math.max(0, t.start - flank) >> BUCKET_SHIFT;
        const to = (t.end + flank) >> BUCKET_SHIFT;
        for (let b = from; b <= to; b++) {
          let arr = buckets.get(b);
          if (!arr) buckets.set(b, (arr = []));
          arr.push(i);
        }
      });
      const byEnd = [...list].sort((a, b) => a.end - b.end);
      this.chroms.set(chrom, { transcripts: list, buckets, byEnd, byStart: list });
    }
  }

  get size(): number {
    let n = 0;
    for (const c of this.chroms.values()) n += c.transcripts.length;
    return n;
  }

  /** Up to `limit` transcripts of the first chromosome, in position order (for warming up). */
  examples(limit: number): Transcript[] {
    const first = this.chroms.values().next();
    return first.done ? [] : first.value.transcripts.slice(0, limit);
  }

  hasChrom(chrom: string): boolean {
    return this.chroms.has(chrom);
  }

  /**
   * Puts into `out` each transcript whose span extended by the flank overlaps [start, end) (an
   * empty span at x counts as touching the bases x-1 and x) and returns how many; `out` is the
   * caller's, reused from call to call, so the lookup allocates nothing.
   */
  near(chrom: string, start: number, end: number, out: Transcript[]): number {
    const c = chrom === this.lastChrom ? this.last : (this.last = this.chroms.get((this.lastChrom = chrom)));
    if (!c) return 0;
    const qs = end > start ? start : start - 1;
    const qe = end > start ? end : start + 1;
    const first = Math.max(0, qs - this.flank) >> BUCKET_SHIFT;
    const last = (qe + this.flank) >> BUCKET_SHIFT;
    let n = 0;
    for (let b = first; b <= last; b++) {
      const arr = c.buckets.get(b);
      if (!arr) continue;
      for (let k = 0; k < arr.length; k++) {
        const t = c.transcripts[arr[k]!]!;
        if (t.start - this.flank < qe && t.end + this.flank > qs) {
          // A transcript spanning several buckets is listed in each: keep its first sighting only.
          if (b > first) {
            const tf = Math.max(0, t.start - this.flank) >> BUCKET_SHIFT;
            if (b !== (tf > first ? tf : first)) continue;
          }
          out[n++] = t;
        }
      }
    }
    return n;
  }

  /**
   * The span [lo, hi) around base `x` in which every base sees the same transcripts within the
   * flank and, for each, the same feature (flank, exon, intron, splice site, UTR or CDS): the
   * range over which a single-base annotation cannot change. `near` holds the transcripts
   * `near()` found for x.
   */
  constantSpan(chrom: string, x: number, near: readonly Transcript[], n: number): { lo: number; hi: number } {
    const c = chrom === this.lastChrom ? this.last : this.chroms.get(chrom);
    let lo = 0;
    let hi = NO_EDGE;
    const edge = (b: number): void => {
      if (b <= x) {
        if (b > lo) lo = b;
      } else if (b < hi) hi = b;
    };
    const flank = this.flank;
    for (let i = 0; i < n; i++) {
      const t = near[i]!;
      edge(t.start - flank);
      edge(t.start);
      edge(t.end);
      edge(t.end + flank);
      edge(t.cdsStart);
      edge(t.cdsEnd);
      for (let k = 0; k < t.exonStarts.length; k++) {
        edge(t.exonStarts[k]!);
        edge(t.exonStarts[k]! - SPLICE_DISTANCE);
        edge(t.exonEnds[k]!);
        edge(t.exonEnds[k]! + SPLICE_DISTANCE);
      }
    }
    if (c) {
      // Transcripts not yet within the flank on the right, or already past it on the left.
      let a = 0;
      let b = c.byStart.length;
      while (a < b) {
        const mid = (a + b) >> 1;
        if (c.byStart[mid]!.start - flank <= x) a = mid + 1;
        else b = mid;
      }
      if (a < c.byStart.length) edge(c.byStart[a]!.start - flank);
      a = 0;
      b = c.byEnd.length;
      while (a < b) {
        const mid = (a + b) >> 1;
        if (c.byEnd[mid]!.end + flank <= x) a = mid + 1;
        else b = mid;
      }
      if (a > 0) edge(c.byEnd[a - 1]!.end + flank);
    }
    return { lo, hi };
  }

  /** The nearest transcript ending at or before `pos` and the nearest starting after it. */
  flanking(chrom: string, pos: number): { left?: Transcript; right?: Transcript } {
    const c = this.chroms.get(chrom);
    if (!c) return { left: undefined, right: undefined };
    // Last transcript with end <= pos.
    let lo = 0;
    let hi = c.byEnd.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (c.byEnd[mid]!.end <= pos) lo = mid + 1;
      else hi = mid;
    }
    const left = lo > 0 ? c.byEnd[lo - 1] : undefined;
    // First transcript with start > pos.
    lo = 0;
    hi = c.byStart.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (c.byStart[mid]!.start <= pos) lo = mid + 1;
      else hi = mid;
    }
    const right = lo < c.byStart.length ? c.byStart[lo] : undefined;
    return { left, right };
  }
}
