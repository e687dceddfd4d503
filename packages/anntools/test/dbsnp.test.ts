import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { seededRandom, sharedDataPath } from '@gas/testing';
import {
  DbSnpFormatError,
  describeRejections,
  SnpTable,
  SnpTableBuilder,
  dbSnpFormatOf,
  loadBed,
  loadDbSnp,
  loadVcf,
  loadVepTsv,
  vepColumnsFor,
} from '../src/dbsnp/index.ts';
import { Mismatches } from './mismatches.ts';

const VEP = sharedDataPath('dbsnp/grch38/ensembl_vep84_variation_chr21.tsv.gz');
const CLINVAR = sharedDataPath('dbsnp/grch38/clinvar_GRCh38_hereditary_cancer_genes.vcf.gz');
const DBSNP147 = sharedDataPath('dbsnp/grch37/dbSNP147.GRCh37.head.vcf.gz');
const UCSC_BED = sharedDataPath('dbsnp/grch37/ucsc_snp_hg19_chr1_chr21.bed.gz');

/** `zcat file | grep -vc '^#'`, computed here so the expectation follows the file. */
function dataLines(path: string): number {
  const text = gunzipSync(readFileSync(path)).toString('latin1');
  let n = 0;
  for (const line of text.split('\n')) if (line.length > 0 && line[0] !== '#') n++;
  return n;
}

async function tableOf(load: (b: SnpTableBuilder) => Promise<unknown>): Promise<SnpTable> {
  const b = new SnpTableBuilder();
  await load(b);
  return b.build();
}

let vepTable: Promise<SnpTable> | undefined;
const vep = (): Promise<SnpTable> => (vepTable ??= tableOf((b) => loadVepTsv(VEP, b)));

// ---------------------------------------------------------------- matching rules, on small tables

t.test('alleles: match after trimming shared bases; wrong ALT, wrong REF and symbolic ALTs do not', async (t) => {
  const b = new SnpTableBuilder();
  b.add('1', 100, 11, 'C', ['A', 'G']);
  b.add('1', 200, 22, 'CTT', ['C']); // deletion of TT at 201..202
  b.add('1', 300, 33, 'A', ['AGG']); // insertion of GG between 300 and 301
  const snps = b.build();
  t.strictSame(snps.find('1', 100, 'C', 'A'), [11]);
  t.strictSame(snps.find('1', 100, 'c', 'g'), [11], 'case-insensitive');
  t.strictSame(snps.find('1', 100, 'C', 'T'), []);
  t.strictSame(snps.find('1', 100, 'G', 'A'), []);
  t.strictSame(snps.find('1', 100, 'C', '<DEL>'), []);
  t.strictSame(snps.find('1', 100, 'C', '*'), []);
  // The same deletion written with more context (REF CTTA ALT CA) is the same minimal allele.
  t.strictSame(snps.find('1', 200, 'CTTA', 'CA'), [22]);
  t.strictSame(snps.find('1', 199, 'GCTT', 'GC'), [22]);
  t.strictSame(snps.find('1', 200, 'CT', 'C'), [], 'a 1-base deletion is not the 2-base one');
  t.strictSame(snps.find('1', 300, 'A', 'AGG'), [33]);
  t.strictSame(snps.find('1', 300, 'A', 'AG'), []);
  t.strictSame(snps.find('1', 301, 'C', 'T'), [], 'an SNV at the next base is not the insertion');
});

t.test('an indel written with repeat context is tried at every placement its own bases allow', async (t) => {
  const b = new SnpTableBuilder();
  // Ensembl-style entries (no anchor): deletion of one T at 102, insertion of A before 51.
  b.add('1', 102, 7, 'T', ['-']);
  b.add('1', 51, 8, '-', ['A']);
  const snps = b.build();
  // REF ATT ALT AT at 100 deletes "one T of TT": leftmost is 101, the source put it at 102.
  t.strictSame(snps.find('1', 100, 'ATT', 'AT'), [7]);
  // REF A ALT AA at 50 inserts an A next to an A: leftmost is 50, the source put it at 51.
  t.strictSame(snps.find('1', 50, 'A', 'AA'), [8]);
  t.strictSame(snps.find('1', 100, 'ATT', 'A'), []);
});

