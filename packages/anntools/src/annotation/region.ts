// Region classes with ANNOVAR's precedence: exonic = splicing > ncRNA > UTR5/UTR3 > intronic >
// upstream/downstream > intergenic. Classes of equal rank combine ("exonic;splicing",
// "UTR5;UTR3", "upstream;downstream"), as ANNOVAR reports them.
import type { Transcript } from '../transcript.ts';
import { isCoding } from '../transcript.ts';
import type { TranscriptIndex } from './transcript-index.ts';

export type RegionClass =
  | 'exonic'
  | 'splicing'
  | 'ncRNA_exonic'
  | 'ncRNA_splicing'
  | 'ncRNA_intronic'
  | 'UTR5'
  | 'UTR3'
  | 'intronic'
  | 'upstream'
  | 'downstream'
  | 'intergenic';

/** Lower is stronger. ncRNA exonic and splice sites outrank ncRNA introns inside the ncRNA level. */
export const REGION_RANK: Readonly<Record<RegionClass, number>> = {
  exonic: 0,
  splicing: 0,
  ncRNA_exonic: 1,
  ncRNA_splicing: 1,
  ncRNA_intronic: 1.5,
  UTR5: 2,
  UTR3: 2,
  intronic: 3,
  upstream: 4,
  downstream: 4,
  intergenic: 5,
};
const ORDER: RegionClass[] = [
  'exonic',
  'splicing',
  'ncRNA_exonic',
  'ncRNA_splicing',
  'ncRNA_intronic',
  'UTR5',
  'UTR3',
  'intronic',
  'upstream',
  'downstream',
  'intergenic',
];

/** Intronic bases this close to an exon count as the splice site (ANNOVAR's default threshold). */
export const SPLICE_DISTANCE = 2;

export interface TranscriptHit {
  transcript: Transcript;
  classes: RegionClass[];
  /** 1-based, counted from the transcript's 5' end, where the variant touches an exon or intron. */
  exon?: number;
  intron?: number;
  /** For upstream/downstream: bases between the variant and the transcript. */
  distance?: number;
}

export interface Flank {
  gene: string;
  distance: number;
}

export interface RegionAnnotation {
  /** Combined class of the strongest rank, e.g. "exonic;splicing". */
  region: string;
  classes: RegionClass[];
  /** Gene symbols of the transcripts at that rank, in first-seen order. */
  genes: string[];
  hits: TranscriptHit[];
  /** For intergenic variants: the nearest genes on each side (distance to their nearest end). */
  left?: Flank;
  right?: Flank;
}

function exonNumber(t: Transcript, i: number): number {
  return t.strand === '+' ? i + 1 : t.exonStarts.length - i;
}
function intronNumber(t: Transcript, i: number /* intron after ascending exon i */): number {
  return t.strand === '+' ? i + 1 : t.exonStarts.length - 1 - i;
}

/** Classifies [s, e) (0-based, e > s) against one transcript whose flanked span it touches. */
export function classifyInTranscript(t: Transcript, s: number, e: number): TranscriptHit {
  const coding = isCoding(t);
  if (e <= t.start || s >= t.end) {
    const before = e <= t.start;
    const distance = before ? t.start - e + 1 : s - t.end + 1;
    const upstream = (t.strand === '+') === before;
    return { transcript: t, classes: [upstream ? 'upstream' : 'downstream'], distance };
  }
  const classes: RegionClass[] = [];
  const n = t.exonStarts.length;
  let exon: number | undefined;
  let intron: number | undefined;
  let inExon = false;
  let inSplice = false;
  for (let i = 0; i < n; i++) {
    const xs = t.exonStarts[i]!;
    const xe = t.exonEnds[i]!;
    if (s < xe && e > xs) {
      inExon = true;
      exon ??= exonNumber(t, i);
    }
    if (i < n - 1) {
      const ns = t.exonStarts[i + 1]!;
      if (s < ns && e > xe) {
        intron ??= intronNumber(t, i);
        // Donor and acceptor sites: the first and last SPLICE_DISTANCE bases of the intron.
        if ((s < xe + SPLICE_DISTANCE && e > xe) || (s < ns && e > ns - SPLICE_DISTANCE)) inSplice = true;
      }
    }
  }
  if (inExon) {
    if (!coding) classes.push('ncRNA_exonic');
    else if (s < t.cdsEnd && e > t.cdsStart) classes.push('exonic');
    else {
      const five = t.strand === '+' ? e <= t.cdsStart : s >= t.cdsEnd;
      classes.push(five ? 'UTR5' : 'UTR3');
    }
  }
  if (inSplice) classes.push(coding ? 'splicing' : 'ncRNA_splicing');
  if (!inExon && !inSplice) classes.push(coding ? 'intronic' : 'ncRNA_intronic');
  return { transcript: t, classes, exon: inExon ? exon : undefined, intron: inExon ? undefined : intron };
}

