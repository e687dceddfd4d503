// One compact reference file per genome build (`<build>.gasref`): a manifest (sources with SHA-256,
// counts, build), the transcripts in columns, and the dbSNP table in its binary form. It loads in a
// fraction of the time the source files take to parse, and the annotator reads nothing else.
import { existsSync } from 'node:fs';
import { sha256File } from './file-digest.ts';
import { open, writeFile, rename, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Transcript } from './transcript.ts';
import { TranscriptIndex } from './annotation/transcript-index.ts';
import { loadGeneModels } from './gene-models/index.ts';
import { SnpTable, SnpTableBuilder, loadDbSnp } from './dbsnp/index.ts';
import { describeRejections } from './dbsnp/load-common.ts';
import { applyMane, loadManeSummary } from './gene-models/mane.ts';
import { compareChromNames } from './dbsnp/snp-table.ts';
import type { Reference, ReferenceCoverage } from './reference.ts';
import { FastaReader } from './fasta/index.ts';
import { canonicalChrom } from './chrom-alias.ts';

const MAGIC = Buffer.from('GASREF1\n');
/** 2: the manifest lists the chromosomes the reference covers (`coverage`). Files of format 1 still load. */
export const REFERENCE_FORMAT_VERSION = 2;
const OLDEST_READABLE_FORMAT = 1;

export interface SourceFile {
  path: string;
  name: string;
  kind: 'genes' | 'dbsnp' | 'fasta' | 'mane';
  bytes: number;
  sha256: string;
  records: number;
  /** dbSNP sources: entries the table could not hold (describeRejections says which); absent when none. */
  rejected?: number;
}

const WHAT_A_SOURCE_GIVES: Record<SourceFile['kind'], string> = {
  genes: 'gene models',
  dbsnp: 'dbSNP entries',
  fasta: 'sequences',
  mane: 'transcripts matching the gene models',
};

/** A source that gave nothing to the reference: build-db stops and names it. */
export class EmptySourceError extends Error {
  constructor(
    readonly path: string,
    readonly kind: SourceFile['kind'],
    detail: string,
  ) {
    super(`${path}: no ${WHAT_A_SOURCE_GIVES[kind]} from this source (${detail})`);
    this.name = 'EmptySourceError';
  }
}

export interface ReferenceManifest {
  format: number;
  build: string;
  createdAt: string;
  engine: string;
  sources: SourceFile[];
  counts: { transcripts: number; codingTranscripts: number; genes: number; chromosomes: number; rsids: number };
  /** Since format 2; derived from the data when a format-1 file is loaded. */
  coverage?: ReferenceCoverage;
}

export interface LoadedReference extends Reference {
  manifest: ReferenceManifest;
  /** Set when the manifest names a FASTA that is not where it was at build time. */
  missingFasta?: string;
}

/** Transcripts as parallel columns: far smaller and faster to parse than one object each. */
function encodeTranscripts(ts: Transcript[]) {
  const exonOffsets = [0];
  const exons: number[] = [];
  for (const t of ts) {
    for (let i = 0; i < t.exonStarts.length; i++) exons.push(t.exonStarts[i]!, t.exonEnds[i]!);
    exonOffsets.push(exons.length / 2);
  }
  return {
    id: ts.map((t) => t.id),
    gene: ts.map((t) => t.gene),
    chrom: ts.map((t) => t.chrom),
    strand: ts.map((t) => t.strand).join(''),
    start: ts.map((t) => t.start),
    end: ts.map((t) => t.end),
    cdsStart: ts.map((t) => t.cdsStart),
    cdsEnd: ts.map((t) => t.cdsEnd),
    biotype: ts.map((t) => t.biotype),
    exonOffsets,
    exons,
    // Where the sources give them ('' for none).
    ...(ts.some((t) => t.geneId) ? { geneId: ts.map((t) => t.geneId ?? '') } : {}),
    // With a MANE summary only: [select, plusClinical, hgnc, gene, protein] ('' for none), or null.
    ...(ts.some((t) => t.mane)
      ? {
          mane: ts.map((t) =>
            t.mane ? [t.mane.select, t.mane.plusClinical, t.mane.hgnc, t.mane.gene, t.mane.protein].map((v) => v ?? '') : null,
          ),
        }
      : {}),
  };
}

function decodeMane(row: string[] | null | undefined): Transcript['mane'] {
  if (!row) return undefined;
  const [select, plusClinical, hgnc, gene, protein] = row;
  return {
    ...(select ? { select } : {}),
    ...(plusClinical ? { plusClinical } : {}),
    ...(hgnc ? { hgnc } : {}),
    ...(gene ? { gene } : {}),
    ...(protein ? { protein } : {}),
  };
}

