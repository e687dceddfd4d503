// The gas-annotate command line as a user meets it: help, mistakes in the arguments, a missing
// file, and one annotation run with its four outputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

test('--help prints the usage and succeeds; an unknown option names itself and exits 2', async () => {
  const help = await gasAnnotate('--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: gas-annotate build-db/);
  assert.match(help.stdout, /gas-annotate annotate <input\.vcf\[\.gz\]>/);
  const bad = await gasAnnotate('annotate', 'x.vcf', '--thread', '2');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^gas-annotate: Unknown option '--thread'/);
  assert.match(bad.stderr, /usage: gas-annotate/);
  assert.doesNotMatch(bad.stderr, /at parseArgs|node:internal/, 'no stack trace');
});

test('a missing input file is named; --threads must be a whole number', async () => {
  const missing = await gasAnnotate('annotate', '/nonexistent/in.vcf');
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, 'gas-annotate: /nonexistent/in.vcf: no such file\n');
  const vcf = sharedDataPath('vcf/gas_anntools/free_1.vcf');
  const threads = await gasAnnotate('annotate', vcf, '--threads', 'two', '--genes', sharedDataPath('gene_models/grch37/refFlat_hg19.txt.gz'));
  assert.equal(threads.code, 2);
  assert.match(threads.stderr, /--threads must be a whole number ≥ 1, got "two"/);
});

test('annotate with gene models writes the VCF, the TSV, the summary and the count log', async () => {
  const out = mkdtempSync(join(tmpdir(), 'gas-cli-'));
  try {
    const vcf = sharedDataPath('vcf/grch37/NIST_NA12878_v2.19_complex_1ormoreindels.vcf.gz');
    const r = await gasAnnotate('annotate', vcf, '--genes', sharedDataPath('gene_models/grch37/refFlat_hg19.txt.gz'), '--build', 'GRCh37', '--out-dir', out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^184632 records, \d+ alleles, [\d.]+ s\n$/);
    const base = 'NIST_NA12878_v2.19_complex_1ormoreindels';
    const summary = JSON.parse(readFileSync(join(out, `${base}.summary.json`), 'utf8'));
    assert.equal(summary.records, 184_632);
    assert.equal(summary.build, 'GRCh37');
    assert.match(readFileSync(join(out, `${base}.count.log`), 'utf8'), /184632/);
    const tsvRows = readFileSync(join(out, `${base}.annot.tsv`), 'utf8').trimEnd().split('\n').length - 1;
    assert.equal(tsvRows, summary.alleles);
    assert.match(readFileSync(join(out, `${base}.annot.vcf`), 'utf8').slice(0, 200_000), /GAS_REGION=exonic/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
