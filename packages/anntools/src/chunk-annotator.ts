// Annotates the data lines of one chunk: validation of the fixed columns, per-ALT region, genes,
// rsIDs and consequences, the annotated VCF line and the TSV rows, and the counts for the summary.
// It is synchronous and self-contained so it runs the same in this thread and in a worker.
//
// Text is handled as latin1: one char per byte, so the bytes of every column come back out exactly
// as they went in (UTF-8 included) and encoding the output costs a copy, not a transcoding.
import { canonicalChrom } from './chrom-alias.ts';
import { VcfFormatError } from './vcf-error.ts';
import { reduceAllele, isSequenceAllele, whyNotAnnotated } from './annotation/allele.ts';
import type { Allele, AlleleKind } from './annotation/allele.ts';
import { RegionClassifier } from './annotation/region.ts';
import type { RegionAnnotation } from './annotation/region.ts';
import { codingConsequence } from './annotation/consequence.ts';
import type { CodingConsequence } from './annotation/consequence.ts';
import { emptyCounts, TI_TV, TRANSITION, TRANSVERSION } from './annotation/summary.ts';
import type { AnnotationCounts, OutsideChromosome } from './annotation/summary.ts';
import { primaryLength } from './genome-build.ts';
import type { Reference } from './reference.ts';
import { ByteWriter } from './byte-writer.ts';
import { RegionText } from './region-text.ts';
import { emptyVepAllele, vepAlleles, VepTerms, writeCsqEntries } from './vep-csq.ts';
import type { VepAllele } from './vep-csq.ts';
import { TERMS } from './annotation/vep-terms.ts';

export interface ChunkResult {
  /**
   * The output in pieces of about PIECE_BYTES, cut between lines: pieces of one size are reused
   * from chunk to chunk whatever a chunk's output comes to (with CSQ, from 1 to 20 MB).
   */
  vcf: Uint8Array[];
  tsv: Uint8Array[] | null;
  /** Lines in the chunk, blank ones included, so the caller can number the next chunk's. */
  lines: number;
  counts: AnnotationCounts;
  /** Records outside their chromosome, null when none. */
  outside: OutsideChromosome | null;
  /** The first bad line, numbered from 1 within the chunk; lines before it are in vcf and tsv. */
  error?: { line: number; field: string; reason: string };
}

export interface ChunkAnnotatorOptions {
  reference?: Reference;
  /** Write the TSV (one row per variant allele); only with a reference. */
  tsv: boolean;
  /** Write Ensembl VEP's per-transcript CSQ INFO field (with a reference). */
  csq: boolean;
  maxLineBytes: number;
  /** VCF 3.3 writes indels as I<bases> / D<length>; they are accepted and passed through, not guessed. */
  vcf33: boolean;
  /** Starting size of the output buffers (they grow); the warm-up starts small so growing is warmed up too. */
  outputBytes?: number;
  /** Output bytes at which a piece of the output is cut (PIECE_BYTES); the warm-up cuts small ones. */
  pieceBytes?: number;
}

/** Output bytes per piece of a chunk's output (ChunkResult). */
export const PIECE_BYTES = 1 << 20;

// Byte classes for the fixed columns.
const BASE = new Uint8Array(256);
for (const c of 'ACGTNacgtn') BASE[c.charCodeAt(0)] = 1;
const CHAR: string[] = [];
for (let i = 0; i < 256; i++) CHAR[i] = String.fromCharCode(i);
const UPPER: string[] = CHAR.map((c) => c.toUpperCase());
const SYMBOLIC = /^<[^<>]+>$/;
// Breakend notation: t[p[, t]p], ]p]t, [p[t, and single breakends .t / t.; a breakend at a
// telomere (POS 0 or length + 1, REF N) writes `.` for t: `.[13:123457[` (VCF 4.3, 5.4.8).
const BREAKEND = /^(([ACGTNacgtn]*|\.)[[\]][^[\]]+[[\]]([ACGTNacgtn]*|\.)|\.[ACGTNacgtn]+|[ACGTNacgtn]+\.)$/;
const VCF33_INDEL = /^(D\d+|I[ACGTNacgtn]+)$/;
const WHITESPACE = /\s/;

