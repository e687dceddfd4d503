// The CSQ field end to end: the engine over the synthetic gene of consequence.test.ts (its drawing
// gives every position used here), each field worked by hand, then bcftools +split-vep reading the
// same output back by VEP's field names.
import t from 'tap';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { promisify } from 'node:util';
import { annotateVcf } from '../src/engine.ts';
import { TranscriptIndex } from '../src/annotation/transcript-index.ts';
import type { Reference, SequenceSource } from '../src/reference.ts';
import type { Transcript } from '../src/transcript.ts';
import { CSQ_FIELDS, CSQ_HEADER } from '../src/vep-csq.ts';
import { hgvsCFromAllele } from '../src/annotation/consequence.ts';
import { TSV_COLUMNS } from '../src/result-kinds.ts';

const exec = promisify(execFile);
const BCFTOOLS = '/usr/bin/bcftools';

// consequence.test.ts: exon 1 [10,30) with c.1 at 20, intron 1 [30,50), exon 2 [50,85) with the stop at c.28-30 (67-69).
const GENOME =
  'GGGGGGGGGG' + 'CCGCCACCGC' + 'ATGGCATGGG' + 'GTAAGTCCCCCCCCCTTCAG' + 'GAAAAAAGCTCGACCCTTAA' + 'GCATGACTAGCTAAC' + 'TTTTTTTTTT';
const sequence: SequenceSource = { fetch: (_chrom, s, e) => GENOME.slice(Math.max(0, s), Math.min(GENOME.length, e)) };
const PLUS: Transcript = {
  id: 'NM_PLUS',
  gene: 'SYN',
  chrom: 'syn',
  strand: '+',
  start: 10,
  end: 85,
  cdsStart: 20,
  cdsEnd: 70,
  exonStarts: [10, 50],
  exonEnds: [30, 85],
  biotype: 'protein_coding',
  mane: { select: 'ENST00000000001.1', hgnc: 'HGNC:1', gene: '1234', protein: 'NP_PLUS.1' },
};
const reference: Reference = { build: 'synthetic', transcripts: new TranscriptIndex([PLUS]), sequence };

const VCF = [
  '##fileformat=VCFv4.2',
  '##contig=<ID=syn,length=95>',
  '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO',
  // c.5C>A, Ala2Glu (consequence.test.ts); cDNA 15 (exon 1 starts at 11).
  'syn\t25\tmissense\tC\tA\t.\t.\t.',
  // c.10, the last base of exon 1: GGA (Gly4, split codon) → AGA (Arg), and a splice region base.
  'syn\t30\tsplice_exon\tG\tA\t.\t.\t.',
  // Intron base +5 (0-based 34, a G). This intron is 20 bases long, so +5 is also acceptor -16,
  // in the polypyrimidine tract.
  'syn\t35\tfifth\tG\tA\t.\t.\t.',
  // Intron base -3 (0-based 47, a C): splice region and polypyrimidine tract.
  'syn\t48\tpoly\tC\tT\t.\t.\t.',
  // 6 bases before the transcript's first base (11).
  'syn\t5\tupstream\tG\tA\t.\t.\t.',
  // Deleting c.6 (an A): VEP drops the VCF's anchor base.
  'syn\t25\tdel\tCA\tC\t.\t.\t.',
  // The same with an MNV ALT that does not start with the anchor: VEP then keeps every ALT as written.
  'syn\t25\tmixed\tCA\tC,TA\t.\t.\t.',
  // A symbolic ALT gets no entry; the other ALT does.
  'syn\t26\tsymbolic\tA\t<DEL>,G\t.\t.\t.',
  '',
].join('\n');

