import t from 'tap';
import type { Test } from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { sharedDataPath } from '@gas/testing';
import {
  GeneModelError,
  compareTranscripts,
  geneModelFormatOf,
  loadGeneModels,
  loadGff3,
  loadGtf,
  loadRefFlat,
  parseRefFlatLine,
  readGff3,
  readGtf,
  readRefFlat,
} from '../src/gene-models/index.ts';
import { isCoding } from '../src/transcript.ts';
import type { Transcript } from '../src/transcript.ts';
import { Mismatches } from './mismatches.ts';

const REFFLAT = 'gene_models/grch37/refFlat_hg19.txt.gz';
const GTF = 'gene_models/grch38/Homo_sapiens.GRCh38.chr21_subset.ensembl.gtf.gz';
const GFF3 = 'gene_models/grch38/Homo_sapiens.GRCh38.chr21.ensembl.gff3.gz';

// Each shared file is parsed once for the whole suite; the loaders are what is under test.
const cache = new Map<string, Promise<Transcript[]>>();
function shared(rel: string, load: (path: string) => Promise<Transcript[]>): Promise<Transcript[]> {
  let p = cache.get(rel);
  if (p === undefined) {
    p = load(sharedDataPath(rel));
    cache.set(rel, p);
  }
  return p;
}

const text = (s: string) => Readable.from([Buffer.from(s)]);

/** Coding bases: the exon parts inside [cdsStart, cdsEnd). */
function codingLength(t: Transcript): number {
  let n = 0;
  for (let i = 0; i < t.exonStarts.length; i++) {
    const s = Math.max(t.exonStarts[i]!, t.cdsStart);
    const e = Math.min(t.exonEnds[i]!, t.cdsEnd);
    if (e > s) n += e - s;
  }
  return n;
}

function inSomeExon(t: Transcript, pos: number): boolean {
  for (let i = 0; i < t.exonStarts.length; i++) if (pos >= t.exonStarts[i]! && pos < t.exonEnds[i]!) return true;
  return false;
}

/** Every transcript well formed: one tap assertion for the lot (see mismatches.ts). */
function assertWellFormed(t: Test, ts: Transcript[], label: string): void {
  const check = new Mismatches(t, `${label}: every transcript well formed`);
  for (const x of ts) {
    const where = `${label} ${x.id} ${x.chrom}:${x.start}-${x.end}`;
    check.ok(x.id.length > 0 && x.gene.length > 0 && x.biotype.length > 0, where);
    check.ok(x.strand === '+' || x.strand === '-', where);
    check.ok(x.exonStarts.length > 0 && x.exonStarts.length === x.exonEnds.length, where);
    check.same(x.exonStarts[0], x.start, `${where} first exon start`);
    check.same(x.exonEnds[x.exonEnds.length - 1], x.end, `${where} last exon end`);
    for (let i = 0; i < x.exonStarts.length; i++) {
      check.ok(x.exonStarts[i]! < x.exonEnds[i]!, `${where} exon ${i + 1} is empty`);
      check.ok(x.exonStarts[i]! >= x.start && x.exonEnds[i]! <= x.end, `${where} exon ${i + 1} outside`);
      if (i > 0) check.ok(x.exonStarts[i]! >= x.exonEnds[i - 1]!, `${where} exons unsorted or overlapping at ${i + 1}`);
    }
    check.ok(x.cdsStart >= x.start && x.cdsEnd <= x.end && x.cdsStart <= x.cdsEnd, `${where} CDS ${x.cdsStart}-${x.cdsEnd}`);
    if (isCoding(x)) {
      check.ok(inSomeExon(x, x.cdsStart) && inSomeExon(x, x.cdsEnd - 1), `${where} CDS ends not in exons`);
    } else {
      check.same(x.cdsStart, x.end, `${where} non-coding CDS marker`);
    }
  }
  check.done();
}

