// Hand-worked region classes on both strands. Coordinates 0-based; the drawings mark exons (=),
// coding bases (#) and introns (-).
import t from 'tap';
import type { Transcript } from '../src/transcript.ts';
import { TranscriptIndex } from '../src/annotation/transcript-index.ts';
import { classifyRegion, RegionClassifier } from '../src/annotation/region.ts';
import type { RegionAnnotation } from '../src/annotation/region.ts';
import { loadGeneModels } from '../src/gene-models/index.ts';
import { seededRandom, sharedDataPath } from '@gas/testing';
import { reduceAllele } from '../src/annotation/allele.ts';
import { Mismatches } from './mismatches.ts';

const tx = (
  t: Partial<Transcript> & Pick<Transcript, 'id' | 'gene' | 'strand' | 'exonStarts' | 'exonEnds' | 'cdsStart' | 'cdsEnd'>,
): Transcript => ({
  chrom: '1',
  start: t.exonStarts[0]!,
  end: t.exonEnds.at(-1)!,
  biotype: t.cdsEnd > t.cdsStart ? 'protein_coding' : 'lncRNA',
  ...t,
});

// PLUS: 5' [100 ==UTR5== 150 ### 200) --- [300 ### 400) --- [500 ### 550 ==UTR3== 600) 3'
const PLUS = tx({
  id: 'NM_PLUS',
  gene: 'PLUS',
  strand: '+',
  exonStarts: [100, 300, 500],
  exonEnds: [200, 400, 600],
  cdsStart: 150,
  cdsEnd: 550,
});
// MINUS: the same shape at 10,000 on the minus strand: its 5' end (exon 1) is on the right.
const MINUS = tx({
  id: 'NM_MINUS',
  gene: 'MINUS',
  strand: '-',
  exonStarts: [10100, 10300, 10500],
  exonEnds: [10200, 10400, 10600],
  cdsStart: 10150,
  cdsEnd: 10550,
});
// A non-coding RNA.
const NC = tx({
  id: 'NR_NC',
  gene: 'NCGENE',
  strand: '+',
  exonStarts: [20000, 20200],
  exonEnds: [20100, 20300],
  cdsStart: 20300,
  cdsEnd: 20300,
});
const index = new TranscriptIndex([PLUS, MINUS, NC]);

const snv = (p: number) => classifyRegion(index, '1', p, p + 1);
const cls = (p: number) => snv(p).region;

t.test('plus strand: UTR5, CDS edges, UTR3', async (t) => {
  t.equal(cls(100), 'UTR5');
  t.equal(cls(149), 'UTR5');
  t.equal(cls(150), 'exonic');
  t.equal(cls(199), 'exonic');
  t.equal(cls(549), 'exonic');
  t.equal(cls(550), 'UTR3');
  t.equal(cls(599), 'UTR3');
  t.equal(snv(120).hits[0]!.exon, 1);
  t.equal(snv(350).hits[0]!.exon, 2);
  t.equal(snv(560).hits[0]!.exon, 3);
});

t.test('plus strand: the two intronic bases next to each exon are the splice site, the third is intronic', async (t) => {
  t.equal(cls(200), 'splicing');
  t.equal(cls(201), 'splicing');
  t.equal(cls(202), 'intronic');
  t.equal(cls(297), 'intronic');
  t.equal(cls(298), 'splicing');
  t.equal(cls(299), 'splicing');
  t.equal(cls(300), 'exonic');
  t.equal(snv(250).hits[0]!.intron, 1);
  t.equal(snv(450).hits[0]!.intron, 2);
  t.strictSame(snv(200).genes, ['PLUS']);
});

t.test('plus strand: upstream and downstream within 1 kb, with distances', async (t) => {
  t.equal(cls(99), 'upstream');
  t.equal(snv(99).hits[0]!.distance, 1);
  t.equal(cls(600), 'downstream');
  t.equal(snv(600).hits[0]!.distance, 1);
  t.equal(snv(1599).hits[0]!.distance, 1000);
  t.equal(cls(1600), 'intergenic');
});

