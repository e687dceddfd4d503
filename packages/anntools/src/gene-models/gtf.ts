import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { canonicalChrom } from '../chrom-alias.ts';
import { readLines } from '../line-reader.ts';
import type { Transcript } from '../transcript.ts';
import { failAt } from './errors.ts';
import { assemble, addPart, newParts, parsePhase, parseStrand, parseUint } from './parts.ts';
import type { TranscriptParts } from './parts.ts';

const WANTED = new Set(['transcript_id', 'gene_id', 'gene_name', 'transcript_biotype', 'transcript_type', 'gene_biotype', 'gene_type']);

/**
 * `key "value"; key value; ...`: only the keys the engine uses are kept, the rest are skipped without
 * building strings. Quoted values may hold `;` and spaces. Returns the offending position on a syntax error.
 */
function parseAttributes(text: string, into: Map<string, string>): number {
  const n = text.length;
  let i = 0;
  while (i < n) {
    let c = text.charCodeAt(i);
    if (c === 32 || c === 59 || c === 9) {
      i++;
      continue;
    }
    const keyStart = i;
    while (i < n && (c = text.charCodeAt(i)) !== 32 && c !== 59) i++;
    const key = text.slice(keyStart, i);
    while (i < n && text.charCodeAt(i) === 32) i++;
    let value: string;
    if (i < n && text.charCodeAt(i) === 34 /* " */) {
      const close = text.indexOf('"', i + 1);
      if (close === -1) return keyStart;
      value = text.slice(i + 1, close);
      i = close + 1;
    } else {
      const valueStart = i;
      while (i < n && text.charCodeAt(i) !== 59) i++;
      value = text.slice(valueStart, i).trimEnd();
    }
    // GTF repeats some keys (tag "basic"; tag "CCDS"); the first of a wanted key is the one that counts.
    if (WANTED.has(key) && !into.has(key)) into.set(key, value);
  }
  return -1;
}

// Ensembl writes five_prime_utr, GENCODE UTR, UCSC's genePredToGtf 5UTR; all only matter without exon lines.
const UTR_TYPES = new Set(['UTR', 'five_prime_utr', 'three_prime_utr', '5UTR', '3UTR']);

interface GtfTranscript {
  parts: TranscriptParts;
  gene: string | undefined;
  geneId: string | undefined;
  txBiotype: string | undefined;
  geneBiotype: string | undefined;
}

/**
 * Ensembl / GENCODE GTF (1-based, inclusive) → Transcripts (0-based, half-open), in the order the
 * transcripts first appear. Only exon, CDS, start/stop codon and UTR features are read; gene and
 * transcript lines add nothing the exons do not say.
 */
export async function readGtf(input: Readable, source = 'GTF'): Promise<Transcript[]> {
  const byId = new Map<string, GtfTranscript>();
  const attrs = new Map<string, string>();
  for await (const [line, lineNo] of readLines(input)) {
    if (line.length === 0 || line.charCodeAt(0) === 35 /* # */) continue;
    const cols = line.split('\t');
    if (cols.length < 9) failAt(source, lineNo, 'columns', `${cols.length} tab-separated columns, GTF has 9`);
    const type = cols[2]!;
    const isExon = type === 'exon';
    const isCds = type === 'CDS' || type === 'start_codon' || type === 'stop_codon';
    const isUtr = UTR_TYPES.has(type);
    if (!isExon && !isCds && !isUtr) continue;
    const s1 = parseUint(cols[3]!);
    const e1 = parseUint(cols[4]!);
    if (s1 < 1) failAt(source, lineNo, 'start', `${JSON.stringify(cols[3])} is not a positive integer`);
    if (e1 < 0) failAt(source, lineNo, 'end', `${JSON.stringify(cols[4])} is not a non-negative integer`);
    if (e1 < s1) failAt(source, lineNo, 'end', `${e1} is before start ${s1}`);
    const strand = parseStrand(cols[6]!);
    if (strand === null) failAt(source, lineNo, 'strand', `${JSON.stringify(cols[6])} on a ${type} feature; expected + or -`);
    attrs.clear();
    const bad = parseAttributes(cols[8]!, attrs);
    if (bad >= 0) failAt(source, lineNo, 'attributes', `unterminated quoted value at character ${bad + 1}`);
    const ids = attrs.get('transcript_id');
    if (ids === undefined || ids.length === 0) failAt(source, lineNo, 'attributes', `${type} feature without transcript_id`);
    const chrom = canonicalChrom(cols[0]!);
    // 1-based inclusive [s1, e1] is 0-based half-open [s1 - 1, e1).
    const s = s1 - 1;
    const e = e1;
    // Ensembl's own GTF (the VEP test file here) lists an exon shared by two transcripts as
    // transcript_id "A,B", as its GFF3 does with Parent=A,B; no real transcript id holds a comma.
    for (const id of ids.includes(',') ? ids.split(',') : [ids]) {
      let t = byId.get(id);
      if (t === undefined) {
        t = {
          parts: newParts(chrom, strand, lineNo),
          gene: attrs.get('gene_name'),
          geneId: attrs.get('gene_id'),
          txBiotype: attrs.get('transcript_biotype') ?? attrs.get('transcript_type'),
          geneBiotype: attrs.get('gene_biotype') ?? attrs.get('gene_type'),
        };
        byId.set(id, t);
      } else {
        if (t.parts.chrom !== chrom || t.parts.strand !== strand) {
          failAt(
            source,
            lineNo,
            'seqname',
            `transcript ${id} is on ${t.parts.chrom} ${t.parts.strand} at line ${t.parts.line}, here on ${chrom} ${strand}`,
          );
        }
        // Trimmed GTFs carry the names on some lines only.
        t.gene ??= attrs.get('gene_name');
        t.geneId ??= attrs.get('gene_id');
        t.txBiotype ??= attrs.get('transcript_biotype') ?? attrs.get('transcript_type');
        t.geneBiotype ??= attrs.get('gene_biotype') ?? attrs.get('gene_type');
      }
      const p = t.parts;
      addPart(p, s, e, isExon ? 'exon' : isCds ? 'coding' : 'other', type === 'CDS' ? parsePhase(cols[7]) : 0);
    }
  }
  const out: Transcript[] = [];
  for (const [id, t] of byId) {
    const tx = assemble(source, id, t.gene ?? t.geneId ?? id, t.txBiotype ?? t.geneBiotype, t.parts);
    if (tx !== null && t.geneId !== undefined) tx.geneId = t.geneId;
    if (tx !== null) out.push(tx);
  }
  return out;
}

export async function loadGtf(path: string): Promise<Transcript[]> {
  return readGtf(createReadStream(path), path);
}
