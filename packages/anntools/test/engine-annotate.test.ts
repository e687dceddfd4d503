// The engine with a reference: INFO fields per ALT, the TSV, the summary and the count log.
import t from 'tap';
import { PassThrough, Readable } from 'node:stream';
import { annotateVcf, formatCountLog, SnpTableBuilder, TranscriptIndex, TSV_COLUMNS } from '../src/index.ts';
import type { Reference, Transcript } from '../src/index.ts';

const PLUS: Transcript = {
  id: 'NM_PLUS',
  gene: 'PLUS',
  chrom: '1',
  strand: '+',
  start: 100,
  end: 600,
  cdsStart: 150,
  cdsEnd: 550,
  exonStarts: [100, 300, 500],
  exonEnds: [200, 400, 600],
  biotype: 'protein_coding',
};
const MINUS: Transcript = {
  id: 'NM_MINUS',
  gene: 'MINUS',
  chrom: '1',
  strand: '-',
  start: 10100,
  end: 10600,
  cdsStart: 10150,
  cdsEnd: 10550,
  exonStarts: [10100, 10300, 10500],
  exonEnds: [10200, 10400, 10600],
  biotype: 'protein_coding',
};
// A dbSNP table holding one entry: rs100 is the A>G at chr1:161.
const snpBuilder = new SnpTableBuilder();
snpBuilder.add('1', 161, 100, 'A', ['G']);
const snps = snpBuilder.build();
const reference: Reference = { build: 'GRCh37', transcripts: new TranscriptIndex([PLUS, MINUS]), snps };

const HEADER = '##fileformat=VCFv4.2\n##contig=<ID=chr1>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n';
// VCF positions are 1-based: 161 is 0-based 160 (PLUS CDS), 251 is intron 1, 5001 intergenic.
const BODY =
  [
    'chr1\t161\t.\tA\tG,<DEL>\t50\tPASS\tDP=10\tGT\t0/1',
    'chr1\t251\trsX\tC\tCT\t.\t.\t.\tGT\t1/1',
    'chr1\t5001\t.\tG\tA\t.\t.\t.\tGT\t0/1',
    'chr1\t10581\t.\tT\tC\t.\t.\t.\tGT\t0/1',
  ].join('\n') + '\n';

async function annotate(text: string) {
  const vcfOut = new PassThrough();
  const tsvOut = new PassThrough();
  const vcf: Buffer[] = [];
  const tsv: Buffer[] = [];
  vcfOut.on('data', (c: Buffer) => vcf.push(c));
  tsvOut.on('data', (c: Buffer) => tsv.push(c));
  const summary = await annotateVcf({ input: Readable.from([Buffer.from(text)]), vcfOut, tsvOut, reference });
  return { summary, vcf: Buffer.concat(vcf).toString(), tsv: Buffer.concat(tsv).toString() };
}

t.test('each ALT gets its region, genes, detail and rsIDs in INFO; other columns are untouched', async (t) => {
  const { vcf } = await annotate(HEADER + BODY);
  const lines = vcf.trimEnd().split('\n');
  for (const id of ['GAS_REGION', 'GAS_GENE', 'GAS_DETAIL', 'GAS_RSID', 'GAS_SKIP']) {
    t.ok(
      lines.some((l) => l.startsWith(`##INFO=<ID=${id},Number=A,`)),
      id,
    );
  }
  const data = lines.filter((l) => !l.startsWith('#'));
  const input = BODY.trimEnd().split('\n');
  t.equal(data.length, input.length, 'one output record per input record');
  data.forEach((l, i) => {
    const out = l.split('\t');
    const orig = input[i]!.split('\t');
    t.strictSame([...out.slice(0, 7), ...out.slice(8)], [...orig.slice(0, 7), ...orig.slice(8)]);
    t.ok(out[7]!.startsWith(orig[7] === '.' ? 'GAS_REGION=' : `${orig[7]};GAS_REGION=`), `INFO: ${out[7]}`);
  });
  const info = (l: string) =>
    Object.fromEntries(
      l
        .split('\t')[7]!
        .split(';')
        .map((kv) => kv.split('=') as [string, string]),
    );
  const first = info(data[0]!);
  t.equal(first.GAS_REGION, 'exonic,.');
  t.equal(first.GAS_GENE, 'PLUS,.');
  t.equal(first.GAS_DETAIL, 'NM_PLUS:+:exon1,.');
  t.equal(first.GAS_RSID, 'rs100,.');
  t.equal(first.GAS_SKIP, '.,symbolic_allele');
  t.equal(first.DP, '10');
  const ins = info(data[1]!);
  t.equal(ins.GAS_REGION, 'intronic');
  t.equal(ins.GAS_DETAIL, 'NM_PLUS:+:intron1');
  t.equal(ins.GAS_SKIP, undefined);
  const inter = info(data[2]!);
  t.equal(inter.GAS_REGION, 'intergenic');
  t.equal(inter.GAS_GENE, 'PLUS&MINUS');
  t.equal(inter.GAS_DETAIL, 'PLUS(dist:4401)&MINUS(dist:5100)');
  t.equal(info(data[3]!).GAS_REGION, 'UTR5');
});

