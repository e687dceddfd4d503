// Synthetic-but-grounded benchmark input: SNVs and small indels at a population-VCF density over
// the part of GRCh38 chr21 that has real sequence in the shared FASTA window, REF bases from that
// FASTA, genes (transcripts ± 1 kb) twice as dense as intergenic sequence so that the mix of
// region classes is close to a whole-genome VCF's, dbSNP sites enriched and carrying their dbSNP
// alleles, sorted. Deterministic for a given seed, so every tool and every run sees the same file.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { seededRandom } from '../packages/testing/src/seeded-random.ts';

export interface GeneratorParams {
  /** SNV records to reach at least (the result is a little above it). */
  targetSnvs: number;
  seed: number;
  /** Indel records per SNV record (gnomAD v3 genomes: about 0.13). */
  indelRatio: number;
  /** Density weight of bases within 1 kb of a transcript relative to intergenic ones. */
  genicWeight: number;
  /** Further weight of exonic bases (on top of genicWeight). */
  exonWeight: number;
  /** Share of SNV records that carry a second ALT. */
  multiAllelicShare: number;
  /** Share of transitions among SNV ALTs (Ti/Tv ≈ share / (1 − share)). */
  transitionShare: number;
  /** How much likelier a dbSNP site is to carry a record than any other base (capped at 1). */
  dbsnpEnrichment: number;
}

export const defaultGeneratorParams: Omit<GeneratorParams, 'targetSnvs'> = {
  seed: 20240321,
  indelRatio: 0.1,
  genicWeight: 2,
  exonWeight: 1,
  multiAllelicShare: 0.03,
  transitionShare: 0.675,
  dbsnpEnrichment: 4,
};

export interface GeneratorInput {
  chrom: string;
  chromLength: number;
  /** Uppercase sequence of `chrom` from position 0; anything but A/C/G/T counts as missing. */
  sequence: string;
  /** Per base (0-based): GENIC when within 1 kb of a transcript, | EXONIC inside an exon. */
  classMask: Uint8Array;
  /** dbSNP SNVs by 0-based position: ALT bases whose REF matches the FASTA. */
  dbsnp: Map<number, string[]>;
  assembly: string;
  source: string;
}

export interface GeneratorCounts {
  records: number;
  snvRecords: number;
  indelRecords: number;
  multiAllelicRecords: number;
  alleles: number;
  dbsnpSeededRecords: number;
  /** Records within 1 kb of a transcript, and inside an exon. */
  genicRecords: number;
  exonicRecords: number;
  transitions: number;
  transversions: number;
  firstPos: number;
  lastPos: number;
  realBases: number;
}

/** Seeded, so every run and every tool sees the same input. */
export const rng = seededRandom;

const BASES = 'ACGT';
const TRANSITION: Record<string, string> = { A: 'G', G: 'A', C: 'T', T: 'C' };
const TRANSVERSIONS: Record<string, [string, string]> = { A: ['C', 'T'], G: ['C', 'T'], C: ['A', 'G'], T: ['A', 'G'] };
const isBase = (c: number) => c === 65 || c === 67 || c === 71 || c === 84;
export const GENIC = 1;
export const EXONIC = 2;

function weightOf(mask: number, params: Pick<GeneratorParams, 'genicWeight' | 'exonWeight'>): number {
  return (mask & GENIC ? params.genicWeight : 1) * (mask & EXONIC ? params.exonWeight : 1);
}

/** Weighted count of the bases a variant may be placed on. */
export function placeableWeight(
  input: GeneratorInput,
  params: Pick<GeneratorParams, 'genicWeight' | 'exonWeight'>,
): { weight: number; maxWeight: number; realBases: number; genicBases: number; exonicBases: number } {
  let weight = 0;
  let maxWeight = 0;
  let realBases = 0;
  let genicBases = 0;
  let exonicBases = 0;
  const s = input.sequence;
  for (let i = 0; i < s.length; i++) {
    if (!isBase(s.charCodeAt(i))) continue;
    const m = input.classMask[i]!;
    realBases++;
    if (m & GENIC) genicBases++;
    if (m & EXONIC) exonicBases++;
    const w = weightOf(m, params);
    weight += w;
    if (w > maxWeight) maxWeight = w;
  }
  return { weight, maxWeight, realBases, genicBases, exonicBases };
}

export function vcfHeader(input: GeneratorInput, params: GeneratorParams, note = ''): string {
  return [
    '##fileformat=VCFv4.2',
    '##FILTER=<ID=PASS,Description="All filters passed">',
    '##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency (synthetic, log-uniform)">',
    `##contig=<ID=${input.chrom},length=${input.chromLength},assembly=${input.assembly}>`,
    `##source=gas-bench generator seed=${params.seed} targetSnvs=${params.targetSnvs} indelRatio=${params.indelRatio} genicWeight=${params.genicWeight} exonWeight=${params.exonWeight}${note}`,
    `##gasBenchSource=${input.source}`,
    '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO',
    '',
  ].join('\n');
}