/**
 * `err` is a GeneModelError with these fields (compared strictly) and a message that starts with
 * `messageStart`. Nothing when it is no GeneModelError: t.throws / t.rejects have failed already.
 */
function isModelError(
  t: Test,
  err: unknown,
  want: { line: number; field: string; source?: string; messageStart?: string },
  msg: string,
): void {
  if (!(err instanceof GeneModelError)) return;
  const found: Record<string, unknown> = { line: err.line, field: err.field };
  if (want.source !== undefined) found['source'] = err.source;
  if (want.messageStart !== undefined) found['messageStart'] = err.message.slice(0, want.messageStart.length);
  t.strictSame(found, want, msg);
}

t.test('refFlat hg19: whole genome, counts from PROVENANCE.md, load time', async (t) => {
  const t0 = performance.now();
  const ts = await loadRefFlat(sharedDataPath(REFFLAT));
  const ms = performance.now() - t0;
  cache.set(REFFLAT, Promise.resolve(ts));
  t.comment(`refFlat hg19: ${ts.length} transcripts loaded in ${ms.toFixed(0)} ms`);
  t.equal(ts.length, 39173);
  t.equal(ts.filter(isCoding).length, 33550);
  t.equal(new Set(ts.map((x) => x.gene)).size, 22480);
  // _hap/_random contigs are kept under their canonical names; they just never match a VCF chromosome.
  t.equal(ts.filter((x) => x.chrom.includes('_')).length, 2181);
  t.ok(ts.some((x) => x.chrom === '6_apd_hap1'));
  t.ok(ts.every((x) => !x.chrom.startsWith('chr')));
  t.ok(ts.every((x) => x.biotype === (isCoding(x) ? 'protein_coding' : 'ncRNA')));
  assertWellFormed(t, ts, 'refFlat');
});

t.test('refFlat hg19: BRCA1 NM_007294 as in the file', async (t) => {
  const ts = await shared(REFFLAT, loadRefFlat);
  const hits = ts.filter((x) => x.id === 'NM_007294');
  t.equal(hits.length, 1);
  const b = hits[0]!;
  t.equal(b.gene, 'BRCA1');
  t.equal(b.chrom, '17');
  t.equal(b.strand, '-');
  t.equal(b.start, 41196311);
  t.equal(b.end, 41277500);
  t.equal(b.cdsStart, 41197694);
  t.equal(b.cdsEnd, 41276113);
  t.equal(b.biotype, 'protein_coding');
  t.equal(b.exonStarts.length, 23);
  t.strictSame([b.exonStarts[0], b.exonEnds[0]], [41196311, 41197819]);
  t.strictSame([b.exonStarts[22], b.exonEnds[22]], [41277287, 41277500]);
  // refFlat's cdsEnd includes the stop codon: 1863 codons = 1863 aa of BRCA1 + the stop.
  t.equal(codingLength(b), 3 * 1864);
});

t.test('refFlat: a non-coding row keeps cdsStart === cdsEnd', async (t) => {
  const ts = await shared(REFFLAT, loadRefFlat);
  const w = ts.find((x) => x.id === 'NR_024540')!;
  t.equal(w.gene, 'WASH7P');
  t.equal(w.chrom, '1');
  t.equal(w.biotype, 'ncRNA');
  t.equal(w.cdsStart, w.cdsEnd);
  t.equal(isCoding(w), false);
});

const BRCA1_GENEPRED =
  'NM_007294\tchr17\t-\t41196311\t41277500\t41197694\t41276113\t3\t41196311,41199659,41277287,\t41197819,41199720,41277500,';

