// The gas-annotate command line as a user meets it: help, mistakes in the arguments, a missing
// file, and one annotation run with its four outputs.
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { sharedDataPath } from '@gas/testing';

const cli = resolve(import.meta.dirname, '../src/cli.ts');
const exec = promisify(execFile);

async function gasAnnotate(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, ['--import', 'tsx', cli, ...args]);
    return { code: 0, ...r };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

t.test('--help prints the usage and succeeds; an unknown option names itself and exits 2', async (t) => {
  const help = await gasAnnotate('--help');
  t.equal(help.code, 0);
  t.match(help.stdout, /^usage: gas-annotate build-db/);
  t.match(help.stdout, /gas-annotate annotate <input\.vcf\[\.gz\]>/);
  const bad = await gasAnnotate('annotate', 'x.vcf', '--thread', '2');
  t.equal(bad.code, 2);
  t.match(bad.stderr, /^gas-annotate: Unknown option '--thread'/);
  t.match(bad.stderr, /usage: gas-annotate/);
  t.notMatch(bad.stderr, /at parseArgs|node:internal/, 'no stack trace');
});

t.test('a missing input file is named; --threads must be a whole number', async (t) => {
  const missing = await gasAnnotate('annotate', '/nonexistent/in.vcf');
  t.equal(missing.code, 1);
  t.equal(missing.stderr, 'gas-annotate: /nonexistent/in.vcf: no such file\n');
  const vcf = sharedDataPath('vcf/gas_anntools/free_1.vcf');
  const threads = await gasAnnotate(
    'annotate',
    vcf,
    '--threads',
    'two',
    '--genes',
    sharedDataPath('gene_models/grch37/refFlat_hg19.txt.gz'),
  );
  t.equal(threads.code, 2);
  t.match(threads.stderr, /--threads must be a whole number ≥ 1, got "two"/);
});

t.test('a malformed record stops the run with its line and field, exit 1 and no stack trace', async (t) => {
  const dir = t.testdir({ out: {} });
  // Enough good records before the bad one that output is being written when it is met.
  const good = Array.from({ length: 50_000 }, (_, i) => `chr20\t${1000 + i * 10}\t.\tA\tG\t50\tPASS\t.`);
  const vcf = join(dir, 'bad.vcf');
  writeFileSync(
    vcf,
    ['##fileformat=VCFv4.2', '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO', ...good, 'chr20\tabc\t.\tA\tG\t50\tPASS\t.', ''].join('\n'),
  );
  const r = await gasAnnotate(
    'annotate',
    vcf,
    '--genes',
    sharedDataPath('gene_models/grch37/refFlat_hg19.txt.gz'),
    '--build',
    'GRCh37',
    '--out-dir',
    join(dir, 'out'),
  );
  t.equal(r.code, 1);
  t.equal(r.stderr, `gas-annotate: ${vcf}: line 50003: POS: expected a non-negative integer, got "abc"\n`);
});

t.test('annotate with gene models writes the VCF, the TSV, the summary and the count log', async (t) => {
  const out = t.testdir();
  const vcf = sharedDataPath('vcf/grch37/NIST_NA12878_v2.19_complex_1ormoreindels.vcf.gz');
  const r = await gasAnnotate(
    'annotate',
    vcf,
    '--genes',
    sharedDataPath('gene_models/grch37/refFlat_hg19.txt.gz'),
    '--build',
    'GRCh37',
    '--out-dir',
    out,
  );
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^184632 records, \d+ alleles, [\d.]+ s\n$/);
  const base = 'NIST_NA12878_v2.19_complex_1ormoreindels';
  const summary = JSON.parse(readFileSync(join(out, `${base}.summary.json`), 'utf8')) as {
    records: number;
    build: string;
    alleles: number;
  };
  t.equal(summary.records, 184_632);
  t.equal(summary.build, 'GRCh37');
  t.match(readFileSync(join(out, `${base}.count.log`), 'utf8'), /184632/);
  const tsvRows =
    readFileSync(join(out, `${base}.annot.tsv`), 'utf8')
      .trimEnd()
      .split('\n').length - 1;
  t.equal(tsvRows, summary.alleles);
  t.match(readFileSync(join(out, `${base}.annot.vcf`), 'utf8').slice(0, 200_000), /GAS_REGION=exonic/);
});