t.test('span-only entries compare the minimal REF length; position-only entries match any allele', async (t) => {
  const b = new SnpTableBuilder();
  b.addSpan('2', 1000, 1, 1); // SNV-sized
  b.addSpan('2', 2000, 2, 0); // insertion before 2000
  b.addSpan('2', 3000, 3, 3); // 3-base deletion 3000..3002
  b.addSpan('2', 4000, 4); // unknown length
  const snps = b.build();
  t.strictSame(snps.find('2', 1000, 'A', 'G'), [1]);
  t.strictSame(snps.find('2', 999, 'CA', 'C'), [1], 'a 1-base deletion cannot be told from an SNV without alleles');
  t.strictSame(snps.find('2', 1999, 'C', 'CT'), [2]);
  t.strictSame(snps.find('2', 2000, 'C', 'T'), []);
  t.strictSame(snps.find('2', 2999, 'GACT', 'G'), [3]);
  t.strictSame(snps.find('2', 2999, 'GAC', 'G'), []);
  t.strictSame(snps.find('2', 4000, 'A', 'T'), [4]);
  t.strictSame(snps.find('2', 3999, 'GA', 'G'), [4]);
});

t.test('duplicates collapse; alleles win over a bare span of the same rs; results are distinct and sorted', async (t) => {
  const b = new SnpTableBuilder();
  b.add('X', 10, 5, 'A', ['G']);
  b.add('chrX', 10, 5, 'A', ['G']);
  b.addSpan('X', 10, 5, 1);
  b.add('X', 10, 3, 'A', ['G', 'T']);
  b.addSpan('X', 10, 9, 1);
  const snps = b.build();
  t.equal(snps.count, 3);
  t.equal(snps.entries, 4); // rs5 A>G, rs3 A>G, rs3 A>T, rs9 span
  t.strictSame(snps.find('X', 10, 'A', 'G'), [3, 5, 9]);
  t.strictSame(snps.find('X', 10, 'A', 'C'), [9]);
  t.strictSame(snps.chromosomes(), ['X']);
});

t.test('a miss returns one shared frozen array; unknown chromosomes are a miss', async (t) => {
  const b = new SnpTableBuilder();
  b.add('1', 100, 1, 'A', ['G']);
  const snps = b.build();
  const a = snps.find('1', 101, 'A', 'G');
  const c = snps.find('chr7', 100, 'A', 'G');
  t.equal(a, c);
  t.ok(Object.isFrozen(a));
  t.equal(a.length, 0);
});

t.test('lookups in any order find the same rsIDs: sorted runs, jumps back, other chromosomes in between', async (t) => {
  const rand = seededRandom(11);
  const b = new SnpTableBuilder();
  const want = new Map<string, number[]>();
  // Clusters and repeats of one position, so a lookup may land anywhere in a run of equal positions.
  for (let rs = 1; rs <= 5000; rs++) {
    const chrom = rs % 3 === 0 ? '2' : '1';
    const pos = 1 + Math.floor(rand() * 20_000);
    b.add(chrom, pos, rs, 'A', ['G']);
    const key = `${chrom}:${pos}`;
    want.set(
      key,
      [...(want.get(key) ?? []), rs].sort((x, y) => x - y),
    );
  }
  const snps = b.build();
  const found = new Mismatches(t, 'every lookup finds the rsIDs added there');
  const check = (chrom: string, pos: number): void =>
    void found.same([...snps.find(chrom, pos, 'A', 'G')], want.get(`${chrom}:${pos}`) ?? [], `${chrom}:${pos}`);
  for (let pos = 1; pos <= 20_001; pos++) check('1', pos);
  for (let pos = 20_001; pos >= 1; pos -= 7) check('1', pos);
  for (let i = 0; i < 20_000; i++) check(rand() < 0.5 ? '1' : '2', 1 + Math.floor(rand() * 20_001));
  found.done();
});

