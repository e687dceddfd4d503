// The annotation engine: one streaming pass over a VCF, annotating each ALT against the reference
// (genes, region class, rsIDs), writing the annotated VCF and a TSV, and counting for the summary.
// Without a reference it validates, counts and passes the VCF through (the first GAS engine).
import type { Readable, Writable } from 'node:stream';
import { once } from 'node:events';
import { readLineBatches, defaultLimits } from './line-reader.ts';
import type { LineReaderLimits } from './line-reader.ts';
import { checkRecord } from './vcf-record.ts';
import { VcfFormatError } from './vcf-error.ts';
import { canonicalChrom } from './chrom-alias.ts';
import { reduceAllele, isSequenceAllele, whyNotAnnotated } from './annotation/allele.ts';
import type { Allele } from './annotation/allele.ts';
import { classifyRegion } from './annotation/region.ts';
import type { RegionAnnotation } from './annotation/region.ts';
import { emptySummary, finishSummary, isTransition } from './annotation/summary.ts';
import type { AnnotationSummary } from './annotation/summary.ts';
import type { Reference } from './reference.ts';
import { codingConsequence } from './annotation/consequence.ts';
import type { CodingConsequence } from './annotation/consequence.ts';

export const ENGINE_NAME = 'gas-anntools-0.2';

export interface AnnotateOptions {
  input: Readable;
  vcfOut: Writable;
  /** One row per variant allele; omitted when not given. */
  tsvOut?: Writable;
  reference?: Reference;
  /** Called every progressEvery records with the records done so far. */
  onProgress?: (recordsDone: number) => void;
  progressEvery?: number;
  signal?: AbortSignal;
  limits?: LineReaderLimits & { maxHeaderBytes?: number };
}

const DEFAULT_MAX_HEADER_BYTES = 64 * 1024 * 1024;
const FLUSH_CHARS = 256 * 1024;

const INFO_HEADERS = [
  '##INFO=<ID=GAS_REGION,Number=A,Type=String,Description="Region class per ALT (ANNOVAR precedence: exonic, splicing, ncRNA_exonic, ncRNA_splicing, ncRNA_intronic, UTR5, UTR3, intronic, upstream, downstream, intergenic; equal ranks joined by &)">',
  '##INFO=<ID=GAS_GENE,Number=A,Type=String,Description="Genes at that region class per ALT, joined by &; for intergenic the flanking genes">',
  '##INFO=<ID=GAS_DETAIL,Number=A,Type=String,Description="Per ALT: transcript:strand:exonN|intronN|dist:N entries joined by &; for intergenic GENE(dist:N) on each side">',
  '##INFO=<ID=GAS_RSID,Number=A,Type=String,Description="dbSNP rsIDs matching each ALT (allele-aware where the source has alleles), joined by &">',
  '##INFO=<ID=GAS_FUNC,Number=A,Type=String,Description="Most severe exonic function per ALT over coding transcripts (synonymous, missense, stop_gained, stop_lost, start_lost, frameshift, inframe_insertion, inframe_deletion, inframe_delins, stop_retained, unknown); needs the FASTA">',
  '##INFO=<ID=GAS_SO,Number=A,Type=String,Description="Sequence Ontology term of that most severe consequence">',
  '##INFO=<ID=GAS_IMPACT,Number=A,Type=String,Description="Impact of that consequence (HIGH, MODERATE, LOW, MODIFIER), as Ensembl VEP assigns it">',
  '##INFO=<ID=GAS_AACHANGE,Number=A,Type=String,Description="Per coding transcript: GENE:TRANSCRIPT:c.HGVS:p.HGVS, joined by &">',
  '##INFO=<ID=GAS_SKIP,Number=A,Type=String,Description="Why an ALT was not annotated (symbolic_allele, missing_allele, overlapping_deletion, breakend, reference_allele)">',
];

export const TSV_COLUMNS = ['CHROM', 'POS', 'ID', 'REF', 'ALT', 'ALT_INDEX', 'REGION', 'GENES', 'DETAIL', 'RSIDS', 'FUNCTION', 'SO_TERM', 'IMPACT', 'AA_CHANGE', 'SKIP_REASON'];

const IMPACT_RANK: Record<string, number> = { HIGH: 0, MODERATE: 1, LOW: 2, MODIFIER: 3 };

/** The coding consequences of an allele's exonic hits, most severe first. */
function consequences(r: RegionAnnotation, allele: Allele, ref: Reference): CodingConsequence[] {
  if (!ref.sequence || !r.classes.includes('exonic')) return [];
  const out: CodingConsequence[] = [];
  for (const h of r.hits) {
    if (!h.classes.includes('exonic')) continue;
    const c = codingConsequence(h.transcript, allele, ref.sequence);
    if (c) out.push(c);
  }
  return out.sort((a, b) => IMPACT_RANK[a.impact]! - IMPACT_RANK[b.impact]!);
}


