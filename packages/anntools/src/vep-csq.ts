// Ensembl VEP's per-transcript output: the terms of every transcript near one allele (vep-terms.ts,
// with the coding term from codingConsequence), the most severe of them, and the `CSQ` INFO value
// in VEP's layout, so tools that read VEP's VCF (bcftools +split-vep, slivar, vcf2maf) read ours.
// It runs per allele in the hot loop: the transcripts and masks go into arrays kept per ALT slot,
// and the text is written straight into the output.
import type { TranscriptIndex } from './annotation/transcript-index.ts';
import type { CodingConsequence } from './annotation/consequence.ts';
import { hgvsCFromAllele } from './annotation/consequence.ts';
import { cPosition, numbering } from './annotation/hgvs.ts';
import { reverseComplement } from './annotation/codon-table.ts';
import { isCoding } from './transcript.ts';
import type { Transcript } from './transcript.ts';
import type { Allele } from './annotation/allele.ts';
import { IMPACTS, INTERGENIC, mostSevere, termBit, termsText, transcriptTerms } from './annotation/vep-terms.ts';
import type { ByteWriter } from './byte-writer.ts';

/** VEP's field names, in the order VEP writes them (its Constants.pm @FLAG_FIELDS order). */
export const CSQ_FIELDS = [
  'Allele',
  'Consequence',
  'IMPACT',
  'SYMBOL',
  'Gene',
  'Feature_type',
  'Feature',
  'BIOTYPE',
  'EXON',
  'INTRON',
  'HGVSc',
  'HGVSp',
  'cDNA_position',
  'CDS_position',
  'Protein_position',
  'Amino_acids',
  'Codons',
  'Existing_variation',
  'DISTANCE',
  'STRAND',
  'FLAGS',
  'SYMBOL_SOURCE',
  'HGNC_ID',
  'CANONICAL',
  'MANE_SELECT',
  'MANE_PLUS_CLINICAL',
] as const;

export const CSQ_HEADER = `##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. Format: ${CSQ_FIELDS.join('|')}">`;

/** One ALT's transcripts and their VEP terms; the arrays are reused from record to record. */
export interface VepAllele {
  /** Transcripts near the allele, and for each its term mask and its distance (flanks only). */
  n: number;
  tx: Transcript[];
  mask: number[];
  distance: number[];
  /** The coding consequence of each, or undefined. */
  coding: Array<CodingConsequence | undefined>;
  /** Index in TERMS of the most severe term over all transcripts (intergenic_variant when none); -1 when not annotated. */
  worst: number;
}

export function emptyVepAllele(): VepAllele {
  return { n: 0, tx: [], mask: [], distance: [], coding: [], worst: -1 };
}

const PIPE = 124;
const COMMA = 44;
const AMP = 38;
const SLASH = 47;
const DASH = 45;
const PLUS = 43;
const STAR = 42;
const UNDERSCORE = 95;
const GT = 62;

/** Computes the VEP terms of alleles over one reference's transcripts. */
export class VepTerms {
  private readonly near: Transcript[] = [];
  private readonly dist = { value: 0 };

  /** `codingUnknown`: no FASTA, so an allele in a CDS gets coding_sequence_variant. */
  constructor(
    private readonly index: TranscriptIndex,
    private readonly codingUnknown: boolean,
  ) {}

  /** Fills `out` for the allele [start, end) (0-based; an insertion when equal). */
  compute(out: VepAllele, chrom: string, start: number, end: number, cons: readonly CodingConsequence[]): void {
    const near = this.near;
    const n = this.index.near(chrom, end > start ? start : start - 1, end > start ? end : start, near);
    const vs = start + 1;
    const ve = start === end ? start : end;
    let all = 0;
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const t = near[i]!;
      let mask = transcriptTerms(t, vs, ve, this.codingUnknown, this.dist);
      let coding: CodingConsequence | undefined;
      for (let k = 0; k < cons.length; k++) {
        if (cons[k]!.transcriptId === t.id) {
          coding = cons[k];
          mask |= termBit(coding!.soTerm);
          break;
        }
      }
      if (mask === 0) continue;
      out.tx[kept] = t;
      out.mask[kept] = mask;
      out.distance[kept] = this.dist.value;
      out.coding[kept] = coding;
      kept++;
      all |= mask;
    }
    out.n = kept;
    out.worst = mostSevere(all === 0 ? INTERGENIC : all);
  }
}