t.test('the builder refuses bad input and a second build', async (t) => {
  const b = new SnpTableBuilder();
  t.throws(() => b.add('1', 0, 1, 'A', ['G']), RangeError);
  t.throws(() => b.add('1', 1, 0, 'A', ['G']), RangeError);
  t.throws(() => b.add('1', 1, 2 ** 32, 'A', ['G']), RangeError);
  t.throws(() => b.add('1', 1, 1, 'A?', ['G']), RangeError);
  t.equal(b.add('1', 1, 1, 'A', ['<DEL>', '*']), 0);
  b.build();
  t.throws(() => b.build(), /already/);
});

// ---------------------------------------------------------------- Ensembl VEP variation TSV

t.test('VEP TSV: counts, column names from info.txt', async (t) => {
  const cols = vepColumnsFor(VEP);
  t.equal(cols?.length, 30);
  t.strictSame(cols?.slice(0, 8), ['chr', 'variation_name', 'failed', 'somatic', 'start', 'end', 'allele_string', 'strand']);
  const b = new SnpTableBuilder();
  let lines = 0;
  const r = await loadVepTsv(VEP, b, { onLine: () => lines++ });
  // zcat … | awk -F'\t' '$2 ~ /^rs/ && $3 != "1"' | wc -l → 72325; the other 719 lines are 531 COSMIC/HGMD/ESP
  // names and 188 failed rsIDs.
  t.equal(r.records, 72325);
  t.equal(r.records + r.skipped, dataLines(VEP));
  t.equal(lines, 73044);
  const snps = b.build();
  t.equal(snps.count, 72325); // no rsID repeats at a position once failed lines are out
  t.strictSame(snps.chromosomes(), ['21']);
  const withFailed = await tableOf((bb) => loadVepTsv(VEP, bb, { includeFailed: true }));
  t.ok(withFailed.count > snps.count);
});

t.test('VEP TSV: an SNV is found with its ALT under both chromosome spellings, not with another ALT', async (t) => {
  const snps = await vep();
  // 21  rs879182429  .  .  8013350  .  T/G
  t.strictSame(snps.find('21', 8013350, 'T', 'G'), [879182429]);
  t.strictSame(snps.find('chr21', 8013350, 'T', 'G'), [879182429]);
  t.strictSame(snps.find('21', 8013350, 'T', 'C'), []);
  t.strictSame(snps.find('21', 8013351, 'T', 'G'), []);
});

t.test('VEP TSV: a deletion and an insertion are matched from their Platinum Genomes VCF records', async (t) => {
  const snps = await vep();
  // VEP: rs371406476 start 8817251 end 8817252 TT/-, and rs796445391 8817251-8817253 TTG/-.
  // PG hg38 VCF: chr21 8817250 . CTT C
  t.strictSame(snps.find('chr21', 8817250, 'CTT', 'C'), [371406476]);
  t.strictSame(snps.find('chr21', 8817250, 'CTTG', 'C'), [796445391]);
  t.notOk(snps.find('chr21', 8817250, 'CT', 'C').includes(371406476));
  // VEP: rs370609128 start 8584574 end 8584573 -/AT (insertion between 8584573 and 8584574).
  // PG hg38 VCF: chr21 8584573 . A AAT
  t.strictSame(snps.find('chr21', 8584573, 'A', 'AAT'), [370609128]);
  t.strictSame(snps.find('chr21', 8584573, 'A', 'AAG'), []);
  t.strictSame(snps.find('chr21', 8584574, 'A', 'AAT'), []);
  // Multi-allelic, non-minimal: PG chr21 25280879 ATGTGTG ATGTG,A; VEP rs796137393 25280880-25280881 TG/-.
  t.strictSame(snps.find('chr21', 25280879, 'ATGTGTG', 'ATGTG'), [796137393]);
  // PG chr21 25183009 AGTGT A,AGTGTGTGTGTGT; VEP rs139786507 25183010-25183013 GTGT/-.
  t.strictSame(snps.find('chr21', 25183009, 'AGTGT', 'A'), [139786507]);
});

