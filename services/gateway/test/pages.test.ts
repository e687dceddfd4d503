// The page pieces that are pure functions: escaping, status cells, charts, the sign-in redirect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, JobSchema, JobStatus, GenomeBuild, ResultState } from '@gas/proto';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { html, escapeHtml } from '../src/web/html.ts';
import { statusCell, formatBytes } from '../src/web/pages/job-status.ts';
import { barChart } from '../src/web/pages/bar-chart.ts';
import { jobRow } from '../src/web/pages/jobs-page.ts';
import { safeNext } from '../src/web/viewer.ts';
import { jobView } from '../src/job-view.ts';
import { displayName } from '../src/upload.ts';

const job = (o: MessageInitShape<typeof JobSchema> = {}) =>
  jobView(create(JobSchema, { jobId: '01ARZ3NDEKTSV4RRFFQ69G5FAV', userId: 'u', status: JobStatus.PENDING, genomeBuild: GenomeBuild.GRCH38, inputName: 'a.vcf', inputSize: 1000n, ...o }));

test('html escapes every interpolated value, nested templates stay markup', () => {
  const name = `<script>alert("x")</script>&'`;
  assert.equal(html`<p>${name}</p>`.text, '<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p>');
  assert.equal(html`<ul>${['<a>', html`<li>ok</li>`]}</ul>`.text, '<ul>&lt;a&gt;<li>ok</li></ul>');
  assert.equal(html`${null}${undefined}${false}${0}`.text, '0');
  assert.equal(escapeHtml('"quoted" & <tag>'), '&quot;quoted&quot; &amp; &lt;tag&gt;');
});

test('status cells: queue position, a progress bar while running, archived results', () => {
  assert.match(statusCell(job()).text, /Queued<\/span> <span class="queue">waiting for an annotator/);
  assert.match(statusCell(jobView(create(JobSchema, { jobId: 'J', status: JobStatus.PENDING }), { queuePosition: 3 })).text, /position 3 in the queue/);
  const running = statusCell(job({ status: JobStatus.RUNNING, progressDone: 250n, progressTotal: 1000n })).text;
  assert.match(running, /<progress max="1000" value="250" aria-label="progress"><\/progress> <span class="pct">25 %<\/span>/);
  assert.match(statusCell(job({ status: JobStatus.RUNNING })).text, /starting/);
  assert.match(statusCell(job({ status: JobStatus.COMPLETED, resultState: ResultState.ARCHIVED })).text, /Done<\/span> <span class="badge archived">Archived/);
  assert.match(statusCell(job({ status: JobStatus.FAILED })).text, /badge failed">Failed/);
});

test('a job row escapes the file name and links the job', () => {
  const row = jobRow(job({ inputName: '<b>x</b>.vcf' })).text;
  assert.match(row, /<a href="\/jobs\/01ARZ3NDEKTSV4RRFFQ69G5FAV">&lt;b&gt;x&lt;\/b&gt;\.vcf<\/a>/);
  assert.match(row, /1000 B · GRCh38/);
});

test('bar charts: largest first, the tail folded into "other", widths as SVG attributes', () => {
  const counts = Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`c${i}`, i + 1]));
  const chart = barChart('Classes', counts).text;
  const labels = [...chart.matchAll(/<span class="label">([^<]+)<\/span>/g)].map((m) => m[1]);
  assert.equal(labels.length, 12);
  assert.deepEqual(labels.slice(0, 2), ['c14', 'c13']);
  assert.equal(labels.at(-1), 'other');
  assert.match(chart, /<rect width="100\.00" height="10">/);
  assert.doesNotMatch(chart, /style=/, 'the CSP forbids inline styles');
  assert.match(barChart('x', { 'UTR5;UTR3': 2 }).text, /UTR5 \+ UTR3/);
});

test('after sign-in only paths on this site are followed', () => {
  assert.equal(safeNext('/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV?x=1'), '/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV?x=1');
  for (const bad of ['//evil.example', '/\\evil.example', 'https://evil.example', 'javascript:alert(1)', '', undefined, 42, '/a b']) assert.equal(safeNext(bad), '/jobs', String(bad));
});

test('file names: kept as the user wrote them, without folders or control characters', () => {
  assert.equal(displayName('C:\\Users\\me\\my sample (1).vcf'), 'my sample (1).vcf');
  assert.equal(displayName('../../etc/passwd'), 'passwd');
  assert.equal(displayName('a\u0000b\u001b.vcf'), 'ab.vcf');
  assert.equal(displayName(''), 'input.vcf');
  assert.equal(displayName('x'.repeat(300)).length, 200);
  assert.equal(formatBytes(153600), '150 KB');
  assert.equal(formatBytes(1024 * 1024 * 1024), '1.0 GB');
});