/** Writes the records (no header) to `out`, in position order. */
export async function generateRecords(input: GeneratorInput, params: GeneratorParams, out: Writable): Promise<GeneratorCounts> {
  const rand = rng(params.seed);
  const { weight, maxWeight, realBases } = placeableWeight(input, params);
  // Aim a few standard deviations above the target so the count reaches it for any seed.
  const expected = params.targetSnvs + 6 * Math.sqrt(params.targetSnvs);
  const pSnv = expected / weight;
  const pIndel = (expected * params.indelRatio) / weight;
  if (pSnv * maxWeight > 0.95) {
    throw new Error(
      `${params.targetSnvs} SNVs do not fit on ${realBases} real bases at one record per base ` +
        `(max about ${Math.floor((0.95 * weight) / maxWeight).toLocaleString('en')}); repeat the file instead`,
    );
  }
  const c: GeneratorCounts = {
    records: 0,
    snvRecords: 0,
    indelRecords: 0,
    multiAllelicRecords: 0,
    alleles: 0,
    dbsnpSeededRecords: 0,
    genicRecords: 0,
    exonicRecords: 0,
    transitions: 0,
    transversions: 0,
    firstPos: 0,
    lastPos: 0,
    realBases,
  };
  const s = input.sequence;
  const chrom = input.chrom;
  let buf = '';
  const flush = async () => {
    if (!out.write(buf)) await once(out, 'drain');
    buf = '';
  };
  const af = () => {
    // Log-uniform between 1/152,312 (one allele in gnomAD v3) and 0.5.
    const v = Math.exp(Math.log(1 / 152312) + rand() * (Math.log(0.5) - Math.log(1 / 152312)));
    return v.toPrecision(3);
  };
  const emit = (pos0: number, ref: string, alts: string[], mask: number) => {
    buf += `${chrom}\t${pos0 + 1}\t.\t${ref}\t${alts.join(',')}\t.\tPASS\tAF=${alts.map(af).join(',')}\n`;
    if (c.records === 0) c.firstPos = pos0 + 1;
    c.lastPos = pos0 + 1;
    c.records++;
    c.alleles += alts.length;
    if (alts.length > 1) c.multiAllelicRecords++;
    if (mask & GENIC) c.genicRecords++;
    if (mask & EXONIC) c.exonicRecords++;
  };
  const snvAlt = (ref: string) => {
    if (rand() < params.transitionShare) {
      c.transitions++;
      return TRANSITION[ref]!;
    }
    c.transversions++;
    return TRANSVERSIONS[ref]![rand() < 0.5 ? 0 : 1];
  };
  const randomBases = (n: number) => {
    let b = '';
    for (let k = 0; k < n; k++) b += BASES[Math.floor(rand() * 4)];
    return b;
  };
  // Indel lengths: geometric, 1 bp about half the time, at most 20.
  const indelLength = () => {
    let n = 1;
    while (n < 20 && rand() < 0.45) n++;
    return n;
  };
  for (let i = 0; i < s.length; i++) {
    if (!isBase(s.charCodeAt(i))) continue;
    const mask = input.classMask[i]!;
    const w = weightOf(mask, params);
    const ref = s[i]!;
    const known = input.dbsnp.get(i);
    if (known && rand() < pSnv * w * params.dbsnpEnrichment) {
      // Known sites are enriched, and carry their dbSNP ALT alleles as a real call set would.
      const alts = known.slice(0, 2);
      for (const a of alts) {
        if (TRANSITION[ref] === a) c.transitions++;
        else c.transversions++;
      }
      emit(i, ref, alts, mask);
      c.snvRecords++;
      c.dbsnpSeededRecords++;
    } else if (rand() < pSnv * w) {
      const alts = [snvAlt(ref)];
      if (rand() < params.multiAllelicShare) {
        const others = BASES.split('').filter((b) => b !== ref && b !== alts[0]);
        const second = others[Math.floor(rand() * others.length)]!;
        if (TRANSITION[ref] === second) c.transitions++;
        else c.transversions++;
        alts.push(second);
      }
      emit(i, ref, alts, mask);
      c.snvRecords++;
    }
    if (rand() < pIndel * w) {
      const len = indelLength();
      if (rand() < 0.55) {
        // Deletion of the `len` bases after the anchor, all of them real sequence.
        const del = s.slice(i + 1, i + 1 + len);
        let ok = del.length === len;
        for (let k = 0; ok && k < del.length; k++) ok = isBase(del.charCodeAt(k));
        if (ok) {
          emit(i, ref + del, [ref], mask);
          c.indelRecords++;
        }
      } else {
        // Insertion: half tandem duplications of the following bases, half random bases.
        const next = s.slice(i + 1, i + 1 + len);
        let dup = next.length === len;
        for (let k = 0; dup && k < next.length; k++) dup = isBase(next.charCodeAt(k));
        emit(i, ref, [ref + (dup && rand() < 0.5 ? next : randomBases(len))], mask);
        c.indelRecords++;
      }
    }
    if (buf.length >= 1 << 20) await flush();
  }
  await flush();
  return c;
}

export async function writeVcf(path: string, input: GeneratorInput, params: GeneratorParams): Promise<GeneratorCounts> {
  const out = createWriteStream(path);
  out.write(vcfHeader(input, params));
  const counts = await generateRecords(input, params, out);
  out.end();
  await once(out, 'finish');
  return counts;
}