// ---------------------------------------------------------------- VCF: ClinVar and dbSNP

t.test('ClinVar VCF: rsIDs come from INFO RS=, counts match the file', async (t) => {
  const b = new SnpTableBuilder();
  const r = await loadVcf(CLINVAR, b);
  // zcat … | grep -v '^#' | grep -c 'RS=' → 60522, of which 9 have ALT "." (no allele to match).
  t.equal(r.records, 60513);
  t.equal(r.records + r.skipped, dataLines(CLINVAR));
  const snps = b.build();
  t.strictSame(snps.chromosomes(), ['1', '2', '3', '5', '7', '11', '13', '16', '17', '22']);
  // 1  45327487  3106788  G  C  …;RS=765028059 — the ClinVar id in the ID column is not an rsID.
  t.strictSame(snps.find('1', 45327487, 'G', 'C'), [765028059]);
  t.strictSame(snps.find('chr1', 45327487, 'G', 'C'), [765028059]);
  t.strictSame(snps.find('1', 45327487, 'G', 'A'), []);
  t.strictSame(snps.find('1', 45327487, 'G', 'T'), []);
  // 1  45327489  982398  G  GTGCC  …;RS=1644248738
  t.strictSame(snps.find('1', 45327489, 'G', 'GTGCC'), [1644248738]);
  t.strictSame(snps.find('1', 45327489, 'G', 'GTGC'), []);
});

t.test('dbSNP VCF: ID-column rsIDs, multi-allelic records per ALT, indels', async (t) => {
  const b = new SnpTableBuilder();
  const r = await loadVcf(DBSNP147, b);
  t.strictSame(r, { records: 142, skipped: 0, rejected: 0, rejectedExamples: [] });
  t.equal(dataLines(DBSNP147), 142);
  const snps = b.build();
  t.equal(snps.count, 142);
  // 1  10493  rs199606420  C  A,G
  t.strictSame(snps.find('1', 10493, 'C', 'A'), [199606420]);
  t.strictSame(snps.find('chr1', 10493, 'C', 'G'), [199606420]);
  t.strictSame(snps.find('1', 10493, 'C', 'T'), []);
  // 1  10019  rs775809821  TA  T;  1  10055  rs768019142  T  TA
  t.strictSame(snps.find('1', 10019, 'TA', 'T'), [775809821]);
  t.strictSame(snps.find('1', 10055, 'T', 'TA'), [768019142]);
  t.strictSame(snps.find('1', 10055, 'T', 'TAA'), []);
});

// ---------------------------------------------------------------- UCSC BED

let bedTable: SnpTable | undefined;

