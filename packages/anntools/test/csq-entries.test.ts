// The CSQ writer's positions against the plain way of working them out: writeCsqEntries finds an
// allele's exon or intron by binary search, writes HGVSc as it works it out and keeps each
// transcript's entry head while the terms and the exon or intron repeat. Here random alleles
// (every kind, sorted as an input would be, in exons, introns, splice regions, flanks and the
// bases of a transcript's span outside its exons) on random transcripts of both strands are checked
// field by field against hgvsCFromAllele and loops over every exon, as the writer had them.
import t from 'tap';
import { ByteWriter } from '../src/byte-writer.ts';
import { emptyVepAllele, VepTerms, writeCsqEntries, CSQ_FIELDS } from '../src/vep-csq.ts';
import { TranscriptIndex } from '../src/annotation/transcript-index.ts';
import { hgvsCFromAllele } from '../src/annotation/consequence.ts';
import { IMPACTS, mostSevere, termsText } from '../src/annotation/vep-terms.ts';
import type { Allele } from '../src/annotation/allele.ts';
import type { Transcript } from '../src/transcript.ts';

// A small seeded generator (mulberry32), so a failure comes back the same.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const BASES = 'ACGT';

function transcripts(random: () => number): Transcript[] {
  const out: Transcript[] = [];
  for (let n = 0; n < 12; n++) {
    const exons = 1 + Math.floor(random() * 6);
    const starts: number[] = [];
    const ends: number[] = [];
    let at = 200 + Math.floor(random() * 1500);
    for (let i = 0; i < exons; i++) {
      // Short introns too (12 bases or fewer have no splice terms), and exons of one base.
      if (i > 0) at += 1 + Math.floor(random() * (random() < 0.3 ? 14 : 120));
      const len = 1 + Math.floor(random() * 60);
      starts.push(at);
      ends.push(at + len);
      at += len;
    }
    const coding = random() < 0.6;
    const exonic = ends.reduce((s, e, i) => s + e - starts[i]!, 0);
    // A CDS inside the exons (any bases: the numbering is what is tested).
    const from = Math.floor(random() * exonic * 0.4);
    const to = Math.min(exonic, from + 1 + Math.floor(random() * exonic * 0.6));
    const genomic = (k: number): number => {
      for (let i = 0; i < exons; i++) {
        const len = ends[i]! - starts[i]!;
        if (k < len) return starts[i]! + k;
        k -= len;
      }
      return ends[exons - 1]!;
    };
    const first = starts[0]!;
    const last = ends[exons - 1]!;
    // Some spans reach beyond the exons, as some sources give them.
    const start = random() < 0.2 ? first - 5 : first;
    const end = random() < 0.2 ? last + 5 : last;
    out.push({
      id: `TX${n}`,
      gene: `G${n}`,
      chrom: 'c',
      strand: random() < 0.5 ? '+' : '-',
      start,
      end,
      cdsStart: coding ? genomic(from) : 0,
      cdsEnd: coding ? genomic(to - 1) + 1 : 0,
      exonStarts: starts,
      exonEnds: ends,
      biotype: coding ? 'protein_coding' : 'lncRNA',
      ...(random() < 0.5 ? { geneId: `ENSG${n}` } : {}),
    });
  }
  return out;
}

function randomBases(random: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += BASES[Math.floor(random() * 4)];
  return s;
}

function randomAllele(random: () => number, pos: number): Allele {
  const r = random();
  if (r < 0.6) {
    const ref = randomBases(random, 1);
    let alt = randomBases(random, 1);
    while (alt === ref) alt = randomBases(random, 1);
    return { kind: 'snv', start: pos, end: pos + 1, ref, alt };
  }
  if (r < 0.75) {
    const n = 1 + Math.floor(random() * 8);
    return { kind: 'deletion', start: pos, end: pos + n, ref: randomBases(random, n), alt: '' };
  }
  if (r < 0.9) return { kind: 'insertion', start: pos, end: pos, ref: '', alt: randomBases(random, 1 + Math.floor(random() * 5)) };
  const n = 2 + Math.floor(random() * 3);
  if (r < 0.95) return { kind: 'mnv', start: pos, end: pos + n, ref: randomBases(random, n), alt: randomBases(random, n) };
  return { kind: 'delins', start: pos, end: pos + n, ref: randomBases(random, n), alt: randomBases(random, n + 1) };
}