function decodeTranscripts(c: ReturnType<typeof encodeTranscripts>): Transcript[] {
  const out = new Array<Transcript>(c.id.length);
  for (let i = 0; i < c.id.length; i++) {
    const from = c.exonOffsets[i]!;
    const to = c.exonOffsets[i + 1]!;
    const exonStarts: number[] = [];
    const exonEnds: number[] = [];
    for (let k = from; k < to; k++) {
      exonStarts.push(c.exons[2 * k]!);
      exonEnds.push(c.exons[2 * k + 1]!);
    }
    out[i] = {
      id: c.id[i]!,
      gene: c.gene[i]!,
      chrom: c.chrom[i]!,
      strand: c.strand[i] === '-' ? '-' : '+',
      start: c.start[i]!,
      end: c.end[i]!,
      cdsStart: c.cdsStart[i]!,
      cdsEnd: c.cdsEnd[i]!,
      biotype: c.biotype[i]!,
      exonStarts,
      exonEnds,
      ...(c.geneId?.[i] ? { geneId: c.geneId[i] } : {}),
      mane: decodeMane(c.mane?.[i]),
    };
  }
  return out;
}

export async function buildReferenceFile(opts: {
  build: string;
  genes: string[];
  dbsnp: string[];
  /** A bgzip'd (with .fai and .gzi) or plain FASTA; recorded by path and checksum, read at load time. */
  fasta?: string;
  /** A MANE summary (GRCh38): MANE Select / Plus Clinical, HGNC and gene ids for the transcripts it names. */
  mane?: string;
  out: string;
  engine: string;
  onProgress?: (message: string) => void;
  /** Entries a source holds that the reference cannot (named with their lines); default: onProgress. */
  onWarning?: (message: string) => void;
}): Promise<ReferenceManifest> {
  const say = opts.onProgress ?? (() => undefined);
  const warn = opts.onWarning ?? say;
  const sources: SourceFile[] = [];
  const transcripts: Transcript[] = [];
  for (const path of opts.genes) {
    say(`reading gene models ${path}`);
    const ts = await loadGeneModels(path);
    if (ts.length === 0) throw new EmptySourceError(path, 'genes', 'no transcript in it');
    transcripts.push(...ts);
    sources.push({
      path,
      name: basename(path),
      kind: 'genes',
      bytes: (await stat(path)).size,
      sha256: await sha256File(path),
      records: ts.length,
    });
  }
  if (opts.mane) {
    say(`reading MANE summary ${opts.mane}`);
    const matched = applyMane(transcripts, await loadManeSummary(opts.mane));
    if (matched === 0)
      throw new EmptySourceError(opts.mane, 'mane', `none of its transcripts is among the ${transcripts.length} gene models`);
    say(`MANE: ${matched} of ${transcripts.length} transcripts`);
    sources.push({
      path: opts.mane,
      name: basename(opts.mane),
      kind: 'mane',
      bytes: (await stat(opts.mane)).size,
      sha256: await sha256File(opts.mane),
      records: matched,
    });
  }
  const builder = new SnpTableBuilder();
  for (const path of opts.dbsnp) {
    say(`reading dbSNP ${path}`);
    const r = await loadDbSnp(path, builder);
    const rejected = r.rejected > 0 ? describeRejections(r) : '';
    if (r.records === 0) {
      const parts = [`${r.skipped} data ${r.skipped === 1 ? 'line' : 'lines'} without a usable rsID or allele`];
      if (rejected) parts.push(rejected);
      throw new EmptySourceError(path, 'dbsnp', parts.join('; '));
    }
    if (rejected) warn(`${path}: left out ${rejected}`);
    sources.push({
      path,
      name: basename(path),
      kind: 'dbsnp',
      bytes: (await stat(path)).size,
      sha256: await sha256File(path),
      records: r.records,
      ...(r.rejected > 0 ? { rejected: r.rejected } : {}),
    });
  }
  const snps = builder.build();
  const sequence: ReferenceCoverage['sequence'] = {};
  if (opts.fasta) {
    say(`checking FASTA ${opts.fasta}`);
    const reader = FastaReader.open(opts.fasta);
    const names = reader.names();
    if (names.length === 0) throw new EmptySourceError(opts.fasta, 'fasta', 'no sequence in its index');
    say(`finding the sequenced spans of ${opts.fasta}`);
    for (const name of names) sequence[canonicalChrom(name)] = sequencedSpans(reader, name);
    reader.close();
    sources.push({
      path: resolve(opts.fasta),
      name: basename(opts.fasta),
      kind: 'fasta',
      bytes: (await stat(opts.fasta)).size,
      sha256: await sha256File(opts.fasta),
      records: names.length,
    });
  }
  const manifest: ReferenceManifest = {
    format: REFERENCE_FORMAT_VERSION,
    build: opts.build,
    createdAt: new Date().toISOString(),
    engine: opts.engine,
    sources,
    counts: {
      transcripts: transcripts.length,
      codingTranscripts: transcripts.filter((t) => t.cdsEnd > t.cdsStart).length,
      genes: new Set(transcripts.map((t) => t.gene)).size,
      chromosomes: new Set(transcripts.map((t) => t.chrom)).size,
      rsids: snps.count,
    },
    coverage: { genes: geneChromosomes(transcripts), dbsnp: snps.chromosomes(), sequence },
  };
  const txBuf = gzipSync(Buffer.from(JSON.stringify(encodeTranscripts(transcripts))));
  const snpBuf = snps.serialize();
  // Spaces after the manifest JSON put the dbSNP table on an 8-byte boundary, so a loader can use
  // its arrays in place (and worker threads can share them) instead of copying them.
  const manifestJson = JSON.stringify(manifest);
  const misalign = (MAGIC.length + 12 + manifestJson.length + txBuf.length) % 8;
  const manifestBuf = Buffer.from(manifestJson + ' '.repeat(misalign === 0 ? 0 : 8 - misalign));
  const lengths = Buffer.alloc(12);
  lengths.writeUInt32LE(manifestBuf.length, 0);
  lengths.writeUInt32LE(txBuf.length, 4);
  lengths.writeUInt32LE(snpBuf.length, 8);
  // Written next to the target and renamed, so a reader never sees half a file.
  const tmp = `${opts.out}.partial`;
  await writeFile(tmp, Buffer.concat([MAGIC, lengths, manifestBuf, txBuf, snpBuf]));
  await rename(tmp, opts.out);
  await writeFile(`${opts.out}.manifest.json`, JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

export async function loadReferenceFile(path: string): Promise<LoadedReference> {
  return parseReferenceFile(await readReferenceBytes(path), path);
}

/**
 * The bytes of a reference file in shared memory: parseReferenceFile keeps views on them, so
 * worker threads given the same bytes share the dbSNP table instead of each holding a copy.
 */
export async function readReferenceBytes(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const buf = Buffer.from(new SharedArrayBuffer(size));
    for (let at = 0; at < size;) {
      const { bytesRead } = await fh.read(buf, at, size - at, at);
      if (bytesRead === 0) throw new Error(`${path}: file shrank while being read`);
      at += bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}

/** A reference from the bytes of a .gasref file (`path` is for messages). */
export function parseReferenceFile(buf: Buffer, path: string): LoadedReference {
  if (buf.length < MAGIC.length + 12 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new Error(`${path} is not a GAS reference file (build one with: gas-annotate build-db)`);
  }
  let at = MAGIC.length;
  const mLen = buf.readUInt32LE(at);
  const tLen = buf.readUInt32LE(at + 4);
  const sLen = buf.readUInt32LE(at + 8);
  at += 12;
  const manifest = JSON.parse(buf.subarray(at, at + mLen).toString()) as ReferenceManifest;
  at += mLen;
  if (!(manifest.format >= OLDEST_READABLE_FORMAT && manifest.format <= REFERENCE_FORMAT_VERSION)) {
    throw new Error(
      `${path} has reference format ${manifest.format}; this engine reads ${REFERENCE_FORMAT_VERSION}: rebuild it with gas-annotate build-db`,
    );
  }
  const transcripts = decodeTranscripts(
    JSON.parse(gunzipSync(buf.subarray(at, at + tLen)).toString()) as ReturnType<typeof encodeTranscripts>,
  );
  at += tLen;
  const snps = SnpTable.deserialize(buf.subarray(at, at + sLen));
  const fasta = manifest.sources.find((s) => s.kind === 'fasta');
  // The FASTA stays where it was at build time; without it, everything but consequences works.
  const sequence = fasta && existsSync(fasta.path) ? FastaReader.open(fasta.path) : undefined;
  const missingFasta = fasta && !sequence ? fasta.path : undefined;
  // A format-1 file has no coverage list: the data it holds says the same, less the N spans.
  const coverage: ReferenceCoverage = manifest.coverage ?? {
    genes: geneChromosomes(transcripts),
    dbsnp: snps.chromosomes(),
    sequence: Object.fromEntries((sequence?.names() ?? []).map((n) => [canonicalChrom(n), [[1, sequence!.length(n) ?? 1]]])),
  };
  if (missingFasta) coverage.sequence = {};
  return { build: manifest.build, transcripts: new TranscriptIndex(transcripts), snps, sequence, manifest, missingFasta, coverage };
}

function geneChromosomes(transcripts: readonly Transcript[]): string[] {
  return [...new Set(transcripts.map((t) => canonicalChrom(t.chrom)))].sort(compareChromNames);
}

/** Gaps of N shorter than this are inside a span: the spans say where sequence is, not every gap. */
const SPAN_MERGE_GAP = 1_000_000;
const SPAN_WINDOW = 1 << 20;

/**
 * The 1-based inclusive spans of `name` that hold bases other than N (test FASTAs hold a window of
 * real sequence in a chromosome of Ns), read a window at a time so memory stays flat.
 */
export function sequencedSpans(reader: FastaReader, name: string): Array<[number, number]> {
  const length = reader.length(name) ?? 0;
  const spans: Array<[number, number]> = [];
  for (let from = 0; from < length; from += SPAN_WINDOW) {
    const bases = reader.fetch(name, from, from + SPAN_WINDOW);
    for (const m of bases.matchAll(/[^N]+/g)) {
      const start = from + m.index + 1;
      const end = start + m[0].length - 1;
      const last = spans.at(-1);
      if (last && start - last[1] <= SPAN_MERGE_GAP) last[1] = end;
      else spans.push([start, end]);
    }
  }
  return spans;
}