function detail(r: RegionAnnotation): string {
  if (r.classes[0] === 'intergenic') {
    return `${r.left ? `${r.left.gene}(dist:${r.left.distance})` : 'NONE'}&${r.right ? `${r.right.gene}(dist:${r.right.distance})` : 'NONE'}`;
  }
  return r.hits
    .map((h) => {
      const t = h.transcript;
      const where = h.exon !== undefined ? `exon${h.exon}` : h.intron !== undefined ? `intron${h.intron}` : `dist:${h.distance}`;
      return `${t.id}:${t.strand}:${where}`;
    })
    .join('&');
}

// Output is gathered into large strings and written in few chunks; add() is synchronous so the
// per-record cost has no await in it, and the caller awaits flush() only when a chunk is full.
class Sink {
  private buf = '';
  constructor(private readonly out: Writable) {}
  /** True when the buffer is full and flush() should be awaited. */
  add(text: string): boolean {
    this.buf += text;
    return this.buf.length >= FLUSH_CHARS;
  }
  async push(text: string): Promise<void> {
    if (this.add(text)) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.buf.length === 0) return;
    const chunk = this.buf;
    this.buf = '';
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }
}

export async function annotateVcf(opts: AnnotateOptions): Promise<AnnotationSummary> {
  const started = performance.now();
  const ref = opts.reference;
  const summary = emptySummary(ref ? ENGINE_NAME : 'gas-count', ref?.build ?? null);
  const every = opts.progressEvery ?? 10_000;
  const maxHeaderBytes = opts.limits?.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  const vcf = new Sink(opts.vcfOut);
  const tsv = opts.tsvOut ? new Sink(opts.tsvOut) : undefined;
  const tabs = new Int32Array(8);
  const fields: string[] = new Array<string>(8).fill('');
  let sawFileformat = false;
  let sawColumns = false;
  let header = '';
  let headerBytes = 0;

  for await (const batch of readLineBatches(opts.input, opts.limits ?? defaultLimits)) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
    for (let li = 0; li < batch.lines.length; li++) {
      const line = batch.lines[li]!;
      const lineNo = batch.firstLine + li;
      if (!sawColumns) {
        if (lineNo === 1) {
          // VCF 3.3 (older GAS inputs) through 4.3 share the eight fixed columns.
          if (!/^##fileformat=VCFv\d+(\.\d+)?\s*$/.test(line)) {
            throw new VcfFormatError(1, 'header', 'the first line must be "##fileformat=VCFv4.x" (this does not look like a VCF file)');
          }
          sawFileformat = true;
        }
        headerBytes += line.length + 1;
        if (headerBytes > maxHeaderBytes) throw new VcfFormatError(lineNo, 'header', `the header is larger than ${maxHeaderBytes} bytes`);
        if (line.startsWith('##')) {
          summary.headerLines++;
          header += line + '\n';
          continue;
        }
        if (line.startsWith('#')) {
          if (!line.startsWith('#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO')) {
            throw new VcfFormatError(lineNo, 'header', 'the column header must start with #CHROM POS ID REF ALT QUAL FILTER INFO, tab-separated');
          }
          sawColumns = true;
          summary.headerLines++;
          header += `##GAS_engine=${summary.engine}${ref ? `;build=${ref.build}` : ''}\n`;
          if (ref) header += INFO_HEADERS.join('\n') + '\n';
          await vcf.push(header + line + '\n');
          if (tsv) await tsv.push(TSV_COLUMNS.join('\t') + '\n');
          header = '';
          continue;
        }
        if (line === '') continue;
        throw new VcfFormatError(lineNo, 'header', 'data line before the #CHROM header line');
      }
      if (line === '') continue;
      if (line.charCodeAt(0) === 35 /* # */) {
        throw new VcfFormatError(lineNo, 'header', line.startsWith('#CHROM') ? 'a second #CHROM header line' : 'meta-information line after the #CHROM header line');
      }
      // Only the eight fixed columns are cut out, by their tab positions; the line is never split or
      // joined whole, and the samples (maybe thousands of columns) are copied as they are.
      let tabCount = 0;
      for (let at = line.indexOf('\t'); at !== -1 && tabCount < 8; at = line.indexOf('\t', at + 1)) tabs[tabCount++] = at;
      if (tabCount < 7) throw new VcfFormatError(lineNo, 'columns', `expected at least 8 tab-separated columns, found ${tabCount + 1}`);
      const infoStart = tabs[6]! + 1;
      const infoEnd = tabCount === 8 ? tabs[7]! : line.length;
      fields[0] = line.slice(0, tabs[0]);
      for (let k = 1; k < 7; k++) fields[k] = line.slice(tabs[k - 1]! + 1, tabs[k]);
      fields[7] = line.slice(infoStart, infoEnd);
      const rec = checkRecord(fields, lineNo);
      summary.records++;
      summary.alleles += rec.alts.length;
      summary.snvs += rec.snvs;
      summary.indels += rec.indels;
      summary.other += rec.other;
      const chromName = fields[0]!;
      summary.chromosomes[chromName] = (summary.chromosomes[chromName] ?? 0) + 1;
      const pos = Number(fields[1]);
      const refBases = fields[3]!;

      if (!ref) {
        if (vcf.add(line + '\n')) await vcf.flush();
      } else {
        const chrom = canonicalChrom(chromName);
        const region: string[] = [];
        const genes: string[] = [];
        const details: string[] = [];
        const rsids: string[] = [];
        const skips: string[] = [];
        const funcs: string[] = [];
        const sos: string[] = [];
        const impacts: string[] = [];
        const aas: string[] = [];
        let anyConsequence = false;
        let recordHasRs = false;
        for (let i = 0; i < rec.alts.length; i++) {
          const altBases = rec.alts[i]!;
          const allele = reduceAllele(pos, refBases, altBases);
          if (allele.kind === 'snv') {
            if (isTransition(allele.ref, allele.alt)) summary.transitions++;
            else summary.transversions++;
          }
          if (!isSequenceAllele(allele)) {
            const why = whyNotAnnotated(allele)!;
            summary.skipped[why] = (summary.skipped[why] ?? 0) + 1;
            region.push('.');
            genes.push('.');
            details.push('.');
            rsids.push('.');
            skips.push(why);
            funcs.push('.');
            sos.push('.');
            impacts.push('.');
            aas.push('.');
            if (tsv?.add(`${chromName}\t${fields[1]}\t${fields[2]}\t${refBases}\t${altBases}\t${i + 1}\t\t\t\t\t\t\t\t\t${why}\n`)) await tsv.flush();
            continue;
          }
          const r = classifyRegion(ref.transcripts, chrom, allele.start, allele.end);
          const rs = ref.snps ? ref.snps.find(chrom, pos, refBases, altBases) : [];
          summary.annotatedAlleles++;
          const regionName = r.classes.join('&');
          summary.regions[r.region] = (summary.regions[r.region] ?? 0) + 1;
          const geneText = r.classes[0] === 'intergenic' ? [r.left?.gene ?? 'NONE', r.right?.gene ?? 'NONE'].join('&') : r.genes.join('&');
          const detailText = detail(r);
          const rsText = rs.length > 0 ? rs.map((n) => `rs${n}`).join('&') : '.';
          if (rs.length > 0) {
            summary.rsidAlleles++;
            recordHasRs = true;
          }
          const cons = consequences(r, allele, ref);
          const top = cons[0];
          if (top) {
            anyConsequence = true;
            summary.functions[top.exonicFunction] = (summary.functions[top.exonicFunction] ?? 0) + 1;
          }
          const aaText = cons.map((c) => `${c.gene}:${c.transcriptId}:${c.hgvsC}:${c.hgvsP}`).join('&');
          funcs.push(top?.exonicFunction ?? '.');
          sos.push(top?.soTerm ?? '.');
          impacts.push(top?.impact ?? '.');
          aas.push(aaText || '.');
          region.push(regionName);
          genes.push(geneText || '.');
          details.push(detailText || '.');
          rsids.push(rsText);
          skips.push('.');
          if (tsv?.add(`${chromName}\t${fields[1]}\t${fields[2]}\t${refBases}\t${altBases}\t${i + 1}\t${r.region}\t${geneText}\t${detailText}\t${rsText === '.' ? '' : rsText}\t${top?.exonicFunction ?? ''}\t${top?.soTerm ?? ''}\t${top?.impact ?? ''}\t${aaText}\t\n`)) await tsv.flush();
        }
        if (recordHasRs) summary.rsidRecords++;
        const info = fields[7];
        const add =
          `GAS_REGION=${region.join(',')};GAS_GENE=${genes.join(',')};GAS_DETAIL=${details.join(',')};GAS_RSID=${rsids.join(',')}` +
          (anyConsequence ? `;GAS_FUNC=${funcs.join(',')};GAS_SO=${sos.join(',')};GAS_IMPACT=${impacts.join(',')};GAS_AACHANGE=${aas.join(',')}` : '') +
          (skips.some((s) => s !== '.') ? `;GAS_SKIP=${skips.join(',')}` : '');
        const newInfo = info === '.' || info === '' ? add : `${info};${add}`;
        if (vcf.add(line.slice(0, infoStart) + newInfo + line.slice(infoEnd) + '\n')) await vcf.flush();
      }
      if (summary.records % every === 0) opts.onProgress?.(summary.records);
    }
  }
  if (!sawFileformat) throw new VcfFormatError(1, 'header', 'the file is empty');
  if (!sawColumns) throw new VcfFormatError(summary.headerLines + 1, 'header', 'no #CHROM header line');
  await vcf.flush();
  await tsv?.flush();
  opts.onProgress?.(summary.records);
  return finishSummary(summary, (performance.now() - started) / 1000);
}
