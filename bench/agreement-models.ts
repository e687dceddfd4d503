// The gene models as the agreement study sees them, read from the same GFF3 features all three
// tools get: where to place test variants, which SNVs are "in a coding exon", and the facts about
// a transcript that explain a disagreement (no ATG at codon 1, no stop at the end, CDS length not
// a multiple of 3, N in the sequence). Independent of the engine under test.
import type { GffFeature } from './gff3.ts';

export interface ModelTranscript {
  id: string;
  gene: string;
  biotype: string;
  strand: '+' | '-';
  /** 1-based inclusive, ascending genomic order. */
  exons: Array<[number, number]>;
  /** Coding parts of the exons, 1-based inclusive, ascending; empty for non-coding transcripts. */
  cds: Array<[number, number]>;
  /** GFF3 phase of the 5'-most CDS piece: not 0 when the model starts inside a codon. */
  firstPhase: number;
  start: number;
  end: number;
}

/** Bases [start1, end1] (1-based inclusive) of the dataset's chromosome, uppercase. */
export type Fetch = (start1: number, end1: number) => string;

export function transcriptsFromGff3(features: GffFeature[]): ModelTranscript[] {
  const genes = new Map<string, GffFeature>();
  const byId = new Map<string, ModelTranscript>();
  for (const f of features) {
    const id = f.attrs.get('ID') ?? '';
    if (id.startsWith('gene:')) genes.set(id, f);
  }
  for (const f of features) {
    const id = f.attrs.get('ID') ?? '';
    if (!id.startsWith('transcript:')) continue;
    const gene = genes.get(f.attrs.get('Parent') ?? '');
    byId.set(id, {
      id: id.slice('transcript:'.length),
      gene: gene?.attrs.get('Name') ?? gene?.attrs.get('gene_id') ?? '',
      biotype: f.attrs.get('biotype') ?? 'unknown',
      strand: f.strand === '-' ? '-' : '+',
      exons: [],
      cds: [],
      firstPhase: 0,
      start: f.start,
      end: f.end,
    });
  }
  const phases = new Map<string, Array<[number, number]>>();
  for (const f of features) {
    if (f.type !== 'exon' && f.type !== 'CDS') continue;
    for (const p of (f.attrs.get('Parent') ?? '').split(',')) {
      const t = byId.get(p);
      if (!t) continue;
      (f.type === 'exon' ? t.exons : t.cds).push([f.start, f.end]);
      if (f.type === 'CDS') phases.set(t.id, [...(phases.get(t.id) ?? []), [f.start, Number(f.phase) || 0]]);
    }
  }
  const out = [...byId.values()].filter((t) => t.exons.length > 0);
  for (const t of out) {
    t.exons.sort((a, b) => a[0] - b[0]);
    t.cds.sort((a, b) => a[0] - b[0]);
    const ph = (phases.get(t.id) ?? []).sort((a, b) => a[0] - b[0]);
    if (ph.length) t.firstPhase = (t.strand === '+' ? ph[0]! : ph[ph.length - 1]!)[1];
  }
  return out.sort((a, b) => a.start - b.start || a.end - b.end || (a.id < b.id ? -1 : 1));
}

export const isCodingModel = (t: ModelTranscript) => t.cds.length > 0;

export function inCds(t: ModelTranscript, pos: number): boolean {
  return t.cds.some(([s, e]) => pos >= s && pos <= e);
}

export function inExon(t: ModelTranscript, pos: number): boolean {
  return t.exons.some(([s, e]) => pos >= s && pos <= e);
}

/** Every CDS position, ascending. */
export function cdsPositions(t: ModelTranscript): number[] {
  const out: number[] = [];
  for (const [s, e] of t.cds) for (let p = s; p <= e; p++) out.push(p);
  return out;
}

/** Introns as [first, last] intronic base, ascending. */
export function introns(t: ModelTranscript): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i + 1 < t.exons.length; i++) {
    const a = t.exons[i]![1] + 1;
    const b = t.exons[i + 1]![0] - 1;
    if (b >= a) out.push([a, b]);
  }
  return out;
}

const COMPLEMENT: Record<string, string> = { A: 'T', C: 'G', G: 'C', T: 'A' };
export function reverseComplement(s: string): string {
  let out = '';
  for (let i = s.length - 1; i >= 0; i--) out += COMPLEMENT[s[i]!] ?? 'N';
  return out;
}

/** The CDS in transcript orientation (stop codon included, as GFF3 and refFlat count it). */
export function cdsSequence(t: ModelTranscript, fetch: Fetch): string {
  const parts = t.cds.map(([s, e]) => fetch(s, e));
  return t.strand === '+' ? parts.join('') : reverseComplement(parts.join(''));
}