t.test('UCSC BED: 0-based starts become 1-based positions; insertions and deletions by span', async (t) => {
  const b = new SnpTableBuilder();
  const t0 = performance.now();
  const r = await loadBed(UCSC_BED, b);
  const t1 = performance.now();
  const table = b.build();
  const t2 = performance.now();
  const bytes = table.serialize();
  bedTable = table;
  t.strictSame(r, { records: 800000, skipped: 0, rejected: 0, rejectedExamples: [] });
  t.equal(r.records, dataLines(UCSC_BED));
  t.equal(table.count, 800000); // no (chrom, start, rs) repeats: sort -u on columns 1,2,4 keeps 800000
  t.strictSame(table.chromosomes(), ['1', '21']);
  // Under the test runner every promise carries async context, and readLines yields one per line:
  // the same load takes about a quarter of this time in a plain process (the CLI).
  t.comment(
    `UCSC BED 800k rows: load ${(t1 - t0).toFixed(0)} ms (under tap), build ${(t2 - t1).toFixed(0)} ms, ` +
      `${table.entries} entries, serialized ${bytes.length} bytes (${(bytes.length / table.entries).toFixed(1)} B/entry)`,
  );

  // chr21  9411326  9411327  rs75025155 (the first chr21 row): the SNV is at 1-based 9411327.
  t.strictSame(table.find('chr21', 9411327, 'G', 'A'), [75025155]);
  t.strictSame(table.find('21', 9411327, 'C', 'T'), [75025155], 'no alleles in the BED: any SNV at the base');
  t.strictSame(table.find('chr21', 9411326, 'G', 'A'), []);
  t.strictSame(table.find('chr21', 9411326, 'GC', 'G'), [75025155], 'a 1-base deletion of that base has the same span');
  // chr21  9986066  9986066  rs71206350: an insertion between 1-based 9986066 and 9986067.
  t.strictSame(table.find('chr21', 9986066, 'A', 'AT'), [71206350]);
  t.strictSame(table.find('chr21', 9986066, 'A', 'G'), []);
  t.strictSame(table.find('chr21', 9986067, 'A', 'G'), []);
  t.strictSame(table.find('chr21', 9986065, 'A', 'AT'), []);
  // chr21  10935166  10935168  rs60147000: 1-based 10935167..10935168, a 2-base deletion anchored on 10935166.
  t.strictSame(table.find('chr21', 10935166, 'GAC', 'G'), [60147000]);
  t.strictSame(table.find('chr21', 10935166, 'GA', 'G'), []);
  t.strictSame(table.find('chr21', 10935167, 'AC', 'GT'), [60147000], 'an MNP over the same two bases');
});

// ---------------------------------------------------------------- serialization

t.test('serialize/deserialize: identical answers, aligned and unaligned buffers', async (t) => {
  const b = new SnpTableBuilder();
  await loadVepTsv(VEP, b);
  await loadVcf(CLINVAR, b);
  b.addSpan('chr21', 9986067, 71206350, 0);
  b.addSpan('21', 8013350, 1, undefined);
  const table = b.build();
  const bytes = table.serialize();
  const copy = SnpTable.deserialize(bytes);
  const unaligned = SnpTable.deserialize(Buffer.concat([Buffer.alloc(3), bytes]).subarray(3));
  for (const other of [copy, unaligned]) {
    t.equal(other.count, table.count);
    t.equal(other.entries, table.entries);
    t.strictSame(other.chromosomes(), table.chromosomes());
    t.ok(other.serialize().equals(bytes), 'serializes to the same bytes');
  }
  // Every allele of every VEP line and ClinVar record, plus shifted and wrong-ALT variants of them.
  const queries: [string, number, string, string][] = [];
  let direct = 0;
  const known = new Mismatches(t, 'every loaded VEP line is in the table');
  for (const line of gunzipSync(readFileSync(VEP)).toString('latin1').split('\n')) {
    const f = line.split('\t');
    if (f.length < 7 || !/^[ACGT]\/[ACGT]/.test(f[6]!)) continue;
    const [ref, alt] = f[6]!.split('/') as [string, string];
    const pos = Number(f[4]);
    if (f[1]!.startsWith('rs') && f[2] === '.') {
      // Loaded lines: the table must know them, the copies must agree.
      known.ok(table.find('21', pos, ref, alt).includes(Number(f[1]!.slice(2))), line);
      direct++;
    }
    queries.push(['21', pos, ref, alt], ['chr21', pos + 1, ref, alt], ['21', pos, ref, 'N']);
  }
  for (const line of gunzipSync(readFileSync(CLINVAR)).toString('latin1').split('\n')) {
    if (line.startsWith('#')) continue;
    const f = line.split('\t');
    if (f.length < 8) continue;
    for (const alt of f[4]!.split(',')) queries.push([f[0]!, Number(f[1]), f[3]!, alt]);
  }
  known.done();
  queries.push(['chr21', 9986066, 'A', 'AT'], ['21', 8013350, 'TTT', 'T']);
  let hits = 0;
  const agree = new Mismatches(t, 'the copies answer every query as the table does');
  for (const [c, p, r, a] of queries) {
    const want = table.find(c, p, r, a);
    agree.same(copy.find(c, p, r, a), want, `copy: ${c}:${p} ${r}>${a}`);
    agree.same(unaligned.find(c, p, r, a), want, `unaligned: ${c}:${p} ${r}>${a}`);
    if (want.length > 0) hits++;
  }
  agree.done();
  t.ok(direct > 60000 && hits >= direct, `${hits} of ${queries.length} queries hit, ${direct} direct`);
  t.comment(`VEP + ClinVar table: ${table.count} loci, ${bytes.length} bytes serialized; ${queries.length} queries compared, ${hits} hits`);

  t.throws(() => SnpTable.deserialize(bytes.subarray(0, bytes.length - 1)), /not a serialized SnpTable/);
  t.throws(() => SnpTable.deserialize(Buffer.from('hello world, not a table')), /magic/);
});