t.test('genePred family told apart by columns', async (t) => {
  const plain = parseRefFlatLine(BRCA1_GENEPRED, 1)!;
  t.equal(plain.id, 'NM_007294');
  t.equal(plain.gene, 'NM_007294');
  t.equal(plain.chrom, '17');
  t.strictSame(plain.exonEnds, [41197819, 41199720, 41277500]);

  const refFlat = parseRefFlatLine(`BRCA1\t${BRCA1_GENEPRED}`, 1)!;
  t.strictSame(refFlat, { ...plain, gene: 'BRCA1' });

  const ext = `${BRCA1_GENEPRED}\t0\tBRCA1\tcmpl\tcmpl\t1,0,0,`;
  t.strictSame(parseRefFlatLine(ext, 1), { ...plain, gene: 'BRCA1' });
  t.strictSame(parseRefFlatLine(`585\t${ext}`, 1), { ...plain, gene: 'BRCA1' }, 'UCSC dump with a bin column');
  t.strictSame(parseRefFlatLine(`585\t${BRCA1_GENEPRED}`, 1), plain, 'bin + genePred is not refFlat');
  t.strictSame(parseRefFlatLine(`${BRCA1_GENEPRED}\tP38398\tuc002xyz.1`, 1), plain, 'knownGene');
  // Lists without the trailing comma, as some genePred writers emit.
  t.strictSame(parseRefFlatLine(BRCA1_GENEPRED.replace(/,\t/, '\t').replace(/,$/, ''), 1), plain);

  t.equal(parseRefFlatLine('', 1), null);
  t.equal(parseRefFlatLine('#geneName\tname\tchrom', 1), null);
});

t.test('genePred: cdsStart > cdsEnd and cdsStart == cdsEnd != txEnd both normalise to non-coding', async (t) => {
  const line = (cs: number, ce: number) => `X\tNR_1\tchr1\t+\t100\t500\t${cs}\t${ce}\t2\t100,300,\t200,500,`;
  for (const [cs, ce] of [
    [500, 500],
    [100, 100],
    [400, 300],
  ] as const) {
    const x = parseRefFlatLine(line(cs, ce), 1)!;
    t.equal(x.cdsStart, 500);
    t.equal(x.cdsEnd, 500);
    t.equal(x.biotype, 'ncRNA');
  }
});

t.test('refFlat: a malformed line throws with the line number and the field', async (t) => {
  const good = `BRCA1\t${BRCA1_GENEPRED}`;
  const cols = good.split('\t');
  const bad = (i: number, v: string) => cols.map((c, k) => (k === i ? v : c)).join('\t');
  const cases: [string, string][] = [
    [bad(4, '4119631x'), 'txStart'],
    [bad(4, '-5'), 'txStart'],
    [bad(5, ''), 'txEnd'],
    [bad(6, '1.5e7'), 'cdsStart'],
    [bad(8, 'three'), 'exonCount'],
    [bad(8, '4'), 'exonStarts'],
    [bad(9, '41196311,4119x,41277287,'), 'exonStarts'],
    [bad(9, '41199659,41196311,41277287,').replace('41197819,41199720,', '41199720,41197819,'), 'exonStarts'],
    [bad(10, '41197819,41199720,41277600,'), 'exonEnds'],
    [bad(7, '41277600'), 'cdsEnd'],
    [bad(3, '.'), 'columns'],
    ['BRCA1\tNM_007294\tchr17', 'columns'],
  ];
  for (const [line, field] of cases) {
    const err = t.throws(() => parseRefFlatLine(line, 7, 'x.txt'), GeneModelError, `${field}: ${line}`);
    isModelError(t, err, { line: 7, field, messageStart: 'x.txt: line 7: ' }, `${field}: ${line}`);
  }
  await t.rejects(readRefFlat(text(`${good}\n\n${bad(5, 'x')}\n`), 'mini.txt'), /mini\.txt: line 3: txEnd: "x" is not/);

  const path = join(t.testdir(), 'refFlat.txt.gz');
  await writeFile(path, gzipSync(`${good}\n${bad(6, 'oops')}\n`));
  const err = await t.rejects(loadRefFlat(path), GeneModelError);
  isModelError(t, err, { source: path, line: 2, field: 'cdsStart' }, 'a gzip refFlat file');
});

