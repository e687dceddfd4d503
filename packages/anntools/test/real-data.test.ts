// The engine on real data with reference files built from ../shared/data, checked with bcftools.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { sharedDataPath, testReferenceDir } from '@gas/testing';
import { annotateVcf, loadReferenceFile } from '../src/index.ts';
import type { LoadedReference } from '../src/index.ts';

let grch38: LoadedReference;
let grch37: LoadedReference;
before(async () => {
  const dir = await testReferenceDir();
  grch38 = await loadReferenceFile(join(dir, 'GRCh38.gasref'));
  grch37 = await loadReferenceFile(join(dir, 'GRCh37.gasref'));
});

async function annotateFile(input: string, reference: LoadedReference) {
  const dir = await mkdtemp(join(tmpdir(), 'gas-real-'));
  const vcf = join(dir, 'out.vcf');
  const vcfOut = createWriteStream(vcf);
  const summary = await annotateVcf({ input: createReadStream(input), vcfOut, reference });
  vcfOut.end();
  await finished(vcfOut);
  return { vcf, summary };
}

test('reference manifests record their sources with checksums and counts', () => {
  assert.equal(grch37.manifest.build, 'GRCh37');
  assert.equal(grch37.manifest.counts.transcripts, 39_173);
  assert.equal(grch37.manifest.counts.codingTranscripts, 33_550);
  assert.equal(grch37.manifest.counts.genes, 22_480);
  const refFlat = grch37.manifest.sources.find((s) => s.name === 'refFlat_hg19.txt.gz')!;
  // The SHA-256 PROVENANCE.md gives for this file.
  assert.equal(refFlat.sha256, '740b834d84dbc948f41ad3cfcfea195efa5540b9077cc76386d190b827ffe08b');
  assert.equal(grch38.manifest.counts.transcripts, 2_414);
});

test('Ensembl VEP test VCF (GRCh38 chr21): every rsID in its ID column is found, and bcftools reads the output', async () => {
  const { vcf, summary } = await annotateFile(sharedDataPath('vcf/grch38/ensembl_vep_test_chr21_HG00096.vcf'), grch38);
  assert.equal(summary.records, 132);
  execFileSync('bcftools', ['view', '-Ov', '-o', '/dev/null', vcf]);
  const rows = execFileSync('bcftools', ['query', '-f', '%ID\t%INFO/GAS_RSID\t%INFO/GAS_REGION\t%INFO/GAS_GENE\n', vcf], { encoding: 'utf8' })
    .trimEnd()
    .split('\n')
    .map((l) => l.split('\t'));
  assert.equal(rows.length, 132);
  const withRs = rows.filter(([id]) => id!.startsWith('rs'));
  assert.ok(withRs.length > 100);
  for (const [id, rs] of withRs) assert.ok(rs!.split('&').includes(id!), `${id} not in ${rs}`);
  // These are exome calls: every one lies in a gene.
  for (const [, , region, gene] of rows) {
    assert.notEqual(region, 'intergenic');
    assert.notEqual(gene, '.');
  }
});

test('GIAB HG001 chr20 (GRCh37): classes add up and the output passes bcftools', async () => {
  const { vcf, summary } = await annotateFile(sharedDataPath('vcf/grch37/GIAB_HG001_GRCh37_v3.3.2_highconf_chr20.vcf.gz'), grch37);
  assert.equal(summary.records, 78_096);
  const classified = Object.values(summary.regions).reduce((a, b) => a + b, 0);
  assert.equal(classified + Object.values(summary.skipped).reduce((a, b) => a + b, 0), summary.alleles);
  assert.ok(summary.tiTv! > 1.9 && summary.tiTv! < 2.4, `Ti/Tv ${summary.tiTv}`); // whole-genome calls: ~2.0-2.1
  const n = Number(execFileSync('bash', ['-c', `bcftools view -H ${vcf} | wc -l`], { encoding: 'utf8' }).trim());
  assert.equal(n, 78_096);
});

test('GIAB NA12878 hg19 chr20:10.0-10.1 Mb lies in the FASTA window: ANKRD5 coding variants get HGVS', async () => {
  assert.ok(grch37.sequence, 'the GRCh37 reference should carry the hg19 chr20 FASTA');
  const { vcf, summary } = await annotateFile(sharedDataPath('vcf/grch37/GIAB_NA12878_hg19_chr20_10.0-10.1Mb.vcf.gz'), grch37);
  const rows = execFileSync('bcftools', ['query', '-f', '%POS\t%REF\t%ALT\t%INFO/GAS_REGION\t%INFO/GAS_FUNC\t%INFO/GAS_AACHANGE\n', vcf], { encoding: 'utf8' })
    .trimEnd()
    .split('\n')
    .map((l) => l.split('\t'));
  const exonic = rows.filter((r) => r[3] === 'exonic');
  for (const r of exonic) {
    assert.notEqual(r[4], '.', `exonic without a function: ${r.join(' ')}`);
    assert.notEqual(r[4], 'unknown', `inside the FASTA window: ${r.join(' ')}`);
    assert.match(r[5]!, /^ANKRD5:NM_\d+:c\.\S+:p\.\S+/);
  }
  assert.equal(Object.values(summary.functions).reduce((a, b) => a + b, 0), exonic.length);
});
