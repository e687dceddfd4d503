import { html } from '../html.ts';
import type { Html } from '../html.ts';
import { page } from '../layout.ts';
import type { Viewer } from '../layout.ts';
import { formatBytes, formatTime, statusCell } from './job-status.ts';
import type { JobView } from './job-status.ts';
import { barChart } from './bar-chart.ts';
import type { AnnotationSummary } from '@gas/anntools/format';
import { durationWords, relativeWords } from '../../time-words.ts';
import { coverageSection, unknownConsequenceNote, warningsCallout } from './coverage-notes.ts';
import { deleteSection } from './delete-job-page.ts';

/** The engine's summary.json, as the annotator stored it. */
export type Summary = AnnotationSummary;

export interface Preview {
  columns: string[];
  rows: string[][];
  /** Rows read to find these (the preview looks at the start of the table only). */
  scanned: number;
  filter: { gene: string; region: string; rsid: string };
  regions: string[];
}

export interface JobPageData {
  viewer: Viewer;
  job: JobView;
  summary: Summary | null;
  preview: Preview | null;
  log: string | null;
  /** How long free users' annotated files stay hot (GATEWAY_FREE_RETENTION_SECONDS). */
  retentionSeconds: number;
  /** When this job's annotated files move to cold storage (ISO), or null when they stay hot. */
  archiveDueAt: string | null;
  /** For "in about 3 minutes". */
  now: Date;
  /** Why emails about this job failed for good (refused, given up), one per reason. */
  emailProblems?: string[];
}

/** Emails about the job that did not reach the user: they would not know otherwise. */
function emailProblemCallouts(problems: string[]): Html[] {
  return problems.map(
    (detail) =>
      html`<div class="callout error email-problem">We could not email you about this job: <span class="reason">${detail}</span>. Check your address on the <a href="/profile#notifications">profile page</a>.</div>`,
  );
}

/** The downloads: the annotated files only while they are hot; the input and the log always. */
function downloads(j: JobView): Html {
  const hot = (kind: string) => !j.archived_kinds.includes(kind);
  const links = [
    hot('vcf') ? html`<a class="button" href="/api/v1/jobs/${j.id}/result" download>Annotated VCF</a>` : '',
    j.links.tbi && hot('tbi') ? html`<a class="button secondary" href="/api/v1/jobs/${j.id}/tbi" download>Tabix index</a>` : '',
    j.links.tsv && hot('tsv') ? html`<a class="button secondary" href="/api/v1/jobs/${j.id}/tsv" download>Table (TSV)</a>` : '',
    html`<a class="button secondary" href="/api/v1/jobs/${j.id}/input" download>Your input</a>`,
    html`<a class="button secondary" href="/api/v1/jobs/${j.id}/log" download>Log</a>`,
  ];
  return html`<div class="downloads">${links}</div>`;
}

/** Where the annotated files are, when they are in cold storage, and what happens next. */
function resultState(d: JobPageData): Html {
  const j = d.job;
  if (j.result_state === 'ARCHIVED') {
    return html`<div class="callout result-state"><strong>The annotated files moved to cold storage on ${formatTime(j.archived_at)}.</strong>
${
  d.viewer.plan === 'premium'
    ? 'They are being brought back; this page updates when they are.'
    : html`Free accounts keep results for ${durationWords(d.retentionSeconds)}. <a href="/subscribe">Upgrade to premium</a> and they are restored automatically.`
}</div>`;
  }
  if (j.result_state === 'RESTORING') {
    const expected = j.restore_expected_at;
    return html`<div class="callout result-state"><strong>Restoring the annotated files from cold storage</strong>${
      expected ? html`; expected back by ${formatTime(expected)} (${relativeWords(new Date(expected), d.now)})` : ''
    }. This page updates when they are back.</div>`;
  }
  return html``;
}

/** For a free user's hot results: when they move to cold storage and how to keep them. */
function retentionNote(d: JobPageData): Html {
  if (d.job.result_state === 'AVAILABLE' && d.archiveDueAt && d.viewer.plan === 'free') {
    const due = new Date(d.archiveDueAt) > d.now ? html`at ${formatTime(d.archiveDueAt)}` : 'soon';
    return html`<p class="muted small retention">Free accounts keep results for ${durationWords(d.retentionSeconds)}: these move to cold storage ${due}; <a href="/subscribe">upgrade</a> to keep them.</p>`;
  }
  return html``;
}

function summarySection(s: Summary): Html {
  const pct = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(1)}\u00a0%`);
  return html`<section class="summary">
