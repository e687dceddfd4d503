// The agreement study's input for one window: every possible SNV at the coding positions of a
// deterministic sample of transcripts, SNVs at positions that cover each region class (UTRs,
// splice sites and splice regions, introns, non-coding exons, flanks at the 1 kb and 5 kb edges,
// intergenic), and the real call sets' records that fall in the window. REF always comes from the
// FASTA; one ALT per record; records carry an ID (`v1`, `v2`, ...) to join the tools' outputs, and
// INFO/SRC saying why they are there.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rng } from './generate.ts';
import { run } from './measure.ts';
import type { Dataset, RealVcf } from './agreement-data.ts';
import { cdsPositions, introns, isCodingModel } from './agreement-models.ts';
import type { ModelTranscript } from './agreement-models.ts';

export type VariantKind = 'snv' | 'indel' | 'mnv';

export interface TestVariant {
  id: string;
  pos: number;
  ref: string;
  alt: string;
  kind: VariantKind;
  /** Why the record is there: cds, splice, utr5, ..., or vcf:<call set>. */
  sources: string[];
}

export interface SampleParams {
  seed: number;
  /** Coding transcripts whose every CDS base gets all three SNVs (all of them by default). */
  codingTranscripts: number;
  /** Non-coding transcripts sampled for exon, splice and intron positions. */
  nonCodingTranscripts: number;
  /** Positions per transcript in each of 5′ UTR, 3′ UTR, deep intron and non-coding exon. */
  perClass: number;
  /** Intronic bases next to each exon edge (splice site ±1-2, splice region 3-8, and beyond). */
  intronEdge: number;
  /** Exonic bases next to each exon edge (csq and SnpEff call the first 3 splice_region). */
  exonEdge: number;
  /** Distances from a transcript end, both sides: around the 1 kb (ours) and 5 kb (SnpEff) limits. */
  flankDistances: number[];
  intergenic: number;
}

export const defaultSampleParams: SampleParams = {
  seed: 20240321,
  codingTranscripts: Infinity,
  nonCodingTranscripts: 60,
  perClass: 8,
  intronEdge: 10,
  exonEdge: 4,
  flankDistances: [1, 2, 500, 999, 1000, 1001, 1002, 2500, 4999, 5000, 5001, 5002, 7500],
  intergenic: 300,
};

export interface VariantSet {
  variants: TestVariant[];
  /** Transcripts the positions were drawn from. */
  sampled: { coding: string[]; nonCoding: string[] };
  counts: Record<string, number>;
  /** Real records dropped, by reason (REF not the FASTA's, symbolic ALT, outside the window). */
  dropped: Record<string, number>;
}

/** Fisher-Yates on a copy, driven by `rand`: the sample is the first n. */
function sample<T>(items: T[], n: number, rand: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, Math.min(n, a.length));
}

/** Positions of `t` by class, 1-based. Exon/intron edges are taken in transcript-independent genomic terms. */
function positionsOf(t: ModelTranscript, p: SampleParams, rand: () => number): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  const coding = isCodingModel(t);
  if (coding) for (const pos of cdsPositions(t)) out.push(['cds', pos]);
  for (const [a, b] of introns(t)) {
    for (let k = 0; k < p.intronEdge && a + k <= b; k++) out.push(['splice', a + k], ['splice', b - k]);
    const deep: number[] = [];
    for (let q = a + p.intronEdge; q <= b - p.intronEdge; q++) deep.push(q);
    for (const q of sample(deep, Math.ceil(p.perClass / Math.max(1, introns(t).length)), rand)) out.push(['intron', q]);
  }
  for (let i = 0; i < t.exons.length; i++) {
    const [s, e] = t.exons[i]!;
    for (let k = 0; k < p.exonEdge && s + k <= e; k++) {
      if (i > 0) out.push(['splice', s + k]);
      if (i < t.exons.length - 1) out.push(['splice', e - k]);
    }
  }
  const exonic: number[] = [];
  for (const [s, e] of t.exons) for (let q = s; q <= e; q++) exonic.push(q);
  if (coding) {
    const cdsStart = t.cds[0]![0];
    const cdsEnd = t.cds[t.cds.length - 1]![1];
    const left = exonic.filter((q) => q < cdsStart);
    const right = exonic.filter((q) => q > cdsEnd);
    const [five, three] = t.strand === '+' ? [left, right] : [right, left];
    for (const q of sample(five, p.perClass, rand)) out.push(['utr5', q]);
    for (const q of sample(three, p.perClass, rand)) out.push(['utr3', q]);
  } else {
    for (const q of sample(exonic, p.perClass * 2, rand)) out.push(['ncrna_exon', q]);
  }
  for (const d of p.flankDistances) out.push(['flank', t.start - d], ['flank', t.end + d]);
  return out;
}

const BASES = ['A', 'C', 'G', 'T'];

function minimal(pos: number, ref: string, alt: string): { pos: number; ref: string; alt: string } {
  // Trim the shared suffix, then the shared prefix, keeping one base (the VCF anchor) on each side.
  while (ref.length > 1 && alt.length > 1 && ref[ref.length - 1] === alt[alt.length - 1]) {
    ref = ref.slice(0, -1);
    alt = alt.slice(0, -1);
  }
  while (ref.length > 1 && alt.length > 1 && ref[0] === alt[0]) {
    ref = ref.slice(1);
    alt = alt.slice(1);
    pos++;
  }
  return { pos, ref, alt };
}