t.test('minus strand: exon 1 is on the right; UTR5 at high coordinates; up/downstream mirrored', async (t) => {
  t.equal(cls(10580), 'UTR5');
  t.equal(snv(10580).hits[0]!.exon, 1);
  t.equal(cls(10549), 'exonic');
  t.equal(cls(10550), 'UTR5');
  t.equal(cls(10150), 'exonic');
  t.equal(cls(10149), 'UTR3');
  t.equal(snv(10120).hits[0]!.exon, 3);
  t.equal(cls(10600), 'upstream');
  t.equal(cls(10099), 'downstream');
  t.equal(snv(10450).hits[0]!.intron, 1);
  t.equal(snv(10250).hits[0]!.intron, 2);
  t.equal(cls(10200), 'splicing');
  t.equal(cls(10499), 'splicing');
  t.equal(cls(10497), 'intronic');
});

t.test('non-coding transcripts: ncRNA_exonic, ncRNA_splicing, ncRNA_intronic', async (t) => {
  t.equal(cls(20050), 'ncRNA_exonic');
  t.equal(cls(20101), 'ncRNA_splicing');
  t.equal(cls(20150), 'ncRNA_intronic');
});

t.test('a deletion across an exon edge is exonic;splicing; one across UTR and CDS is exonic', async (t) => {
  t.equal(classifyRegion(index, '1', 198, 203).region, 'exonic;splicing');
  t.equal(classifyRegion(index, '1', 140, 160).region, 'exonic');
  t.equal(classifyRegion(index, '1', 545, 555).region, 'exonic');
});

t.test('an insertion is classified by the base before it (the VCF anchor)', async (t) => {
  t.equal(classifyRegion(index, '1', 200, 200).region, 'exonic'); // after base 199
  t.equal(classifyRegion(index, '1', 201, 201).region, 'splicing'); // after base 200
});

t.test('intergenic: both flanking genes with distances to their nearest ends', async (t) => {
  const r = snv(5000);
  t.equal(r.region, 'intergenic');
  t.strictSame(r.left, { gene: 'PLUS', distance: 4401 });
  t.strictSame(r.right, { gene: 'MINUS', distance: 5100 });
  const none = classifyRegion(index, '1', 50_000, 50_001);
  t.equal(none.right, undefined);
  t.equal(none.left?.gene, 'NCGENE');
  t.equal(classifyRegion(index, '2', 10, 11).region, 'intergenic');
});

t.test('equal-rank classes from different transcripts combine; stronger ones win', async (t) => {
  const a = tx({ id: 'A', gene: 'GA', strand: '+', exonStarts: [0], exonEnds: [1000], cdsStart: 100, cdsEnd: 900 });
  const b = tx({ id: 'B', gene: 'GB', strand: '-', exonStarts: [1500], exonEnds: [2500], cdsStart: 1600, cdsEnd: 2400 });
  const idx = new TranscriptIndex([a, b]);
  // 1200: 201 bp after A's end (downstream of +) and 300 bp before B's start (downstream of -).
  t.equal(classifyRegion(idx, '1', 1200, 1201).region, 'downstream');
  const c = tx({ id: 'C', gene: 'GC', strand: '+', exonStarts: [1500], exonEnds: [2500], cdsStart: 1600, cdsEnd: 2400 });
  const idx2 = new TranscriptIndex([a, c]);
  const r = classifyRegion(idx2, '1', 1200, 1201);
  t.equal(r.region, 'upstream;downstream');
  t.strictSame(r.genes, ['GA', 'GC']);
  // A coding exon beats an overlapping transcript's UTR.
  const d = tx({ id: 'D', gene: 'GD', strand: '+', exonStarts: [0], exonEnds: [1000], cdsStart: 500, cdsEnd: 900 });
  const idx3 = new TranscriptIndex([a, d]);
  const e = classifyRegion(idx3, '1', 200, 201);
  t.equal(e.region, 'exonic');
  t.strictSame(e.genes, ['GA']);
});

t.test('reduceAllele trims VCF anchors to the changed bases (0-based half-open)', async (t) => {
  t.strictSame(reduceAllele(101, 'AT', 'A'), { kind: 'deletion', start: 101, end: 102, ref: 'T', alt: '' });
  t.strictSame(reduceAllele(101, 'A', 'AT'), { kind: 'insertion', start: 101, end: 101, ref: '', alt: 'T' });
  t.strictSame(reduceAllele(101, 'ACGT', 'AGGT'), { kind: 'snv', start: 101, end: 102, ref: 'C', alt: 'G' });
  t.strictSame(reduceAllele(10, 'c', 't'), { kind: 'snv', start: 9, end: 10, ref: 'C', alt: 'T' });
  t.equal(reduceAllele(10, 'AC', 'GT').kind, 'mnv');
  t.equal(reduceAllele(10, 'ACG', 'T').kind, 'delins');
  t.equal(reduceAllele(10, 'A', '<DEL>').kind, 'symbolic');
  t.equal(reduceAllele(10, 'A', '*').kind, 'star');
  t.equal(reduceAllele(10, 'A', '.').kind, 'missing');
  t.equal(reduceAllele(10, 'A', 'A[2:345[').kind, 'breakend');
  // A repeat: the shared suffix goes first, so the change stays left-anchored.
  t.strictSame(reduceAllele(100, 'CAA', 'CA'), { kind: 'deletion', start: 100, end: 101, ref: 'A', alt: '' });
});

