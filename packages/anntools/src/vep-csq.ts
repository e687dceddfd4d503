// Ensembl VEP's per-transcript output: the terms of every transcript near one allele (vep-terms.ts,
// with the coding term from codingConsequence), the most severe of them, and the `CSQ` INFO value
// in VEP's layout, so tools that read VEP's VCF (bcftools +split-vep, slivar, vcf2maf) read ours.
// It runs per allele in the hot loop: the transcripts and masks go into arrays kept per ALT slot,
// and the text is written straight into the output.
import type { Transcript } from './transcript.ts';
import type { TranscriptIndex } from './annotation/transcript-index.ts';
import type { CodingConsequence } from './annotation/consequence.ts';
import { hgvsCFromAllele } from './annotation/consequence.ts';
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
 * They are most of an entry's bytes.
 */
interface TranscriptCsq {
  /** "SYMBOL|Gene|Transcript|Feature|BIOTYPE|" */
  feature: Uint8Array;
  /** "Feature:" */
  hgvsC: Uint8Array;
  /** "protein:" (MANE's RefSeq protein, else the transcript) */
  hgvsP: Uint8Array;
  /** "|STRAND|FLAGS|SYMBOL_SOURCE|HGNC_ID|CANONICAL|MANE_SELECT|MANE_PLUS_CLINICAL" */
  tail: Uint8Array;
}

const TRANSCRIPT_CSQ = new WeakMap<Transcript, TranscriptCsq>();
const latin1 = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

function transcriptCsq(t: Transcript): TranscriptCsq {
  let c = TRANSCRIPT_CSQ.get(t);
  if (c === undefined) {
    const gene = t.mane?.gene ?? t.geneId;
    const m = t.mane;
    c = {
      feature: latin1(
        `${csqValue(t.gene)}|${gene !== undefined ? csqValue(gene) : ''}|Transcript|${csqValue(t.id)}|${csqValue(t.biotype)}|`,
      ),
      hgvsC: latin1(`${csqValue(t.id)}:`),
      hgvsP: latin1(`${csqValue(m?.protein ?? t.id)}:`),
      // FLAGS: VEP's cds_start_NF / cds_end_NF need the model's completeness, which the sources do not all give.
      tail: latin1(
        `|${t.strand === '+' ? '1' : '-1'}||${m?.hgnc ? 'HGNC' : ''}|${m?.hgnc ? csqValue(m.hgnc) : ''}|` +
          `${m?.select ? 'YES' : ''}|${m?.select ? csqValue(m.select) : ''}|${m?.plusClinical ? csqValue(m.plusClinical) : ''}`,
      ),
    };
    TRANSCRIPT_CSQ.set(t, c);
  }
  return c;
}

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
    w.str('|intergenic_variant|MODIFIER|||||||||||||||');
    writeRsids(w, rs);
    w.str('||||||||');
    return;
  }
  for (let i = 0; i < v.n; i++) {
    const t = v.tx[i]!;
    const mask = v.mask[i]!;
    const c = v.coding[i];
    const fixed = transcriptCsq(t);
    if (!first || i > 0) w.byte(COMMA);
    w.str(allele);
    w.byte(PIPE);
    w.copy(termsCsq(mask));
    w.copy(fixed.feature);
    const flank = v.distance[i]! > 0;
    if (!flank) writeNumbers(w, t, vs, ve, false);
    w.byte(PIPE);
    if (!flank) writeNumbers(w, t, vs, ve, true);
    w.byte(PIPE);
    // Within the transcript but not coding (intron, UTR, non-coding: n.), from the VCF's bases.
    const hgvsC = c ? c.hgvsC : flank ? undefined : hgvsCFromAllele(t, a);
    if (hgvsC !== undefined) {
      w.copy(fixed.hgvsC);
      writeValue(w, hgvsC);
    }
    w.byte(PIPE);
    if (c && c.hgvsP !== 'p.?') {
      w.copy(fixed.hgvsP);
      writeValue(w, c.hgvsP);
    }
    w.byte(PIPE);
    if (!flank) {
      const insertion = start === end;
      // In transcript order: on '-' the genomic right end comes first.
      const a = cdnaPosition(t, t.strand === '+' ? (insertion ? ve : vs) : insertion ? vs : ve);
      const b = cdnaPosition(t, t.strand === '+' ? (insertion ? vs : ve) : insertion ? ve : vs);
      writeRange(w, a, b, !insertion && vs === ve);
    }
    w.byte(PIPE);
    if (c && c.cdsPosition !== undefined) writeCodingRange(w, c, start, end);
    w.byte(PIPE);
    if (c && c.proteinPosition !== undefined) writeProteinRange(w, c, start, end);
    w.byte(PIPE);
    if (c?.aminoAcidChange) writeValue(w, c.aminoAcidChange);
    w.byte(PIPE);
    if (c?.codonChange) writeValue(w, c.codonChange);
    w.byte(PIPE);
    writeRsids(w, rs);
    w.byte(PIPE);
    if (flank) w.int(v.distance[i]!);
    w.copy(fixed.tail);
  }
}

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