/** The GAS_SKIP reason of an ALT whose POS is not a base of its chromosome. */
const OUTSIDE_CHROMOSOME = 'outside_chromosome';

const IMPACT_RANK: Record<string, number> = { HIGH: 0, MODERATE: 1, LOW: 2, MODIFIER: 3 };

function isBases(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (BASE[s.charCodeAt(i) & 255] !== 1) return false;
  return true;
}

/**
 * Where the tabs of the fixed columns are, into `tabs`; returns how many (at most 8). Only the
 * eight fixed columns are cut out; the samples are copied as they are. A plain loop finds the tabs
 * of short columns faster than a call per tab would.
 */
function findTabs(bytes: Uint8Array, start: number, end: number, tabs: Int32Array): number {
  let found = 0;
  for (let k = start; k < end && found < 8; k++) if (bytes[k] === TAB) tabs[found++] = k;
  return found;
}

function truncate(s: string): string {
  // Back from latin1 to the UTF-8 the user wrote, for the message.
  const text = Buffer.from(s, 'latin1').toString('utf8');
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** One ALT's annotation; the writers below turn it into INFO values and TSV cells. */
interface AlleleAnnotation {
  /** Why the ALT was not annotated, or null. */
  skip: string | null;
  region: RegionAnnotation | null;
  rs: readonly number[];
  /** Coding consequences over the exonic transcripts, most severe first. */
  cons: readonly CodingConsequence[];
  /** VEP's terms per transcript and the most severe (for CSQ and the TSV's CONSEQUENCE). */
  vep: VepAllele;
  /** The allele as the engine reduced it (an Allele's fields, so the CSQ writer can describe it). */
  kind: AlleleKind;
  /** 0-based half-open (an insertion when equal). */
  start: number;
  end: number;
  ref: string;
  alt: string;
}

const NONE: readonly never[] = [];
const DOT = 46;
const AMP = 38;
const COMMA = 44;
const TAB = 9;
const SEMICOLON = 59;
const NL = 10;

function emptyAnnotation(): AlleleAnnotation {
  return { skip: null, region: null, rs: NONE, cons: NONE, vep: emptyVepAllele(), kind: 'snv', start: 0, end: 0, ref: '', alt: '' };
}

// Each writer writes one value; `empty` is what stands for "nothing" ('.' in INFO, '' in the TSV).
function writeRsids(w: ByteWriter, a: AlleleAnnotation, empty: boolean): void {
  if (a.rs.length === 0) return empty ? undefined : w.byte(DOT);
  for (let i = 0; i < a.rs.length; i++) {
    if (i > 0) w.byte(AMP);
    w.str('rs');
    w.int(a.rs[i]!);
  }
}

type ConsequenceField = 'exonicFunction' | 'soTerm' | 'impact';

function writeTop(w: ByteWriter, a: AlleleAnnotation, field: ConsequenceField, empty: boolean): void {
  const top = a.cons[0];
  if (!top) return empty ? undefined : w.byte(DOT);
  w.str(top[field]);
}

function writeAaChanges(w: ByteWriter, a: AlleleAnnotation, empty: boolean): void {
  if (a.cons.length === 0) return empty ? undefined : w.byte(DOT);
  for (let i = 0; i < a.cons.length; i++) {
    const c = a.cons[i]!;
    if (i > 0) w.byte(AMP);
    w.str(`${c.gene}:${c.transcriptId}:${c.hgvsC}:${c.hgvsP}`);
  }
}

export class ChunkAnnotator {
  private readonly ref: Reference | undefined;
  private lastChrom = '';
  private lastCanonical = '';
  private readonly opts: ChunkAnnotatorOptions;
  private readonly vcf: ByteWriter;
  private readonly tsv: ByteWriter;
  /** Where the tabs of the current line's fixed columns are. */
  private readonly tabs = new Int32Array(8);
  /**
   * The pieces of the current chunk's output, cut so far. The same arrays from chunk to chunk
   * (a result takes their contents): a new empty array holds small integers to V8, and the first
   * piece pushed into each would send the optimized code back to be compiled again.
   */
  private readonly vcfPieces: Uint8Array[] = [];
  private readonly tsvPieces: Uint8Array[] = [];
  /** The ALTs of the current record, reused from record to record. */
  private readonly alleles: AlleleAnnotation[] = [];

  private readonly regions: RegionClassifier | undefined;
  private readonly regionText: RegionText | undefined;
  private readonly vep: VepTerms | undefined;
  /** VEP's Allele text per ALT of the current record. */
  private readonly csqAlleles: string[] = [];
  /** The chromosome of the current run of records, and its length so far. */
  private runChrom = '';
  private runCount = 0;
  /** The region class of the current run of alleles, and its length so far. */
  private regionRun = '';
  private regionRunCount = 0;
  /** The input's `##contig` lengths as given to annotate(), and by name. */
  private contigText = '';
  private readonly contigs = new Map<string, number>();
  /**
   * The current chromosome's length + 1 (Infinity when unknown), looked up when the chromosome
   * changes, and what the length is (for the warning).
   */
  private chromEnd = Infinity;
  private chromLength: number | null = null;
  private chromLengthFrom: string | null = null;
  /** The current chunk's records outside their chromosome. */
  private outside: OutsideChromosome | null = null;

  constructor(opts: ChunkAnnotatorOptions) {
    // One object shape whatever the caller passed (literals, spreads): V8's optimized code checks
    // the shapes it has seen, and a second one would send it back to be compiled again.
    this.opts = {
      reference: opts.reference,
      tsv: opts.tsv,
      csq: opts.csq,
      maxLineBytes: opts.maxLineBytes,
      vcf33: opts.vcf33,
      pieceBytes: opts.pieceBytes ?? PIECE_BYTES,
    };
    // Room for a piece and the line that goes past it.
    const bytes = opts.outputBytes ?? this.opts.pieceBytes! + (this.opts.pieceBytes! >> 3);
    this.vcf = new ByteWriter(bytes);
    this.tsv = new ByteWriter(bytes);
    this.ref = opts.reference;
    this.regions = opts.reference ? new RegionClassifier(opts.reference.transcripts) : undefined;
    this.regionText = this.regions ? new RegionText(this.regions) : undefined;
    // The VEP terms feed the CSQ field and the TSV's CONSEQUENCE column: computed when either is written.
    this.vep =
      opts.reference && (opts.csq || opts.tsv)
        ? new VepTerms(opts.reference.transcripts, opts.reference.sequence === undefined)
        : undefined;
  }

  /** Memory of earlier results' outputs, written out and no longer read, for the next results. */
  recycle(vcf: readonly ArrayBuffer[], tsv: readonly ArrayBuffer[]): void {
    for (const m of vcf) this.vcf.recycle(m);
    for (const m of tsv) this.tsv.recycle(m);
  }

  /**
   * `chunk` holds whole lines (the last may lack its newline). `contigLengths`: the input's
   * `##contig` lengths, a line `ID<tab>length` each; records past them, or past their chromosome's
   * length in the reference's build, are not annotated.
   */
  annotate(chunk: Uint8Array, contigLengths = ''): ChunkResult {
    if (contigLengths !== this.contigText) this.useContigs(contigLengths);
    const text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
    // Plain views of the chunk: bytes one at a time, and ranges copied out four at a time.
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const counts = emptyCounts();
    this.outside = null;
    // Empty already, unless the last chunk failed on something other than its input.
    this.vcfPieces.length = 0;
    this.tsvPieces.length = 0;
    let lines: number;
    let error: ChunkResult['error'];
    try {
      lines = this.lines(text, bytes, view, counts);
    } catch (err) {
      if (!(err instanceof VcfFormatError)) throw err;
      error = { line: err.line, field: err.field, reason: err.reason };
      lines = err.line;
    }
    this.endRun(counts);
    const writeTsv = this.opts.tsv && this.ref !== undefined;
    if (this.vcf.size > 0 || this.vcfPieces.length === 0) this.vcfPieces.push(this.vcf.take());
    if (writeTsv && (this.tsv.size > 0 || this.tsvPieces.length === 0)) this.tsvPieces.push(this.tsv.take());
    return {
      vcf: this.vcfPieces.splice(0),
      tsv: writeTsv ? this.tsvPieces.splice(0) : null,
      lines,
      counts,
      outside: this.outside,
      error,
    };
  }

  private useContigs(text: string): void {
    this.contigText = text;
    this.contigs.clear();
    for (const line of text.split('\n')) {
      const tab = line.lastIndexOf('\t');
      if (tab < 0) continue;
      const id = line.slice(0, tab);
      // A contig declared twice: the longer length, so that no base it has is called outside.
      this.contigs.set(id, Math.max(Number(line.slice(tab + 1)), this.contigs.get(id) ?? 0));
    }
    // The current chromosome's length is looked up again.
    this.lastChrom = '';
  }

  /** The length of the chromosome records are now on: the shorter of the build's and the input header's. */
  private chromosomeChanged(name: string, build: string): void {
    const inBuild = primaryLength(build, name);
    const inHeader = this.contigs.get(name);
    if (inHeader !== undefined && (inBuild === undefined || inHeader < inBuild)) {
      this.chromLength = inHeader;
      this.chromLengthFrom = 'header';
    } else {
      this.chromLength = inBuild ?? null;
      this.chromLengthFrom = inBuild === undefined ? null : build;
    }
    this.chromEnd = this.chromLength === null ? Infinity : this.chromLength + 1;
  }

  /**
   * Every line of the chunk; returns how many there were. The loop is a function of its own with
   * nothing after it, and each record is a call: V8 compiles the loop on stack replacement in the
   * first chunk, before any code after a loop has run, and then it would deoptimize at the end of
   * every chunk; record() is optimized as a whole instead of recompiling one huge loop.
   */
  private lines(text: string, bytes: Uint8Array, view: DataView, counts: AnnotationCounts): number {
    const maxLine = this.opts.maxLineBytes;
    const piece = this.opts.pieceBytes!;
    const n = text.length;
    let lineNo = 0;
    let at = 0;
    while (at < n) {
      const nl = text.indexOf('\n', at);
      const next = nl < 0 ? n : nl + 1;
      let end = nl < 0 ? n : nl;
      lineNo++;
      if (end > at && text.charCodeAt(end - 1) === 13) end--;
      if (end - at > maxLine) throw new VcfFormatError(lineNo, 'line', `longer than ${maxLine} bytes`);
      if (end > at) {
        this.record(text, bytes, view, at, end, lineNo, counts);
        if (this.vcf.size >= piece || this.tsv.size >= piece) this.cut();
      }
      at = next;
    }
    return lineNo;
  }

  /** Ends the output's current pieces; the writers go on in memory given back earlier. */
  private cut(): void {
    if (this.vcf.size > 0) this.vcfPieces.push(this.vcf.take());
    if (this.tsv.size > 0) this.tsvPieces.push(this.tsv.take());
  }

  /**
   * Records per chromosome, and alleles per region class, are counted in runs: sorted inputs
   * repeat both, so the maps are touched rarely.
   */
  private endRun(counts: AnnotationCounts): void {
    if (this.runCount > 0) counts.chromosomes[this.runChrom] = (counts.chromosomes[this.runChrom] ?? 0) + this.runCount;
    this.runChrom = '';
    this.runCount = 0;
    this.endRegionRun(counts);
  }

  private endRegionRun(counts: AnnotationCounts): void {
    if (this.regionRunCount > 0) counts.regions[this.regionRun] = (counts.regions[this.regionRun] ?? 0) + this.regionRunCount;
    this.regionRun = '';
    this.regionRunCount = 0;
  }

  /** One data line, [start, end) of the chunk. */
  private record(
    text: string,
    bytes: Uint8Array,
    view: DataView,
    start: number,
    end: number,
    lineNo: number,
    counts: AnnotationCounts,
  ): void {
    const ref = this.ref;
    const writeTsv = this.opts.tsv && ref !== undefined;
    const vcf = this.vcf;
    const alleles = this.alleles;
    const tabs = this.tabs;
    if (text.charCodeAt(start) === 35 /* # */) {
      throw new VcfFormatError(
        lineNo,
        'header',
        text.startsWith('#CHROM', start) ? 'a second #CHROM header line' : 'meta-information line after the #CHROM header line',
      );
    }
    const found = findTabs(bytes, start, end, tabs);
    if (found < 7) {
      throw new VcfFormatError(lineNo, 'columns', `expected at least 8 tab-separated columns, found ${found + 1}`);
    }
    const t0 = tabs[0]!;
    const t1 = tabs[1]!;
    const t2 = tabs[2]!;
    const t3 = tabs[3]!;
    const t4 = tabs[4]!;
    const t6 = tabs[6]!;
    const infoEnd = found === 8 ? tabs[7]! : end;

    // Sorted inputs repeat the chromosome: compared in place, it is cut out only when it changes.
    const last = this.lastChrom;
    const sameChrom = last.length > 0 && t0 - start === last.length && text.startsWith(last, start);
    const chromName = sameChrom ? last : text.slice(start, t0);
    if (!sameChrom) {
      if (chromName === '' || WHITESPACE.test(chromName))
        throw new VcfFormatError(lineNo, 'CHROM', `invalid chromosome name "${truncate(chromName)}"`);
      this.lastChrom = chromName;
      this.lastCanonical = canonicalChrom(chromName);
      if (ref) this.chromosomeChanged(chromName, ref.build);
    }
    if (chromName !== this.runChrom) {
      this.endRun(counts);
      this.runChrom = chromName;
    }
    let pos = 0;
    if (t1 === t0 + 1 || t1 - t0 > 16)
      throw new VcfFormatError(lineNo, 'POS', `expected a non-negative integer, got "${truncate(text.slice(t0 + 1, t1))}"`);
    for (let k = t0 + 1; k < t1; k++) {
      const d = bytes[k]! - 48;
      if (d < 0 || d > 9)
        throw new VcfFormatError(lineNo, 'POS', `expected a non-negative integer, got "${truncate(text.slice(t0 + 1, t1))}"`);
      pos = pos * 10 + d;
    }
    // Most records are SNVs: one base each side, taken as V8's cached one-character strings.
    const single = t3 === t2 + 2 && t4 === t3 + 2 && BASE[bytes[t2 + 1]!] === 1 && BASE[bytes[t3 + 1]!] === 1;
    const refBases = single ? CHAR[bytes[t2 + 1]!]! : text.slice(t2 + 1, t3);
    if (!single && !isBases(refBases))
      throw new VcfFormatError(lineNo, 'REF', `expected bases A, C, G, T or N, got "${truncate(refBases)}"`);
    const altField = single ? CHAR[bytes[t3 + 1]!]! : text.slice(t3 + 1, t4);
    const alts = single || altField.indexOf(',') < 0 ? null : altField.split(',');
    const altCount = alts === null ? 1 : alts.length;
    if (single) counts.snvs++;
    else this.countAlts(refBases, alts ?? [altField], lineNo, counts);
    counts.records++;
    counts.alleles += altCount;
    this.runCount++;

    if (!ref) {
      vcf.bytes(bytes, view, start, end);
      vcf.byte(NL);
      return;
    }
    const chrom = this.lastCanonical;
    let anyRs = false;
    let anyCons = false;
    let anySkip = false;
    let anyAnnotated = false;
    // REF's bases [pos, pos + |REF| − 1] lie on the chromosome, [1, length], exactly when
    // pos × (length + 2 − pos − |REF|) > 0: one comparison. With the length unknown chromEnd is
    // Infinity, and only POS 0 fails (0 × ∞ is NaN).
    if (pos * (this.chromEnd + 1 - pos - refBases.length) > 0) {
      for (let i = 0; i < altCount; i++) {
        // One annotation object per ALT slot, filled again for every record.
        const a = alleles[i] ?? (alleles[i] = emptyAnnotation());
        this.annotateAllele(a, chrom, pos, refBases, alts === null ? altField : alts[i]!, counts);
        if (a.rs.length > 0) anyRs = true;
        if (a.cons.length > 0) anyCons = true;
        if (a.skip !== null) anySkip = true;
        else anyAnnotated = true;
      }
    } else {
      this.outsideChromosome(chromName, pos, refBases, alts ?? [altField], lineNo, counts);
      anySkip = true;
    }
    if (anyRs) counts.rsidRecords++;

    // The VCF line: the columns up to INFO as they were, our fields, then the rest as it was.
    const infoEmpty = infoEnd === t6 + 1 || (infoEnd === t6 + 2 && text.charCodeAt(t6 + 1) === DOT);
    vcf.bytes(bytes, view, start, infoEmpty ? t6 + 1 : infoEnd);
    if (!infoEmpty) vcf.byte(SEMICOLON);
    this.regionText!.writeInfo(vcf, alleles, altCount);
    for (let i = 0; i < altCount; i++) {
      if (i > 0) vcf.byte(COMMA);
      writeRsids(vcf, alleles[i]!, false);
    }
    if (anyCons) this.writeConsequenceInfo(altCount);
    if (anySkip) this.writeSkipInfo(altCount);
    if (anyAnnotated && this.opts.csq) this.writeCsqInfo(refBases, single ? null : (alts ?? [altField]), altField, altCount);
    vcf.bytes(bytes, view, infoEnd, end);
    vcf.byte(NL);
    if (writeTsv) this.writeTsvRows(bytes, view, start, t3, t4, alts, altCount);
  }

  // Rarer parts of a record, in methods of their own: V8 does not inline calls it seldom sees, so
  // they stay out of record()'s optimized code, which every thread compiles at least once.

  /**
   * A record whose POS, or a later base of its REF, is not a base of its chromosome: no ALT is annotated. Those the engine
   * would annotate get `outside_chromosome`; the others keep their own reason (a breakend at a
   * telomere, POS 0 or length + 1, is VCF's way to write one, and stays `breakend`).
   */
  private outsideChromosome(
    chromName: string,
    pos: number,
    refBases: string,
    alts: readonly string[],
    lineNo: number,
    counts: AnnotationCounts,
  ): void {
    let outside = false;
    for (let i = 0; i < alts.length; i++) {
      const a = this.alleles[i] ?? (this.alleles[i] = emptyAnnotation());
      a.region = null;
      a.rs = NONE;
      a.cons = NONE;
      a.vep.worst = -1;
      a.vep.n = 0;
      const allele = reduceAllele(pos, refBases, alts[i]!);
      if (allele.kind === 'snv') this.countSnv(allele.ref, allele.alt, counts);
      let why: string;
      if (isSequenceAllele(allele)) {
        why = OUTSIDE_CHROMOSOME;
        outside = true;
      } else why = this.opts.vcf33 && VCF33_INDEL.test(alts[i]!) ? 'vcf33_indel' : whyNotAnnotated(allele)!;
      counts.skipped[why] = (counts.skipped[why] ?? 0) + 1;
      a.skip = why;
    }
    if (!outside) return;
    if (this.outside) this.outside.records++;
    else
      this.outside = {
        records: 1,
        line: lineNo,
        chrom: chromName,
        pos,
        refEnd: pos + refBases.length - 1,
        length: this.chromLength,
        lengthFrom: this.chromLengthFrom,
      };
  }

  /** Ti/Tv of an SNV (its two bases, strings of one base), when both are A, C, G or T. */
  private countSnv(ref: string, alt: string, counts: AnnotationCounts): void {
    const kind = TI_TV[(ref.charCodeAt(0) << 8) | alt.charCodeAt(0)];
    if (kind === TRANSITION) counts.transitions++;
    else if (kind === TRANSVERSION) counts.transversions++;
  }

  /** Checks and counts the ALTs of a record that is not a plain SNV. */
  private countAlts(refBases: string, alts: readonly string[], lineNo: number, counts: AnnotationCounts): void {
    for (const a of alts) {
      if (isBases(a)) {
        if (a.length === 1 && refBases.length === 1) counts.snvs++;
        else if (a.length !== refBases.length) counts.indels++;
        else counts.other++;
      } else if (a === '.' || a === '*' || SYMBOLIC.test(a) || BREAKEND.test(a) || (this.opts.vcf33 && VCF33_INDEL.test(a))) {
        counts.other++;
      } else {
        throw new VcfFormatError(lineNo, 'ALT', `"${truncate(a)}" is neither bases, a symbolic allele, "*" nor "."`);
      }
    }
  }

  private writeConsequenceInfo(altCount: number): void {
    const vcf = this.vcf;
    const alleles = this.alleles;
    for (const [key, field] of CONSEQUENCE_INFO) {
      vcf.str(key);
      for (let i = 0; i < altCount; i++) {
        if (i > 0) vcf.byte(COMMA);
        writeTop(vcf, alleles[i]!, field, false);
      }
    }
    vcf.str(';GAS_AACHANGE=');
    for (let i = 0; i < altCount; i++) {
      if (i > 0) vcf.byte(COMMA);
      writeAaChanges(vcf, alleles[i]!, false);
    }
  }

  /** `CSQ=`: VEP's entries for every annotated ALT; `alts` null for a plain SNV (its ALT is `altField`). */
  private writeCsqInfo(refBases: string, alts: readonly string[] | null, altField: string, altCount: number): void {
    const vcf = this.vcf;
    const names = this.csqAlleles;
    if (alts === null) names[0] = altField;
    else vepAlleles(refBases, alts, names);
    vcf.str(';CSQ=');
    let first = true;
    for (let i = 0; i < altCount; i++) {
      const a = this.alleles[i]!;
      if (a.skip !== null) continue;
      writeCsqEntries(vcf, a.vep, names[i]!, a, a.rs, first);
      first = false;
    }
  }

  private writeSkipInfo(altCount: number): void {
    const vcf = this.vcf;
    vcf.str(';GAS_SKIP=');
    for (let i = 0; i < altCount; i++) {
      if (i > 0) vcf.byte(COMMA);
      vcf.str(this.alleles[i]!.skip ?? '.');
    }
  }

  /** One TSV row per ALT of the record whose REF ends at tab t3 and ALT at tab t4. */
  private writeTsvRows(
    bytes: Uint8Array,
    view: DataView,
    start: number,
    t3: number,
    t4: number,
    alts: string[] | null,
    altCount: number,
  ): void {
    const tsv = this.tsv;
    for (let i = 0; i < altCount; i++) {
      const a = this.alleles[i]!;
      tsv.bytes(bytes, view, start, t3 + 1); // CHROM POS ID REF
      if (alts === null) tsv.bytes(bytes, view, t3 + 1, t4);
      else tsv.str(alts[i]!);
      tsv.byte(TAB);
      tsv.int(i + 1);
      tsv.byte(TAB);
      this.regionText!.writeCells(tsv, a.region);
      writeRsids(tsv, a, true);
      tsv.byte(TAB);
      writeTop(tsv, a, 'exonicFunction', true);
      tsv.byte(TAB);
      writeTop(tsv, a, 'soTerm', true);
      tsv.byte(TAB);
      writeTop(tsv, a, 'impact', true);
      tsv.byte(TAB);
      writeAaChanges(tsv, a, true);
      tsv.byte(TAB);
      if (a.vep.worst >= 0) tsv.str(TERMS[a.vep.worst]!);
      tsv.byte(TAB);
      if (a.skip !== null) tsv.str(a.skip);
      tsv.byte(NL);
    }
  }

  /** Fills `out` with the annotation of one ALT. */
  private annotateAllele(
    out: AlleleAnnotation,
    chrom: string,
    pos: number,
    refBases: string,
    altBases: string,
    counts: AnnotationCounts,
  ): void {
    const ref = this.ref!;
    out.skip = null;
    out.region = null;
    out.rs = NONE;
    out.cons = NONE;
    out.vep.worst = -1;
    out.vep.n = 0;
    let start: number;
    let end: number;
    let allele: Allele | null = null;
    if (
      refBases.length === 1 &&
      altBases.length === 1 &&
      BASE[altBases.charCodeAt(0) & 255] === 1 &&
      UPPER[refBases.charCodeAt(0)] !== UPPER[altBases.charCodeAt(0)]
    ) {
      // An SNV: its Allele is made only if a consequence needs it.
      start = pos - 1;
      end = pos;
      const kind = TI_TV[(refBases.charCodeAt(0) << 8) | altBases.charCodeAt(0)];
      if (kind === TRANSITION) counts.transitions++;
      else if (kind === TRANSVERSION) counts.transversions++;
    } else {
      allele = reduceAllele(pos, refBases, altBases);
      if (allele.kind === 'snv') this.countSnv(allele.ref, allele.alt, counts);
      if (!isSequenceAllele(allele)) {
        const why = this.opts.vcf33 && VCF33_INDEL.test(altBases) ? 'vcf33_indel' : whyNotAnnotated(allele)!;
        counts.skipped[why] = (counts.skipped[why] ?? 0) + 1;
        out.skip = why;
        return;
      }
      start = allele.start;
      end = allele.end;
    }
    const region = this.regions!.classify(chrom, start, end);
    const rs = ref.snps ? ref.snps.find(chrom, pos, refBases, altBases) : NONE;
    counts.annotatedAlleles++;
    if (region.region !== this.regionRun) {
      this.endRegionRun(counts);
      this.regionRun = region.region;
    }
    this.regionRunCount++;
    if (rs.length > 0) counts.rsidAlleles++;
    out.region = region;
    out.rs = rs;
    if (ref.sequence && region.classes.includes('exonic')) {
      allele ??= { kind: 'snv', start, end, ref: UPPER[refBases.charCodeAt(0)]!, alt: UPPER[altBases.charCodeAt(0)]! };
      const cons = this.consequences(region, allele);
      if (cons.length > 0) counts.functions[cons[0]!.exonicFunction] = (counts.functions[cons[0]!.exonicFunction] ?? 0) + 1;
      out.cons = cons;
    }
    out.start = start;
    out.end = end;
    if (allele) {
      out.kind = allele.kind;
      out.ref = allele.ref;
      out.alt = allele.alt;
    } else {
      out.kind = 'snv';
      out.ref = UPPER[refBases.charCodeAt(0)]!;
      out.alt = UPPER[altBases.charCodeAt(0)]!;
    }
    if (this.vep) this.vep.compute(out.vep, chrom, start, end, out.cons);
  }

  /** The coding consequences of an allele's exonic hits, most severe first. */
  private consequences(r: RegionAnnotation, allele: Allele): CodingConsequence[] {
    const out: CodingConsequence[] = [];
    for (const h of r.hits) {
      if (!h.classes.includes('exonic')) continue;
      const c = codingConsequence(h.transcript, allele, this.ref!.sequence!);
      if (c) out.push(c);
    }
    return out.sort(bySeverity);
  }
}

function bySeverity(a: CodingConsequence, b: CodingConsequence): number {
  return IMPACT_RANK[a.impact]! - IMPACT_RANK[b.impact]!;
}

const CONSEQUENCE_INFO: ReadonlyArray<[string, ConsequenceField]> = [
  [';GAS_FUNC=', 'exonicFunction'],
  [';GAS_SO=', 'soTerm'],
  [';GAS_IMPACT=', 'impact'],
];