// The writer's earlier way: every exon looked at, for every field.
function cdnaPosition(tx: Transcript, g: number): number {
  let before = 0;
  let total = 0;
  let found = 0;
  for (let i = 0; i < tx.exonStarts.length; i++) {
    const xs = tx.exonStarts[i]! + 1;
    const xe = tx.exonEnds[i]!;
    if (g >= xs && g <= xe) found = before + (g - xs) + 1;
    if (xe < g) before += xe - xs + 1;
    total += xe - xs + 1;
  }
  if (found === 0) return 0;
  return tx.strand === '+' ? found : total - found + 1;
}

function numbers(tx: Transcript, vs: number, ve: number, introns: boolean): string {
  const nExons = tx.exonStarts.length;
  const count = introns ? nExons - 1 : nExons;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < count; i++) {
    const fs = introns ? tx.exonEnds[i]! + 1 : tx.exonStarts[i]! + 1;
    const fe = introns ? tx.exonStarts[i + 1]! : tx.exonEnds[i]!;
    if (!(ve >= fs && vs <= fe)) continue;
    const num = tx.strand === '+' ? i + 1 : count - i;
    if (lo === 0 || num < lo) lo = num;
    if (num > hi) hi = num;
  }
  if (lo === 0) return '';
  return `${lo}${hi !== lo ? `-${hi}` : ''}/${count}`;
}

function range(a: number, b: number, single: boolean): string {
  if (a === 0 && b === 0) return '';
  if (single) return a === 0 ? '' : `${a}`;
  return `${a === 0 ? '?' : a}-${b === 0 ? '?' : b}`;
}

t.test('EXON, INTRON, HGVSc and cDNA_position of random alleles match the plain computation', async (t) => {
  let entries = 0;
  for (let seed = 1; seed <= 6; seed++) {
    const random = rng(seed);
    const txs = transcripts(random);
    const vep = new VepTerms(new TranscriptIndex(txs), true);
    const v = emptyVepAllele();
    const w = new ByteWriter(1 << 12);
    const span = Math.max(...txs.map((x) => x.end)) + 1100;
    // Sorted positions, several alleles at some, so a transcript's kept head is hit and missed.
    for (let pos = 0; pos < span; pos += random() < 0.5 ? 0 : 1 + Math.floor(random() * 4)) {
      const a = randomAllele(random, pos);
      vep.compute(v, 'c', a.start, a.end, []);
      if (v.n === 0) continue;
      const rs = random() < 0.2 ? [1 + Math.floor(random() * 1000)] : [];
      const allele = a.alt || '-';
      writeCsqEntries(w, v, allele, a, rs, true);
      const got = w.take().toString('latin1').split(',');
      if (got.length !== v.n) return void t.equal(got.length, v.n, `entries at ${a.start}`);
      const vs = a.start + 1;
      const ve = a.start === a.end ? a.start : a.end;
      for (let i = 0; i < v.n; i++) {
        const tx = v.tx[i]!;
        const flank = v.distance[i]! > 0;
        const insertion = a.start === a.end;
        const plus = tx.strand === '+';
        const ga = plus ? (insertion ? ve : vs) : insertion ? vs : ve;
        const gb = plus ? (insertion ? vs : ve) : insertion ? ve : vs;
        const expected = [
          allele,
          termsText(v.mask[i]!),
          IMPACTS[mostSevere(v.mask[i]!)]!,
          tx.gene,
          tx.geneId ?? '',
          'Transcript',
          tx.id,
          tx.biotype,
          flank ? '' : numbers(tx, vs, ve, false),
          flank ? '' : numbers(tx, vs, ve, true),
          flank ? '' : `${tx.id}:${hgvsCFromAllele(tx, a)}`,
          '',
          flank ? '' : range(cdnaPosition(tx, ga), cdnaPosition(tx, gb), !insertion && vs === ve),
          '',
          '',
          '',
          '',
          rs.map((r) => `rs${r}`).join('&'),
          flank ? `${v.distance[i]}` : '',
          plus ? '1' : '-1',
          '',
          '',
          '',
          '',
          '',
          '',
        ];
        if (got[i] !== expected.join('|')) {
          const where = `${a.kind} at ${a.start} on ${tx.id} (${tx.strand}, exons ${tx.exonStarts.map((s, k) => `${s}-${tx.exonEnds[k]}`).join(',')})`;
          return void t.equal(got[i], expected.join('|'), where);
        }
        entries++;
      }
    }
  }
  t.equal(CSQ_FIELDS.length, 26);
  t.ok(entries > 5000, `${entries} entries checked`);
});
