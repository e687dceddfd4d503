import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { canonicalChrom } from '../chrom-alias.ts';
import { readLines } from '../line-reader.ts';
import type { Transcript } from '../transcript.ts';
import { GeneModelError, failAt } from './errors.ts';
import { assemble, addPart, newParts, parsePhase, parseStrand, parseUint } from './parts.ts';
import type { TranscriptParts } from './parts.ts';

/** Parts of a transcript; anything else with an ID is kept as a possible transcript or gene. */
const EXON_TYPES = new Set(['exon', 'pseudogenic_exon']);
const CDS_TYPES = new Set(['CDS', 'start_codon', 'stop_codon']);
const UTR_TYPES = new Set(['five_prime_UTR', 'three_prime_UTR', 'UTR', 'five_prime_utr', 'three_prime_utr']);

/**
 * Attributes read, across the dialects: Ensembl (Name, biotype, transcript_id, gene_id), GENCODE
 * (gene_name, transcript_type, gene_type) and NCBI RefSeq (Name, gene, transcript_id).
 */
const WANTED = new Set([
  'ID',
  'Parent',
  'Name',
  'biotype',
  'transcript_id',
  'transcript_biotype',
  'transcript_type',
  'gene_id',
  'gene_name',
  'gene',
  'gene_biotype',
  'gene_type',
]);

interface Feature {
  line: number;
  chrom: string;
  attrs: Map<string, string>;
}

function decode(value: string): string | null {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return null;
  }
}

/** Raw (still percent-encoded) values: Parent has to be split on commas before decoding, as %2C is a literal comma. */
function parseAttributes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of text.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const key = pair.slice(0, eq).trim();
    if (WANTED.has(key) && !out.has(key)) out.set(key, pair.slice(eq + 1));
  }
  return out;
}

function stripPrefix(id: string, prefix: string): string {
  return id.startsWith(prefix) ? id.slice(prefix.length) : id;
}

/**
 * Ensembl-style GFF3 (1-based, inclusive) → Transcripts (0-based, half-open). A transcript is any
 * feature that has exon children (or CDS/UTR children, when a file omits exons), whatever its type
 * (mRNA, transcript, lincRNA, processed_pseudogene, ...); its gene is its Parent. Children may come
 * before their parent, so the file is read whole before anything is assembled.
 */
export async function readGff3(input: Readable, source = 'GFF3'): Promise<Transcript[]> {
  const features = new Map<string, Feature>();
  const parts = new Map<string, TranscriptParts>();
  for await (const [line, lineNo] of readLines(input)) {
    if (line.length === 0) continue;
    if (line.charCodeAt(0) === 35 /* # */) {
      if (line.startsWith('##FASTA')) break;
      continue;
    }
    const cols = line.split('\t');
    if (cols.length < 9) failAt(source, lineNo, 'columns', `${cols.length} tab-separated columns, GFF3 has 9`);
    const type = cols[2]!;
    const isExon = EXON_TYPES.has(type);
    const isCds = CDS_TYPES.has(type);
    const isUtr = UTR_TYPES.has(type);
    const attrs = parseAttributes(cols[8]!);
    const rawChrom = decode(cols[0]!) ?? failAt(source, lineNo, 'seqid', `bad percent-encoding in ${JSON.stringify(cols[0])}`);
    const chrom = canonicalChrom(rawChrom);
    if (!isExon && !isCds && !isUtr) {
      const rawId = attrs.get('ID');
      if (rawId === undefined) continue;
      for (const [k, v] of attrs) {
        if (k === 'Parent') continue;
        attrs.set(k, decode(v) ?? failAt(source, lineNo, 'attributes', `bad percent-encoding in ${k}=${v}`));
      }
      const id = attrs.get('ID')!;
      // A feature split over several lines shares one ID; its first line says all the engine needs.
      if (!features.has(id)) features.set(id, { line: lineNo, chrom, attrs });
      continue;
    }
    const s1 = parseUint(cols[3]!);
    const e1 = parseUint(cols[4]!);
    if (s1 < 1) failAt(source, lineNo, 'start', `${JSON.stringify(cols[3])} is not a positive integer`);
    if (e1 < 0) failAt(source, lineNo, 'end', `${JSON.stringify(cols[4])} is not a non-negative integer`);
    if (e1 < s1) failAt(source, lineNo, 'end', `${e1} is before start ${s1}`);
    const strand =
      parseStrand(cols[6]!) ?? failAt(source, lineNo, 'strand', `${JSON.stringify(cols[6])} on a ${type} feature; expected + or -`);
    const parentList = attrs.get('Parent');
    if (parentList === undefined || parentList.length === 0) failAt(source, lineNo, 'attributes', `${type} feature without Parent`);
    // 1-based inclusive [s1, e1] is 0-based half-open [s1 - 1, e1).
    const s = s1 - 1;
    const e = e1;
    for (const raw of parentList.split(',')) {
      const pid = decode(raw) ?? failAt(source, lineNo, 'attributes', `bad percent-encoding in Parent=${raw}`);
      let p = parts.get(pid);
      if (p === undefined) {
        p = newParts(chrom, strand, lineNo);
        parts.set(pid, p);
      } else if (p.chrom !== chrom || p.strand !== strand) {
        failAt(
          source,
          lineNo,
          'seqid',
          `parent ${pid} has parts on ${p.chrom} ${p.strand} (line ${p.line}) and here on ${chrom} ${strand}`,
        );
      }
      addPart(p, s, e, isExon ? 'exon' : isCds ? 'coding' : 'other', type === 'CDS' ? parsePhase(cols[7]) : 0);
    }
  }

  const out: Transcript[] = [];
  for (const [pid, p] of parts) {
    const f = features.get(pid);
    if (f !== undefined && f.chrom !== p.chrom) {
      throw new GeneModelError(source, f.line, 'seqid', `${pid} is on ${f.chrom} but its parts (line ${p.line}) are on ${p.chrom}`);
    }
    const a = f?.attrs;
    const geneId = a?.get('Parent')?.split(',')[0];
    const g = geneId === undefined ? undefined : features.get(decode(geneId) ?? geneId)?.attrs;
    const id = a?.get('transcript_id') ?? stripPrefix(pid, 'transcript:');
    const gene =
      g?.get('Name') ??
      g?.get('gene_name') ??
      a?.get('gene_name') ??
      a?.get('gene') ??
      g?.get('gene_id') ??
      (geneId !== undefined ? stripPrefix(geneId, 'gene:') : undefined) ??
      // Exons hung directly on a gene (no transcript level): the "transcript" is the gene itself.
      a?.get('Name') ??
      id;
    const biotype =
      a?.get('biotype') ??
      a?.get('transcript_biotype') ??
      a?.get('transcript_type') ??
      g?.get('biotype') ??
      g?.get('gene_biotype') ??
      g?.get('gene_type');
    const tx = assemble(source, id, gene, biotype, p);
    if (tx === null) continue;
    const geneStableId = g?.get('gene_id') ?? (geneId !== undefined ? stripPrefix(decode(geneId) ?? geneId, 'gene:') : undefined);
    if (geneStableId !== undefined) tx.geneId = geneStableId;
    out.push(tx);
  }
  return out;
}

export async function loadGff3(path: string): Promise<Transcript[]> {
  return readGff3(createReadStream(path), path);
}