t.test('the TSV has one row per variant allele, with the original ID', async (t) => {
  const { tsv } = await annotate(HEADER + BODY);
  const rows = tsv
    .trimEnd()
    .split('\n')
    .map((l) => l.split('\t'));
  t.strictSame(rows[0], TSV_COLUMNS);
  t.equal(rows.length - 1, 5);
  t.strictSame(rows[1]!.slice(0, 10), ['chr1', '161', '.', 'A', 'G', '1', 'exonic', 'PLUS', 'NM_PLUS:+:exon1', 'rs100']);
  t.strictSame(rows[2]!.slice(4, 7), ['<DEL>', '2', '']);
  t.equal(rows[2]![TSV_COLUMNS.indexOf('SKIP_REASON')], 'symbolic_allele');
  t.equal(rows[3]![2], 'rsX');
});

t.test('summary: counts per class and chromosome, Ti/Tv, rsID rate; the count log says the same', async (t) => {
  const { summary } = await annotate(HEADER + BODY);
  t.equal(summary.records, 4);
  t.equal(summary.alleles, 5);
  t.equal(summary.annotatedAlleles, 4);
  t.strictSame(summary.skipped, { symbolic_allele: 1 });
  t.strictSame(summary.regions, { exonic: 1, intronic: 1, intergenic: 1, UTR5: 1 });
  t.strictSame(summary.chromosomes, { chr1: 4 });
  // A>G and G>A and T>C are transitions; none transversions.
  t.equal(summary.transitions, 3);
  t.equal(summary.tiTv, null);
  t.equal(summary.rsidAlleles, 1);
  t.equal(summary.rsidRate, 0.2);
  const log = formatCountLog('x.vcf', summary);
  t.match(log, /^Total: 4$/m);
  t.match(log, /^In dbSNP: 1 \(25\.00%\)$/m);
  t.match(log, /^In CDS 1$/m);
  t.match(log, /^In interGenic 1$/m);
  t.match(log, /^In '5 UTR 1$/m);
  t.match(log, /^Not annotated 1 \(symbolic_allele: 1\)$/m);
});

t.test('with a sequence, exonic ALTs get function, SO term, impact and HGVS per coding transcript', async (t) => {
  // A coding transcript like PLUS with a whole number of codons: CDS [150,200) + [300,400) +
  // [500,551) = 201 bases = ATG, 65 × GCT (Ala), TAA. Every other base is C.
  const CODING: Transcript = { ...PLUS, id: 'NM_CODING', gene: 'CODING', cdsEnd: 551 };
  const seq = new Array(12000).fill('C');
  const cds: number[] = [];
  for (let g = 150; g < 200; g++) cds.push(g);
  for (let g = 300; g < 400; g++) cds.push(g);
  for (let g = 500; g < 551; g++) cds.push(g);
  const coding = 'ATG' + 'GCT'.repeat(65) + 'TAA';
  cds.forEach((g, i) => (seq[g] = coding[i]!));
  const sequence = { fetch: (_c: string, s: number, e: number) => seq.slice(s, e).join('') };
  const withSeq: Reference = { build: 'test', transcripts: new TranscriptIndex([CODING]), sequence };
  // CDS position 4 (genomic 153, VCF POS 154) is the G of codon 2 GCT (Ala): G>C gives CCT (Pro).
  const text = HEADER + 'chr1\t154\t.\tG\tC,T\t.\t.\t.\tGT\t0/1\n';
  const vcfOut = new PassThrough();
  const out: Buffer[] = [];
  vcfOut.on('data', (c: Buffer) => out.push(c));
  const summary = await annotateVcf({ input: Readable.from([Buffer.from(text)]), vcfOut, reference: withSeq });
  const line = Buffer.concat(out).toString().trimEnd().split('\n').at(-1)!;
  const info = Object.fromEntries(
    line
      .split('\t')[7]!
      .split(';')
      .map((kv) => kv.split('=') as [string, string]),
  );
  t.equal(info.GAS_FUNC, 'missense,missense');
  t.equal(info.GAS_SO, 'missense_variant,missense_variant');
  t.equal(info.GAS_IMPACT, 'MODERATE,MODERATE');
  t.equal(info.GAS_AACHANGE, 'CODING:NM_CODING:c.4G>C:p.Ala2Pro,CODING:NM_CODING:c.4G>T:p.Ala2Ser');
  t.strictSame(summary.functions, { missense: 2 });
});