t.test('annotate --compress writes BGZF with its tabix index and a gzip TSV, the same text as the plain files', async (t) => {
  const plainDir = t.testdir({ plain: {}, gz: {} });
  // A BOM at the start, as some editors write it, is accepted here too.
  const input = join(plainDir, 'sample.vcf');
  writeFileSync(input, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readFileSync(sharedDataPath('vcf/gas_anntools/free_1.vcf'))]));
  const genes = ['--genes', sharedDataPath('gene_models/grch37/refFlat_hg19.txt.gz'), '--build', 'GRCh37'];
  const plain = await gasAnnotate('annotate', input, ...genes, '--out-dir', join(plainDir, 'plain'));
  const gz = await gasAnnotate('annotate', input, ...genes, '--out-dir', join(plainDir, 'gz'), '--compress');
  t.equal(plain.code, 0, plain.stderr);
  t.equal(gz.code, 0, gz.stderr);
  t.strictSame(readdirSync(join(plainDir, 'gz')).sort(), [
    'sample.annot.tsv.gz',
    'sample.annot.vcf.gz',
    'sample.annot.vcf.gz.tbi',
    'sample.count.log',
    'sample.summary.json',
  ]);
  t.ok(
    gunzipSync(readFileSync(join(plainDir, 'gz', 'sample.annot.vcf.gz'))).equals(readFileSync(join(plainDir, 'plain', 'sample.annot.vcf'))),
  );
  t.ok(
    gunzipSync(readFileSync(join(plainDir, 'gz', 'sample.annot.tsv.gz'))).equals(readFileSync(join(plainDir, 'plain', 'sample.annot.tsv'))),
  );
  t.equal(
    readFileSync(join(plainDir, 'gz', 'sample.annot.vcf.gz'))
      .subarray(12, 14)
      .toString(),
    'BC',
    'BGZF blocks',
  );
});

t.test('build-db names the entries a source cannot hold, and fails a source that yields nothing', async (t) => {
  const header = '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n';
  const dir = t.testdir({
    // A synthetic dbSNP numbered from 2^32: it used to build as "0 dbSNP entries" without a word.
    'synthetic.vcf': header + Array.from({ length: 7 }, (_, i) => `21\t${100 + i}\trs${4294967296 + i}\tA\tG\t.\t.\t.\n`).join(''),
    'mixed.vcf': header + '21\t100\trs1\tA\tG\t.\t.\t.\n21\t101\trs4294967296\tA\tG\t.\t.\t.\n',
    'empty.gtf': '#!genome-build GRCh38\n',
  });
  const genes = sharedDataPath('gene_models/grch38/Homo_sapiens.GRCh38.chr21_subset.ensembl.gtf.gz');
  const out = join(dir, 'x.gasref');

  const none = await gasAnnotate('build-db', '--build', 'GRCh38', '--genes', genes, '--dbsnp', join(dir, 'synthetic.vcf'), '--out', out);
  t.equal(none.code, 1);
  t.match(
    none.stderr,
    `gas-annotate: build-db: ${join(dir, 'synthetic.vcf')}: no dbSNP entries from this source (0 data lines without a usable rsID or allele; ` +
      '7 entries the table cannot hold (line 3 ID: rs number 4294967296 is above 4294967295, the largest the table holds; line 4 ID:',
  );
  t.match(none.stderr, /; 2 more\)\)\n$/);
  t.notMatch(none.stderr, /\n\s+at /, 'no stack trace');
  t.notOk(existsSync(out), 'no reference file is written');

  const mixed = await gasAnnotate('build-db', '--build', 'GRCh38', '--genes', genes, '--dbsnp', join(dir, 'mixed.vcf'), '--out', out);
  t.equal(mixed.code, 0, mixed.stderr);
  t.match(
    mixed.stderr,
    `gas-annotate: warning: ${join(dir, 'mixed.vcf')}: left out 1 entry the table cannot hold (line 4 ID: rs number 4294967296 is above`,
  );
  t.match(mixed.stdout, /, 1 dbSNP entries, built in/);

  const empty = await gasAnnotate('build-db', '--build', 'GRCh38', '--genes', join(dir, 'empty.gtf'), '--out', out);
  t.equal(empty.code, 1);
  t.match(empty.stderr, `gas-annotate: build-db: ${join(dir, 'empty.gtf')}: no gene models from this source (no transcript in it)\n`);
});

t.test('annotate writes the CSQ field by default; --no-csq leaves it and its header out and nothing else', async (t) => {
  const dir = t.testdir({ on: {}, off: {} });
  const vcf = sharedDataPath('vcf/gas_anntools/free_1.vcf');
  const genes = ['--genes', sharedDataPath('gene_models/grch37/refFlat_hg19.txt.gz'), '--build', 'GRCh37', '--no-tsv'];
  const on = await gasAnnotate('annotate', vcf, ...genes, '--out-dir', join(dir, 'on'));
  const off = await gasAnnotate('annotate', vcf, ...genes, '--out-dir', join(dir, 'off'), '--no-csq');
  t.equal(on.code, 0, on.stderr);
  t.equal(off.code, 0, off.stderr);
  const withCsq = readFileSync(join(dir, 'on', 'free_1.annot.vcf'), 'latin1');
  const without = readFileSync(join(dir, 'off', 'free_1.annot.vcf'), 'latin1');
  t.match(
    withCsq,
    /\n##INFO=<ID=CSQ,Number=\.,Type=String,Description="Consequence annotations from Ensembl VEP\. Format: Allele\|Consequence\|/,
  );
  t.match(withCsq, /;CSQ=[ACGTN-]+\|\w+/);
  t.notMatch(without, /CSQ/);
  const stripped = withCsq
    .split('\n')
    .filter((l) => !l.startsWith('##INFO=<ID=CSQ'))
    .map((l) => l.replace(/;CSQ=[^\t]*/, ''))
    .join('\n');
  t.equal(stripped, without, 'the same output once the CSQ field and its declaration are taken out');
});
