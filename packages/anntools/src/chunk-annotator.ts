// Annotates the data lines of one chunk: validation of the fixed columns, per-ALT region, genes,
// rsIDs and consequences, the annotated VCF line and the TSV rows, and the counts for the summary.
// It is synchronous and self-contained so it runs the same in this thread and in a worker.
//
// Text is handled as latin1: one char per byte, so the bytes of every column come back out exactly
// as they went in (UTF-8 included) and encoding the output costs a copy, not a transcoding.
import { canonicalChrom } from './chrom-alias.ts';
import { VcfFormatError } from './vcf-error.ts';
import { reduceAllele, isSequenceAllele, whyNotAnnotated } from './annotation/allele.ts';
import type { Allele } from './annotation/allele.ts';
import { classifyRegion } from './annotation/region.ts';
import type { RegionAnnotation } from './annotation/region.ts';
import { codingConsequence } from './annotation/consequence.ts';
import type { CodingConsequence } from './annotation/consequence.ts';
import { emptyCounts, isTransition } from './annotation/summary.ts';
import type { AnnotationCounts } from './annotation/summary.ts';
import type { Reference } from './reference.ts';
import { Latin1Writer } from './latin1-writer.ts';

export interface ChunkResult {
  vcf: Uint8Array;
  tsv: Uint8Array | null;
  /** Lines in the chunk, blank ones included, so the caller can number the next chunk's. */
  lines: number;
  counts: AnnotationCounts;
  /** The first bad line, numbered from 1 within the chunk; lines before it are in vcf and tsv. */
  error?: { line: number; field: string; reason: string };
}

export interface ChunkAnnotatorOptions {
  reference?: Reference;
  /** Write the TSV (one row per variant allele); only with a reference. */
  tsv: boolean;
  maxLineBytes: number;
  /** VCF 3.3 writes indels as I<bases> / D<length>; they are accepted and passed through, not guessed. */
  vcf33: boolean;
}

// Byte classes for the fixed columns.
const BASE = new Uint8Array(256);
for (const c of 'ACGTNacgtn') BASE[c.charCodeAt(0)] = 1;
const UPPER: string[] = [];
for (let i = 0; i < 256; i++) UPPER[i] = String.fromCharCode(i).toUpperCase();
const SYMBOLIC = /^<[^<>]+>$/;
// Breakend notation: t[p[, t]p], ]p]t, [p[t, and single breakends .t / t.
const BREAKEND = /^([ACGTNacgtn]*[[\]][^[\]]+[[\]][ACGTNacgtn]*|\.[ACGTNacgtn]+|[ACGTNacgtn]+\.)$/;
const VCF33_INDEL = /^(D\d+|I[ACGTNacgtn]+)$/;
const WHITESPACE = /\s/;

const IMPACT_RANK: Record<string, number> = { HIGH: 0, MODERATE: 1, LOW: 2, MODIFIER: 3 };

function isBases(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (BASE[s.charCodeAt(i) & 255] !== 1) return false;
  return true;
}

