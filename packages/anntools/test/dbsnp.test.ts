import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { seededRandom, sharedDataPath } from '@gas/testing';
import {
  DbSnpFormatError,
  SnpTable,
  SnpTableBuilder,
  dbSnpFormatOf,
  loadBed,
  loadDbSnp,
  loadVcf,
  loadVepTsv,
  vepColumnsFor,
} from '../src/dbsnp/index.ts';

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

function withTempFile(name: string, text: string, f: (path: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gas-dbsnp-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return f(path).finally(() => rmSync(dir, { recursive: true, force: true }));
}

// ---------------------------------------------------------------- matching rules, on small tables

test('alleles: match after trimming shared bases; wrong ALT, wrong REF and symbolic ALTs do not', () => {
  const b = new SnpTableBuilder();
  b.add('1', 100, 11, 'C', ['A', 'G']);
  b.add('1', 200, 22, 'CTT', ['C']); // deletion of TT at 201..202
  b.add('1', 300, 33, 'A', ['AGG']); // insertion of GG between 300 and 301
  const t = b.build();
  assert.deepEqual(t.find('1', 100, 'C', 'A'), [11]);
  assert.deepEqual(t.find('1', 100, 'c', 'g'), [11], 'case-insensitive');
  assert.deepEqual(t.find('1', 100, 'C', 'T'), []);
  assert.deepEqual(t.find('1', 100, 'G', 'A'), []);
  assert.deepEqual(t.find('1', 100, 'C', '<DEL>'), []);
  assert.deepEqual(t.find('1', 100, 'C', '*'), []);
  // The same deletion written with more context (REF CTTA ALT CA) is the same minimal allele.
  assert.deepEqual(t.find('1', 200, 'CTTA', 'CA'), [22]);
  assert.deepEqual(t.find('1', 199, 'GCTT', 'GC'), [22]);
  assert.deepEqual(t.find('1', 200, 'CT', 'C'), [], 'a 1-base deletion is not the 2-base one');
  assert.deepEqual(t.find('1', 300, 'A', 'AGG'), [33]);
  assert.deepEqual(t.find('1', 300, 'A', 'AG'), []);
  assert.deepEqual(t.find('1', 301, 'C', 'T'), [], 'an SNV at the next base is not the insertion');
});

test('an indel written with repeat context is tried at every placement its own bases allow', () => {
  const b = new SnpTableBuilder();
  // Ensembl-style entries (no anchor): deletion of one T at 102, insertion of A before 51.
  b.add('1', 102, 7, 'T', ['-']);
  b.add('1', 51, 8, '-', ['A']);
  const t = b.build();
  // REF ATT ALT AT at 100 deletes "one T of TT": leftmost is 101, the source put it at 102.
  assert.deepEqual(t.find('1', 100, 'ATT', 'AT'), [7]);
  // REF A ALT AA at 50 inserts an A next to an A: leftmost is 50, the source put it at 51.
  assert.deepEqual(t.find('1', 50, 'A', 'AA'), [8]);
  assert.deepEqual(t.find('1', 100, 'ATT', 'A'), []);
});

test('span-only entries compare the minimal REF length; position-only entries match any allele', () => {
  const b = new SnpTableBuilder();
  b.addSpan('2', 1000, 1, 1); // SNV-sized
  b.addSpan('2', 2000, 2, 0); // insertion before 2000
  b.addSpan('2', 3000, 3, 3); // 3-base deletion 3000..3002
  b.addSpan('2', 4000, 4); // unknown length
  const t = b.build();
  assert.deepEqual(t.find('2', 1000, 'A', 'G'), [1]);
  assert.deepEqual(t.find('2', 999, 'CA', 'C'), [1], 'a 1-base deletion cannot be told from an SNV without alleles');
  assert.deepEqual(t.find('2', 1999, 'C', 'CT'), [2]);
  assert.deepEqual(t.find('2', 2000, 'C', 'T'), []);
  assert.deepEqual(t.find('2', 2999, 'GACT', 'G'), [3]);
  assert.deepEqual(t.find('2', 2999, 'GAC', 'G'), []);
  assert.deepEqual(t.find('2', 4000, 'A', 'T'), [4]);
  assert.deepEqual(t.find('2', 3999, 'GA', 'G'), [4]);
});

test('duplicates collapse; alleles win over a bare span of the same rs; results are distinct and sorted', () => {
  const b = new SnpTableBuilder();
  b.add('X', 10, 5, 'A', ['G']);
  b.add('chrX', 10, 5, 'A', ['G']);
  b.addSpan('X', 10, 5, 1);
  b.add('X', 10, 3, 'A', ['G', 'T']);
  b.addSpan('X', 10, 9, 1);
  const t = b.build();
  assert.equal(t.count, 3);
  assert.equal(t.entries, 4); // rs5 A>G, rs3 A>G, rs3 A>T, rs9 span
  assert.deepEqual(t.find('X', 10, 'A', 'G'), [3, 5, 9]);
  assert.deepEqual(t.find('X', 10, 'A', 'C'), [9]);
  assert.deepEqual(t.chromosomes(), ['X']);
});

test('a miss returns one shared frozen array; unknown chromosomes are a miss', () => {
  const b = new SnpTableBuilder();
  b.add('1', 100, 1, 'A', ['G']);
  const t = b.build();
  const a = t.find('1', 101, 'A', 'G');
  const c = t.find('chr7', 100, 'A', 'G');
  assert.equal(a, c);
  assert.ok(Object.isFrozen(a));
  assert.equal(a.length, 0);
});

test('lookups in any order find the same rsIDs: sorted runs, jumps back, other chromosomes in between', () => {
  const rand = seededRandom(11);
  const b = new SnpTableBuilder();
  const want = new Map<string, number[]>();
  // Clusters and repeats of one position, so a lookup may land anywhere in a run of equal positions.
  for (let rs = 1; rs <= 5000; rs++) {
    const chrom = rs % 3 === 0 ? '2' : '1';
    const pos = 1 + Math.floor(rand() * 20_000);
    b.add(chrom, pos, rs, 'A', ['G']);
    const key = `${chrom}:${pos}`;
    want.set(key, [...(want.get(key) ?? []), rs].sort((x, y) => x - y));
  }
  const t = b.build();
  const check = (chrom: string, pos: number): void => assert.deepEqual([...t.find(chrom, pos, 'A', 'G')], want.get(`${chrom}:${pos}`) ?? [], `${chrom}:${pos}`);
  for (let pos = 1; pos <= 20_001; pos++) check('1', pos);
  for (let pos = 20_001; pos >= 1; pos -= 7) check('1', pos);
  for (let i = 0; i < 20_000; i++) check(rand() < 0.5 ? '1' : '2', 1 + Math.floor(rand() * 20_001));
});

test('the builder refuses bad input and a second build', () => {
  const b = new SnpTableBuilder();
  assert.throws(() => b.add('1', 0, 1, 'A', ['G']), RangeError);
  assert.throws(() => b.add('1', 1, 0, 'A', ['G']), RangeError);
  assert.throws(() => b.add('1', 1, 2 ** 32, 'A', ['G']), RangeError);
  assert.throws(() => b.add('1', 1, 1, 'A?', ['G']), RangeError);
  assert.equal(b.add('1', 1, 1, 'A', ['<DEL>', '*']), 0);
  b.build();
  assert.throws(() => b.build(), /already/);
});

// ---------------------------------------------------------------- Ensembl VEP variation TSV

test('VEP TSV: counts, column names from info.txt', async () => {
  const cols = vepColumnsFor(VEP);
  assert.equal(cols?.length, 30);
  assert.deepEqual(cols?.slice(0, 8), ['chr', 'variation_name', 'failed', 'somatic', 'start', 'end', 'allele_string', 'strand']);
  const b = new SnpTableBuilder();
  let lines = 0;
  const r = await loadVepTsv(VEP, b, { onLine: () => lines++ });
  // zcat … | awk -F'\t' '$2 ~ /^rs/ && $3 != "1"' | wc -l → 72325; the other 719 lines are 531 COSMIC/HGMD/ESP
  // names and 188 failed rsIDs.
  assert.equal(r.records, 72325);
  assert.equal(r.records + r.skipped, dataLines(VEP));
  assert.equal(lines, 73044);
  const t = b.build();
  assert.equal(t.count, 72325); // no rsID repeats at a position once failed lines are out
  assert.deepEqual(t.chromosomes(), ['21']);
  const withFailed = await tableOf((bb) => loadVepTsv(VEP, bb, { includeFailed: true }));
  assert.ok(withFailed.count > t.count);
});

test('VEP TSV: an SNV is found with its ALT under both chromosome spellings, not with another ALT', async () => {
  const t = await vep();
  // 21  rs879182429  .  .  8013350  .  T/G
  assert.deepEqual(t.find('21', 8013350, 'T', 'G'), [879182429]);
  assert.deepEqual(t.find('chr21', 8013350, 'T', 'G'), [879182429]);
  assert.deepEqual(t.find('21', 8013350, 'T', 'C'), []);
  assert.deepEqual(t.find('21', 8013351, 'T', 'G'), []);
});

test('VEP TSV: a deletion and an insertion are matched from their Platinum Genomes VCF records', async () => {
  const t = await vep();
  // VEP: rs371406476 start 8817251 end 8817252 TT/-, and rs796445391 8817251-8817253 TTG/-.
  // PG hg38 VCF: chr21 8817250 . CTT C
  assert.deepEqual(t.find('chr21', 8817250, 'CTT', 'C'), [371406476]);
  assert.deepEqual(t.find('chr21', 8817250, 'CTTG', 'C'), [796445391]);
  assert.ok(!t.find('chr21', 8817250, 'CT', 'C').includes(371406476));
  // VEP: rs370609128 start 8584574 end 8584573 -/AT (insertion between 8584573 and 8584574).
  // PG hg38 VCF: chr21 8584573 . A AAT
  assert.deepEqual(t.find('chr21', 8584573, 'A', 'AAT'), [370609128]);
  assert.deepEqual(t.find('chr21', 8584573, 'A', 'AAG'), []);
  assert.deepEqual(t.find('chr21', 8584574, 'A', 'AAT'), []);
  // Multi-allelic, non-minimal: PG chr21 25280879 ATGTGTG ATGTG,A; VEP rs796137393 25280880-25280881 TG/-.
  assert.deepEqual(t.find('chr21', 25280879, 'ATGTGTG', 'ATGTG'), [796137393]);
  // PG chr21 25183009 AGTGT A,AGTGTGTGTGTGT; VEP rs139786507 25183010-25183013 GTGT/-.
  assert.deepEqual(t.find('chr21', 25183009, 'AGTGT', 'A'), [139786507]);
});

// ---------------------------------------------------------------- VCF: ClinVar and dbSNP

test('ClinVar VCF: rsIDs come from INFO RS=, counts match the file', async () => {
  const b = new SnpTableBuilder();
  const r = await loadVcf(CLINVAR, b);
  // zcat … | grep -v '^#' | grep -c 'RS=' → 60522, of which 9 have ALT "." (no allele to match).
  assert.equal(r.records, 60513);
  assert.equal(r.records + r.skipped, dataLines(CLINVAR));
  const t = b.build();
  assert.deepEqual(t.chromosomes(), ['1', '2', '3', '5', '7', '11', '13', '16', '17', '22']);
  // 1  45327487  3106788  G  C  …;RS=765028059 — the ClinVar id in the ID column is not an rsID.
  assert.deepEqual(t.find('1', 45327487, 'G', 'C'), [765028059]);
  assert.deepEqual(t.find('chr1', 45327487, 'G', 'C'), [765028059]);
  assert.deepEqual(t.find('1', 45327487, 'G', 'A'), []);
  assert.deepEqual(t.find('1', 45327487, 'G', 'T'), []);
  // 1  45327489  982398  G  GTGCC  …;RS=1644248738
  assert.deepEqual(t.find('1', 45327489, 'G', 'GTGCC'), [1644248738]);
  assert.deepEqual(t.find('1', 45327489, 'G', 'GTGC'), []);
});

test('dbSNP VCF: ID-column rsIDs, multi-allelic records per ALT, indels', async () => {
  const b = new SnpTableBuilder();
  const r = await loadVcf(DBSNP147, b);
  assert.deepEqual(r, { records: 142, skipped: 0 });
  assert.equal(dataLines(DBSNP147), 142);
  const t = b.build();
  assert.equal(t.count, 142);
  // 1  10493  rs199606420  C  A,G
  assert.deepEqual(t.find('1', 10493, 'C', 'A'), [199606420]);
  assert.deepEqual(t.find('chr1', 10493, 'C', 'G'), [199606420]);
  assert.deepEqual(t.find('1', 10493, 'C', 'T'), []);
  // 1  10019  rs775809821  TA  T;  1  10055  rs768019142  T  TA
  assert.deepEqual(t.find('1', 10019, 'TA', 'T'), [775809821]);
  assert.deepEqual(t.find('1', 10055, 'T', 'TA'), [768019142]);
  assert.deepEqual(t.find('1', 10055, 'T', 'TAA'), []);
});

// ---------------------------------------------------------------- UCSC BED

let bedTable: SnpTable | undefined;

test('UCSC BED: 0-based starts become 1-based positions; insertions and deletions by span', async (t) => {
  const b = new SnpTableBuilder();
  const t0 = performance.now();
  const r = await loadBed(UCSC_BED, b);
  const t1 = performance.now();
  const table = b.build();
  const t2 = performance.now();
  const bytes = table.serialize();
  bedTable = table;
  assert.deepEqual(r, { records: 800000, skipped: 0 });
  assert.equal(r.records, dataLines(UCSC_BED));
  assert.equal(table.count, 800000); // no (chrom, start, rs) repeats: sort -u on columns 1,2,4 keeps 800000
  assert.deepEqual(table.chromosomes(), ['1', '21']);
  // Inside node:test every promise carries async context, and readLines yields one per line: the same
  // load takes about a quarter of this time in a plain process (the CLI).
  t.diagnostic(
    `UCSC BED 800k rows: load ${(t1 - t0).toFixed(0)} ms (under node:test), build ${(t2 - t1).toFixed(0)} ms, ` +
      `${table.entries} entries, serialized ${bytes.length} bytes (${(bytes.length / table.entries).toFixed(1)} B/entry)`,
  );

  // chr21  9411326  9411327  rs75025155 (the first chr21 row): the SNV is at 1-based 9411327.
  assert.deepEqual(table.find('chr21', 9411327, 'G', 'A'), [75025155]);
  assert.deepEqual(table.find('21', 9411327, 'C', 'T'), [75025155], 'no alleles in the BED: any SNV at the base');
  assert.deepEqual(table.find('chr21', 9411326, 'G', 'A'), []);
  assert.deepEqual(table.find('chr21', 9411326, 'GC', 'G'), [75025155], 'a 1-base deletion of that base has the same span');
  // chr21  9986066  9986066  rs71206350: an insertion between 1-based 9986066 and 9986067.
  assert.deepEqual(table.find('chr21', 9986066, 'A', 'AT'), [71206350]);
  assert.deepEqual(table.find('chr21', 9986066, 'A', 'G'), []);
  assert.deepEqual(table.find('chr21', 9986067, 'A', 'G'), []);
  assert.deepEqual(table.find('chr21', 9986065, 'A', 'AT'), []);
  // chr21  10935166  10935168  rs60147000: 1-based 10935167..10935168, a 2-base deletion anchored on 10935166.
  assert.deepEqual(table.find('chr21', 10935166, 'GAC', 'G'), [60147000]);
  assert.deepEqual(table.find('chr21', 10935166, 'GA', 'G'), []);
  assert.deepEqual(table.find('chr21', 10935167, 'AC', 'GT'), [60147000], 'an MNP over the same two bases');
});

// ---------------------------------------------------------------- serialization

test('serialize/deserialize: identical answers, aligned and unaligned buffers', async (t) => {
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
    assert.equal(other.count, table.count);
    assert.equal(other.entries, table.entries);
    assert.deepEqual(other.chromosomes(), table.chromosomes());
    assert.ok(other.serialize().equals(bytes));
  }
  // Every allele of every VEP line and ClinVar record, plus shifted and wrong-ALT variants of them.
  const queries: [string, number, string, string][] = [];
  let direct = 0;
  for (const line of gunzipSync(readFileSync(VEP)).toString('latin1').split('\n')) {
    const f = line.split('\t');
    if (f.length < 7 || !/^[ACGT]\/[ACGT]/.test(f[6]!)) continue;
    const [ref, alt] = f[6]!.split('/') as [string, string];
    const pos = Number(f[4]);
    if (f[1]!.startsWith('rs') && f[2] === '.') {
      // Loaded lines: the table must know them, the copies must agree.
      assert.ok(table.find('21', pos, ref, alt).includes(Number(f[1]!.slice(2))), line);
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
  queries.push(['chr21', 9986066, 'A', 'AT'], ['21', 8013350, 'TTT', 'T']);
  let hits = 0;
  for (const [c, p, r, a] of queries) {
    const want = table.find(c, p, r, a);
    assert.deepEqual(copy.find(c, p, r, a), want);
    assert.deepEqual(unaligned.find(c, p, r, a), want);
    if (want.length > 0) hits++;
  }
  assert.ok(direct > 60000 && hits >= direct, `${hits} of ${queries.length} queries hit, ${direct} direct`);
  t.diagnostic(`VEP + ClinVar table: ${table.count} loci, ${bytes.length} bytes serialized; ${queries.length} queries compared, ${hits} hits`);

  assert.throws(() => SnpTable.deserialize(bytes.subarray(0, bytes.length - 1)), /not a serialized SnpTable/);
  assert.throws(() => SnpTable.deserialize(Buffer.from('hello world, not a table')), /magic/);
});

test('lookup speed: Platinum Genomes hg19 chr21 against the UCSC BED table (informational)', async (t) => {
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
  t.diagnostic(`${((q.length * rounds) / ms / 1000).toFixed(1)} M lookups/s; ${hits} of ${q.length} PG alleles have an rsID`);
  // PROVENANCE: 79.7% of the PG hg19 chr21 SNVs are in this BED; indels add a few hundred.
  assert.ok(hits > 0.65 * q.length && hits < 0.8 * q.length, `${hits} of ${q.length}`);
});

// ---------------------------------------------------------------- errors and format detection

test('malformed lines throw with the file, line number and field', async () => {
  const vcf = '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n1\t100\trs1\tA\tG\t.\t.\t.\n1\tx100\trs2\tA\tG\t.\t.\t.\n';
  await withTempFile('bad.vcf', vcf, async (path) => {
    await assert.rejects(loadVcf(path, new SnpTableBuilder()), (err: unknown) => {
      assert.ok(err instanceof DbSnpFormatError);
      assert.equal(err.line, 4);
      assert.equal(err.field, 'POS');
      assert.match(err.message, /bad\.vcf: line 4: POS: "x100"/);
      return true;
    });
  });
  await withTempFile('bad-rs.vcf', '1\t100\t.\tA\tG\t.\t.\tRS=12a\n', async (path) => {
    await assert.rejects(loadVcf(path, new SnpTableBuilder()), /line 1: INFO\/RS: "12a"/);
  });
  await withTempFile('bad-allele.vcf', '1\t100\trs5\tA\tG?\t.\t.\t.\n', async (path) => {
    await assert.rejects(loadVcf(path, new SnpTableBuilder()), /line 1: REF\/ALT: ALT "G\?"/);
  });
  await withTempFile('bad.bed', 'chr1\t10\t11\trs1\t0\t+\nchr1\t20\t19\trs2\t0\t+\n', async (path) => {
    await assert.rejects(loadBed(path, new SnpTableBuilder()), /line 2: chromEnd: 19 is before chromStart 20/);
  });
  await withTempFile('short.bed', 'track name=x\nchr1\t10\t11\n', async (path) => {
    await assert.rejects(loadBed(path, new SnpTableBuilder()), /line 2: columns/);
  });
  const vepLine = (start: string, alleles: string): string =>
    ['21', 'rs9', '.', '.', start, '.', alleles, '.', ...Array<string>(22).fill('.')].join('\t') + '\n';
  await withTempFile('bad.tsv', vepLine('100', 'A/G') + vepLine('-5', 'A/G'), async (path) => {
    await assert.rejects(loadVepTsv(path, new SnpTableBuilder(), { columns: vepColumnsFor(VEP) }), /line 2: start: "-5"/);
  });
  await withTempFile('bad2.tsv', vepLine('100', 'A/G') + vepLine('101', 'A/G') + vepLine('102', 'A/G%'), async (path) => {
    // "A/G%" is not nucleotides, so it is kept as a position-only entry rather than failing.
    const b = new SnpTableBuilder();
    assert.deepEqual(await loadVepTsv(path, b), { records: 3, skipped: 0 });
    assert.deepEqual(b.build().find('21', 102, 'A', 'C'), [9]);
  });
});

test('VEP TSV: strand -1 alleles are complemented; failed lines only with includeFailed', async () => {
  const row = (name: string, failed: string, start: string, end: string, alleles: string, strand: string): string =>
    ['21', name, failed, '.', start, end, alleles, strand].join('\t') + '\n';
  const text =
    row('rs1', '.', '100', '.', 'A/G', '-1') +
    row('rs2', '.', '201', '202', 'AC/-', '-1') +
    row('rs3', '1', '300', '.', 'C/T', '.') +
    row('COSM4', '.', '400', '.', 'COSMIC_MUTATION', '.');
  await withTempFile('strand.tsv', text, async (path) => {
    const b = new SnpTableBuilder();
    assert.deepEqual(await loadVepTsv(path, b), { records: 2, skipped: 2 });
    const t = b.build();
    assert.deepEqual(t.find('21', 100, 'T', 'C'), [1]);
    assert.deepEqual(t.find('21', 100, 'A', 'G'), []);
    assert.deepEqual(t.find('21', 200, 'AGT', 'A'), [2]);
    assert.deepEqual(t.find('21', 300, 'C', 'T'), []);
    const all = new SnpTableBuilder();
    assert.deepEqual(await loadVepTsv(path, all, { includeFailed: true }), { records: 3, skipped: 1 });
    assert.deepEqual(all.build().find('21', 300, 'C', 'T'), [3]);
  });
});

test('loadDbSnp picks the loader from the file name', async () => {
  assert.equal(dbSnpFormatOf(VEP), 'vep-tsv');
  assert.equal(dbSnpFormatOf(CLINVAR), 'vcf');
  assert.equal(dbSnpFormatOf(UCSC_BED), 'bed');
  assert.equal(dbSnpFormatOf('/cache/homo_sapiens/84_GRCh38/21/all_vars.gz'), 'vep-tsv');
  assert.equal(dbSnpFormatOf('x.bgz'), undefined);
  const b = new SnpTableBuilder();
  assert.deepEqual(await loadDbSnp(DBSNP147, b), { records: 142, skipped: 0 });
  await assert.rejects(loadDbSnp('/nowhere/snps.txt', b), /cannot tell the dbSNP format/);
  await withTempFile('snps.txt', 'chr1\t9\t10\trs77\n', async (path) => {
    assert.deepEqual(await loadDbSnp(path, b, 'bed'), { records: 1, skipped: 0 });
  });
  assert.deepEqual(b.build().find('1', 10, 'A', 'G'), [77]);
});
