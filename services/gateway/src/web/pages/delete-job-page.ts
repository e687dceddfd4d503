// Deleting a job from the web: the job page links here, and this page asks once more, with a form
// that posts the session's CSRF token. No script: the step works in any browser.
import { html } from '../html.ts';
import type { Html } from '../html.ts';
import { page } from '../layout.ts';
import type { Viewer } from '../layout.ts';
import { formatBytes, formatTime } from './job-status.ts';
import type { JobView } from './job-status.ts';

/** Whether the job can be deleted now: finished, and its results not on their way back from cold storage. */
export function deletable(j: JobView): boolean {
  return (j.status === 'COMPLETED' || j.status === 'FAILED') && j.result_state !== 'RESTORING';
}

/** The job page's way in: only for a job that can be deleted (the server refuses the others anyway). */
export function deleteSection(j: JobView): Html {
  if (!deletable(j)) return html``;
  return html`<section class="delete-job">
<h2>Delete</h2>
<p class="muted">Deletes this job, the file you uploaded and every result of it, archived copies included.</p>
<p><a class="button secondary" href="/jobs/${j.id}/delete">Delete this job…</a></p>
</section>`;
}

/** Asks before deleting; with `error`, says why the job cannot be deleted now instead. */
export function deleteJobPage(o: { viewer: Viewer; job: JobView; error?: string }): Html {
  const j = o.job;
  const body =
    o.error || !deletable(j)
      ? html`<p class="error" role="alert">${o.error ?? 'This job cannot be deleted while it is queued, running or being restored; wait until it finishes.'}</p>
<p><a class="button secondary" href="/jobs/${j.id}">Back to the job</a></p>`
      : html`<p>Delete <strong class="filename">${j.input_name}</strong> (${formatBytes(j.input_size)}, submitted ${formatTime(j.created_at)})?</p>
<p>The job, the file you uploaded and all its results, archived copies included, are deleted. This cannot be undone: download anything you want to keep first.</p>
<form class="delete-job" method="post" action="/jobs/${j.id}/delete">
  <input type="hidden" name="_csrf" value="${o.viewer.csrfToken}">
  <button type="submit" class="danger">Delete the job and its files</button>&nbsp;
  <a class="button secondary" href="/jobs/${j.id}">Cancel</a>
</form>`;
  return page({
    title: `Delete ${j.input_name}`,
    viewer: o.viewer,
    nav: 'jobs',
    body: html`<p class="crumbs"><a href="/jobs/${j.id}">← ${j.input_name}</a></p>
<h1>Delete this job?</h1>
${body}`,
  });
}
