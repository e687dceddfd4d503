// The gateway's part of the build and coverage checks: the upload's header check (plain, BGZF and a
// gzip bomb's head), the job's warnings in the API view and on the job page, the coverage table,
// the note on unknown coding consequences and the flanking genes in words.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import t from 'tap';
import { create, GenomeBuild, JobSchema, JobStatus, ResultState } from '@gas/proto';
import { sharedDataPath } from '@gas/testing';
import { PRIMARY_LENGTHS } from '@gas/anntools/format';
import { HEADER_PEEK_BYTES, HEADER_TEXT_BYTES, headText, uploadWarnings } from '../src/header-build.ts';
import { jobView } from '../src/job-view.ts';
import { jobPage } from '../src/web/pages/job-page.ts';
import type { Summary } from '../src/web/pages/job-page.ts';
import { uploadPage } from '../src/web/pages/upload-page.ts';
import { coverageSection, flankingGenesText, unknownConsequenceNote, warningsCallout } from '../src/web/pages/coverage-notes.ts';
import type { Viewer } from '../src/web/layout.ts';

const viewer: Viewer = { email: 'a@example.org', name: 'A', plan: 'premium', csrfToken: 'c', liveKey: 'k' };
const GRCH37_HEAD = readFileSync(sharedDataPath('vcf/grch37/GIAB_HG001_GRCh37_v3.3.2_highconf_chr20.vcf.gz')).subarray(
  0,
  HEADER_PEEK_BYTES,
);

t.test('the upload check: a GRCh37 BGZF file sent as GRCh38 gets the warning, as GRCh37 none', async (t) => {
  const warnings = await uploadWarnings(GRCH37_HEAD, 'GRCh38');
  t.equal(warnings.length, 1);
  t.equal(warnings[0]!.code, 'build_mismatch');
  t.match(warnings[0]!.message, /^This file looks like GRCh37 \(contig lengths\), but it was annotated as GRCh38/);
  t.strictSame(await uploadWarnings(GRCH37_HEAD, 'GRCh37'), []);
});

t.test('the upload check on plain text, and on a header that says nothing', async (t) => {
  const contigs = Object.entries(PRIMARY_LENGTHS.GRCh38).map(([c, n]) => `##contig=<ID=chr${c},length=${n}>`);
  const plain = Buffer.from(`##fileformat=VCFv4.2\n${contigs.join('\n')}\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n`);
  t.match(await uploadWarnings(plain, 'GRCh37'), [{ code: 'build_mismatch', message: /looks like GRCh38 \(contig lengths\)/ }]);
  t.strictSame(await uploadWarnings(Buffer.from('##fileformat=VCFv4.2\n#CHROM\tPOS\n'), 'GRCh37'), []);
});

t.test("a gzip bomb's head inflates to HEADER_TEXT_BYTES at most; a damaged stream gives what came out before", async (t) => {
  const bomb = gzipSync(Buffer.alloc(20 * 1024 * 1024, '#')).subarray(0, HEADER_PEEK_BYTES);
  const text = await headText(bomb);
  t.ok(text.length <= HEADER_TEXT_BYTES, `${text.length} characters`);
  t.ok(text.length > 0);
  const damaged = Buffer.concat([gzipSync('##fileformat=VCFv4.2\n').subarray(0, 15), Buffer.from('not deflate at all')]);
  t.type(await headText(damaged), 'string');
});

t.test("the API view lists the job's warnings", async (t) => {
  const view = jobView(
    create(JobSchema, { jobId: 'J', status: JobStatus.PENDING, warnings: [{ code: 'build_mismatch', message: 'looks like GRCh37' }] }),
  );
  t.strictSame(view.warnings, [{ code: 'build_mismatch', message: 'looks like GRCh37' }]);
  t.strictSame(jobView(create(JobSchema, { jobId: 'J' })).warnings, []);
});

