// The engine on real data with reference files built from ../shared/data, checked with bcftools.
import t from 'tap';
import type { Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { sharedDataPath, testReferenceDir } from '@gas/testing';
import { annotateVcf, loadReferenceFile } from '../src/index.ts';
import type { LoadedReference } from '../src/index.ts';

const referenceDir = await testReferenceDir();
const grch38: LoadedReference = await loadReferenceFile(join(referenceDir, 'GRCh38.gasref'));
const grch37: LoadedReference = await loadReferenceFile(join(referenceDir, 'GRCh37.gasref'));

/** Annotates `input` into out.vcf in the test's own folder, removed when the test ends. */
async function annotateFile(t: Test, input: string, reference: LoadedReference) {
  const vcf = join(t.testdir(), 'out.vcf');
  const vcfOut = createWriteStream(vcf);
  const summary = await annotateVcf({ input: createReadStream(input), vcfOut, reference });
  vcfOut.end();
  await finished(vcfOut);
  return { vcf, summary };
}

t.test('reference manifests record their sources with checksums and counts', async (t) => {
  t.equal(grch37.manifest.build, 'GRCh37');
  t.equal(grch37.manifest.counts.transcripts, 39_173);
  t.equal(grch37.manifest.counts.codingTranscripts, 33_550);
  t.equal(grch37.manifest.counts.genes, 22_480);
  const refFlat = grch37.manifest.sources.find((s) => s.name === 'refFlat_hg19.txt.gz')!;
  // The SHA-256 PROVENANCE.md gives for this file.
  t.equal(refFlat.sha256, '740b834d84dbc948f41ad3cfcfea195efa5540b9077cc76386d190b827ffe08b');
  t.equal(grch38.manifest.counts.transcripts, 2_414);
});

t.test('Ensembl VEP test VCF (GRCh38 chr21): every rsID in its ID column is found, and bcftools reads the output', async (t) => {
  const { vcf, summary } = await annotateFile(t, sharedDataPath('vcf/grch38/ensembl_vep_test_chr21_HG00096.vcf'), grch38);
  t.equal(summary.records, 132);
  execFileSync('bcftools', ['view', '-Ov', '-o', '/dev/null', vcf]);
  const rows = execFileSync('bcftools', ['query', '-f', '%ID\t%INFO/GAS_RSID\t%INFO/GAS_REGION\t%INFO/GAS_GENE\n', vcf], {
    encoding: 'utf8',
  })
    .trimEnd()
    .split('\n')
    .map((l) => l.split('\t'));
  t.equal(rows.length, 132);
  const withRs = rows.filter(([id]) => id!.startsWith('rs'));
  t.ok(withRs.length > 100);
  for (const [id, rs] of withRs) t.ok(rs!.split('&').includes(id!), `${id} not in ${rs}`);
  // These are exome calls: every one lies in a gene.
  for (const [, , region, gene] of rows) {
    t.not(region, 'intergenic');
    t.not(gene, '.');
  }
});

t.test('GIAB HG001 chr20 (GRCh37): classes add up and the output passes bcftools', async (t) => {
  const { vcf, summary } = await annotateFile(t, sharedDataPath('vcf/grch37/GIAB_HG001_GRCh37_v3.3.2_highconf_chr20.vcf.gz'), grch37);
  t.equal(summary.records, 78_096);
  const classified = Object.values(summary.regions).reduce((a, b) => a + b, 0);
  t.equal(classified + Object.values(summary.skipped).reduce((a, b) => a + b, 0), summary.alleles);
  t.ok(summary.tiTv! > 1.9 && summary.tiTv! < 2.4, `Ti/Tv ${summary.tiTv}`); // whole-genome calls: ~2.0-2.1
  const n = Number(execFileSync('bash', ['-c', `bcftools view -H ${vcf} | wc -l`], { encoding: 'utf8' }).trim());
  t.equal(n, 78_096);
});

t.test('GIAB NA12878 hg19 chr20:10.0-10.1 Mb lies in the FASTA window: ANKRD5 coding variants get HGVS', async (t) => {
  t.ok(grch37.sequence, 'the GRCh37 reference should carry the hg19 chr20 FASTA');
  const { vcf, summary } = await annotateFile(t, sharedDataPath('vcf/grch37/GIAB_NA12878_hg19_chr20_10.0-10.1Mb.vcf.gz'), grch37);
  const rows = execFileSync('bcftools', ['query', '-f', '%POS\t%REF\t%ALT\t%INFO/GAS_REGION\t%INFO/GAS_FUNC\t%INFO/GAS_AACHANGE\n', vcf], {
    encoding: 'utf8',
  })
    .trimEnd()
    .split('\n')
    .map((l) => l.split('\t'));
  const exonic = rows.filter((r) => r[3] === 'exonic');
  t.ok(exonic.length > 0, 'the window holds exonic variants, so the checks below check something');
  for (const r of exonic) {
    t.not(r[4], '.', `exonic without a function: ${r.join(' ')}`);
    t.not(r[4], 'unknown', `inside the FASTA window: ${r.join(' ')}`);
    t.match(r[5]!, /^ANKRD5:NM_\d+:c\.\S+:p\.\S+/);
  }
  t.equal(
    Object.values(summary.functions).reduce((a, b) => a + b, 0),
    exonic.length,
  );
});