/**
 * VEP's Allele for each ALT of a record: when any ALT is an indel and every allele begins with the
 * same base, that base is the VCF anchor and is dropped ('-' for nothing left), as VEP's VCF
 * parser does; otherwise the ALT as written.
 */
export function vepAlleles(ref: string, alts: readonly string[], out: string[]): void {
  let indel = false;
  let shared = ref.length > 0;
  const first = ref.charCodeAt(0) | 0x20;
  for (let i = 0; i < alts.length; i++) {
    const a = alts[i]!;
    if (a.length !== ref.length) indel = true;
    if (a.length === 0 || (a.charCodeAt(0) | 0x20) !== first) shared = false;
  }
  for (let i = 0; i < alts.length; i++) out[i] = indel && shared ? alts[i]!.slice(1) || '-' : alts[i]!;
}

/** 1-based position of genomic base g (1-based) in the transcript's cDNA, or 0 outside its exons. */
function cdnaPosition(t: Transcript, g: number): number {
  let before = 0;
  let total = 0;
  let found = 0;
  for (let i = 0; i < t.exonStarts.length; i++) {
    const xs = t.exonStarts[i]! + 1;
    const xe = t.exonEnds[i]!;
    if (g >= xs && g <= xe) found = before + (g - xs) + 1;
    if (xe < g) before += xe - xs + 1;
    total += xe - xs + 1;
  }
  if (found === 0) return 0;
  return t.strand === '+' ? found : total - found + 1;
}

/** "a-b" in transcript order, "a" for one base, "?" for a side outside the exons; nothing when neither is in. */
function writeRange(w: ByteWriter, a: number, b: number, single: boolean): void {
  if (a === 0 && b === 0) return;
  if (single) return a === 0 ? undefined : w.int(a);
  if (a === 0) w.byte(63 /* ? */);
  else w.int(a);
  w.byte(DASH);
  if (b === 0) w.byte(63);
  else w.int(b);
}

/** EXON or INTRON: "n/total" or "n-m/total", numbered from the transcript's 5' end, VEP's overlap rules. */
function writeNumbers(w: ByteWriter, t: Transcript, vs: number, ve: number, introns: boolean): void {
  const nExons = t.exonStarts.length;
  const count = introns ? nExons - 1 : nExons;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < count; i++) {
    const fs = introns ? t.exonEnds[i]! + 1 : t.exonStarts[i]! + 1;
    const fe = introns ? t.exonStarts[i + 1]! : t.exonEnds[i]!;
    if (!(ve >= fs && vs <= fe)) continue;
    const num = t.strand === '+' ? i + 1 : count - i;
    if (lo === 0 || num < lo) lo = num;
    if (num > hi) hi = num;
  }
  if (lo === 0) return;
  w.int(lo);
  if (hi !== lo) {
    w.byte(DASH);
    w.int(hi);
  }
  w.byte(SLASH);
  w.int(count);
}

/** Characters VEP does not leave in a CSQ value: ',' ';' '|' '=' and spaces. */
function isUnsafe(c: number): boolean {
  return c === 44 || c === 59 || c === 124 || c === 61 || c === 32;
}

/** `s` as VEP writes it in a CSQ value: a space as '_', the others as %XX. */
function csqValue(s: string): string {
  return s.replace(/[,;|= ]/g, (c) => (c === ' ' ? '_' : `%${c.charCodeAt(0).toString(16).toUpperCase()}`));
}

// A character loop, not a regular expression: it runs for several values of every CSQ entry.
function writeValue(w: ByteWriter, s: string): void {
  for (let i = 0; i < s.length; i++) {
    if (isUnsafe(s.charCodeAt(i))) return w.str(csqValue(s));
  }
  w.str(s);
}

/**
 * The parts of a transcript's CSQ entries that do not depend on the allele, encoded once per
 * transcript: SYMBOL to BIOTYPE, the Feature prefixes of HGVSc and HGVSp, and STRAND to the end.
 * They are most of an entry's bytes. With them, what positions on the transcript need (where each
 * exon starts in the cDNA, where c.1 is), so an allele's EXON, INTRON, cDNA_position and HGVSc are
 * found by a binary search over the exons and written as numbers, not built as strings.
 */
