// Hand-worked region classes on both strands. Coordinates 0-based; the drawings mark exons (=),
// coding bases (#) and introns (-).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Transcript } from '../src/transcript.ts';
import { TranscriptIndex } from '../src/annotation/transcript-index.ts';
import { classifyRegion, RegionClassifier } from '../src/annotation/region.ts';
import { loadGeneModels } from '../src/gene-models/index.ts';
import { seededRandom, sharedDataPath } from '@gas/testing';
import { reduceAllele } from '../src/annotation/allele.ts';

const tx = (t: Partial<Transcript> & Pick<Transcript, 'id' | 'gene' | 'strand' | 'exonStarts' | 'exonEnds' | 'cdsStart' | 'cdsEnd'>): Transcript => ({
  chrom: '1',
  start: t.exonStarts[0]!,
  end: t.exonEnds.at(-1)!,
  biotype: t.cdsEnd > t.cdsStart ? 'protein_coding' : 'lncRNA',
  ...t,
});

// PLUS: 5' [100 ==UTR5== 150 ### 200) --- [300 ### 400) --- [500 ### 550 ==UTR3== 600) 3'
const PLUS = tx({ id: 'NM_PLUS', gene: 'PLUS', strand: '+', exonStarts: [100, 300, 500], exonEnds: [200, 400, 600], cdsStart: 150, cdsEnd: 550 });
// MINUS: the same shape at 10,000 on the minus strand: its 5' end (exon 1) is on the right.
const MINUS = tx({ id: 'NM_MINUS', gene: 'MINUS', strand: '-', exonStarts: [10100, 10300, 10500], exonEnds: [10200, 10400, 10600], cdsStart: 10150, cdsEnd: 10550 });
// A non-coding RNA.
const NC = tx({ id: 'NR_NC', gene: 'NCGENE', strand: '+', exonStarts: [20000, 20200], exonEnds: [20100, 20300], cdsStart: 20300, cdsEnd: 20300 });
const index = new TranscriptIndex([PLUS, MINUS, NC]);

const snv = (p: number) => classifyRegion(index, '1', p, p + 1);
const cls = (p: number) => snv(p).region;

test('plus strand: UTR5, CDS edges, UTR3', () => {
  assert.equal(cls(100), 'UTR5');
  assert.equal(cls(149), 'UTR5');
  assert.equal(cls(150), 'exonic');
  assert.equal(cls(199), 'exonic');
  assert.equal(cls(549), 'exonic');
  assert.equal(cls(550), 'UTR3');
  assert.equal(cls(599), 'UTR3');
  assert.equal(snv(120).hits[0]!.exon, 1);
  assert.equal(snv(350).hits[0]!.exon, 2);
  assert.equal(snv(560).hits[0]!.exon, 3);
});

test('plus strand: the two intronic bases next to each exon are the splice site, the third is intronic', () => {
  assert.equal(cls(200), 'splicing');
  assert.equal(cls(201), 'splicing');
  assert.equal(cls(202), 'intronic');
  assert.equal(cls(297), 'intronic');
  assert.equal(cls(298), 'splicing');
  assert.equal(cls(299), 'splicing');
  assert.equal(cls(300), 'exonic');
  assert.equal(snv(250).hits[0]!.intron, 1);
  assert.equal(snv(450).hits[0]!.intron, 2);
  assert.deepEqual(snv(200).genes, ['PLUS']);
});

test('plus strand: upstream and downstream within 1 kb, with distances', () => {
  assert.equal(cls(99), 'upstream');
  assert.equal(snv(99).hits[0]!.distance, 1);
  assert.equal(cls(600), 'downstream');
  assert.equal(snv(600).hits[0]!.distance, 1);
  assert.equal(snv(1599).hits[0]!.distance, 1000);
  assert.equal(cls(1600), 'intergenic');
});

