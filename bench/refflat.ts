// UCSC refFlat for the agreement study: read the rows of one window, and convert them into the
// Ensembl-style GFF3 features that bcftools csq requires (gene / transcript / exon / CDS / UTR with
// ID=gene:…, ID=transcript:…, Parent= and biotype=). The same features go through gff3ToGtf for
// SnpEff, so all three tools read one set of models. Written here rather than borrowed from the
// engine's loader, so that the models the peers see do not depend on the code under test.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import type { GffFeature } from './gff3.ts';

export interface RefFlatRow {
  gene: string;
  name: string;
  chrom: string;
  strand: '+' | '-';
  /** UCSC 0-based half-open, as in the file. */
  txStart: number;
  txEnd: number;
  cdsStart: number;
  cdsEnd: number;
  exonStarts: number[];
  exonEnds: number[];
  /** The line as read, for writing a subset our engine loads itself. */
  line: string;
}

function numbers(list: string): number[] {
  return list.split(',').filter(Boolean).map(Number);
}

/** Rows of `path` (plain or gzip) on `chrom` whose whole transcript lies in [from0, to0). */
export async function readRefFlatWindow(path: string, chrom: string, from0: number, to0: number): Promise<RefFlatRow[]> {
  let input: Readable = createReadStream(path);
  if (path.endsWith('.gz')) input = input.pipe(createGunzip());
  const rows: RefFlatRow[] = [];
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    const f = line.split('\t');
    if (f.length < 11 || f[2] !== chrom) continue;
    const row: RefFlatRow = {
      gene: f[0]!,
      name: f[1]!,
      chrom: f[2],
      strand: f[3] === '-' ? '-' : '+',
      txStart: Number(f[4]),
      txEnd: Number(f[5]),
      cdsStart: Number(f[6]),
      cdsEnd: Number(f[7]),
      exonStarts: numbers(f[9]!),
      exonEnds: numbers(f[10]!),
      line,
    };
    if (row.txStart >= from0 && row.txEnd <= to0) rows.push(row);
  }
  return rows;
}

function feature(
  seqid: string,
  type: string,
  start: number,
  end: number,
  strand: string,
  phase: string,
  attrs: Array<[string, string]>,
): GffFeature {
  const text = attrs.map(([k, v]) => `${k}=${encodeURIComponent(v).replace(/%3A/g, ':')}`).join(';');
  return {
    seqid,
    source: 'refFlat',
    type,
    start,
    end,
    strand,
    phase,
    attrs: new Map(attrs),
    line: [seqid, 'refFlat', type, start, end, '.', strand, phase, text].join('\t'),
  };
}

/**
 * GFF3 features (1-based inclusive) for `rows`, named `seqid`. Genes are the refFlat symbols, with
 * the span of all their transcripts; transcript IDs are the NM_/NR_ accessions. refFlat's CDS
 * includes the stop codon, as Ensembl GFF3 CDS features do, so the CDS is written as it is. Phases
 * count from the CDS start in transcript orientation. Accessions must be unique in the window
 * (they are in the shared windows); a duplicate would merge two models under one ID, so it stops.
 */
export function refFlatToGff3(rows: RefFlatRow[], seqid: string): GffFeature[] {
  const seen = new Set<string>();
  const byGene = new Map<string, RefFlatRow[]>();
  for (const r of rows) {
    if (seen.has(r.name))
      throw new Error(`refFlat: ${r.name} appears twice in the window; the GFF3 conversion needs unique transcript IDs`);
    seen.add(r.name);
    const list = byGene.get(r.gene);
    if (list) list.push(r);
    else byGene.set(r.gene, [r]);
  }
  const out: GffFeature[] = [];
  for (const [gene, ts] of byGene) {
    const coding = ts.some((t) => t.cdsEnd > t.cdsStart);
    // csq 1.16 knows `lincRNA` but not yet `lncRNA` (strings of the binary); NR_ models are lincRNA-like.
    const geneBiotype = coding ? 'protein_coding' : 'lincRNA';
    const start = Math.min(...ts.map((t) => t.txStart)) + 1;
    const end = Math.max(...ts.map((t) => t.txEnd));
    out.push(
      feature(seqid, 'gene', start, end, ts[0]!.strand, '.', [
        ['ID', `gene:${gene}`],
        ['Name', gene],
        ['biotype', geneBiotype],
        ['gene_id', gene],
      ]),
    );
    for (const t of ts) {
      const tid = `transcript:${t.name}`;
      const isCoding = t.cdsEnd > t.cdsStart;
      out.push(
        feature(seqid, isCoding ? 'mRNA' : 'lnc_RNA', t.txStart + 1, t.txEnd, t.strand, '.', [
          ['ID', tid],
          ['Parent', `gene:${gene}`],
          ['Name', t.name],
          ['biotype', isCoding ? 'protein_coding' : 'lincRNA'],
          ['transcript_id', t.name],
        ]),
      );
      const order = t.exonStarts.map((_, i) => i);
      if (t.strand === '-') order.reverse();
      order.forEach((i, rank) =>
        out.push(
          feature(seqid, 'exon', t.exonStarts[i]! + 1, t.exonEnds[i]!, t.strand, '.', [
            ['Parent', tid],
            ['Name', `${t.name}.exon${rank + 1}`],
            ['rank', String(rank + 1)],
          ]),
        ),
      );
      if (!isCoding) continue;
      let done = 0;
      for (const i of order) {
        const s = Math.max(t.exonStarts[i]!, t.cdsStart);
        const e = Math.min(t.exonEnds[i]!, t.cdsEnd);
        if (e <= s) continue;
        out.push(
          feature(seqid, 'CDS', s + 1, e, t.strand, String((3 - (done % 3)) % 3), [
            ['ID', `CDS:${t.name}`],
            ['Parent', tid],
          ]),
        );
        done += e - s;
      }
      for (const i of order) {
        const pieces: Array<[number, number, boolean]> = [
          [t.exonStarts[i]!, Math.min(t.exonEnds[i]!, t.cdsStart), true],
          [Math.max(t.exonStarts[i]!, t.cdsEnd), t.exonEnds[i]!, false],
        ];
        for (const [s, e, left] of pieces) {
          if (e <= s) continue;
          const five = left === (t.strand === '+');
          out.push(feature(seqid, five ? 'five_prime_UTR' : 'three_prime_UTR', s + 1, e, t.strand, '.', [['Parent', tid]]));
        }
      }
    }
  }
  return out;
}