interface TranscriptCsq {
  /** "SYMBOL|Gene|Transcript|Feature|BIOTYPE|" */
  feature: Uint8Array;
  /** "Feature:" */
  hgvsC: Uint8Array;
  /** "Feature:c." or "Feature:n.": HGVSc described from the VCF's bases. */
  hgvsCn: Uint8Array;
  /** "protein:" (MANE's RefSeq protein, else the transcript) */
  hgvsP: Uint8Array;
  /** "|STRAND|FLAGS|SYMBOL_SOURCE|HGNC_ID|CANONICAL|MANE_SELECT|MANE_PLUS_CLINICAL" */
  tail: Uint8Array;
  /**
   * The exons are in order, none empty and none overlapping, so a base is in at most one exon or
   * intron and the binary search below finds it; otherwise the general code runs.
   */
  simple: boolean;
  plus: boolean;
  /** Exonic bases before each exon, in genomic order. */
  before: Int32Array;
  /** HGVS numbering (hgvs.ts): transcript index of c.1, bases numbered 1..len, exonic length. */
  first: number;
  len: number;
  exonic: number;
  /** What ends an entry without a coding consequence, rsID or distance: "||||||" (cDNA_position's end to DISTANCE's), then the tail. */
  end: Uint8Array;
  /**
   * The last head (writeHead) written for this transcript, for its term mask and where a one-base
   * allele or a flank is (sorted inputs give long runs of both).
   */
  lastMask: number;
  lastKey: number;
  lastHead: Uint8Array | null;
}

const TRANSCRIPT_CSQ = new WeakMap<Transcript, TranscriptCsq>();
const latin1 = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

function transcriptCsq(t: Transcript): TranscriptCsq {
  let c = TRANSCRIPT_CSQ.get(t);
  if (c === undefined) {
    const gene = t.mane?.gene ?? t.geneId;
    const m = t.mane;
    const starts = t.exonStarts;
    const ends = t.exonEnds;
    let simple = starts.length > 0 && starts.length === ends.length;
    const before = new Int32Array(starts.length);
    let sum = 0;
    for (let i = 0; i < starts.length; i++) {
      if (!(starts[i]! < ends[i]!) || (i > 0 && starts[i]! < ends[i - 1]!)) simple = false;
      before[i] = sum;
      sum += ends[i]! - starts[i]!;
    }
    const num = numbering(t);
    c = {
      feature: latin1(
        `${csqValue(t.gene)}|${gene !== undefined ? csqValue(gene) : ''}|Transcript|${csqValue(t.id)}|${csqValue(t.biotype)}|`,
      ),
      hgvsC: latin1(`${csqValue(t.id)}:`),
      hgvsCn: latin1(`${csqValue(t.id)}:${isCoding(t) ? 'c.' : 'n.'}`),
      hgvsP: latin1(`${csqValue(m?.protein ?? t.id)}:`),
      // FLAGS: VEP's cds_start_NF / cds_end_NF need the model's completeness, which the sources do not all give.
      tail: latin1(
        `|${t.strand === '+' ? '1' : '-1'}||${m?.hgnc ? 'HGNC' : ''}|${m?.hgnc ? csqValue(m.hgnc) : ''}|` +
          `${m?.select ? 'YES' : ''}|${m?.select ? csqValue(m.select) : ''}|${m?.plusClinical ? csqValue(m.plusClinical) : ''}`,
      ),
      end: new Uint8Array(0),
      simple,
      plus: t.strand === '+',
      before,
      first: num.first,
      len: num.len,
      exonic: num.exonic,
      lastMask: -1,
      lastKey: 0,
      lastHead: null,
    };
    c.end = concat(NO_CODING, PIPE_BYTES, c.tail);
    TRANSCRIPT_CSQ.set(t, c);
  }
  return c;
}

/** Where the allele of an entry is on its transcript, for the head's cache key: a flank. */
const FLANK = -3;
/** Not a one-base allele (or not a simple transcript): EXON and INTRON are worked out each time. */
const SPAN = -4;
/** Outside the exons (a base of the transcript's span before its first or after its last exon). */
const OUTSIDE = -1;

