import { html } from '../html.ts';
import type { Html } from '../html.ts';
import { page } from '../layout.ts';
import type { Viewer } from '../layout.ts';
import type { NoticeView } from '../../notice-view.ts';
import { formatTime } from './job-status.ts';

function noticeItem(n: NoticeView): Html {
  return html`<li class="notice-item${n.read ? '' : ' unread'}" data-notice="${n.id}">
  <p class="notice-head"><strong class="notice-title">${n.title}</strong>${n.read ? '' : html` <span class="badge new">New</span>`} <span class="when">${formatTime(n.occurred_at)}</span></p>
  <p class="notice-text">${n.text}</p>
  <p class="notice-meta small"><a href="${n.link}">${n.link === '/notices' ? 'Your account' : 'Open the job'}</a> · <span class="email-status${n.email_failed ? ' error' : ''}">${n.email}</span></p>
</li>`;
}

/** The user's notices, newest first; `notices` is null when the notification service did not answer. */
export function noticesPage(o: { viewer: Viewer; notices: NoticeView[] | null; notice?: string | null }): Html {
  const v = o.viewer;
  const list = o.notices;
  const newest = list?.[0];
  const anyUnread = list?.some((n) => !n.read) ?? false;
  return page({
    title: 'Notices',
    viewer: v,
    nav: 'notices',
    notice: o.notice,
    scripts: ['notices.js'],
    body: html`<div class="title-row"><h1>Notices</h1>${
      newest && anyUnread
        ? html`<form method="post" action="/notices/read" class="inline mark-read">
  <input type="hidden" name="_csrf" value="${v.csrfToken}">
  <input type="hidden" name="up_to" value="${newest.id}">
  <button type="submit" class="secondary small">Mark all read</button>
</form>`
        : ''
    }</div>
${
  list === null
    ? html`<p class="error" role="alert">Your notices cannot be shown right now. Try again in a moment; your jobs are not affected.</p>`
    : list.length === 0
      ? html`<p class="empty">No notices yet. You get one when a job is done or fails, when results move to cold storage and back, and when your plan changes.</p>`
      : html`<ol class="notices">${list.map(noticeItem)}</ol>
<p class="muted small">Which of these are emailed to you is set on your <a href="/profile#notifications">profile</a>.</p>`
}`,
  });
}