function kindOf(ref: string, alt: string): VariantKind {
  if (ref.length === 1 && alt.length === 1) return 'snv';
  if (ref.length === alt.length) return 'mnv';
  return 'indel';
}

/** The records of `vcf.region` (through its tabix index); only POS, REF and ALT are used. */
async function readRealRecords(ds: Dataset, vcf: RealVcf): Promise<string[]> {
  const out = join(ds.workDir, `${vcf.name}.records.txt`);
  const r = await run('bcftools', ['view', '--no-header', '--regions', vcf.region, vcf.path], { stdoutFile: out });
  if (r.code !== 0) throw new Error(`bcftools view ${vcf.path} ${vcf.region}: ${r.stderrTail}`);
  return (await readFile(out, 'utf8')).split('\n').filter(Boolean);
}

export async function buildVariants(ds: Dataset, p: SampleParams): Promise<VariantSet> {
  const rand = rng(p.seed);
  const [w0, w1] = ds.window;
  const byKey = new Map<string, TestVariant>();
  const counts: Record<string, number> = {};
  const dropped: Record<string, number> = {};
  const drop = (why: string) => (dropped[why] = (dropped[why] ?? 0) + 1);
  const add = (pos: number, ref: string, alt: string, source: string) => {
    const key = `${pos}:${ref}:${alt}`;
    let v = byKey.get(key);
    if (!v) byKey.set(key, (v = { id: '', pos, ref, alt, kind: kindOf(ref, alt), sources: [] }));
    if (!v.sources.includes(source)) v.sources.push(source);
  };
  const addAllSnvs = (pos: number, source: string) => {
    if (pos < w0 || pos > w1) return;
    const ref = ds.fetch(pos, pos);
    if (!BASES.includes(ref)) return;
    for (const alt of BASES) if (alt !== ref) add(pos, ref, alt, source);
  };

  const coding = ds.transcripts.filter(isCodingModel);
  const nonCoding = ds.transcripts.filter((t) => !isCodingModel(t));
  const chosenCoding = sample(coding, p.codingTranscripts, rand);
  const chosenNonCoding = sample(nonCoding, p.nonCodingTranscripts, rand);
  for (const t of [...chosenCoding, ...chosenNonCoding]) for (const [source, pos] of positionsOf(t, p, rand)) addAllSnvs(pos, source);

  // Intergenic: random real bases more than 5 kb from every transcript, so no tool calls them anything else.
  const far = (pos: number) => ds.transcripts.every((t) => pos < t.start - 5000 || pos > t.end + 5000);
  for (let tries = 0, got = 0; got < p.intergenic && tries < p.intergenic * 50; tries++) {
    const pos = w0 + Math.floor(rand() * (w1 - w0 + 1));
    if (!far(pos) || !BASES.includes(ds.fetch(pos, pos))) continue;
    addAllSnvs(pos, 'intergenic');
    got++;
  }

  for (const vcf of ds.realVcfs) {
    for (const line of await readRealRecords(ds, vcf)) {
      const f = line.split('\t');
      const pos = Number(f[1]);
      const ref = f[3]!.toUpperCase();
      for (const alt0 of f[4]!.split(',')) {
        const alt = alt0.toUpperCase();
        if (!/^[ACGT]+$/.test(alt) || !/^[ACGT]+$/.test(ref)) {
          drop(`${vcf.name}: REF or ALT not plain sequence (${alt0.startsWith('<') ? 'symbolic' : alt0})`);
          continue;
        }
        if (pos < w0 || pos + ref.length - 1 > w1) {
          drop(`${vcf.name}: outside the window`);
          continue;
        }
        if (ds.fetch(pos, pos + ref.length - 1) !== ref) {
          drop(`${vcf.name}: REF differs from the FASTA`);
          continue;
        }
        const m = minimal(pos, ref, alt);
        add(m.pos, m.ref, m.alt, `vcf:${vcf.name}`);
      }
    }
  }

  const variants = [...byKey.values()].sort(
    (a, b) => a.pos - b.pos || (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : a.alt < b.alt ? -1 : a.alt > b.alt ? 1 : 0),
  );
  variants.forEach((v, i) => {
    v.id = `v${i + 1}`;
    for (const s of v.sources) counts[`${v.kind} ${s}`] = (counts[`${v.kind} ${s}`] ?? 0) + 1;
  });
  return {
    variants,
    sampled: { coding: chosenCoding.map((t) => t.id), nonCoding: chosenNonCoding.map((t) => t.id) },
    counts,
    dropped,
  };
}

/** One ALT per record, sorted, sites only. */
export async function writeVariants(ds: Dataset, set: VariantSet, path: string): Promise<void> {
  const lines = [
    '##fileformat=VCFv4.2',
    `##contig=<ID=${ds.chrom},length=${ds.chromLength}>`,
    '##INFO=<ID=SRC,Number=.,Type=String,Description="Why the record is in the agreement input: cds, splice, utr5, utr3, intron, ncrna_exon, flank, intergenic, vcf:<call set>">',
    `##gasAgreement=${ds.description}`,
    '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO',
  ];
  for (const v of set.variants) lines.push(`${ds.chrom}\t${v.pos}\t${v.id}\t${v.ref}\t${v.alt}\t.\t.\tSRC=${v.sources.join(',')}`);
  await writeFile(path, lines.join('\n') + '\n');
}