t.test('GTF subset: APP on 21, coding structure consistent', async (t) => {
  const ts = await shared(GTF, loadGtf);
  t.equal(ts.length, 103);
  assertWellFormed(t, ts, 'GTF');
  const app = ts.filter((x) => x.gene === 'APP');
  t.equal(app.length, 17);
  t.ok(app.every((x) => x.chrom === '21' && x.strand === '-'));
  t.equal(app.filter(isCoding).length, 10);
  const ri = app.find((x) => x.id === 'ENST00000464867')!;
  t.equal(ri.biotype, 'retained_intron');
  t.equal(isCoding(ri), false);
  const app770 = app.find((x) => x.id === 'ENST00000346798')!;
  t.equal(app770.biotype, 'protein_coding');
  // GTF lines: exons 25880550..26170654 (1-based), last CDS 25881673, stop_codon 25881670-25881672.
  t.equal(app770.start, 25880549);
  t.equal(app770.end, 26170654);
  t.equal(app770.exonStarts.length, 18);
  t.equal(app770.cdsStart, 25881669, 'stop codon folded into the coding span');
  t.equal(app770.cdsEnd, 26170620);
  t.equal(codingLength(app770), 3 * 771, 'APP770: 770 codons + the stop');
});

t.test('GFF3 chr21: all transcripts, genes from the gene Name, biotypes', async (t) => {
  const ts = await shared(GFF3, loadGff3);
  // PROVENANCE counts 934 transcripts with a CDS by the first Parent of each CDS line; the test file's
  // ENST00000419219_1 only appears as the second Parent of ENST00000419219's lines, so it is the 935th.
  t.equal(ts.length, 2414);
  t.equal(ts.filter(isCoding).length, 935);
  assertWellFormed(t, ts, 'GFF3');
  t.ok(ts.every((x) => x.chrom === '21'));
  const app = ts.filter((x) => x.gene === 'APP');
  t.equal(app.length, 17);
  t.ok(app.every((x) => !x.id.startsWith('transcript:')));
  const pseudo = ts.find((x) => x.id === 'ENST00000624484')!;
  t.equal(pseudo.biotype, 'unprocessed_pseudogene');
  t.equal(pseudo.gene, 'CH507-145C22.2');
  const twin = ts.find((x) => x.id === 'ENST00000419219_1')!;
  const orig = ts.find((x) => x.id === 'ENST00000419219')!;
  t.strictSame({ ...twin, id: orig.id }, orig);
});

t.test('GTF and GFF3 give identical transcripts (1-based → 0-based and stop-codon conventions agree)', async (t) => {
  const gtf = await shared(GTF, loadGtf);
  const gff = new Map((await shared(GFF3, loadGff3)).map((x) => [x.id, x]));
  const app770 = gtf.find((x) => x.id === 'ENST00000346798')!;
  t.strictSame(gff.get('ENST00000346798'), app770);
  let coding = 0;
  for (const x of gtf) {
    t.strictSame(gff.get(x.id), x, x.id);
    if (isCoding(x)) coding++;
  }
  t.equal(coding, 34);
});

t.test('GTF: malformed lines throw with the line number and the field', async (t) => {
  const ok = '21\tx\texon\t100\t200\t.\t+\t.\tgene_id "G"; transcript_id "T"; gene_name "A";';
  const cases: [string, number, string][] = [
    ['21\tx\texon\t100\t200\t.\t+', 2, 'columns'],
    ['21\tx\texon\t0\t200\t.\t+\t.\ttranscript_id "T";', 2, 'start'],
    ['21\tx\texon\t300\t200\t.\t+\t.\ttranscript_id "T";', 2, 'end'],
    ['21\tx\tCDS\t100\t2x0\t.\t+\t0\ttranscript_id "T";', 2, 'end'],
    ['21\tx\texon\t300\t400\t.\t.\t.\ttranscript_id "T";', 2, 'strand'],
    ['21\tx\texon\t300\t400\t.\t+\t.\tgene_id "G";', 2, 'attributes'],
    ['21\tx\texon\t300\t400\t.\t+\t.\ttranscript_id "T', 2, 'attributes'],
    ['22\tx\texon\t300\t400\t.\t+\t.\ttranscript_id "T";', 2, 'seqname'],
    ['21\tx\texon\t150\t400\t.\t+\t.\ttranscript_id "T";', 1, 'exon'],
  ];
  for (const [line, lineNo, field] of cases) {
    const err = await t.rejects(readGtf(text(`${ok}\n${line}\n`), 'a.gtf'), GeneModelError, line);
    isModelError(t, err, { line: lineNo, field, messageStart: `a.gtf: line ${lineNo}: ${field}:` }, line);
  }
});