/**
 * Where 0-based base g is on a simple transcript: 2k in exon k, 2k + 1 in the intron after exon k
 * (genomic order), OUTSIDE before the first or after the last exon.
 */
function place(t: Transcript, g: number): number {
  const starts = t.exonStarts;
  let lo = 0;
  let hi = starts.length - 1;
  if (g < starts[0]!) return OUTSIDE;
  // The last exon starting at or before g.
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= g) lo = mid;
    else hi = mid - 1;
  }
  if (g < t.exonEnds[lo]!) return 2 * lo;
  return lo + 1 < starts.length ? 2 * lo + 1 : OUTSIDE;
}

/** Transcript index (0-based, from the 5' end) of base g in exon k. */
function exonIndex(t: Transcript, f: TranscriptCsq, k: number, g: number): number {
  const found = f.before[k]! + (g - t.exonStarts[k]!);
  return f.plus ? found : f.exonic - 1 - found;
}

/** The c. (n.) number of a transcript index, as hgvs.ts's cFromIndex gives it. */
function writeCIndex(w: ByteWriter, f: TranscriptCsq, index: number): void {
  const n = index - f.first;
  if (n < 0) {
    w.byte(DASH);
    w.int(-n);
  } else if (n < f.len) w.int(n + 1);
  else {
    w.byte(STAR);
    w.int(n - f.len + 1);
  }
}

/** hgvs.ts's cPosition(t, g) written as it is worked out; `p` is place(t, g). */
function writeCPosition(w: ByteWriter, t: Transcript, f: TranscriptCsq, g: number, p: number): void {
  if (p < 0) return w.str(cPosition(t, g));
  const k = p >> 1;
  if ((p & 1) === 0) return writeCIndex(w, f, exonIndex(t, f, k, g));
  const left = t.exonEnds[k]! - 1;
  const right = t.exonStarts[k + 1]!;
  const dl = g - left;
  const dr = right - g;
  // The 5' neighbour in transcript order is the left exon on '+', the right one on '-'; an intron
  // base exactly in the middle counts from the 5' side.
  const dFive = f.plus ? dl : dr;
  const dThree = f.plus ? dr : dl;
  if (dFive <= dThree) {
    writeCIndex(w, f, f.plus ? exonIndex(t, f, k, left) : exonIndex(t, f, k + 1, right));
    w.byte(PLUS);
    w.int(dFive);
  } else {
    writeCIndex(w, f, f.plus ? exonIndex(t, f, k + 1, right) : exonIndex(t, f, k, left));
    w.byte(DASH);
    w.int(dThree);
  }
}

// The complement of each base as reverseComplement gives it.
const COMPLEMENT_BYTE = new Uint8Array(256);
for (let c = 0; c < 256; c++) COMPLEMENT_BYTE[c] = reverseComplement(String.fromCharCode(c)).charCodeAt(0);

/** Bases of the allele in transcript order: reverse-complemented on '-'. */
function writeBases(w: ByteWriter, s: string, plus: boolean): void {
  if (plus) return w.str(s);
  for (let i = s.length - 1; i >= 0; i--) w.byte(COMPLEMENT_BYTE[s.charCodeAt(i) & 255]!);
}

/**
 * HGVSc of an allele inside a simple transcript described from the VCF's bases, after its
 * "Feature:c." prefix: hgvsCFromAllele's text (consequence.ts), written as it is worked out. Its characters
 * (digits, bases, + - * _ > and the words) need no CSQ escape. `at` is place(t, start) for a
 * one-base allele, else SPAN.
 */
function writeHgvsC(w: ByteWriter, t: Transcript, f: TranscriptCsq, a: Allele, at: number): void {
  const plus = f.plus;
  const { start, end } = a;
  if (at !== SPAN && a.kind === 'snv') {
    // place(t, start) is `at` already.
    writeCPosition(w, t, f, start, at);
    writeBases(w, a.ref, plus);
    w.byte(GT);
    return writeBases(w, a.alt, plus);
  }
  if (start === end) {
    const x = plus ? start - 1 : start;
    const y = plus ? start : start - 1;
    writeCPosition(w, t, f, x, place(t, x));
    w.byte(UNDERSCORE);
    writeCPosition(w, t, f, y, place(t, y));
    w.copy(INS);
    return writeBases(w, a.alt, plus);
  }
  const first = plus ? start : end - 1;
  const last = plus ? end - 1 : start;
  writeCPosition(w, t, f, first, place(t, first));
  if (last !== first) {
    w.byte(UNDERSCORE);
    writeCPosition(w, t, f, last, place(t, last));
  }
  if (a.kind === 'snv') {
    writeBases(w, a.ref, plus);
    w.byte(GT);
    return writeBases(w, a.alt, plus);
  }
  if (a.kind === 'deletion') return w.copy(DEL);
  w.copy(DELINS);
  writeBases(w, a.alt, plus);
}

