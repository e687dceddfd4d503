import { html } from '../html.ts';
import type { Html } from '../html.ts';
import { page } from '../layout.ts';
import type { Viewer } from '../layout.ts';

const HINTS: Record<number, string> = {
  401: 'Sign in to continue.',
  403: 'You do not have access to this page, or the form you sent had expired. Go back, reload the page and try again.',
  404: 'The page or job was not found. The link may be mistyped or out of date.',
  413: 'The file is larger than your plan allows.',
  429: 'Too many requests in a short time. Wait a moment and try again.',
  500: 'Something went wrong on our side. It has been logged; try again in a moment.',
  503: 'A part of GAS is unavailable right now. Try again in a moment.',
};

export function errorPage(o: {
  status: number;
  title: string;
  detail?: string;
  viewer?: Viewer | null;
  requestId?: string;
  action?: Html;
}): Html {
  return page({
    title: o.title,
    viewer: o.viewer,
    body: html`<section class="card narrow">
  <p class="status-code">${o.status}</p>
  <h1>${o.title}</h1>
  ${o.detail ? html`<p>${o.detail}</p>` : ''}
  <p class="muted">${HINTS[o.status] ?? ''}</p>
  ${o.action ?? ''}
  <p><a href="${o.viewer ? '/jobs' : '/'}">${o.viewer ? 'Your jobs' : 'Home'}</a>${o.viewer ? '' : html` · <a href="/signin">Sign in</a>`}</p>
  ${o.status >= 500 && o.requestId ? html`<p class="muted small">Request id: <code>${o.requestId}</code></p>` : ''}
</section>`,
  });
}