t.test('lookup speed: Platinum Genomes hg19 chr21 against the UCSC BED table (informational)', async (t) => {
  const table = bedTable ?? (await tableOf((b) => loadBed(UCSC_BED, b)));
  const q: [string, number, string, string][] = [];
  const vcf = gunzipSync(readFileSync(sharedDataPath('vcf/grch37/PlatinumGenomes_NA12878_hg19_chr21.vcf.gz'))).toString('latin1');
  for (const line of vcf.split('\n')) {
    if (line.length === 0 || line.startsWith('#')) continue;
    const f = line.split('\t');
    for (const alt of f[4]!.split(',')) q.push([f[0]!, Number(f[1]), f[3]!, alt]);
  }
  const rounds = 10;
  let hits = 0;
  const start = performance.now();
  for (let r = 0; r < rounds; r++) for (const [c, p, ref, alt] of q) hits += table.find(c, p, ref, alt).length > 0 ? 1 : 0;
  const ms = performance.now() - start;
  hits /= rounds;
  t.comment(`${((q.length * rounds) / ms / 1000).toFixed(1)} M lookups/s; ${hits} of ${q.length} PG alleles have an rsID`);
  // PROVENANCE: 79.7% of the PG hg19 chr21 SNVs are in this BED; indels add a few hundred.
  t.ok(hits > 0.65 * q.length && hits < 0.8 * q.length, `${hits} of ${q.length}`);
});

// ---------------------------------------------------------------- errors and format detection