<h2>Summary</h2>
<dl class="stats">
  <div><dt>Variants</dt><dd>${s.records.toLocaleString('en')}</dd></div>
  <div><dt>Alleles</dt><dd>${s.alleles.toLocaleString('en')}</dd></div>
  <div><dt>SNVs / indels</dt><dd>${s.snvs.toLocaleString('en')} / ${s.indels.toLocaleString('en')}</dd></div>
  <div><dt>Ti/Tv</dt><dd>${s.tiTv ?? '–'}</dd></div>
  <div><dt>With an rsID</dt><dd>${pct(s.rsidRate)}</dd></div>
</dl>
<div class="charts">
  ${barChart('Region classes', s.regions)}
  ${Object.keys(s.functions).length > 0 ? barChart('Coding consequences', s.functions) : ''}
  ${barChart('Variants per chromosome', s.chromosomes, { keepOrder: true })}
</div>
${unknownConsequenceNote(s)}
${coverageSection(s)}
${Object.keys(s.skipped).length > 0 ? html`<p class="muted">Not annotated: ${Object.entries(s.skipped).map(([why, n], i) => html`${i ? ', ' : ''}${n} ${why.replace(/_/g, ' ')}`)}.</p>` : ''}
</section>`;
}

function previewSection(j: JobView, p: Preview): Html {
  const f = p.filter;
  return html`<section class="preview">
<h2>First rows</h2>
<form method="get" action="/jobs/${j.id}#preview" class="filter-row" id="preview">
  <label>Gene <input name="gene" value="${f.gene}" maxlength="50"></label>
  <label>Class <select name="region"><option value="">any</option>${p.regions.map((r) => html`<option${r === f.region ? html` selected` : ''}>${r}</option>`)}</select></label>
  <label>rsID <input name="rsid" value="${f.rsid}" maxlength="20" placeholder="rs…"></label>
  <button type="submit" class="secondary">Filter</button>
  ${f.gene || f.region || f.rsid ? html`<a href="/jobs/${j.id}#preview">Clear</a>` : ''}
</form>
${
  p.rows.length === 0
    ? html`<p class="empty">No rows match among the first ${p.scanned.toLocaleString('en')}.</p>`
    : html`<div class="table-wrap"><table class="preview-table">
<thead><tr>${p.columns.map((c) => html`<th>${c}</th>`)}</tr></thead>
<tbody>${p.rows.map((r) => html`<tr>${r.map((c) => html`<td>${c}</td>`)}</tr>`)}</tbody>
</table></div>
<p class="muted small">${p.rows.length} rows shown, from the first ${p.scanned.toLocaleString('en')} of the table. Download the table for all of them.
For an intergenic variant, Genes names the nearest gene on each side ("none" where the reference has no gene on that side).</p>`
}
</section>`;
}

export function jobPage(d: JobPageData): Html {
  const j = d.job;
  const done = j.status === 'COMPLETED';
  return page({
    title: j.input_name,
    viewer: d.viewer,
    nav: 'jobs',
    scripts: ['job.js'],
    body: html`<p class="crumbs"><a href="/jobs">← Your jobs</a></p>
<div class="title-row"><h1 class="filename">${j.input_name}</h1></div>
<section class="card job" data-job="${j.id}" data-status="${j.status}" data-result-state="${j.result_state ?? ''}">
<dl class="facts">
  <div><dt>Status</dt><dd class="status">${statusCell(j)}</dd></div>
  <div><dt>Genome build</dt><dd>${j.genome_build ?? '–'}</dd></div>
  <div><dt>Input size</dt><dd>${formatBytes(j.input_size)}</dd></div>
  <div><dt>Submitted</dt><dd>${formatTime(j.created_at)}</dd></div>
  <div><dt>Started</dt><dd>${formatTime(j.started_at)}</dd></div>
  <div><dt>Finished</dt><dd>${formatTime(j.finished_at)}</dd></div>
</dl>
${j.status === 'FAILED' ? html`<div class="callout error"><strong>The annotation failed.</strong> <span class="reason">${j.failure_reason ?? 'No reason was recorded.'}</span><br>Fix the file and <a href="/upload">upload it again</a>.</div>` : ''}
${warningsCallout(j.warnings)}
${emailProblemCallouts(d.emailProblems ?? [])}
${done ? html`${resultState(d)}${downloads(j)}${retentionNote(d)}` : ''}
</section>
${done && d.summary ? summarySection(d.summary) : ''}
${done && d.preview ? previewSection(j, d.preview) : ''}
${d.log !== null ? html`<section class="log"><h2>Log</h2><pre>${d.log}</pre></section>` : ''}
${deleteSection(j)}`,
  });
}
