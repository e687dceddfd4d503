// Ensembl GFF3 handling for the benchmark: restrict the models to genes that lie inside the real
// FASTA window (so every tool sees models it has sequence for), and convert them to GTF 2.2 for
// SnpEff's `build -gtf22`.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';

export interface GffFeature {
  seqid: string;
  source: string;
  type: string;
  /** 1-based inclusive, as in the file. */
  start: number;
  end: number;
  strand: string;
  phase: string;
  attrs: Map<string, string>;
  line: string;
}

function parseAttrs(s: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of s.split(';')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    m.set(part.slice(0, eq), decodeURIComponent(part.slice(eq + 1)));
  }
  return m;
}

export async function readGff3(path: string): Promise<GffFeature[]> {
  let input: Readable = createReadStream(path);
  if (path.endsWith('.gz')) input = input.pipe(createGunzip());
  const out: GffFeature[] = [];
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split('\t');
    if (f.length < 9) throw new Error(`${path}: GFF3 line with ${f.length} columns: ${line.slice(0, 80)}`);
    out.push({
      seqid: f[0]!,
      source: f[1]!,
      type: f[2]!,
      start: Number(f[3]),
      end: Number(f[4]),
      strand: f[6]!,
      phase: f[7]!,
      attrs: parseAttrs(f[8]!),
      line,
    });
  }
  return out;
}

const isGene = (f: GffFeature) => (f.attrs.get('ID') ?? '').startsWith('gene:');
const isTranscript = (f: GffFeature) => (f.attrs.get('ID') ?? '').startsWith('transcript:');
const parentOf = (f: GffFeature) => f.attrs.get('Parent') ?? '';

export interface FilteredGff3 {
  features: GffFeature[];
  genes: number;
  transcripts: number;
  droppedGenes: number;
}

/**
 * Genes wholly inside [1, maxEnd] on `seqid`, with their transcripts and their transcripts'
 * exons, CDS and UTRs, in file order. Non-model features (chromosome, biological_region) are left
 * out: csq ignores them, SnpEff and our loader have no use for them.
 */
export function filterGff3(features: GffFeature[], seqid: string, maxEnd: number): FilteredGff3 {
  const genes = new Set<string>();
  let droppedGenes = 0;
  for (const f of features) {
    if (!isGene(f)) continue;
    if (f.seqid === seqid && f.end <= maxEnd) genes.add(f.attrs.get('ID')!);
    else droppedGenes++;
  }
  const transcripts = new Set<string>();
  for (const f of features) if (isTranscript(f) && genes.has(parentOf(f))) transcripts.add(f.attrs.get('ID')!);
  const kept = features.filter((f) => {
    if (isGene(f)) return genes.has(f.attrs.get('ID')!);
    if (isTranscript(f)) return transcripts.has(f.attrs.get('ID')!);
    const parents = parentOf(f).split(',');
    return parents.length > 0 && parents.every((p) => transcripts.has(p));
  });
  return { features: kept, genes: genes.size, transcripts: transcripts.size, droppedGenes };
}

export function formatGff3(features: GffFeature[]): string {
  return '##gff-version 3\n' + features.map((f) => f.line + '\n').join('');
}

/** Bases [start1, end1] (1-based inclusive) of the models' chromosome. */
export type SequenceFetcher = (start1: number, end1: number) => string;

interface Segment {
  start: number;
  end: number;
  phase: string;
}

const COMPLEMENT: Record<string, string> = { A: 'T', C: 'G', G: 'C', T: 'A', N: 'N' };
function revcomp(s: string): string {
  let out = '';
  for (let i = s.length - 1; i >= 0; i--) out += COMPLEMENT[s[i]!] ?? 'N';
  return out;
}

/**
 * Genomic pieces (1-based inclusive) of the spliced offsets [from, to) of `segs`, which are in
 * transcript (5'→3') order. Each piece carries the phase of the segment it comes from: trimming
 * only the 3' end never moves a segment's 5' start, so GFF3 phases stay valid.
 */
function splicedPieces(segs: Segment[], strand: string, from: number, to: number): Segment[] {
  const out: Segment[] = [];
  let off = 0;
  for (const s of segs) {
    const len = s.end - s.start + 1;
    const a = Math.max(from, off);
    const b = Math.min(to, off + len);
    if (a < b) {
      if (strand === '-') out.push({ start: s.end - (b - 1 - off), end: s.end - (a - off), phase: s.phase });
      else out.push({ start: s.start + (a - off), end: s.start + (b - 1 - off), phase: s.phase });
    }
    off += len;
  }
  return out;
}

function splicedSequence(segs: Segment[], strand: string, fetch: SequenceFetcher): string {
  const parts = segs.map((s) => fetch(s.start, s.end));
  return strand === '-' ? parts.map(revcomp).join('') : parts.join('');
}

const STOPS = new Set(['TAA', 'TAG', 'TGA']);

export interface GtfConversion {
  text: string;
  transcripts: number;
  coding: number;
  /** Coding transcripts whose last CDS codon is a stop, moved into a stop_codon feature. */
  stopCodons: number;
  startCodons: number;
}

