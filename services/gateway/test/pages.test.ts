// The page pieces that are pure functions: escaping, status cells, charts, the sign-in redirect.
import t from 'tap';
import { create, JobSchema, JobStatus, GenomeBuild, ResultState, timestampFromDate } from '@gas/proto';
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

t.test('the plans page says how long free results stay hot; the landing and upload pages promise nothing about it', async (t) => {
  const plans = (plan: 'free' | 'premium') =>
    text(subscribePage({ viewer: viewer(plan), freeLimit: 153600, cap: 2 ** 30, retentionSeconds: 1800, provider: 'builtin' }).text);
  for (const p of [plans('free'), plans('premium')]) {
    t.match(p, /Results kept for 30 minutes, then moved to cold storage/);
    t.match(p, /Results kept hot, and archived ones brought back when you upgrade/);
  }
  t.match(plans('free'), /Inputs up to 150 KB/);
  t.match(plans('premium'), /Inputs up to 1\.0 GB/);
  t.match(
    text(subscribePage({ viewer: viewer('free'), freeLimit: 1, cap: 2, retentionSeconds: 7 * 86400, provider: 'builtin' }).text),
    /Results kept for 7 days/,
  );
  for (const p of [landingPage({ freeLimit: '150 KB' }).text, uploadPage({ viewer: viewer('free'), limitBytes: 153600, samples: [] }).text])
    t.notMatch(text(p), /cold storage|archiv|retention|no (such )?limit/i);
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
    retentionSeconds: 1800,
    archiveDueAt: null,
    now: new Date(),
  }).text;
  t.match(done, /<dd>50\.0\u00a0%<\/dd>/);
  t.notMatch(done.replace(/<[^>]+>/g, ''), /\d %/, 'no breakable space before a % sign');
});

t.test('the job page of archived results: summary and log stay, the annotated files say where they are and when', async (t) => {
  const at = (iso: string) => timestampFromDate(new Date(iso));
  const kept = { vcf: 'u/j/a.annot.vcf.gz', tsv: 'u/j/a.annot.tsv.gz', tbi: 'u/j/a.annot.vcf.gz.tbi' };
  const completed = {
    status: JobStatus.COMPLETED,
    finishedAt: at('2026-12-07T04:01:00Z'),
    resultKeys: { ...kept, summary: 'u/j/a.summary.json', log: 'u/j/a.count.log' },
  };
  const summary = { records: 1, alleles: 1, snvs: 1, indels: 0, tiTv: null, rsidRate: 0.5, regions: { exonic: 1 }, functions: {} };
  const render = (
    o: MessageInitShape<typeof JobSchema>,
    plan: 'free' | 'premium',
    extra: { archiveDueAt?: string | null; now?: string } = {},
  ) =>
    jobPage({
      viewer: viewer(plan),
      job: job({ ...completed, ...o }),
      summary: { ...summary, chromosomes: { '1': 1 }, skipped: {} } as unknown as Summary,
      preview: null,
      log: 'Total: 1',
      retentionSeconds: 1800,
      archiveDueAt: extra.archiveDueAt ?? null,
      now: new Date(extra.now ?? '2026-12-07T04:59:00Z'),
    }).text;
  const buttons = (page: string) => [...page.matchAll(/<a class="button[^"]*" href="[^"]*" download>([^<]+)<\/a>/g)].map((m) => m[1]);
  const archived = { resultState: ResultState.ARCHIVED, archiveKeys: kept, archivedAt: at('2026-12-07T04:31:00Z') };

  const hot = render({ resultState: ResultState.AVAILABLE }, 'free', {
    archiveDueAt: '2026-12-07T04:31:00.000Z',
    now: '2026-12-07T04:02:00Z',
  });
  t.strictSame(buttons(hot), ['Annotated VCF', 'Tabix index', 'Table (TSV)', 'Your input', 'Log']);
  t.match(hot, 'data-result-state="AVAILABLE"');
  t.match(
    hot,
    '<p class="muted small retention">Free accounts keep results for 30 minutes: these move to cold storage at ' +
      '<time datetime="2026-12-07T04:31:00.000Z">2026-12-07 04:31 UTC</time>; <a href="/subscribe">upgrade</a> to keep them.</p>',
  );
  t.match(
    text(render({ resultState: ResultState.AVAILABLE }, 'free', { archiveDueAt: '2026-12-07T04:31:00.000Z' })),
    /move to cold storage soon;/,
  );
  t.notMatch(render({ resultState: ResultState.AVAILABLE }, 'premium', { archiveDueAt: '2026-12-07T04:31:00.000Z' }), /cold storage/);
  t.notMatch(render({ resultState: ResultState.AVAILABLE }, 'free'), /cold storage/, 'results that stay hot get no notice');

  const free = render(archived, 'free');
  t.strictSame(buttons(free), ['Your input', 'Log'], 'no annotated files to download while archived');
  t.match(free, 'data-result-state="ARCHIVED"');
  t.match(
    text(free),
    'The annotated files moved to cold storage on 2026-12-07 04:31 UTC . Free accounts keep results for 30 minutes. Upgrade to premium and they are restored automatically.',
  );
  t.match(free, '<a href="/subscribe">Upgrade to premium</a>');
  t.match(free, /<h2>Summary<\/h2>/, 'the summary stays');
  t.match(free, /<section class="log"><h2>Log<\/h2><pre>Total: 1<\/pre>/, 'the log stays');
  const premium = text(render(archived, 'premium'));
  t.match(premium, 'moved to cold storage on 2026-12-07 04:31 UTC . They are being brought back; this page updates when they are.');
  t.notMatch(premium, /Upgrade/);

  const restoring = render({ ...archived, resultState: ResultState.RESTORING, restoreExpectedAt: at('2026-12-07T05:02:00Z') }, 'premium');
  t.strictSame(buttons(restoring), ['Your input', 'Log']);
  t.match(
    restoring,
    '<strong>Restoring the annotated files from cold storage</strong>; expected back by ' +
      '<time datetime="2026-12-07T05:02:00.000Z">2026-12-07 05:02 UTC</time> (in about 3 minutes). This page updates when they are back.',
  );
  t.match(
    text(render({ ...archived, resultState: ResultState.RESTORING }, 'premium')),
    'Restoring the annotated files from cold storage . This page updates when they are back.',
    'no expected time: no promise',
  );
  t.strictSame(
    buttons(
      render({ resultState: ResultState.AVAILABLE, restoredAt: at('2026-12-07T05:01:00Z'), archivedAt: archived.archivedAt }, 'premium'),
    ),
    ['Annotated VCF', 'Tabix index', 'Table (TSV)', 'Your input', 'Log'],
    'back after a restore',
  );
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