async function run(csq: boolean): Promise<{ vcf: string; tsv: string }> {
  const vcfOut = new PassThrough();
  const tsvOut = new PassThrough();
  const chunks: Buffer[] = [];
  const rows: Buffer[] = [];
  vcfOut.on('data', (c: Buffer) => chunks.push(c));
  tsvOut.on('data', (c: Buffer) => rows.push(c));
  await annotateVcf({ input: Readable.from([Buffer.from(VCF)]), vcfOut, tsvOut, reference, csq });
  return { vcf: Buffer.concat(chunks).toString(), tsv: Buffer.concat(rows).toString() };
}

/** The CSQ entries of the record with this ID, each as a field → value map. */
function csqOf(vcf: string, id: string): Array<Record<string, string>> {
  const line = vcf.split('\n').find((l) => l.split('\t')[2] === id)!;
  const info = line.split('\t')[7]!;
  const value = info.split(';').find((f) => f.startsWith('CSQ='));
  if (!value) return [];
  return value
    .slice(4)
    .split(',')
    .map((entry) => {
      const parts = entry.split('|');
      return Object.fromEntries(CSQ_FIELDS.map((f, i) => [f, parts[i]!]));
    });
}

const pick = (e: Record<string, string>, fields: string[]) => Object.fromEntries(fields.map((f) => [f, e[f]]));

t.test("the header declares CSQ with VEP's description; every entry has every field", async (t) => {
  const { vcf } = await run(true);
  t.match(
    CSQ_HEADER,
    /^##INFO=<ID=CSQ,Number=\.,Type=String,Description="Consequence annotations from Ensembl VEP\. Format: Allele\|Consequence\|IMPACT\|SYMBOL\|Gene\|Feature_type\|Feature\|BIOTYPE\|EXON\|INTRON\|HGVSc\|HGVSp\|cDNA_position\|CDS_position\|Protein_position\|Amino_acids\|Codons\|Existing_variation\|DISTANCE\|STRAND\|FLAGS\|SYMBOL_SOURCE\|HGNC_ID\|CANONICAL\|MANE_SELECT\|MANE_PLUS_CLINICAL">$/,
  );
  t.ok(vcf.includes(`\n${CSQ_HEADER}\n`));
  for (const line of vcf.split('\n').filter((l) => l && !l.startsWith('#'))) {
    const csq = line
      .split('\t')[7]!
      .split(';')
      .find((f) => f.startsWith('CSQ='))!;
    for (const entry of csq.slice(4).split(',')) t.equal(entry.split('|').length, CSQ_FIELDS.length, entry);
  }
  const off = await run(false);
  t.notMatch(off.vcf, /CSQ/, 'csq: false leaves the field and its header out');
  t.match(off.vcf, /GAS_FUNC=missense/, 'the GAS_ fields stay');
});

t.test('a missense SNV: every field as VEP writes it', async (t) => {
  const { vcf } = await run(true);
  t.strictSame(csqOf(vcf, 'missense'), [
    {
      Allele: 'A',
      Consequence: 'missense_variant',
      IMPACT: 'MODERATE',
      SYMBOL: 'SYN',
      Gene: '1234',
      Feature_type: 'Transcript',
      Feature: 'NM_PLUS',
      BIOTYPE: 'protein_coding',
      EXON: '1/2',
      INTRON: '',
      HGVSc: 'NM_PLUS:c.5C>A',
      HGVSp: 'NP_PLUS.1:p.Ala2Glu',
      cDNA_position: '15',
      CDS_position: '5',
      Protein_position: '2',
      Amino_acids: 'A/E',
      Codons: 'gCa/gAa',
      Existing_variation: '',
      DISTANCE: '',
      STRAND: '1',
      FLAGS: '',
      SYMBOL_SOURCE: 'HGNC',
      HGNC_ID: 'HGNC:1',
      CANONICAL: 'YES',
      MANE_SELECT: 'ENST00000000001.1',
      MANE_PLUS_CLINICAL: '',
    },
  ]);
});