/** cdnaPosition(t, g) (g 1-based) on a simple transcript. */
function cdnaOf(t: Transcript, f: TranscriptCsq, g: number): number {
  const p = place(t, g - 1);
  return p >= 0 && (p & 1) === 0 ? exonIndex(t, f, p >> 1, g - 1) + 1 : 0;
}

const INS = latin1('ins');
const DEL = latin1('del');
const DELINS = latin1('delins');
/** CDS_position to Codons, empty: "|||||" after cDNA_position. */
const NO_CODING = latin1('|||||');
const PIPE_BYTES = latin1('|');

/** "Consequence|IMPACT|" of a term mask, encoded once per mask. */
const TERMS_CSQ = new Map<number, Uint8Array>();
function termsCsq(mask: number): Uint8Array {
  let b = TERMS_CSQ.get(mask);
  if (b === undefined) {
    b = latin1(`${termsText(mask)}|${IMPACTS[mostSevere(mask)]!}|`);
    TERMS_CSQ.set(mask, b);
  }
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

// What follows an entry's head (writeHead): the kinds of HGVSc.
/** A flank: no HGVSc, nor anything up to Existing_variation. */
const HEAD_FLANK = 0;
/** A coding consequence's HGVSc: "Feature:" follows. */
const HEAD_CODING = 1;
/** HGVSc from the VCF's bases, written here: "Feature:c." follows. */
const HEAD_FROM_VCF = 2;
/** HGVSc from the VCF's bases as hgvsCFromAllele gives it (a transcript that is not simple): "Feature:" follows. */
const HEAD_FROM_VCF_TEXT = 3;

/** After a flank's INTRON: HGVSc to Codons, empty. */
const FLANK_MIDDLE = latin1('|||||||');

/**
 * The head of an entry, "|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|EXON|INTRON|",
 * with what follows it up to the HGVSc value (`kind`). For a one-base allele or a flank it is the
 * same for every allele with the same terms in the same exon or intron (`at`, from place()), and
 * kept per transcript while they repeat; SPAN works it out each time.
 */
function writeHead(w: ByteWriter, t: Transcript, f: TranscriptCsq, mask: number, at: number, kind: number, vs: number, ve: number): void {
  const key = at * 4 + kind;
  if (at !== SPAN && f.lastMask === mask && f.lastKey === key) return w.copy(f.lastHead!);
  const from = w.size;
  w.byte(PIPE);
  w.copy(termsCsq(mask));
  w.copy(f.feature);
  if (at !== FLANK) writeNumbers(w, t, vs, ve, false);
  w.byte(PIPE);
  if (at !== FLANK) writeNumbers(w, t, vs, ve, true);
  w.byte(PIPE);
  if (kind === HEAD_FLANK) w.copy(FLANK_MIDDLE);
  else if (kind === HEAD_FROM_VCF) w.copy(f.hgvsCn);
  else w.copy(f.hgvsC);
  if (at !== SPAN) {
    f.lastMask = mask;
    f.lastKey = key;
    f.lastHead = w.copyFrom(from);
  }
}

/**
 * The CSQ entries of one annotated ALT, each "|"-separated in CSQ_FIELDS order, joined by ",";
 * `first` says whether an entry was written before this ALT's (then a "," comes first).
 * An allele with no transcript near gets VEP's one intergenic_variant entry.
 */
export function writeCsqEntries(w: ByteWriter, v: VepAllele, allele: string, a: Allele, rs: readonly number[], first: boolean): void {
  const { start, end } = a;
  const vs = start + 1;
  const ve = start === end ? start : end;
  if (v.n === 0) {
    if (!first) w.byte(COMMA);
    w.str(allele);
    w.copy(INTERGENIC_ENTRY);
    writeRsids(w, rs);
    w.copy(INTERGENIC_TAIL);
    return;
  }
  const oneBase = end === start + 1;
  for (let i = 0; i < v.n; i++) {
    const t = v.tx[i]!;
    const mask = v.mask[i]!;
    const c = v.coding[i];
    const fixed = transcriptCsq(t);
    if (!first || i > 0) w.byte(COMMA);
    w.str(allele);
    const distance = v.distance[i]!;
    if (distance > 0) {
      writeHead(w, t, fixed, mask, FLANK, HEAD_FLANK, vs, ve);
      writeRsids(w, rs);
      w.byte(PIPE);
      w.int(distance);
      w.copy(fixed.tail);
      continue;
    }
    const at = oneBase && fixed.simple ? place(t, start) : SPAN;
    if (c) {
      writeHead(w, t, fixed, mask, at, HEAD_CODING, vs, ve);
      writeValue(w, c.hgvsC);
    } else if (fixed.simple) {
      writeHead(w, t, fixed, mask, at, HEAD_FROM_VCF, vs, ve);
      writeHgvsC(w, t, fixed, a, at);
    } else {
      writeHead(w, t, fixed, mask, at, HEAD_FROM_VCF_TEXT, vs, ve);
      writeValue(w, hgvsCFromAllele(t, a));
    }
    w.byte(PIPE);
    if (c && c.hgvsP !== 'p.?') {
      w.copy(fixed.hgvsP);
      writeValue(w, c.hgvsP);
    }
    w.byte(PIPE);
    if (at >= 0) {
      if ((at & 1) === 0) w.int(exonIndex(t, fixed, at >> 1, start) + 1);
    } else {
      const insertion = start === end;
      // In transcript order: on '-' the genomic right end comes first.
      const ga = t.strand === '+' ? (insertion ? ve : vs) : insertion ? vs : ve;
      const gb = t.strand === '+' ? (insertion ? vs : ve) : insertion ? ve : vs;
      const pa = fixed.simple ? cdnaOf(t, fixed, ga) : cdnaPosition(t, ga);
      const pb = fixed.simple ? cdnaOf(t, fixed, gb) : cdnaPosition(t, gb);
      writeRange(w, pa, pb, !insertion && vs === ve);
    }
    if (c) {
      w.byte(PIPE);
      if (c.cdsPosition !== undefined) writeCodingRange(w, c, start, end);
      w.byte(PIPE);
      if (c.proteinPosition !== undefined) writeProteinRange(w, c, start, end);
      w.byte(PIPE);
      if (c.aminoAcidChange) writeValue(w, c.aminoAcidChange);
      w.byte(PIPE);
      if (c.codonChange) writeValue(w, c.codonChange);
      w.byte(PIPE);
    } else if (rs.length === 0) {
      w.copy(fixed.end);
      continue;
    } else w.copy(NO_CODING);
    writeRsids(w, rs);
    w.byte(PIPE);
    w.copy(fixed.tail);
  }
}

const INTERGENIC_ENTRY = latin1('|intergenic_variant|MODIFIER|||||||||||||||');
const INTERGENIC_TAIL = latin1('||||||||');

function writeRsids(w: ByteWriter, rs: readonly number[]): void {
  for (let i = 0; i < rs.length; i++) {
    if (i > 0) w.byte(AMP);
    w.str('rs');
    w.int(rs[i]!);
  }
}

/** CDS_position as VEP writes it: "76", "76-78", and an insertion as the two bases around it ("76-77"). */
function writeCodingRange(w: ByteWriter, c: CodingConsequence, start: number, end: number): void {
  const first = c.cdsPosition!;
  w.int(first);
  const last = start === end ? first + 1 : first + (end - start) - 1;
  if (last > first) {
    w.byte(DASH);
    w.int(last);
  }
}

/** Protein_position: "26", "26-27" when the allele spans codons. */
function writeProteinRange(w: ByteWriter, c: CodingConsequence, start: number, end: number): void {
  const first = c.proteinPosition!;
  const cds = c.cdsPosition!;
  const lastBase = start === end ? cds + 1 : cds + (end - start) - 1;
  const last = Math.floor((lastBase - 1) / 3) + 1;
  w.int(first);
  if (last > first) {
    w.byte(DASH);
    w.int(last);
  }
}
