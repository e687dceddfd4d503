// The first engine: it validates and counts, and passes the input through as the annotated VCF.
// The gene/consequence/dbSNP engine replaces the annotation part; the contract stays.
import type { Readable, Writable } from 'node:stream';
import { once } from 'node:events';
import { readLines, defaultLimits, type LineReaderLimits } from './line-reader.ts';
import { checkRecord } from './vcf-record.ts';
import { VcfFormatError } from './vcf-error.ts';

export interface VariantCounts {
  records: number;
  alleles: number;
  snvs: number;
  indels: number;
  other: number;
  headerLines: number;
  chromosomes: Record<string, number>;
}

export interface AnnotateOptions {
  input: Readable;
  vcfOut: Writable;
  /** Called every progressEvery records with lines done so far. */
  onProgress?: (recordsDone: number) => void;
  progressEvery?: number;
  signal?: AbortSignal;
  limits?: LineReaderLimits;
  engineName?: string;
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

export async function annotateVcf(opts: AnnotateOptions): Promise<VariantCounts> {
  const counts: VariantCounts = { records: 0, alleles: 0, snvs: 0, indels: 0, other: 0, headerLines: 0, chromosomes: {} };
  const every = opts.progressEvery ?? 10_000;
  let sawFileformat = false;
  let sawColumns = false;
  let buffer = '';
  for await (const [line, lineNo] of readLines(opts.input, opts.limits ?? defaultLimits)) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
    if (lineNo === 1) {
      if (!/^##fileformat=VCFv\d+(\.\d+)?\s*$/.test(line)) {
        throw new VcfFormatError(1, 'header', 'the first line must be "##fileformat=VCFv4.x" (this does not look like a VCF file)');
      }
      sawFileformat = true;
    }
    if (line.startsWith('##')) {
      if (sawColumns) throw new VcfFormatError(lineNo, 'header', 'meta-information line after the #CHROM header line');
      counts.headerLines++;
      buffer += line + '\n';
      continue;
    }
    if (line.startsWith('#')) {
      if (sawColumns) throw new VcfFormatError(lineNo, 'header', 'a second #CHROM header line');
      if (!line.startsWith('#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO')) {
        throw new VcfFormatError(lineNo, 'header', 'the column header must start with #CHROM POS ID REF ALT QUAL FILTER INFO, tab-separated');
      }
      sawColumns = true;
      counts.headerLines++;
      buffer += `##GAS_engine=${opts.engineName ?? 'count'}\n${line}\n`;
      await write(opts.vcfOut, buffer);
      buffer = '';
      continue;
    }
    if (line === '') continue;
    if (!sawColumns) throw new VcfFormatError(lineNo, 'header', 'data line before the #CHROM header line');
    const fields = line.split('\t');
    const rec = checkRecord(fields, lineNo);
    counts.records++;
    counts.alleles += rec.alts.length;
    counts.snvs += rec.snvs;
    counts.indels += rec.indels;
    counts.other += rec.other;
    const chrom = fields[0]!;
    counts.chromosomes[chrom] = (counts.chromosomes[chrom] ?? 0) + 1;
    await write(opts.vcfOut, line + '\n');
    if (counts.records % every === 0) opts.onProgress?.(counts.records);
  }
  if (!sawFileformat) throw new VcfFormatError(1, 'header', 'the file is empty');
  if (!sawColumns) throw new VcfFormatError(counts.headerLines + 1, 'header', 'no #CHROM header line');
  opts.onProgress?.(counts.records);
  return counts;
}

/** The `.count.log` text: how many of what were read. */
export function formatCountLog(inputName: string, counts: VariantCounts, seconds: number): string {
  const lines = [
    `Input file: ${inputName}`,
    `Total header lines: ${counts.headerLines}`,
    `Total variant records: ${counts.records}`,
    `Total variant alleles: ${counts.alleles}`,
    `SNVs: ${counts.snvs}`,
    `Indels: ${counts.indels}`,
    `Other alleles: ${counts.other}`,
    ...Object.entries(counts.chromosomes).map(([c, n]) => `Records on ${c}: ${n}`),
    `Run time (s): ${seconds.toFixed(3)}`,
  ];
  return lines.join('\n') + '\n';
}