t.test('GTF: attributes, comment lines, ids, fallbacks', async (t) => {
  const gtf = [
    '#!genome-build GRCh38',
    'chr1\tx\tgene\t1\t1000\t.\t+\t.\tgene_id "G1";',
    'chr1\tx\texon\t101\t200\t.\t+\t.\tgene_id "G1"; transcript_id "T1"; gene_name "ONE;TWO"; tag "basic"; tag "CCDS"; level 2;',
    'chr1\tx\texon\t301\t400\t.\t+\t.\tgene_id "G1"; transcript_id "T1"; transcript_type "protein_coding";',
    'chr1\tx\tCDS\t151\t200\t.\t+\t0\tgene_id "G1"; transcript_id "T1";',
    'chr1\tx\tCDS\t301\t347\t.\t+\t1\tgene_id "G1"; transcript_id "T1";',
    'chr1\tx\tstop_codon\t348\t350\t.\t+\t0\tgene_id "G1"; transcript_id "T1";',
    // No exon lines (GTF 2.2 makes them optional): the exons come from CDS, codons and UTRs.
    'chrM\tx\tCDS\t11\t40\t.\t-\t0\tgene_id "G2"; transcript_id "T2"; gene_biotype "protein_coding";',
    'chrM\tx\tstop_codon\t8\t10\t.\t-\t0\tgene_id "G2"; transcript_id "T2";',
    'chrM\tx\tUTR\t1\t7\t.\t-\t.\tgene_id "G2"; transcript_id "T2";',
    'chrM\tx\texon\t501\t600\t.\t-\t.\tgene_id "G3"; transcript_id "T3";',
    '',
  ].join('\n');
  const [t1, t2, t3] = await readGtf(text(gtf));
  t.strictSame(t1, {
    id: 'T1',
    gene: 'ONE;TWO',
    chrom: '1',
    strand: '+',
    start: 100,
    end: 400,
    cdsStart: 150,
    cdsEnd: 350,
    exonStarts: [100, 300],
    exonEnds: [200, 400],
    biotype: 'protein_coding',
    geneId: 'G1',
  });
  t.strictSame(t2, {
    id: 'T2',
    gene: 'G2',
    chrom: 'MT',
    strand: '-',
    start: 0,
    end: 40,
    cdsStart: 7,
    cdsEnd: 40,
    exonStarts: [0],
    exonEnds: [40],
    biotype: 'protein_coding',
    geneId: 'G2',
  });
  t.equal(t3!.biotype, 'ncRNA');
  t.equal(t3!.cdsStart, 600);
  t.equal(t3!.cdsEnd, 600);
});

