import { html } from '../html.ts';
import type { Html } from '../html.ts';
import type { jobView } from '../../job-view.ts';
import { utcMinute } from '../../time-words.ts';

export type JobView = ReturnType<typeof jobView>;

const LABELS: Record<string, string> = { PENDING: 'Queued', RUNNING: 'Running', COMPLETED: 'Done', FAILED: 'Failed' };

export function statusLabel(status: string): string {
  return LABELS[status] ?? status;
}

/** The status cell: a badge, and the queue position or a progress bar where they apply. */
export function statusCell(j: JobView): Html {
  const badge = html`<span class="badge ${j.status.toLowerCase()}">${statusLabel(j.status)}</span>`;
  if (j.status === 'PENDING')
    return html`${badge} <span class="queue">${j.queue_position ? `position ${j.queue_position} in the queue` : 'waiting for an annotator'}</span>`;
  if (j.status === 'RUNNING') {
    const total = j.progress?.total ?? 0;
    const done = Math.min(j.progress?.done ?? 0, total);
    return html`${badge} <progress max="${total || 1}" value="${total ? done : 0}" aria-label="progress"></progress> <span class="pct">${total ? `${Math.floor((100 * done) / total)}\u00a0%` : 'starting'}</span>`;
  }
  if (j.status === 'COMPLETED' && j.result_state && j.result_state !== 'AVAILABLE')
    return html`${badge} <span class="badge archived">${j.result_state === 'ARCHIVED' ? 'Archived' : 'Restoring'}</span>`;
  return badge;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(1)} GB`;
}

export function formatTime(iso: string | null): Html {
  if (!iso) return html`<span class="muted">–</span>`;
  // Rendered in UTC on the server; the page script shows it in the reader's time zone.
  return html`<time datetime="${iso}">${utcMinute(iso)}</time>`;
}