// Twice REGION_RANK, so every rank is a small integer (rank >> 1 is the level), and kept in Maps:
// V8 optimizes integer compares and Map lookups once, where a new key of a plain object or the
// first fractional rank would send the optimized code back to be compiled again.
const RANK2 = new Map<RegionClass, number>(ORDER.map((c) => [c, REGION_RANK[c] * 2]));
const BIT = new Map<RegionClass, number>(ORDER.map((c, i) => [c, 1 << i]));
const NO_RANK = 1 << 20;
/** The transcripts near the current variant; reused, since classifyRegion is called per allele. */
const near: Transcript[] = [];

function bestRank2(classes: RegionClass[]): number {
  let rank = NO_RANK;
  for (let k = 0; k < classes.length; k++) {
    const r = RANK2.get(classes[k]!)!;
    if (r < rank) rank = r;
  }
  return rank;
}

/**
 * The region annotation of one allele's span. An insertion (s === e) is classified by the base
 * before it, as ANNOVAR does with the VCF anchor base.
 */
export function classifyRegion(index: TranscriptIndex, chrom: string, start: number, end: number): RegionAnnotation {
  return classifyNear(index, chrom, start, end, index.near(chrom, end > start ? start : start - 1, end > start ? end : start, near));
}

/** classifyRegion over the `n` transcripts index.near() has just put into `near`. */
function classifyNear(index: TranscriptIndex, chrom: string, start: number, end: number, n: number): RegionAnnotation {
  const s = end > start ? start : start - 1;
  const e = end > start ? end : start;
  let best = NO_RANK;
  let hits: TranscriptHit[] = [];
  for (let i = 0; i < n; i++) {
    const hit = classifyInTranscript(near[i]!, s, e);
    const rank = bestRank2(hit.classes);
    if (rank < best) {
      best = rank;
      hits = [hit];
    } else if (rank === best) hits.push(hit);
  }
  if (hits.length === 0) {
    const { left, right } = index.flanking(chrom, s);
    return intergenic(left, right, s, e);
  }
  if (hits.length === 1 && hits[0]!.classes.length === 1) {
    return { region: hits[0]!.classes[0]!, classes: hits[0]!.classes, genes: [hits[0]!.transcript.gene], hits };
  }
  return mergeHits(hits, best);
}

/**
 * The annotation of several hits at the best rank `best` (or one hit with several classes).
 * Indexed loops, not for-of: this runs often enough to be optimized in every thread, and the
 * iterator code for-of brings would make its compilation several times larger.
 */