t.test('GFF3: percent-decoding, multiple parents, children before parents, exons on a gene', async (t) => {
  const gff = [
    '##gff-version 3',
    'chr2\t.\texon\t1001\t1100\t.\t-\t.\tParent=transcript:T1,tx%2C2',
    'chr2\t.\tCDS\t1051\t1100\t.\t-\t0\tID=CDS:P1;Parent=transcript:T1,tx%2C2',
    'chr2\t.\tmRNA\t1001\t1100\t.\t-\t.\tID=transcript:T1;Parent=gene:G1;biotype=protein_coding;transcript_id=T1',
    'chr2\t.\tlnc_RNA\t1001\t1100\t.\t-\t.\tID=tx%2C2;Parent=gene:G1',
    'chr2\t.\tgene\t1001\t1100\t.\t-\t.\tID=gene:G1;Name=A%3BB%25;biotype=protein_coding',
    'chr2\t.\tncRNA_gene\t5001\t5100\t.\t+\t.\tID=gene:G2;Name=SNORD1;biotype=snoRNA',
    'chr2\t.\texon\t5001\t5100\t.\t+\t.\tParent=gene:G2',
    '##FASTA',
    '>chr2',
    'ACGT',
  ].join('\n');
  const ts = await readGff3(text(gff));
  t.equal(ts.length, 3);
  const [t1, t2, g2] = ts;
  t.strictSame(t1, {
    id: 'T1',
    gene: 'A;B%',
    chrom: '2',
    strand: '-',
    start: 1000,
    end: 1100,
    cdsStart: 1050,
    cdsEnd: 1100,
    exonStarts: [1000],
    exonEnds: [1100],
    biotype: 'protein_coding',
    geneId: 'G1',
  });
  t.equal(t2!.id, 'tx,2');
  t.equal(t2!.geneId, 'G1', "the gene's stable id, without GFF3's gene: prefix (VEP's Gene column)");
  t.equal(g2!.geneId, undefined, 'exons hung on a gene: no gene above it');
  t.equal(t2!.gene, 'A;B%');
  t.equal(t2!.biotype, 'protein_coding', "the gene's biotype when the transcript has none");
  t.equal(g2!.id, 'gene:G2');
  t.equal(g2!.gene, 'SNORD1');
  t.equal(g2!.biotype, 'snoRNA');
});

t.test('GFF3: malformed lines throw with the line number and the field', async (t) => {
  const head = '##gff-version 3\n21\t.\ttranscript\t1\t500\t.\t+\t.\tID=transcript:T;Parent=gene:G\n';
  const cases: [string, string][] = [
    ['21\t.\texon\t1\t100\t.\t+\t.', 'columns'],
    ['21\t.\texon\t1\t100\t.\t+\t.\tID=e1', 'attributes'],
    ['21\t.\texon\tone\t100\t.\t+\t.\tParent=transcript:T', 'start'],
    ['21\t.\tCDS\t10\t5\t.\t+\t0\tParent=transcript:T', 'end'],
    ['21\t.\texon\t1\t100\t.\t?\t.\tParent=transcript:T', 'strand'],
    ['21\t.\texon\t1\t100\t.\t+\t.\tParent=transcript%ZZ', 'attributes'],
    ['21\t.\tgene\t1\t500\t.\t+\t.\tID=gene:G;Name=%E0%A4%A', 'attributes'],
  ];
  for (const [line, field] of cases) {
    const err = await t.rejects(readGff3(text(`${head}${line}\n`), 'b.gff3'), GeneModelError, line);
    isModelError(t, err, { line: 3, field, messageStart: `b.gff3: line 3: ${field}:` }, line);
  }
  const overlap = `${head}21\t.\texon\t1\t100\t.\t+\t.\tParent=transcript:T\n21\t.\texon\t50\t150\t.\t+\t.\tParent=transcript:T\n`;
  await t.rejects(readGff3(text(overlap), 'b.gff3'), /line 3: exon: transcript T has overlapping exons 1-100 and 50-150/);
  const outside = `${head}21\t.\texon\t1\t100\t.\t+\t.\tParent=transcript:T\n21\t.\tCDS\t90\t120\t.\t+\t0\tParent=transcript:T\n`;
  await t.rejects(readGff3(text(outside), 'b.gff3'), /line 3: CDS: transcript T has its CDS 90-120 outside its exons 1-100/);
});