function truncate(s: string): string {
  // Back from latin1 to the UTF-8 the user wrote, for the message.
  const text = Buffer.from(s, 'latin1').toString('utf8');
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function detailText(r: RegionAnnotation): string {
  if (r.classes[0] === 'intergenic') {
    return `${r.left ? `${r.left.gene}(dist:${r.left.distance})` : 'NONE'}&${r.right ? `${r.right.gene}(dist:${r.right.distance})` : 'NONE'}`;
  }
  let out = '';
  for (let i = 0; i < r.hits.length; i++) {
    const h = r.hits[i]!;
    const t = h.transcript;
    const where = h.exon !== undefined ? `exon${h.exon}` : h.intron !== undefined ? `intron${h.intron}` : `dist:${h.distance}`;
    out += `${i > 0 ? '&' : ''}${t.id}:${t.strand}:${where}`;
  }
  return out;
}

/** One ALT's annotation as the text that goes into INFO and the TSV. */
interface AlleleText {
  region: string;
  /** The combined class for counting (";"-joined as ANNOVAR writes it). */
  regionKey: string;
  genes: string;
  detail: string;
  rsids: string;
  func: string;
  so: string;
  impact: string;
  aa: string;
  skip: string;
}

const SKIPPED: Omit<AlleleText, 'skip'> = { region: '.', regionKey: '', genes: '.', detail: '.', rsids: '.', func: '.', so: '.', impact: '.', aa: '.' };

export class ChunkAnnotator {
  private readonly ref: Reference | undefined;
  private lastChrom = '';
  private lastCanonical = '';
  private readonly vcfOut = new Latin1Writer();
  private readonly tsvOut = new Latin1Writer();

  constructor(private readonly opts: ChunkAnnotatorOptions) {
    this.ref = opts.reference;
  }

  /** `text` holds whole lines (the last may lack its newline), decoded as latin1. */
  annotate(text: string): ChunkResult {
    const counts = emptyCounts();
    const ref = this.ref;
    const writeTsv = this.opts.tsv && ref !== undefined;
    const maxLine = this.opts.maxLineBytes;
    const vcf = this.vcfOut;
    const tsv = this.tsvOut;
    let lineNo = 0;
    let error: ChunkResult['error'];
    // Records per chromosome are counted in runs: inputs are sorted, so the map is touched rarely.
    let runChrom = '';
    let runCount = 0;
    let at = 0;
    const n = text.length;
    try {
      while (at < n) {
        const nl = text.indexOf('\n', at);
        const next = nl < 0 ? n : nl + 1;
        let end = nl < 0 ? n : nl;
        lineNo++;
        if (end > at && text.charCodeAt(end - 1) === 13) end--;
        const start = at;
        at = next;
        if (end - start > maxLine) throw new VcfFormatError(lineNo, 'line', `longer than ${maxLine} bytes`);
        if (end === start) continue;
        if (text.charCodeAt(start) === 35 /* # */) {
          throw new VcfFormatError(lineNo, 'header', text.startsWith('#CHROM', start) ? 'a second #CHROM header line' : 'meta-information line after the #CHROM header line');
        }
        // Only the eight fixed columns are cut out; the samples are copied as they are.
        const t0 = text.indexOf('\t', start);
        const t1 = t0 < 0 || t0 >= end ? -1 : text.indexOf('\t', t0 + 1);
        const t2 = t1 < 0 || t1 >= end ? -1 : text.indexOf('\t', t1 + 1);
        const t3 = t2 < 0 || t2 >= end ? -1 : text.indexOf('\t', t2 + 1);
        const t4 = t3 < 0 || t3 >= end ? -1 : text.indexOf('\t', t3 + 1);
        const t5 = t4 < 0 || t4 >= end ? -1 : text.indexOf('\t', t4 + 1);
        const t6 = t5 < 0 || t5 >= end ? -1 : text.indexOf('\t', t5 + 1);
        if (t6 < 0 || t6 >= end) {
          let found = 1;
          for (let k = text.indexOf('\t', start); k >= 0 && k < end; k = text.indexOf('\t', k + 1)) found++;
          throw new VcfFormatError(lineNo, 'columns', `expected at least 8 tab-separated columns, found ${found}`);
        }
        let infoEnd = text.indexOf('\t', t6 + 1);
        if (infoEnd < 0 || infoEnd > end) infoEnd = end;

        const chromName = text.slice(start, t0);
        if (chromName !== this.lastChrom) {
          if (chromName === '' || WHITESPACE.test(chromName)) throw new VcfFormatError(lineNo, 'CHROM', `invalid chromosome name "${truncate(chromName)}"`);
          this.lastChrom = chromName;
          this.lastCanonical = canonicalChrom(chromName);
        }
        if (chromName !== runChrom) {
          if (runCount > 0) counts.chromosomes[runChrom] = (counts.chromosomes[runChrom] ?? 0) + runCount;
          runChrom = chromName;
          runCount = 0;
        }
        let pos = 0;
        if (t1 === t0 + 1 || t1 - t0 > 16) throw new VcfFormatError(lineNo, 'POS', `expected a non-negative integer, got "${truncate(text.slice(t0 + 1, t1))}"`);
        for (let k = t0 + 1; k < t1; k++) {
          const d = text.charCodeAt(k) - 48;
          if (d < 0 || d > 9) throw new VcfFormatError(lineNo, 'POS', `expected a non-negative integer, got "${truncate(text.slice(t0 + 1, t1))}"`);
          pos = pos * 10 + d;
        }
        const refBases = text.slice(t2 + 1, t3);
        if (!isBases(refBases)) throw new VcfFormatError(lineNo, 'REF', `expected bases A, C, G, T or N, got "${truncate(refBases)}"`);
        const altField = text.slice(t3 + 1, t4);
        const alts = altField.indexOf(',') < 0 ? null : altField.split(',');
        const altCount = alts === null ? 1 : alts.length;
        for (let i = 0; i < altCount; i++) {
          const a = alts === null ? altField : alts[i]!;
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
        counts.records++;
        counts.alleles += altCount;
        runCount++;

        if (!ref) {
          vcf.add(end === next - 1 ? text.slice(start, next) : text.slice(start, end) + '\n');
          continue;
        }
        const chrom = this.lastCanonical;
        const id = writeTsv ? text.slice(t1 + 1, t2) : '';
        const posText = writeTsv ? text.slice(t0 + 1, t1) : '';
        let add: string;
        if (alts === null) {
          const a = this.annotateAllele(chrom, pos, refBases, altField, counts);
          if (a.rsids !== '.') counts.rsidRecords++;
          add = `GAS_REGION=${a.region};GAS_GENE=${a.genes};GAS_DETAIL=${a.detail};GAS_RSID=${a.rsids}`;
          if (a.func !== '.') add += `;GAS_FUNC=${a.func};GAS_SO=${a.so};GAS_IMPACT=${a.impact};GAS_AACHANGE=${a.aa}`;
          if (a.skip !== '.') add += `;GAS_SKIP=${a.skip}`;
          if (writeTsv) tsv.add(tsvRow(chromName, posText, id, refBases, altField, 1, a));
        } else {
          const texts: AlleleText[] = [];
          let anyRs = false;
          for (let i = 0; i < alts.length; i++) {
            const a = this.annotateAllele(chrom, pos, refBases, alts[i]!, counts);
            if (a.rsids !== '.') anyRs = true;
            texts.push(a);
            if (writeTsv) tsv.add(tsvRow(chromName, posText, id, refBases, alts[i]!, i + 1, a));
          }
          if (anyRs) counts.rsidRecords++;
          const col = (k: keyof AlleleText): string => texts.map((t) => t[k]).join(',');
          add = `GAS_REGION=${col('region')};GAS_GENE=${col('genes')};GAS_DETAIL=${col('detail')};GAS_RSID=${col('rsids')}`;
          if (texts.some((t) => t.func !== '.')) add += `;GAS_FUNC=${col('func')};GAS_SO=${col('so')};GAS_IMPACT=${col('impact')};GAS_AACHANGE=${col('aa')}`;
          if (texts.some((t) => t.skip !== '.')) add += `;GAS_SKIP=${col('skip')}`;
        }
        const infoEmpty = infoEnd === t6 + 1 || (infoEnd === t6 + 2 && text.charCodeAt(t6 + 1) === 46); /* "" or "." */
        vcf.add(
          infoEmpty ? `${text.slice(start, t6 + 1)}${add}${text.slice(infoEnd, end)}\n` : `${text.slice(start, infoEnd)};${add}${text.slice(infoEnd, end)}\n`,
        );
      }
    } catch (err) {
      if (!(err instanceof VcfFormatError)) throw err;
      error = { line: err.line, field: err.field, reason: err.reason };
    }
    if (runCount > 0) counts.chromosomes[runChrom] = (counts.chromosomes[runChrom] ?? 0) + runCount;
    return {
      vcf: vcf.take(),
      tsv: writeTsv ? tsv.take() : null,
      lines: error ? error.line : lineNo,
      counts,
      error,
    };
  }

  private annotateAllele(chrom: string, pos: number, refBases: string, altBases: string, counts: AnnotationCounts): AlleleText {
    const ref = this.ref!;
    let allele: Allele;
    if (refBases.length === 1 && altBases.length === 1 && BASE[altBases.charCodeAt(0) & 255] === 1) {
      const r = UPPER[refBases.charCodeAt(0)]!;
      const a = UPPER[altBases.charCodeAt(0)]!;
      allele = r === a ? reduceAllele(pos, refBases, altBases) : { kind: 'snv', start: pos - 1, end: pos, ref: r, alt: a };
    } else {
      allele = reduceAllele(pos, refBases, altBases);
    }
    if (allele.kind === 'snv') {
      if (isTransition(allele.ref, allele.alt)) counts.transitions++;
      else counts.transversions++;
    }
    if (!isSequenceAllele(allele)) {
      const why = this.opts.vcf33 && VCF33_INDEL.test(altBases) ? 'vcf33_indel' : whyNotAnnotated(allele)!;
      counts.skipped[why] = (counts.skipped[why] ?? 0) + 1;
      return { ...SKIPPED, skip: why };
    }
    const r = classifyRegion(ref.transcripts, chrom, allele.start, allele.end);
    const rs = ref.snps ? ref.snps.find(chrom, pos, refBases, altBases) : [];
    counts.annotatedAlleles++;
    counts.regions[r.region] = (counts.regions[r.region] ?? 0) + 1;
    let rsids = '.';
    if (rs.length > 0) {
      counts.rsidAlleles++;
      rsids = rs.length === 1 ? `rs${rs[0]}` : rs.map((x) => `rs${x}`).join('&');
    }
    const genes = r.classes[0] === 'intergenic' ? `${r.left?.gene ?? 'NONE'}&${r.right?.gene ?? 'NONE'}` : r.genes.join('&');
    const detail = detailText(r);
    const cons = ref.sequence && r.classes.includes('exonic') ? this.consequences(r, allele) : undefined;
    const top = cons?.[0];
    if (top) counts.functions[top.exonicFunction] = (counts.functions[top.exonicFunction] ?? 0) + 1;
    return {
      region: r.classes.length === 1 ? r.region : r.classes.join('&'),
      regionKey: r.region,
      genes: genes || '.',
      detail: detail || '.',
      rsids,
      func: top?.exonicFunction ?? '.',
      so: top?.soTerm ?? '.',
      impact: top?.impact ?? '.',
      aa: cons && cons.length > 0 ? cons.map((c) => `${c.gene}:${c.transcriptId}:${c.hgvsC}:${c.hgvsP}`).join('&') : '.',
      skip: '.',
    };
  }

  /** The coding consequences of an allele's exonic hits, most severe first. */
  private consequences(r: RegionAnnotation, allele: Allele): CodingConsequence[] {
    const out: CodingConsequence[] = [];
    for (const h of r.hits) {
      if (!h.classes.includes('exonic')) continue;
      const c = codingConsequence(h.transcript, allele, this.ref!.sequence!);
      if (c) out.push(c);
    }
    return out.sort((a, b) => IMPACT_RANK[a.impact]! - IMPACT_RANK[b.impact]!);
  }
}

function blank(s: string): string {
  return s === '.' ? '' : s;
}

function tsvRow(chrom: string, pos: string, id: string, ref: string, alt: string, index: number, a: AlleleText): string {
  if (a.skip !== '.') return `${chrom}\t${pos}\t${id}\t${ref}\t${alt}\t${index}\t\t\t\t\t\t\t\t\t${a.skip}\n`;
  return `${chrom}\t${pos}\t${id}\t${ref}\t${alt}\t${index}\t${a.regionKey}\t${blank(a.genes)}\t${blank(a.detail)}\t${blank(a.rsids)}\t${blank(a.func)}\t${blank(a.so)}\t${blank(a.impact)}\t${blank(a.aa)}\t\n`;
}
