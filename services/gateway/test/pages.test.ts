// The page pieces that are pure functions: escaping, status cells, charts, the sign-in redirect.
import t from 'tap';
import { create, JobSchema, JobStatus, GenomeBuild, ResultState } from '@gas/proto';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { html, escapeHtml } from '../src/web/html.ts';
import { statusCell, formatBytes } from '../src/web/pages/job-status.ts';
import { barChart } from '../src/web/pages/bar-chart.ts';
import { jobRow } from '../src/web/pages/jobs-page.ts';
import { liveKey, safeNext } from '../src/web/viewer.ts';
import { page } from '../src/web/layout.ts';
import type { Viewer } from '../src/web/layout.ts';
import { subscribePage } from '../src/web/pages/plan-pages.ts';
import { errorPage } from '../src/web/pages/error-page.ts';
import { landingPage, signInPage } from '../src/web/pages/auth-pages.ts';
import { uploadPage } from '../src/web/pages/upload-page.ts';
import { jobPage } from '../src/web/pages/job-page.ts';
import type { Summary } from '../src/web/pages/job-page.ts';
import { asSentence } from '../src/problem.ts';
import { SIGNED_UP } from '../src/routes/auth-routes.ts';
import { jobView } from '../src/job-view.ts';
import { displayName } from '../src/upload.ts';

const job = (o: MessageInitShape<typeof JobSchema> = {}) =>
  jobView(
    create(JobSchema, {
      jobId: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
      userId: 'u',
      status: JobStatus.PENDING,
      genomeBuild: GenomeBuild.GRCH38,
      inputName: 'a.vcf',
      inputSize: 1000n,
      ...o,
    }),
  );

t.test('html escapes every interpolated value, nested templates stay markup', async (t) => {
  const name = `<script>alert("x")</script>&'`;
  t.equal(html`<p>${name}</p>`.text, '<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p>');
  t.equal(html`<ul>${['<a>', html`<li>ok</li>`]}</ul>`.text, '<ul>&lt;a&gt;<li>ok</li></ul>');
  t.equal(html`${null}${undefined}${false}${0}`.text, '0');
  t.equal(escapeHtml('"quoted" & <tag>'), '&quot;quoted&quot; &amp; &lt;tag&gt;');
});

t.test('status cells: queue position, a progress bar while running, archived results', async (t) => {
  t.match(statusCell(job()).text, /Queued<\/span> <span class="queue">waiting for an annotator/);
  t.match(
    statusCell(jobView(create(JobSchema, { jobId: 'J', status: JobStatus.PENDING }), { queuePosition: 3 })).text,
    /position 3 in the queue/,
  );
  const running = statusCell(job({ status: JobStatus.RUNNING, progressDone: 250n, progressTotal: 1000n })).text;
  t.match(running, /<progress max="1000" value="250" aria-label="progress"><\/progress> <span class="pct">25\u00a0%<\/span>/);
  t.match(statusCell(job({ status: JobStatus.RUNNING })).text, /starting/);
  t.match(
    statusCell(job({ status: JobStatus.COMPLETED, resultState: ResultState.ARCHIVED })).text,
    /Done<\/span> <span class="badge archived">Archived/,
  );
  t.match(statusCell(job({ status: JobStatus.FAILED })).text, /badge failed">Failed/);
});

t.test('a job row escapes the file name and links the job', async (t) => {
  const row = jobRow(job({ inputName: '<b>x</b>.vcf' })).text;
  t.match(row, /<a href="\/jobs\/01ARZ3NDEKTSV4RRFFQ69G5FAV">&lt;b&gt;x&lt;\/b&gt;\.vcf<\/a>/);
  t.match(row, /1000 B · GRCh38/);
});

t.test('bar charts: largest first, the tail folded into "other", widths as SVG attributes', async (t) => {
  const counts = Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`c${i}`, i + 1]));
  const chart = barChart('Classes', counts).text;
  const labels = [...chart.matchAll(/<span class="label">([^<]+)<\/span>/g)].map((m) => m[1]);
  t.equal(labels.length, 12);
  t.strictSame(labels.slice(0, 2), ['c14', 'c13']);
  t.equal(labels.at(-1), 'other');
  t.match(chart, /<rect width="100\.00" height="10">/);
  t.notMatch(chart, /style=/, 'the CSP forbids inline styles');
  t.match(barChart('x', { 'UTR5;UTR3': 2 }).text, /UTR5 \+ UTR3/);
});

