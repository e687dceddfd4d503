// The summary's per-chromosome coverage and warnings, on the real references and real VCFs: a
// GRCh37 file annotated as GRCh38, a GRCh38 exome against a GRCh38 reference that has gene models
// for chr21 only, and a file that fits its reference.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import t from 'tap';
import { sharedDataPath, testReferenceDir } from '@gas/testing';
import {
  annotateVcf,
  buildReferenceFile,
  chromosomeCoverage,
  parseReferenceFile,
  readReferenceBytes,
  REFERENCE_FORMAT_VERSION,
  UNCOVERED_WARNING_SHARE,
} from '../src/index.ts';
import type { LoadedReference, Reference } from '../src/index.ts';

const dir = await testReferenceDir();
const load = async (build: string) => {
  const path = join(dir, `${build}.gasref`);
  return parseReferenceFile(await readReferenceBytes(path), path);
};
const grch37 = await load('GRCh37');
const grch38 = await load('GRCh38');

async function annotate(file: string, reference?: Reference) {
  const vcfOut = new PassThrough();
  vcfOut.resume();
  return annotateVcf({ input: Readable.from([readFileSync(sharedDataPath(file))]), vcfOut, reference });
}

/** Records per chromosome, counted here from the file itself. */
function recordsPerChrom(file: string): Map<string, number> {
  const text = gunzipSync(readFileSync(sharedDataPath(file))).toString('latin1');
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const chrom = line.slice(0, line.indexOf('\t'));
    out.set(chrom, (out.get(chrom) ?? 0) + 1);
  }
  return out;
}

t.test('the reference manifests list the chromosomes with gene models, dbSNP and sequence', async (t) => {
  t.equal(grch38.manifest.format, REFERENCE_FORMAT_VERSION);
  t.strictSame(grch38.coverage?.genes, ['21'], 'GRCh38: the Ensembl chr21 GFF3 only');
  t.strictSame(grch38.coverage?.dbsnp, ['1', '2', '3', '5', '7', '11', '13', '16', '17', '21', '22'], 'VEP chr21 + the ClinVar subset');
  t.strictSame(
    grch38.coverage?.sequence,
    { '20': [[60001, 10_000_000]], '21': [[5_010_001, 10_000_000]] },
    'N runs of a Mb or less inside a span',
  );
  t.strictSame(grch37.coverage?.dbsnp, ['1', '21']);
  t.ok(grch37.coverage?.genes.includes('X') && grch37.coverage.genes.includes('22'), 'refFlat: the whole genome');
  t.strictSame(grch37.coverage?.sequence, { '20': [[9_995_001, 11_095_000]] }, 'the hg19 chr20 FASTA is N outside 1.1 Mb');
  t.strictSame(grch38.manifest.coverage, grch38.coverage, 'as the manifest records it');
});

t.test('a GRCh37 file annotated as GRCh38 warns, though chr21 has genes and dbSNP in both builds', async (t) => {
  const s = await annotate('vcf/grch37/PlatinumGenomes_NA12878_hg19_chr21.vcf.gz', grch38);
  t.strictSame(s.headerBuild, { build: 'GRCh37', basis: 'contig lengths' });
  t.strictSame(
    s.warnings?.map((w) => w.code),
    ['build_mismatch', 'outside_chromosome'],
  );
  t.match(s.warnings?.[0]?.message, /^This file looks like GRCh37 \(contig lengths\), but it was annotated as GRCh38/);
  // hg19's chr21 is 48,129,895 bp, GRCh38's 46,709,983: the file's last 2,881 records (counted with
  // a script from the file) lie past GRCh38's end. Two of them are a <DEL> alone, which keeps its own
  // reason; the other 2,879 have 2,945 ALTs.
  t.equal(
    s.warnings?.[1]?.message,
    '2,879 records lie outside their chromosome and were not annotated (GAS_SKIP=outside_chromosome): the first is on line ' +
      '62,584, chr21:46710277, but chr21 is 46,709,983 bp in GRCh38. A file called against another genome build, or a damaged ' +
      'file, is the usual cause.',
  );
  t.equal(s.skipped['outside_chromosome'], 2_945);
  t.strictSame(s.coverage, [{ chrom: 'chr21', records: 65_402, genes: true, dbsnp: true, sequence: [[5_010_001, 10_000_000]] }]);
});

t.test('the same file as GRCh37: no warning', async (t) => {
  const s = await annotate('vcf/grch37/PlatinumGenomes_NA12878_hg19_chr21.vcf.gz', grch37);
  t.strictSame(s.warnings, []);
  t.strictSame(s.coverage, [{ chrom: 'chr21', records: 65_402, genes: true, dbsnp: true, sequence: [] }]);
});