t.test('splice terms beside the coding one, intron numbers, flanks, anchors and skipped ALTs', async (t) => {
  const { vcf, tsv } = await run(true);
  const fields = [
    'Allele',
    'HGVSc',
    'Consequence',
    'IMPACT',
    'EXON',
    'INTRON',
    'cDNA_position',
    'CDS_position',
    'Protein_position',
    'Amino_acids',
    'Codons',
    'DISTANCE',
  ];
  t.strictSame(pick(csqOf(vcf, 'splice_exon')[0]!, fields), {
    Allele: 'A',
    Consequence: 'missense_variant&splice_region_variant',
    HGVSc: 'NM_PLUS:c.10G>A',
    IMPACT: 'MODERATE',
    EXON: '1/2',
    INTRON: '',
    cDNA_position: '20',
    CDS_position: '10',
    Protein_position: '4',
    Amino_acids: 'G/R',
    Codons: 'Gga/Aga',
    DISTANCE: '',
  });
  const blank = { cDNA_position: '', CDS_position: '', Protein_position: '', Amino_acids: '', Codons: '' };
  t.strictSame(pick(csqOf(vcf, 'fifth')[0]!, fields), {
    ...blank,
    Allele: 'A',
    Consequence: 'splice_donor_5th_base_variant&splice_polypyrimidine_tract_variant&intron_variant',
    HGVSc: 'NM_PLUS:c.10+5G>A',
    IMPACT: 'LOW',
    EXON: '',
    INTRON: '1/1',
    DISTANCE: '',
  });
  t.equal(csqOf(vcf, 'poly')[0]!.Consequence, 'splice_region_variant&splice_polypyrimidine_tract_variant&intron_variant');
  t.equal(csqOf(vcf, 'poly')[0]!.HGVSc, 'NM_PLUS:c.11-3C>T', 'intronic HGVSc as VEP writes it, from the nearest exon base');
  t.equal(csqOf(vcf, 'upstream')[0]!.HGVSc, '', 'none for a flank');
  t.strictSame(pick(csqOf(vcf, 'upstream')[0]!, ['Consequence', 'IMPACT', 'EXON', 'DISTANCE', 'STRAND']), {
    Consequence: 'upstream_gene_variant',
    IMPACT: 'MODIFIER',
    EXON: '',
    DISTANCE: '6',
    STRAND: '1',
  });
  t.strictSame(
    csqOf(vcf, 'del').map((e) => [e.Allele, e.Consequence, e.CDS_position, e.Protein_position]),
    [['-', 'frameshift_variant', '6', '2']],
    'CA>C: the anchor base dropped',
  );
  t.strictSame(
    csqOf(vcf, 'mixed').map((e) => [e.Allele, e.Consequence, e.CDS_position]),
    [
      ['C', 'frameshift_variant', '6'],
      ['TA', 'missense_variant', '5'],
    ],
    'CA>C,TA: VEP drops the anchor only when every allele starts with it (T does not)',
  );
  t.strictSame(
    csqOf(vcf, 'symbolic').map((e) => e.Allele),
    ['G'],
  );
  // The TSV's CONSEQUENCE column: the most severe term per ALT; empty for a skipped one.
  const rows = tsv.trim().split('\n');
  t.strictSame(rows[0]!.split('\t'), TSV_COLUMNS);
  const col = TSV_COLUMNS.indexOf('CONSEQUENCE');
  const byId = (id: string) => rows.filter((r) => r.split('\t')[2] === id).map((r) => r.split('\t')[col]);
  t.strictSame(byId('splice_exon'), ['missense_variant']);
  t.strictSame(byId('fifth'), ['splice_donor_5th_base_variant']);
  t.strictSame(byId('poly'), ['splice_region_variant']);
  t.strictSame(byId('symbolic'), ['', 'synonymous_variant'], 'c.6A>G: GCA to GCG, Ala');
});