/** 0-based index in the CDS (transcript orientation) of genomic position `pos`, or -1. */
export function cdsIndex(t: ModelTranscript, pos: number): number {
  let before = 0;
  let at = -1;
  let total = 0;
  for (const [s, e] of t.cds) {
    if (pos >= s && pos <= e) at = before + (pos - s);
    if (e < pos) before += e - s + 1;
    total += e - s + 1;
  }
  if (at < 0) return -1;
  return t.strand === '+' ? at : total - 1 - at;
}

const STOPS = new Set(['TAA', 'TAG', 'TGA']);

/** What is odd about a coding model; the explanations of disagreements are built from these. */
export interface ModelFacts {
  cdsLength: number;
  startsWithAtg: boolean;
  endsWithStop: boolean;
  lengthMultipleOf3: boolean;
  internalStop: boolean;
  hasN: boolean;
  /** GFF3 phase of the first CDS piece in transcript orientation (non-zero: 5′-incomplete). */
  firstPhase: number;
}

export function modelFacts(t: ModelTranscript, fetch: Fetch): ModelFacts {
  const cds = cdsSequence(t, fetch);
  const firstPhase = t.firstPhase;
  let internalStop = false;
  for (let i = firstPhase; i + 3 <= cds.length - 3; i += 3) if (STOPS.has(cds.slice(i, i + 3))) internalStop = true;
  return {
    cdsLength: cds.length,
    startsWithAtg: cds.startsWith('ATG'),
    endsWithStop: STOPS.has(cds.slice(-3)),
    lengthMultipleOf3: cds.length % 3 === 0,
    internalStop,
    hasN: /[^ACGT]/.test(cds),
    firstPhase,
  };
}

/** A model that translates to M…* with no internal stop: the tools should agree on it. */
export function isCleanModel(f: ModelFacts): boolean {
  return f.startsWithAtg && f.endsWithStop && f.lengthMultipleOf3 && !f.internalStop && !f.hasN && f.firstPhase === 0;
}

/** The exonic bases after the CDS in transcript orientation: where a lost stop reads on to. */
export function threePrimeTail(t: ModelTranscript, fetch: Fetch): string {
  const plus = t.strand === '+';
  const cdsLo = t.cds[0]![0];
  const cdsHi = t.cds[t.cds.length - 1]![1];
  const parts: string[] = [];
  for (const [s, e] of t.exons) {
    const a = plus ? Math.max(s, cdsHi + 1) : s;
    const b = plus ? e : Math.min(e, cdsLo - 1);
    if (b >= a) parts.push(fetch(a, b));
  }
  return plus ? parts.join('') : reverseComplement(parts.join(''));
}

/** Distance from `pos` to the nearest base of `t` (0 inside it). */
export function distanceTo(t: ModelTranscript, pos: number): number {
  return pos < t.start ? t.start - pos : pos > t.end ? pos - t.end : 0;
}

/** How many coding models are clean, incomplete in which way, or have a start/stop codon split by an intron. */
export function summariseModels(ts: ModelTranscript[], fetch: Fetch): Record<string, number | string[]> {
  const out: Record<string, number | string[]> = { coding: 0, clean: 0, startSplit: 0, stopSplit: 0, splitCodons: 0 };
  const bump = (k: string) => (out[k] = ((out[k] as number | undefined) ?? 0) + 1);
  const list = (k: string, id: string) => (out[k] = [...((out[k] as string[] | undefined) ?? []), id]);
  for (const t of ts.filter(isCodingModel)) {
    bump('coding');
    const f = modelFacts(t, fetch);
    if (isCleanModel(f)) bump('clean');
    if (t.biotype !== 'protein_coding') list(`biotype ${t.biotype}`, t.id);
    if (f.firstPhase !== 0) list('5′-incomplete (phase ≠ 0)', t.id);
    else if (!f.startsWithAtg) list('codon 1 not ATG', t.id);
    if (!f.endsWithStop) list('no stop codon at the end', t.id);
    if (!f.lengthMultipleOf3) list('length not a multiple of 3', t.id);
    if (f.internalStop) list('internal stop (read from the phase)', t.id);
    if (f.hasN) list('N in the CDS', t.id);
    // A codon split by an intron: its three bases are not in one CDS piece.
    const piece = (i: number) =>
      t.cds.findIndex(([s, e]) => {
        const g = genomicOfIndex(t, i);
        return g >= s && g <= e;
      });
    const n = f.cdsLength;
    if (piece(0) !== piece(2)) bump('startSplit');
    if (piece(n - 3) !== piece(n - 1)) bump('stopSplit');
    for (let i = f.firstPhase; i + 3 <= n; i += 3) if (piece(i) !== piece(i + 2)) bump('splitCodons');
  }
  return out;
}

/** Genomic position of CDS index `i` (0-based, transcript orientation). */
function genomicOfIndex(t: ModelTranscript, i: number): number {
  const pieces = t.strand === '+' ? t.cds : [...t.cds].reverse();
  let k = i;
  for (const [s, e] of pieces) {
    const len = e - s + 1;
    if (k < len) return t.strand === '+' ? s + k : e - k;
    k -= len;
  }
  return -1;
}