const summary = (o: Partial<Summary> = {}): Summary => ({
  engine: 'gas-anntools',
  build: 'GRCh38',
  headerLines: 10,
  records: 100,
  alleles: 100,
  snvs: 100,
  indels: 0,
  other: 0,
  annotatedAlleles: 100,
  skipped: {},
  regions: { intergenic: 100 },
  functions: { unknown: 7 },
  chromosomes: { chr1: 62, chr21: 38 },
  transitions: 0,
  transversions: 0,
  rsidAlleles: 0,
  rsidRecords: 0,
  tiTv: null,
  rsidRate: 0,
  runtimeSeconds: 1,
  headerBuild: { build: 'GRCh37', basis: 'contig lengths' },
  coverage: [
    { chrom: 'chr1', records: 62, genes: false, dbsnp: true, sequence: [] },
    { chrom: 'chr21', records: 38, genes: true, dbsnp: true, sequence: [[5_010_001, 10_000_000]] },
  ],
  warnings: [],
  ...o,
});

t.test('the job page: warnings in a callout, escaped; the coverage line and table; the unknown note', async (t) => {
  const view = jobView(
    create(JobSchema, {
      jobId: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
      status: JobStatus.COMPLETED,
      resultState: ResultState.AVAILABLE,
      genomeBuild: GenomeBuild.GRCH38,
      inputName: 'a.vcf',
      warnings: [
        { code: 'build_mismatch', message: 'This file looks like GRCh37 (contig lengths) <b>' },
        { code: 'uncovered_chromosomes', message: '62% of variants are on chromosomes this reference does not cover (chr1)' },
      ],
    }),
  );
  const text = jobPage({
    viewer,
    job: view,
    summary: summary(),
    preview: null,
    log: null,
    retentionSeconds: 1800,
    archiveDueAt: null,
    now: new Date(),
  }).text;
  t.match(text, /<div class="callout warning" role="note"><strong>Check these results\.<\/strong>/);
  t.match(text, '<li data-code="build_mismatch">This file looks like GRCh37 (contig lengths) &lt;b&gt;</li>');
  t.match(text, /<li data-code="uncovered_chromosomes">62% of variants/);
  t.match(
    text,
    /Reference coverage \(GRCh38\): 38\u00a0% of variants are on\nchromosomes with gene models, 100\u00a0% with dbSNP, 38\u00a0% with sequence/,
  );
  t.match(text, '<tr><td>chr1</td><td class="count">62</td><td class="no">no</td><td class="yes">yes</td><td>no</td></tr>');
  t.match(text, '<td>chr21:5,010,001–10,000,000</td>');
  t.match(text, /Unknown coding consequences<\/strong> \(7 alleles\).*only for chr21:5,010,001–10,000,000/s);
});

t.test('no warnings, no callout; a summary from before coverage existed gets the general note and no table', async (t) => {
  t.equal(warningsCallout([]), '');
  const old = summary({ coverage: undefined, warnings: undefined, headerBuild: undefined });
  t.equal(coverageSection(old), '');
  t.match((unknownConsequenceNote(old) as { text: string }).text, /the GRCh38 reference GAS uses has sequence for a few regions only/);
  t.equal(unknownConsequenceNote(summary({ functions: { missense: 3 } })), '', 'nothing unknown, no note');
  const none = summary({ coverage: [{ chrom: 'chr1', records: 100, genes: false, dbsnp: false, sequence: [] }] });
  t.match((unknownConsequenceNote(none) as { text: string }).text, /has no sequence \(FASTA\) for any chromosome in this file/);
});

t.test('flanking genes in words instead of dashes', async (t) => {
  t.equal(flankingGenesText('NONE&NONE'), 'none on this chromosome');
  t.equal(flankingGenesText('NONE&APP'), 'none before, APP');
  t.equal(flankingGenesText('APP&NONE'), 'APP, none after');
  t.equal(flankingGenesText('APP&GABPA'), 'APP, GABPA');
});

t.test('the upload page has a place to say which build it chose and why', async (t) => {
  const text = uploadPage({ viewer, limitBytes: 1000, samples: [] }).text;
  t.match(text, '<p class="build-hint muted" aria-live="polite" hidden></p>');
});