t.test('malformed lines throw with the file, line number and field', async (t) => {
  const vcf =
    '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n1\t100\trs1\tA\tG\t.\t.\t.\n1\tx100\trs2\tA\tG\t.\t.\t.\n';
  const vepLine = (start: string, alleles: string): string =>
    ['21', 'rs9', '.', '.', start, '.', alleles, '.', ...Array<string>(22).fill('.')].join('\t') + '\n';
  const dir = t.testdir({
    'bad.vcf': vcf,
    'bad-rs.vcf': '1\t100\t.\tA\tG\t.\t.\tRS=12a\n',
    'bad-allele.vcf': '1\t100\trs5\tA\tG?\t.\t.\t.\n',
    'bad.bed': 'chr1\t10\t11\trs1\t0\t+\nchr1\t20\t19\trs2\t0\t+\n',
    'short.bed': 'track name=x\nchr1\t10\t11\n',
    'bad.tsv': vepLine('100', 'A/G') + vepLine('-5', 'A/G'),
    'bad2.tsv': vepLine('100', 'A/G') + vepLine('101', 'A/G') + vepLine('102', 'A/G%'),
  });
  const err = await t.rejects(loadVcf(join(dir, 'bad.vcf'), new SnpTableBuilder()), DbSnpFormatError);
  if (err instanceof DbSnpFormatError) {
    t.equal(err.line, 4);
    t.equal(err.field, 'POS');
    t.match(err.message, /bad\.vcf: line 4: POS: "x100"/);
  }
  await t.rejects(loadVcf(join(dir, 'bad-rs.vcf'), new SnpTableBuilder()), /line 1: INFO\/RS: "12a"/);
  await t.rejects(loadVcf(join(dir, 'bad-allele.vcf'), new SnpTableBuilder()), /line 1: REF\/ALT: ALT "G\?"/);
  await t.rejects(loadBed(join(dir, 'bad.bed'), new SnpTableBuilder()), /line 2: chromEnd: 19 is before chromStart 20/);
  await t.rejects(loadBed(join(dir, 'short.bed'), new SnpTableBuilder()), /line 2: columns/);
  await t.rejects(loadVepTsv(join(dir, 'bad.tsv'), new SnpTableBuilder(), { columns: vepColumnsFor(VEP) }), /line 2: start: "-5"/);
  // "A/G%" is not nucleotides, so it is kept as a position-only entry rather than failing.
  const b = new SnpTableBuilder();
  t.strictSame(await loadVepTsv(join(dir, 'bad2.tsv'), b), { records: 3, skipped: 0, rejected: 0, rejectedExamples: [] });
  t.strictSame(b.build().find('21', 102, 'A', 'C'), [9]);
});

t.test('VEP TSV: strand -1 alleles are complemented; failed lines only with includeFailed', async (t) => {
  const row = (name: string, failed: string, start: string, end: string, alleles: string, strand: string): string =>
    ['21', name, failed, '.', start, end, alleles, strand].join('\t') + '\n';
  const text =
    row('rs1', '.', '100', '.', 'A/G', '-1') +
    row('rs2', '.', '201', '202', 'AC/-', '-1') +
    row('rs3', '1', '300', '.', 'C/T', '.') +
    row('COSM4', '.', '400', '.', 'COSMIC_MUTATION', '.');
  const path = join(t.testdir({ 'strand.tsv': text }), 'strand.tsv');
  const b = new SnpTableBuilder();
  t.strictSame(await loadVepTsv(path, b), { records: 2, skipped: 2, rejected: 0, rejectedExamples: [] });
  const snps = b.build();
  t.strictSame(snps.find('21', 100, 'T', 'C'), [1]);
  t.strictSame(snps.find('21', 100, 'A', 'G'), []);
  t.strictSame(snps.find('21', 200, 'AGT', 'A'), [2]);
  t.strictSame(snps.find('21', 300, 'C', 'T'), []);
  const all = new SnpTableBuilder();
  t.strictSame(await loadVepTsv(path, all, { includeFailed: true }), { records: 3, skipped: 1, rejected: 0, rejectedExamples: [] });
  t.strictSame(all.build().find('21', 300, 'C', 'T'), [3]);
});

t.test('loadDbSnp picks the loader from the file name', async (t) => {
  t.equal(dbSnpFormatOf(VEP), 'vep-tsv');
  t.equal(dbSnpFormatOf(CLINVAR), 'vcf');
  t.equal(dbSnpFormatOf(UCSC_BED), 'bed');
  t.equal(dbSnpFormatOf('/cache/homo_sapiens/84_GRCh38/21/all_vars.gz'), 'vep-tsv');
  t.equal(dbSnpFormatOf('x.bgz'), undefined);
  const b = new SnpTableBuilder();
  t.strictSame(await loadDbSnp(DBSNP147, b), { records: 142, skipped: 0, rejected: 0, rejectedExamples: [] });
  await t.rejects(loadDbSnp('/nowhere/snps.txt', b), /cannot tell the dbSNP format/);
  const path = join(t.testdir({ 'snps.txt': 'chr1\t9\t10\trs77\n' }), 'snps.txt');
  t.strictSame(await loadDbSnp(path, b, 'bed'), { records: 1, skipped: 0, rejected: 0, rejectedExamples: [] });
  t.strictSame(b.build().find('1', 10, 'A', 'G'), [77]);
});