t.test(
  'RegionClassifier gives what classifyRegion gives at every base of APP (Ensembl chr21, all isoforms), in order and out of order',
  async (t) => {
    const models = await loadGeneModels(sharedDataPath('gene_models/grch38/Homo_sapiens.GRCh38.chr21.ensembl.gff3.gz'));
    const index = new TranscriptIndex(models);
    const classifier = new RegionClassifier(index);
    // APP (21:25,880,550-26,171,128) with 1 kb flanks and its neighbours: exons, splice sites, UTRs, introns, flanks.
    // Bases served from memory: the classifier hands back the very annotation it gave for the base
    // before. (This used to count got !== classifyRegion's answer, true at every base since
    // classifyRegion builds a new object each time, so the bound below could not fail.)
    let kept = 0;
    let last: RegionAnnotation | undefined;
    const inOrder = new Mismatches(t, 'every base in order: the same class as classifyRegion');
    for (let x = 25_870_000; x < 26_185_000; x++) {
      const got = classifier.classify('21', x, x + 1);
      if (got === last) kept++;
      last = got;
      inOrder.same(got, classifyRegion(index, '21', x, x + 1), `21:${x + 1}`);
    }
    inOrder.done();
    t.ok(kept > 250_000, `the memory served ${kept} bases`);
    // Jumps back and forth, insertions and longer deletions in between.
    const rand = seededRandom(7);
    const jumps = new Mismatches(t, 'random jumps: the same class as classifyRegion');
    for (let i = 0; i < 20_000; i++) {
      const x = 25_870_000 + Math.floor(rand() * 315_000);
      const len = i % 5 === 0 ? 0 : i % 7 === 0 ? 3 : 1;
      jumps.same(classifier.classify('21', x, x + len), classifyRegion(index, '21', x, x + len), `21:${x + 1} len ${len}`);
      jumps.same(classifier.classify('chr21x', x, x + 1), classifyRegion(index, 'chr21x', x, x + 1), `chr21x:${x + 1}`);
    }
    jumps.done();
  },
);

t.test('RegionClassifier keeps an intergenic gap: the same flanking genes and distances as classifyRegion at every base', async (t) => {
  const models = await loadGeneModels(sharedDataPath('gene_models/grch38/Homo_sapiens.GRCh38.chr21.ensembl.gff3.gz'));
  const index = new TranscriptIndex(models);
  const classifier = new RegionClassifier(index);
  // The first gap of more than 20 kb between transcripts after APP, walked from inside the last
  // gene before it to inside the first gene after it (ends only, if it is long).
  const spans = models
    .filter((t) => t.chrom === '21')
    .map((t) => [t.start, t.end] as const)
    .sort((a, b) => a[0] - b[0]);
  let reach = 0;
  let gap: [number, number] | undefined;
  for (const [s, e] of spans) {
    if (reach > 26_200_000 && s - reach > 20_000) {
      gap = [reach, s];
      break;
    }
    reach = Math.max(reach, e);
  }
  if (!t.ok(gap, 'a gap after APP') || !gap) return;
  const walk =
    gap[1] - gap[0] < 60_000
      ? [[gap[0] - 3000, gap[1] + 3000]]
      : [
          [gap[0] - 3000, gap[0] + 25_000],
          [gap[1] - 25_000, gap[1] + 3000],
        ];
  let intergenic = 0;
  const walked = new Mismatches(t, 'every base of the walk: the same class as classifyRegion');
  for (const [from, to] of walk) {
    for (let x = from!; x < to!; x++) {
      const got = classifier.classify('21', x, x + 1);
      walked.same(got, classifyRegion(index, '21', x, x + 1), `21:${x + 1}`);
      if (got.region === 'intergenic') intergenic++;
    }
  }
  walked.done();
  t.ok(intergenic > 30_000, `${intergenic} intergenic bases`);
});