function mergeHits(hits: TranscriptHit[], best: number): RegionAnnotation {
  // Classes of the best level present in any hit; inside the ncRNA level only the strongest kind
  // is reported (exonic/splicing over intronic).
  const level = best >> 1;
  let levelBest = NO_RANK;
  for (let i = 0; i < hits.length; i++) {
    const cs = hits[i]!.classes;
    for (let k = 0; k < cs.length; k++) {
      const r = RANK2.get(cs[k]!)!;
      if (r >> 1 === level && r < levelBest) levelBest = r;
    }
  }
  let mask = 0;
  for (let i = 0; i < hits.length; i++) {
    const cs = hits[i]!.classes;
    for (let k = 0; k < cs.length; k++) {
      const r = RANK2.get(cs[k]!)!;
      if (r >> 1 === level && (level !== 1 || r === levelBest)) mask |= BIT.get(cs[k]!)!;
    }
  }
  const classes: RegionClass[] = [];
  for (let k = 0; k < ORDER.length; k++) if (mask & BIT.get(ORDER[k]!)!) classes.push(ORDER[k]!);
  const topHits: TranscriptHit[] = [];
  const genes: string[] = [];
  for (let i = 0; i < hits.length; i++) {
    const h = hits[i]!;
    let top = false;
    for (let k = 0; k < h.classes.length; k++) if (mask & BIT.get(h.classes[k]!)!) top = true;
    if (!top) continue;
    topHits.push(h);
    if (!genes.includes(h.transcript.gene)) genes.push(h.transcript.gene);
  }
  return { region: classes.length === 1 ? classes[0]! : classes.join(';'), classes, genes, hits: topHits };
}

// Shared by every intergenic annotation, so frozen.
const INTERGENIC = Object.freeze(['intergenic']) as RegionClass[];
const NO_GENES = Object.freeze([]) as unknown as string[];

/** [s, e) between the flanking transcripts, with the distance to each one's nearest end. */
function intergenic(left: Transcript | undefined, right: Transcript | undefined, s: number, e: number): RegionAnnotation {
  return {
    region: 'intergenic',
    classes: INTERGENIC,
    genes: NO_GENES,
    hits: [],
    left: left ? { gene: left.gene, distance: s - left.end + 1 } : undefined,
    right: right ? { gene: right.gene, distance: right.start - e + 1 } : undefined,
  };
}

/**
 * classifyRegion with a memory for single-base variants: sorted inputs put many SNVs in a row in
 * the same intron or exon, and their annotation is the same object as long as no feature edge lies
 * between them (TranscriptIndex.constantSpan). Annotations that depend on the exact position
 * (distances to upstream/downstream transcripts or flanking genes) are not kept.
 */
export class RegionClassifier {
  private chrom = '';
  private lo = 0;
  private hi = 0;
  private kept: RegionAnnotation | undefined;
  /** An intergenic gap: its bases share the flanking transcripts, only the distances change. */
  private gapChrom = '';
  private gapLo = 0;
  private gapHi = 0;
  private gapLeft: Transcript | undefined;
  private gapRight: Transcript | undefined;

  constructor(private readonly index: TranscriptIndex) {}

  /** The annotation being reused, so callers can cache what they derive from it. */
  get keptAnnotation(): RegionAnnotation | undefined {
    return this.kept;
  }

  classify(chrom: string, start: number, end: number): RegionAnnotation {
    const snv = end === start + 1;
    if (snv) {
      if (start >= this.lo && start < this.hi && chrom === this.chrom) return this.kept!;
      if (start >= this.gapLo && start < this.gapHi && chrom === this.gapChrom) return intergenic(this.gapLeft, this.gapRight, start, end);
    }
    const n = this.index.near(chrom, end > start ? start : start - 1, end > start ? end : start, near);
    if (snv && n === 0 && this.index.hasChrom(chrom)) {
      // No transcript within the flank: the same two neighbours flank every base up to the next
      // flanked transcript edge.
      const span = this.index.constantSpan(chrom, start, near, 0);
      const { left, right } = this.index.flanking(chrom, start);
      this.gapChrom = chrom;
      this.gapLo = span.lo;
      this.gapHi = span.hi;
      this.gapLeft = left;
      this.gapRight = right;
      return intergenic(left, right, start, end);
    }
    const r = classifyNear(this.index, chrom, start, end, n);
    if (snv && r.classes[0] !== 'intergenic' && r.hits.every((h) => h.distance === undefined)) {
      const span = this.index.constantSpan(chrom, start, near, n);
      this.chrom = chrom;
      this.lo = span.lo;
      this.hi = span.hi;
      this.kept = r;
    }
    return r;
  }
}