test('minus strand: exon 1 is on the right; UTR5 at high coordinates; up/downstream mirrored', () => {
  assert.equal(cls(10580), 'UTR5');
  assert.equal(snv(10580).hits[0]!.exon, 1);
  assert.equal(cls(10549), 'exonic');
  assert.equal(cls(10550), 'UTR5');
  assert.equal(cls(10150), 'exonic');
  assert.equal(cls(10149), 'UTR3');
  assert.equal(snv(10120).hits[0]!.exon, 3);
  assert.equal(cls(10600), 'upstream');
  assert.equal(cls(10099), 'downstream');
  assert.equal(snv(10450).hits[0]!.intron, 1);
  assert.equal(snv(10250).hits[0]!.intron, 2);
  assert.equal(cls(10200), 'splicing');
  assert.equal(cls(10499), 'splicing');
  assert.equal(cls(10497), 'intronic');
});

test('non-coding transcripts: ncRNA_exonic, ncRNA_splicing, ncRNA_intronic', () => {
  assert.equal(cls(20050), 'ncRNA_exonic');
  assert.equal(cls(20101), 'ncRNA_splicing');
  assert.equal(cls(20150), 'ncRNA_intronic');
});

test('a deletion across an exon edge is exonic;splicing; one across UTR and CDS is exonic', () => {
  assert.equal(classifyRegion(index, '1', 198, 203).region, 'exonic;splicing');
  assert.equal(classifyRegion(index, '1', 140, 160).region, 'exonic');
  assert.equal(classifyRegion(index, '1', 545, 555).region, 'exonic');
});

test('an insertion is classified by the base before it (the VCF anchor)', () => {
  assert.equal(classifyRegion(index, '1', 200, 200).region, 'exonic'); // after base 199
  assert.equal(classifyRegion(index, '1', 201, 201).region, 'splicing'); // after base 200
});

test('intergenic: both flanking genes with distances to their nearest ends', () => {
  const r = snv(5000);
  assert.equal(r.region, 'intergenic');
  assert.deepEqual(r.left, { gene: 'PLUS', distance: 4401 });
  assert.deepEqual(r.right, { gene: 'MINUS', distance: 5100 });
  const none = classifyRegion(index, '1', 50_000, 50_001);
  assert.equal(none.right, undefined);
  assert.equal(none.left?.gene, 'NCGENE');
  assert.equal(classifyRegion(index, '2', 10, 11).region, 'intergenic');
});

test('equal-rank classes from different transcripts combine; stronger ones win', () => {
  const a = tx({ id: 'A', gene: 'GA', strand: '+', exonStarts: [0], exonEnds: [1000], cdsStart: 100, cdsEnd: 900 });
  const b = tx({ id: 'B', gene: 'GB', strand: '-', exonStarts: [1500], exonEnds: [2500], cdsStart: 1600, cdsEnd: 2400 });
  const idx = new TranscriptIndex([a, b]);
  // 1200: 201 bp after A's end (downstream of +) and 300 bp before B's start (downstream of -).
  assert.equal(classifyRegion(idx, '1', 1200, 1201).region, 'downstream');
  const c = tx({ id: 'C', gene: 'GC', strand: '+', exonStarts: [1500], exonEnds: [2500], cdsStart: 1600, cdsEnd: 2400 });
  const idx2 = new TranscriptIndex([a, c]);
  const r = classifyRegion(idx2, '1', 1200, 1201);
  assert.equal(r.region, 'upstream;downstream');
  assert.deepEqual(r.genes, ['GA', 'GC']);
  // A coding exon beats an overlapping transcript's UTR.
  const d = tx({ id: 'D', gene: 'GD', strand: '+', exonStarts: [0], exonEnds: [1000], cdsStart: 500, cdsEnd: 900 });
  const idx3 = new TranscriptIndex([a, d]);
  const e = classifyRegion(idx3, '1', 200, 201);
  assert.equal(e.region, 'exonic');
  assert.deepEqual(e.genes, ['GA']);
});