t.test('HGVSc off the CDS: n. on a non-coding transcript, numbered from its 5′ end on the minus strand', async (t) => {
  // Exons [100,120) and [140,160) on '-': n.1 is base 159, n.20 base 140, n.21 base 119; the intron is 120..139.
  const nc: Transcript = {
    ...PLUS,
    id: 'NR_NC',
    strand: '-',
    start: 100,
    end: 160,
    cdsStart: 160,
    cdsEnd: 160,
    exonStarts: [100, 140],
    exonEnds: [120, 160],
    biotype: 'lncRNA',
  };
  t.equal(hgvsCFromAllele(nc, { kind: 'snv', start: 150, end: 151, ref: 'A', alt: 'G' }), 'n.10T>C');
  t.equal(hgvsCFromAllele(nc, { kind: 'snv', start: 137, end: 138, ref: 'G', alt: 'A' }), 'n.20+3C>T');
  t.equal(hgvsCFromAllele(nc, { kind: 'snv', start: 121, end: 122, ref: 'G', alt: 'A' }), 'n.21-2C>T');
  t.equal(hgvsCFromAllele(nc, { kind: 'deletion', start: 118, end: 120, ref: 'AC', alt: '' }), 'n.21_22del');
});

/** Why the split-vep test cannot run here, or false. */
function noSplitVep(): string | false {
  if (!existsSync(BCFTOOLS)) return `${BCFTOOLS} is not installed (Debian package bcftools)`;
  const plugins = execFileSync(BCFTOOLS, ['plugin', '-l'], { encoding: 'utf8' });
  return /^split-vep$/m.test(plugins) ? false : 'bcftools has no split-vep plugin (its plugins directory lacks split-vep.so)';
}

t.test('bcftools +split-vep reads the CSQ fields back by their names', { skip: noSplitVep() }, async (t) => {
  const { vcf } = await run(true);
  const path = join(t.testdir(), 'out.vcf');
  writeFileSync(path, vcf);
  const listed = await exec(BCFTOOLS, ['+split-vep', '-l', path]);
  t.strictSame(
    listed.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t')[1]),
    [...CSQ_FIELDS],
    'split-vep sees our fields in our order',
  );
  const format =
    '%ID\\t%Allele\\t%Consequence\\t%IMPACT\\t%SYMBOL\\t%Feature\\t%EXON\\t%INTRON\\t%HGVSc\\t%HGVSp\\t%Protein_position\\t%Amino_acids\\t%DISTANCE\\t%STRAND\\t%MANE_SELECT\\n';
  const r = await exec(BCFTOOLS, ['+split-vep', '-d', '-f', format, path]);
  const rows = r.stdout
    .trim()
    .split('\n')
    .map((l) => l.split('\t'));
  t.strictSame(
    rows.find((row) => row[0] === 'missense'),
    [
      'missense',
      'A',
      'missense_variant',
      'MODERATE',
      'SYN',
      'NM_PLUS',
      '1/2',
      '.',
      'NM_PLUS:c.5C>A',
      'NP_PLUS.1:p.Ala2Glu',
      '2',
      'A/E',
      '.',
      '1',
      'ENST00000000001.1',
    ],
  );
  t.strictSame(rows.find((row) => row[0] === 'fifth')?.slice(1, 8), [
    'A',
    'splice_donor_5th_base_variant&splice_polypyrimidine_tract_variant&intron_variant',
    'LOW',
    'SYN',
    'NM_PLUS',
    '.',
    '1/1',
  ]);
  t.equal(rows.find((row) => row[0] === 'upstream')?.[12], '6');
  // -s worst: the most severe consequence per record, as split-vep ranks VEP's terms.
  const worst = await exec(BCFTOOLS, ['+split-vep', '-s', 'worst', '-f', '%ID\\t%Consequence\\n', path]);
  const byId: Record<string, string> = Object.fromEntries(
    worst.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t') as [string, string]),
  );
  t.equal(byId['splice_exon'], 'missense_variant&splice_region_variant');
  t.equal(byId['poly'], 'splice_region_variant&splice_polypyrimidine_tract_variant&intron_variant');
  t.equal(byId['del'], 'frameshift_variant');
});