/**
 * Ensembl GFF3 → GTF 2.2 as SnpEff reads it: transcript, exon (with exon_number), CDS (with the
 * GFF3 phase as frame) and start_codon/stop_codon. Ensembl GFF3 CDS features include the stop
 * codon while GTF CDS features do not, so when the last three coding bases are a stop codon in the
 * FASTA they are written as `stop_codon` and cut from the CDS, as Ensembl's own GTF does.
 */
export function gff3ToGtf(features: GffFeature[], fetch: SequenceFetcher): GtfConversion {
  const genes = new Map<string, GffFeature>();
  const transcripts: GffFeature[] = [];
  const exons = new Map<string, Segment[]>();
  const cds = new Map<string, Segment[]>();
  for (const f of features) {
    if (isGene(f)) genes.set(f.attrs.get('ID')!, f);
    else if (isTranscript(f)) transcripts.push(f);
    else if (f.type === 'exon' || f.type === 'CDS') {
      const map = f.type === 'exon' ? exons : cds;
      for (const p of parentOf(f).split(',')) {
        let list = map.get(p);
        if (!list) map.set(p, (list = []));
        list.push({ start: f.start, end: f.end, phase: f.phase });
      }
    }
  }
  const lines: string[] = [];
  let coding = 0;
  let stopCodons = 0;
  let startCodons = 0;
  const q = (v: string) => `"${v.replace(/"/g, "'")}"`;
  // Transcripts grouped under their gene, each gene preceded by a `gene` line: without it SnpEff
  // takes the gene's span from its first transcript and splits the gene when the next one is longer.
  const byGene = new Map<string, GffFeature[]>();
  for (const t of transcripts) {
    const list = byGene.get(parentOf(t));
    if (list) list.push(t);
    else byGene.set(parentOf(t), [t]);
  }
  const geneAttrs = (gene: GffFeature, geneId: string) =>
    `gene_id ${q(geneId)}; gene_name ${q(gene.attrs.get('Name') ?? geneId)}; gene_biotype ${q(gene.attrs.get('biotype') ?? 'unknown')};`;
  for (const [geneKey, ts] of byGene) {
    const gene = genes.get(geneKey);
    if (!gene) continue;
    const gid = gene.attrs.get('gene_id') ?? geneKey.replace(/^gene:/, '');
    lines.push(`${gene.seqid}\t${gene.source}\tgene\t${gene.start}\t${gene.end}\t.\t${gene.strand}\t.\t${geneAttrs(gene, gid)}\n`);
    for (const t of ts) {
      const tid = t.attrs.get('ID')!;
      const strand = t.strand;
      const order = (a: Segment, b: Segment) => (strand === '-' ? b.start - a.start : a.start - b.start);
      const ex = (exons.get(tid) ?? []).sort(order);
      if (ex.length === 0) continue;
      const geneId = gid;
      const transcriptId = t.attrs.get('transcript_id') ?? tid.replace(/^transcript:/, '');
      const attrs =
        `gene_id ${q(geneId)}; transcript_id ${q(transcriptId)}; gene_name ${q(gene.attrs.get('Name') ?? geneId)}; ` +
        `gene_biotype ${q(gene.attrs.get('biotype') ?? 'unknown')}; transcript_name ${q(t.attrs.get('Name') ?? transcriptId)}; ` +
        `transcript_biotype ${q(t.attrs.get('biotype') ?? 'unknown')};`;
      const row = (type: string, s: number, e: number, frame: string, extra = '') =>
        `${t.seqid}\t${t.source}\t${type}\t${s}\t${e}\t.\t${strand}\t${frame}\t${attrs}${extra}\n`;
      lines.push(row('transcript', t.start, t.end, '.'));
      ex.forEach((e, i) => lines.push(row('exon', e.start, e.end, '.', ` exon_number "${i + 1}";`)));
      const c = (cds.get(tid) ?? []).sort(order);
      if (c.length === 0) continue;
      coding++;
      const len = c.reduce((n, s) => n + s.end - s.start + 1, 0);
      const phase0 = Number(c[0]!.phase) || 0;
      // A codon split by an intron gives two features; the second one's frame says where it starts.
      const codon = (type: string, pieces: Segment[]) => {
        let done = 0;
        for (const p of pieces) {
          lines.push(row(type, p.start, p.end, String((3 - (done % 3)) % 3)));
          done += p.end - p.start + 1;
        }
      };
      let cdsLen = len;
      const last = splicedPieces(c, strand, len - 3, len);
      if (len - phase0 >= 6 && (len - phase0) % 3 === 0 && STOPS.has(splicedSequence(last, strand, fetch))) {
        cdsLen = len - 3;
        stopCodons++;
        codon('stop_codon', last);
      }
      for (const p of splicedPieces(c, strand, 0, cdsLen)) lines.push(row('CDS', p.start, p.end, p.phase === '.' ? '0' : p.phase));
      const first = splicedPieces(c, strand, 0, 3);
      if (phase0 === 0 && splicedSequence(first, strand, fetch) === 'ATG') {
        startCodons++;
        codon('start_codon', first);
      }
    }
  }
  return { text: lines.join(''), transcripts: transcripts.length, coding, stopCodons, startCodons };
}