t.test('loadGeneModels: format from the name, sorted by chrom, start, end, id', async (t) => {
  t.equal(geneModelFormatOf('/x/Homo_sapiens.GRCh38.110.gtf.gz'), 'gtf');
  t.equal(geneModelFormatOf('a.GFF3'), 'gff3');
  t.equal(geneModelFormatOf('a.gff.bgz'), 'gff3');
  t.equal(geneModelFormatOf('refFlat_hg19.txt.gz'), 'refflat');
  t.equal(geneModelFormatOf('hg38.ncbiRefSeq.genePred'), 'genepred');
  t.equal(geneModelFormatOf('refGene.txt'), 'genepred');
  t.equal(geneModelFormatOf('models.bin'), null);

  const gff = await loadGeneModels(sharedDataPath(GFF3));
  t.equal(gff.length, 2414);
  const sorted = new Mismatches(t, 'sorted');
  for (let i = 1; i < gff.length; i++) sorted.ok(compareTranscripts(gff[i - 1]!, gff[i]!) <= 0, `unsorted at ${i}`);
  sorted.done();

  const path = join(t.testdir(), 'models.bin');
  const lines = [
    `BRCA1\t${BRCA1_GENEPRED}`,
    'B\tNM_2\tchr1\t+\t100\t500\t100\t500\t1\t100,\t500,',
    'A\tNM_1\tchr1\t+\t100\t500\t100\t500\t1\t100,\t500,',
    'C\tNM_3\tchr1\t+\t100\t400\t100\t400\t1\t100,\t400,',
    'D\tNM_4\tchr10\t+\t50\t400\t100\t400\t1\t50,\t400,',
  ];
  await writeFile(path, lines.join('\n') + '\n');
  await t.rejects(loadGeneModels(path), /cannot tell the gene model format/);
  const ts = await loadGeneModels(path, 'refflat');
  t.strictSame(
    ts.map((x) => x.id),
    ['NM_3', 'NM_1', 'NM_2', 'NM_4', 'NM_007294'],
  );
});

t.test('GFF3 and GTF phase: a CDS that starts mid-codon is counted from its first whole codon, across an intron too', async (t) => {
  // + strand, phase 1: the first CDS base finishes a codon the model does not hold.
  // − strand, phase 2: the 5' CDS piece (at the high end) holds 1 base, so the second skipped base
  // is the last base of the previous exon, across the intron.
  const gff = [
    'chr3\t.\tmRNA\t101\t400\t.\t+\t.\tID=P;Name=P',
    'chr3\t.\texon\t101\t400\t.\t+\t.\tParent=P',
    'chr3\t.\tCDS\t101\t391\t.\t+\t1\tParent=P',
    'chr3\t.\tmRNA\t1001\t1400\t.\t-\t.\tID=M;Name=M',
    'chr3\t.\texon\t1001\t1200\t.\t-\t.\tParent=M',
    'chr3\t.\texon\t1301\t1400\t.\t-\t.\tParent=M',
    'chr3\t.\tCDS\t1100\t1200\t.\t-\t1\tParent=M',
    'chr3\t.\tCDS\t1301\t1301\t.\t-\t2\tParent=M',
  ].join('\n');
  const [p, m] = await readGff3(text(gff));
  t.equal(p!.cdsStart, 101, 'one base after the 0-based start 100');
  t.equal(p!.cdsEnd, 391);
  t.equal(m!.cdsStart, 1099);
  t.equal(m!.cdsEnd, 1199, 'the single base 1301 and then 1200 (1-based) leave the CDS');
  const gtf =
    'chr3\t.\texon\t101\t400\t.\t+\t.\tgene_id "G"; transcript_id "P"; gene_name "P";\nchr3\t.\tCDS\t101\t391\t.\t+\t2\tgene_id "G"; transcript_id "P";\n';
  const [g] = await readGtf(text(gtf));
  t.equal(g!.cdsStart, 102);
  // Phase 0, and start/stop codon features, change nothing.
  const [whole] = await readGff3(text(gff.replace('\t+\t1\tParent=P', '\t+\t0\tParent=P')));
  t.equal(whole!.cdsStart, 100);
});
