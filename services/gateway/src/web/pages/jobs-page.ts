import { html } from '../html.ts';
import type { Html } from '../html.ts';
import { page } from '../layout.ts';
import type { Viewer } from '../layout.ts';
import { formatBytes, formatTime, statusCell } from './job-status.ts';
import type { JobView } from './job-status.ts';

const FILTERS = [
  ['', 'All'],
  ['PENDING', 'Queued'],
  ['RUNNING', 'Running'],
  ['COMPLETED', 'Done'],
  ['FAILED', 'Failed'],
] as const;

export function jobRow(j: JobView): Html {
  return html`<tr data-job="${j.id}">
  <td class="name"><a href="/jobs/${j.id}">${j.input_name}</a><span class="sub">${formatBytes(j.input_size)} · ${j.genome_build ?? ''}</span></td>
  <td class="status">${statusCell(j)}</td>
  <td class="when">${formatTime(j.created_at)}</td>
</tr>`;
}

export function jobsPage(o: {
  viewer: Viewer;
  jobs: JobView[];
  status: string;
  nextPageToken: string | null;
  /** This is a page of older jobs (it came from a page token), not the newest. */
  olderPage?: boolean;
  notice?: string | null;
  /** No annotator is taking jobs right now: queued jobs wait, and the user should know why. */
  noAnnotator?: boolean;
}): Html {
  const filters = FILTERS.map(
    ([value, label]) =>
      html`<a href="/jobs${value ? `?status=${value}` : ''}"${o.status === value ? html` aria-current="true"` : ''}>${label}</a>`,
  );
  return page({
    title: 'Your jobs',
    viewer: o.viewer,
    nav: 'jobs',
    notice: o.notice,
    scripts: ['jobs.js'],
    body: html`<div class="title-row"><h1>Your jobs</h1><a class="button" href="/upload">Upload a VCF</a></div>
${o.noAnnotator ? html`<p class="notice warning" role="alert">No annotator is running right now, so jobs wait in the queue. They start on their own as soon as one is back; nothing you uploaded is lost.</p>` : ''}
<nav class="filters" aria-label="Filter by status">${filters}</nav>
<p class="empty"${o.jobs.length > 0 ? html` hidden` : ''}>${
      o.olderPage
        ? html`No older jobs${o.status ? ' with this status' : ''}. <a href="/jobs${o.status ? `?status=${o.status}` : ''}">Back to the newest</a>`
        : o.status
          ? 'No jobs with this status.'
          : html`No jobs yet. <a href="/upload">Upload a VCF</a> to start one.`
    }</p>
<div class="table-wrap"${o.jobs.length === 0 ? html` hidden` : ''}><table class="jobs" data-live-status="${o.status}">
  <thead><tr><th>Input</th><th>Status</th><th>Submitted</th></tr></thead>
  <tbody>${o.jobs.map(jobRow)}</tbody>
</table></div>
${o.nextPageToken ? html`<p class="pager"><a href="/jobs?${new URLSearchParams({ ...(o.status ? { status: o.status } : {}), page: o.nextPageToken }).toString()}">Older jobs →</a></p>` : ''}
<p class="muted small live-note" hidden>Statuses update live.</p>`,
  });
}