// ---------------------------------------------------------------- entries the table cannot hold

t.test('rs numbers above 2^32-1 and positions above 2^31-1 are rejected with their lines, the rest loads', async (t) => {
  const header = '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n';
  // A synthetic dbSNP whose numbers start at 2^32: every entry is over the table's 32-bit rs column.
  const synthetic = Array.from({ length: 7 }, (_, i) => `21\t${100 + i}\trs${4294967296 + i}\tA\tG\t.\t.\t.\n`).join('');
  const mixed =
    '21\t100\trs1;rs4294967296\tA\tG\t.\t.\t.\n' + // one held, one not
    '21\t101\trs2\tA\tG\t.\t.\tRS=99999999999\n' + // the ID's rs2 held, INFO's number not
    '21\t2147483648\trs3\tA\tG\t.\t.\t.\n' + // the position is over 2^31-1
    '21\t103\trs4294967295\tA\tG\t.\t.\t.\n'; // the largest rs number that fits
  const dir = t.testdir({
    'synthetic.vcf': header + synthetic,
    'mixed.vcf': header + mixed,
    'big.bed': 'chr21\t10\t11\trs4294967296\nchr21\t20\t21\trs5\n',
    'big.tsv': ['21', 'rs12345678901', '.', '.', '100', '.', 'A/G', '1'].join('\t') + '\n',
  });
  const b = new SnpTableBuilder();
  const r = await loadVcf(join(dir, 'synthetic.vcf'), b);
  t.equal(r.records, 0);
  t.equal(r.skipped, 0, 'rejected lines are not counted as skipped');
  t.equal(r.rejected, 7);
  t.equal(r.rejectedExamples.length, 5, 'the first five are kept');
  t.strictSame(r.rejectedExamples[0], {
    line: 3,
    field: 'ID',
    reason: 'rs number 4294967296 is above 4294967295, the largest the table holds',
  });
  t.equal(r.rejectedExamples[4]!.line, 7);
  t.equal(describeRejections(r).split(';').length, 6);
  t.match(describeRejections(r), /^7 entries the table cannot hold \(line 3 ID: rs number 4294967296 is above .*; 2 more\)$/);

  const m = new SnpTableBuilder();
  const mr = await loadVcf(join(dir, 'mixed.vcf'), m);
  t.strictSame(
    { records: mr.records, skipped: mr.skipped, rejected: mr.rejected, fields: mr.rejectedExamples.map((e) => `${e.line} ${e.field}`) },
    { records: 3, skipped: 0, rejected: 3, fields: ['3 ID', '4 INFO/RS', '5 REF/ALT'] },
  );
  t.match(mr.rejectedExamples[2]!.reason, /position 2147483648 is above 2147483647/);
  const snps = m.build();
  t.strictSame(snps.find('21', 100, 'A', 'G'), [1]);
  t.strictSame(snps.find('21', 101, 'A', 'G'), [2]);
  t.strictSame(snps.find('21', 103, 'A', 'G'), [4294967295]);

  const bed = await loadBed(join(dir, 'big.bed'), new SnpTableBuilder());
  t.strictSame([bed.records, bed.rejected, bed.rejectedExamples[0]?.field], [1, 1, 'name']);
  const tsv = await loadVepTsv(join(dir, 'big.tsv'), new SnpTableBuilder());
  t.strictSame([tsv.records, tsv.rejected, tsv.rejectedExamples[0]?.field], [0, 1, 'variation_name']);
  t.match(tsv.rejectedExamples[0]!.reason, /rs number 12345678901 is above/);
});