t.test('a GRCh38 exome against the GRCh38 reference: the share on chromosomes without genes or dbSNP, counted right', async (t) => {
  const file = 'vcf/grch38/1000G_exome_10samples_GRCh38.vcf.gz';
  const perChrom = recordsPerChrom(file);
  const total = [...perChrom.values()].reduce((a, b) => a + b, 0);
  const withGenes = perChrom.get('chr21') ?? 0;
  const dbsnp = new Set(grch38.coverage!.dbsnp);
  const withDbsnp = [...perChrom].filter(([c]) => dbsnp.has(c.slice(3))).reduce((a, [, n]) => a + n, 0);
  const s = await annotate(file, grch38);
  t.equal(s.records, total);
  t.equal(s.headerBuild?.build, 'GRCh38');
  t.strictSame(
    s.warnings?.map((w) => w.code),
    ['uncovered_chromosomes', 'no_dbsnp_chromosomes'],
  );
  const noGenes = total - withGenes;
  t.equal(
    s.warnings?.[0]?.message,
    `${Math.round((100 * noGenes) / total)}% of variants (${noGenes.toLocaleString('en')} of ${total.toLocaleString('en')}) are on ` +
      `chromosomes this reference has no GRCh38 gene models for (chr1, chr2, chr3, chr4, chr5 and ${perChrom.size - 1 - 5} more): ` +
      'they come out intergenic, with no genes.',
  );
  t.match(s.warnings?.[1]?.message, `(${(total - withDbsnp).toLocaleString('en')} of ${total.toLocaleString('en')})`);
  t.match(s.warnings?.[1]?.message, /no GRCh38 dbSNP data for \(chr4, chr6, .*: they get no rsID\.$/);
  t.equal(s.coverage?.length, perChrom.size, 'one row per input chromosome');
  t.strictSame(
    s.coverage?.map((r) => r.chrom),
    [...perChrom.keys()],
    'in input order',
  );
  t.strictSame(
    s.coverage?.find((r) => r.chrom === 'chr21'),
    { chrom: 'chr21', records: withGenes, genes: true, dbsnp: true, sequence: [[5_010_001, 10_000_000]] },
  );
});

t.test('a count-only run records the header build and nothing else', async (t) => {
  const s = await annotate('vcf/grch37/PlatinumGenomes_NA12878_hg19_chr21.vcf.gz');
  t.strictSame(s.headerBuild, { build: 'GRCh37', basis: 'contig lengths' });
  t.equal(s.coverage, null);
  t.strictSame(s.warnings, []);
});

t.test('below the warning share, no warning; at it, one; names after the fifth are counted', async (t) => {
  const coverage = { genes: ['1'], dbsnp: ['1'], sequence: {} };
  const rows = chromosomeCoverage({ chr1: 90, chrM: 5, chr2: 5 }, coverage);
  t.strictSame(rows[1], { chrom: 'chrM', records: 5, genes: false, dbsnp: false, sequence: [] });
  const vcf = (lines: string[]) => `##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n${lines.join('\n')}\n`;
  const run = async (lines: string[]) => {
    const out = new PassThrough();
    out.resume();
    const reference: Reference = { ...grch37, coverage };
    return annotateVcf({ input: Readable.from([Buffer.from(vcf(lines))]), vcfOut: out, reference });
  };
  const on = (chrom: string, n: number) => Array.from({ length: n }, (_, i) => `${chrom}\t${1000 + i}\t.\tA\tG\t.\t.\t.`);
  const under = UNCOVERED_WARNING_SHARE * 100 - 1;
  t.strictSame((await run([...on('1', 100 - under), ...on('2', under)])).warnings, [], `${under}% elsewhere`);
  const at = await run([...on('1', 90), ...on('2', 10)]);
  t.match(
    at.warnings?.[0]?.message,
    /^10% of variants \(10 of 100\) are on chromosomes this reference has no GRCh37 gene models for \(2\)/,
  );
  const many = await run([...on('1', 1), ...['2', '3', '4', '5', '6', '7', '8'].flatMap((c) => on(c, 1))]);
  t.match(many.warnings?.[0]?.message, /^88% of variants \(7 of 8\) .* \(2, 3, 4, 5, 6 and 2 more\)/);
  const almost = await run([...on('1', 1), ...on('2', 999)]);
  t.match(almost.warnings?.[0]?.message, /^99% of variants \(999 of 1,000\)/, 'never "100%" while one variant is covered');
});

t.test('a reference file of format 1 (no coverage in its manifest) still loads, its coverage taken from its data', async (t) => {
  const out = join(t.testdir(), 'GRCh38.gasref');
  await buildReferenceFile({
    build: 'GRCh38',
    genes: [sharedDataPath('gene_models/grch38/Homo_sapiens.GRCh38.chr21_subset.ensembl.gtf.gz')],
    dbsnp: [sharedDataPath('dbsnp/grch38/ensembl_vep84_variation_chr21.tsv.gz')],
    fasta: sharedDataPath('reference/grch38/grch38.chr20_and_21_10M.fa.gz'),
    out,
    engine: 'test',
  });
  const bytes = readFileSync(out);
  // The manifest is JSON padded with spaces to its length field: an older one fits in its place.
  const at = 8 + 12;
  const length = bytes.readUInt32LE(8);
  const manifest = JSON.parse(bytes.subarray(at, at + length).toString()) as LoadedReference['manifest'];
  t.ok(manifest.coverage, 'format 2 writes coverage');
  const old = JSON.stringify({ ...manifest, format: 1, coverage: undefined });
  bytes.write(old.padEnd(length, ' '), at, 'utf8');
  const loaded = parseReferenceFile(bytes, out);
  t.equal(loaded.manifest.format, 1);
  t.equal(loaded.manifest.coverage, undefined);
  t.strictSame(loaded.coverage, {
    genes: ['21'],
    dbsnp: ['21'],
    // Without the spans measured at build time: the whole length of each sequence.
    sequence: { '20': [[1, 10_000_000]], '21': [[1, 10_000_000]] },
  });
  bytes.write(JSON.stringify({ ...manifest, format: REFERENCE_FORMAT_VERSION + 1 }).padEnd(length, ' '), at, 'utf8');
  t.throws(() => parseReferenceFile(bytes, out), /has reference format 3; this engine reads 2: rebuild it/);
});
