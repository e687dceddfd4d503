// The header build check on the real headers of ../shared/data/vcf, and on GRCh38 headers made from
// the known lengths (both spellings of the chromosome names).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import t from 'tap';
import { sharedDataPath } from '@gas/testing';
import { PRIMARY_LENGTHS, buildMismatchWarning, contigLines, detectBuild, headerLines } from '@gas/anntools/format';

/** The `##` lines of a shared VCF (plain, gzip or BGZF). */
function sharedHeader(path: string): string {
  const bytes = readFileSync(sharedDataPath(path));
  const text = (path.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('latin1');
  return headerLines(text);
}

function madeHeader(build: 'GRCh37' | 'GRCh38', prefix: string, extra = ''): string {
  const contigs = Object.entries(PRIMARY_LENGTHS[build]).map(
    ([name, length]) => `##contig=<ID=${prefix}${name === 'MT' && prefix ? 'M' : name},length=${length}>`,
  );
  return `##fileformat=VCFv4.2\n${extra}${contigs.join('\n')}\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n`;
}

t.test('the GRCh37 files of the shared data are GRCh37 by their contig lengths, whatever their names', async (t) => {
  for (const file of [
    'vcf/grch37/GIAB_HG001_GRCh37_v3.3.2_highconf_chr20.vcf.gz',
    'vcf/grch37/GIAB_NA12878_hg19_chr20_10.0-10.1Mb.vcf.gz',
    'vcf/grch37/NIST_NA12878_v2.19_complex_1ormoreindels.vcf.gz',
    'vcf/grch37/PlatinumGenomes_NA12878_hg19_chr21.vcf.gz',
  ]) {
    const e = detectBuild(sharedHeader(file));
    t.equal(e.build, 'GRCh37', file);
    t.equal(e.basis, 'contig lengths', file);
    t.equal(e.lengthMatches.GRCh38, 0, `${file}: no length of GRCh38`);
    t.ok(e.lengthMatches.GRCh37 >= 23, `${file}: ${e.lengthMatches.GRCh37} chromosomes matched`);
  }
});

t.test('the GRCh38 files of the shared data are GRCh38, the VEP test file by its two contigs', async (t) => {
  for (const file of [
    'vcf/grch38/1000G_exome_10samples_GRCh38.vcf.gz',
    'vcf/grch38/PlatinumGenomes_NA12878_hg38_chr21.vcf.gz',
    'vcf/grch38/ensembl_vep_test_chr21_HG00096.vcf',
  ]) {
    const e = detectBuild(sharedHeader(file));
    t.equal(e.build, 'GRCh38', file);
    t.equal(e.basis, 'contig lengths', file);
  }
  t.strictSame(detectBuild(sharedHeader('vcf/grch38/ensembl_vep_test_chr21_HG00096.vcf')).matched, ['21', '22']);
});

t.test('headers made from the length tables: with and without chr, chrM and MT', async (t) => {
  for (const prefix of ['', 'chr']) {
    t.equal(detectBuild(madeHeader('GRCh38', prefix)).build, 'GRCh38', `GRCh38 "${prefix}"`);
    t.equal(detectBuild(madeHeader('GRCh37', prefix)).build, 'GRCh37', `GRCh37 "${prefix}"`);
    // 24 chromosomes tell the builds apart; the rCRS mitochondrion is the same in both.
    t.equal(detectBuild(madeHeader('GRCh38', prefix)).lengthMatches.GRCh38, 24);
  }
});

t.test('files that do not say: no contigs and no build name, or only the mitochondrion', async (t) => {
  for (const file of ['vcf/grch37/1000G_phase1_chr22_5samples.vcf.gz', 'vcf/gas_anntools/free_1.vcf']) {
    const e = detectBuild(sharedHeader(file));
    t.equal(e.build, null, file);
    t.equal(e.basis, null, file);
  }
  t.equal(detectBuild('##contig=<ID=MT,length=16569>\n').build, null, 'rCRS is in both builds');
  t.equal(detectBuild('##contig=<ID=chrM,length=16571>\n').build, 'GRCh37', "UCSC hg19's own chrM");
});

t.test('the old GAS samples name NCBI36 in their ##reference line', async (t) => {
  for (const file of ['vcf/gas_anntools/premium_1.vcf', 'vcf/gas_anntools/premium_3.vcf', 'vcf/gas_anntools/free_2.vcf']) {
    const e = detectBuild(sharedHeader(file));
    t.equal(e.build, 'NCBI36', file);
    t.equal(e.basis, '##reference line', file);
  }
});

t.test('build names in ##reference, ##assembly and contig assembly= when there are no lengths', async (t) => {
  t.match(detectBuild('##reference=hg38\n'), { build: 'GRCh38', basis: '##reference line' });
  t.match(detectBuild('##reference=file:///refs/genome.fasta\n##assembly=GRCh38.p14\n'), {
    build: 'GRCh38',
    basis: '##assembly line',
  });
  t.match(detectBuild('##reference=file:///refs/human_g1k_v37.fasta\n'), { build: 'GRCh37' });
  t.match(detectBuild('##contig=<ID=21,assembly=GCF_000001405.26>\n'), { build: 'GRCh38', basis: 'contig assembly' });
  t.match(detectBuild('##contig=<ID=1,assembly=b37>\n'), { build: 'GRCh37', basis: 'contig assembly' });
  t.equal(detectBuild('##reference=file:///refs/ab37x.fa\n').build, null, '"b37" inside a word is not a build name');
  t.equal(detectBuild('##reference=hg19\n##contig=<ID=1,assembly=GRCh38>\n').build, null, 'names that disagree decide nothing');
});

t.test("a caller's command line names its reference (GATK UnifiedGenotyper in premium_2)", async (t) => {
  t.match(detectBuild(sharedHeader('vcf/gas_anntools/premium_2.vcf')), { build: 'GRCh37', basis: 'command line reference' });
  t.match(
    detectBuild('##GATKCommandLine=<ID=HaplotypeCaller,CommandLine="HaplotypeCaller --reference /r/Homo_sapiens_assembly38.fasta">\n'),
    {
      build: 'GRCh38',
    },
  );
  t.match(detectBuild('##GATKCommandLine=<CommandLine="HaplotypeCaller -R /refs/hg38.fa -I x.bam">\n'), { build: 'GRCh38' });
});

t.test('contig lengths outweigh names; lengths of both builds decide nothing', async (t) => {
  t.match(detectBuild(madeHeader('GRCh37', 'chr', '##reference=hg38\n')), { build: 'GRCh37', basis: 'contig lengths' });
  const mixed = '##contig=<ID=1,length=249250621>\n##contig=<ID=2,length=242193529>\n##reference=GRCh37\n';
  t.match(detectBuild(mixed), { build: null, lengthMatches: { GRCh37: 1, GRCh38: 1 } });
});

t.test('contig lines: quoted values with commas, other keys, a missing or bad length', async (t) => {
  const header = [
    '##contig=<ID=chr1,URL="http://x/a,b",length=248956422,md5=abc>',
    '##contig=<ID=chr2>',
    '##contig=<ID=chr3,length=-5>',
    '##contig=<length=5>',
    '##INFO=<ID=chr4,length=1>',
  ].join('\n');
  t.strictSame(contigLines(header), [
    { id: 'chr1', length: 248956422, assembly: undefined },
    { id: 'chr2', length: undefined, assembly: undefined },
    { id: 'chr3', length: undefined, assembly: undefined },
  ]);
});

t.test('headerLines stops at the #CHROM line and takes a truncated head whole', async (t) => {
  t.equal(headerLines('##a\n##b\n#CHROM\tPOS\n1\t2\n'), '##a\n##b\n');
  t.equal(headerLines('##a\n##contig=<ID=1,len'), '##a\n##contig=<ID=1,len');
  t.equal(headerLines('\uFEFF##a\n#CHROM\n'), '##a\n', 'a byte-order mark');
  t.equal(headerLines(Buffer.from('\uFEFF##a\n#CHROM\n').toString('latin1')), '##a\n', 'its bytes read as latin1');
});

t.test('the mismatch warning names both builds and how it was told; none when they agree or nothing is known', async (t) => {
  const e = detectBuild(madeHeader('GRCh37', ''));
  const w = buildMismatchWarning(e, 'GRCh38');
  t.equal(w?.code, 'build_mismatch');
  t.match(w?.message, /^This file looks like GRCh37 \(contig lengths\), but it was annotated as GRCh38/);
  t.match(w?.message, /Submit it again as GRCh37\.$/);
  t.equal(buildMismatchWarning(e, 'GRCh37'), null);
  t.equal(buildMismatchWarning(detectBuild(''), 'GRCh38'), null);
  t.match(
    buildMismatchWarning(detectBuild('##reference=human_b36_both.fasta\n'), 'GRCh37')?.message,
    /NCBI36\/hg18 \(##reference line\).*no NCBI36 reference/,
  );
});