test('reduceAllele trims VCF anchors to the changed bases (0-based half-open)', () => {
  assert.deepEqual(reduceAllele(101, 'AT', 'A'), { kind: 'deletion', start: 101, end: 102, ref: 'T', alt: '' });
  assert.deepEqual(reduceAllele(101, 'A', 'AT'), { kind: 'insertion', start: 101, end: 101, ref: '', alt: 'T' });
  assert.deepEqual(reduceAllele(101, 'ACGT', 'AGGT'), { kind: 'snv', start: 101, end: 102, ref: 'C', alt: 'G' });
  assert.deepEqual(reduceAllele(10, 'c', 't'), { kind: 'snv', start: 9, end: 10, ref: 'C', alt: 'T' });
  assert.equal(reduceAllele(10, 'AC', 'GT').kind, 'mnv');
  assert.equal(reduceAllele(10, 'ACG', 'T').kind, 'delins');
  assert.equal(reduceAllele(10, 'A', '<DEL>').kind, 'symbolic');
  assert.equal(reduceAllele(10, 'A', '*').kind, 'star');
  assert.equal(reduceAllele(10, 'A', '.').kind, 'missing');
  assert.equal(reduceAllele(10, 'A', 'A[2:345[').kind, 'breakend');
  // A repeat: the shared suffix goes first, so the change stays left-anchored.
  assert.deepEqual(reduceAllele(100, 'CAA', 'CA'), { kind: 'deletion', start: 100, end: 101, ref: 'A', alt: '' });
});

test('RegionClassifier gives what classifyRegion gives at every base of APP (Ensembl chr21, all isoforms), in order and out of order', async () => {
  const models = await loadGeneModels(sharedDataPath('gene_models/grch38/Homo_sapiens.GRCh38.chr21.ensembl.gff3.gz'));
  const index = new TranscriptIndex(models);
  const classifier = new RegionClassifier(index);
  // APP (21:25,880,550-26,171,128) with 1 kb flanks and its neighbours: exons, splice sites, UTRs, introns, flanks.
  let kept = 0;
  for (let x = 25_870_000; x < 26_185_000; x++) {
    const got = classifier.classify('21', x, x + 1);
    const want = classifyRegion(index, '21', x, x + 1);
    if (got === want) continue;
    kept++;
    assert.deepEqual(got, want, `21:${x + 1}`);
  }
  assert.ok(kept > 250_000, `the memory served ${kept} bases`);
  // Jumps back and forth, insertions and longer deletions in between.
  const rand = seededRandom(7);
  for (let i = 0; i < 20_000; i++) {
    const x = 25_870_000 + Math.floor(rand() * 315_000);
    const len = i % 5 === 0 ? 0 : i % 7 === 0 ? 3 : 1;
    assert.deepEqual(classifier.classify('21', x, x + len), classifyRegion(index, '21', x, x + len), `21:${x + 1} len ${len}`);
    assert.deepEqual(classifier.classify('chr21x', x, x + 1), classifyRegion(index, 'chr21x', x, x + 1));
  }
});

test('RegionClassifier keeps an intergenic gap: the same flanking genes and distances as classifyRegion at every base', async () => {
  const models = await loadGeneModels(sharedDataPath('gene_models/grch38/Homo_sapiens.GRCh38.chr21.ensembl.gff3.gz'));
  const index = new TranscriptIndex(models);
  const classifier = new RegionClassifier(index);
  // The first gap of more than 20 kb between transcripts after APP, walked from inside the last
  // gene before it to inside the first gene after it (ends only, if it is long).
  const spans = models.filter((t) => t.chrom === '21').map((t) => [t.start, t.end] as const).sort((a, b) => a[0] - b[0]);
  let reach = 0;
  let gap: [number, number] | undefined;
  for (const [s, e] of spans) {
    if (reach > 26_200_000 && s - reach > 20_000) {
      gap = [reach, s];
      break;
    }
    reach = Math.max(reach, e);
  }
  assert.ok(gap, 'a gap after APP');
  const walk = gap[1] - gap[0] < 60_000 ? [[gap[0] - 3000, gap[1] + 3000]] : [[gap[0] - 3000, gap[0] + 25_000], [gap[1] - 25_000, gap[1] + 3000]];
  let intergenic = 0;
  for (const [from, to] of walk) {
    for (let x = from!; x < to!; x++) {
      const got = classifier.classify('21', x, x + 1);
      assert.deepEqual(got, classifyRegion(index, '21', x, x + 1), `21:${x + 1}`);
      if (got.region === 'intergenic') intergenic++;
    }
  }
  assert.ok(intergenic > 30_000, `${intergenic} intergenic bases`);
});