t.test('after sign-in only paths on this site are followed', async (t) => {
  t.equal(safeNext('/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV?x=1'), '/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV?x=1');
  for (const bad of ['//evil.example', '/\\evil.example', 'https://evil.example', 'javascript:alert(1)', '', undefined, 42, '/a b'])
    t.equal(safeNext(bad), '/jobs', String(bad));
});

t.test('file names: kept as the user wrote them, without folders or control characters', async (t) => {
  t.equal(displayName('C:\\Users\\me\\my sample (1).vcf'), 'my sample (1).vcf');
  t.equal(displayName('../../etc/passwd'), 'passwd');
  t.equal(displayName('a\u0000b\u001b.vcf'), 'ab.vcf');
  t.equal(displayName(''), 'input.vcf');
  t.equal(displayName('x'.repeat(300)).length, 200);
  t.equal(formatBytes(153600), '150 KB');
  t.equal(formatBytes(1024 * 1024 * 1024), '1.0 GB');
});

const viewer = (plan: 'free' | 'premium'): Viewer => ({ email: 'a@example.org', name: 'A', plan, csrfToken: 'c', liveKey: liveKey('u1') });
/** The text a reader sees: tags dropped, entities of spaces resolved. */
const text = (markup: string) => markup.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

t.test('no page promises cold storage or archiving, which does not exist yet (issue 12)', async (t) => {
  const pages = [
    subscribePage({ viewer: viewer('free'), freeLimit: 153600, cap: 2 ** 30, provider: 'builtin' }).text,
    subscribePage({ viewer: viewer('premium'), freeLimit: 153600, cap: 2 ** 30, provider: 'builtin' }).text,
    landingPage({ freeLimit: '150 KB' }).text,
    uploadPage({ viewer: viewer('free'), limitBytes: 153600, samples: [] }).text,
  ];
  for (const p of pages) t.notMatch(text(p), /cold storage|archiv|retention|no (such )?limit/i);
  t.match(text(pages[0]!), /Inputs up to 150 KB/);
  t.match(text(pages[1]!), /Inputs up to 1\.0 GB/);
});

t.test('the plain 404 page is neutral: not found, nothing about other accounts', async (t) => {
  const p = text(errorPage({ status: 404, title: 'Not Found', detail: 'There is no page at this address.' }).text);
  t.match(p, /The page or job was not found/);
  t.notMatch(p, /account/i);
});

t.test('percentages keep their % sign on the same line', async (t) => {
  t.match(statusCell(job({ status: JobStatus.RUNNING, progressDone: 1n, progressTotal: 100n })).text, /<span class="pct">1\u00a0%<\/span>/);
  t.match(barChart('Classes', { exonic: 1, intronic: 3 }).text, /<small>25\.0\u00a0%<\/small>/);
  const summary = {
    records: 1,
    alleles: 1,
    snvs: 1,
    indels: 0,
    tiTv: null,
    rsidRate: 0.5,
    regions: { exonic: 1 },
    functions: {},
    chromosomes: { '1': 1 },
    skipped: {},
  };
  const done = jobPage({
    viewer: viewer('free'),
    job: job({ status: JobStatus.COMPLETED }),
    summary: summary as unknown as Summary,
    preview: null,
    log: null,
  }).text;
  t.match(done, /<dd>50\.0\u00a0%<\/dd>/);
  t.notMatch(done.replace(/<[^>]+>/g, ''), /\d %/, 'no breakable space before a % sign');
});

t.test("an error about a user's file keeps the name as written (notes.txt, never Notes.txt)", async (t) => {
  t.equal(
    asSentence('the file notes.txt is not a VCF file: a VCF file must start with "##fileformat=VCFv4.x"; this file does not'),
    'The file notes.txt is not a VCF file: a VCF file must start with "##fileformat=VCFv4.x"; this file does not.',
  );
});

t.test('signed-in pages name their account for live updates; sign-up answers with the sign-in form', async (t) => {
  const v = viewer('free');
  t.match(page({ title: 'x', viewer: v, body: html`` }).text, `<meta name="gas-live" content="${v.liveKey}">`);
  t.notMatch(page({ title: 'x', body: html`` }).text, /gas-live/);
  t.match(liveKey('u1'), /^[\w-]{22}$/);
  t.not(liveKey('u1'), liveKey('u2'));
  t.notMatch(liveKey('u1'), /u1/, 'not the user id itself');
  const signedUp = signInPage({ formToken: 'f', email: 'x@example.org', notice: SIGNED_UP, next: '/jobs?welcome=1' }).text;
  t.match(signedUp, /<p class="notice" role="status">If this address is new, your account is ready/);
  t.match(signedUp, /name="email" value="x@example.org"/);
});
