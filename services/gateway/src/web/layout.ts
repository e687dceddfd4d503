import { html } from './html.ts';
import type { Html } from './html.ts';

export interface Viewer {
  email: string;
  name: string;
  plan: 'free' | 'premium';
  csrfToken: string;
  /** Whose live updates this page takes (see liveKey in viewer.ts). */
  liveKey: string;
  /** Unread notices for the header's badge; absent when the notification service did not answer. */
  unreadNotices?: number;
  /** Whether the account is an admin (on GATEWAY_ADMIN_EMAILS, its address confirmed): only then the header links the admin page. */
  admin?: boolean;
}

export interface PageOptions {
  title: string;
  viewer?: Viewer | null;
  /** Which navigation entry is the current page. */
  nav?: 'jobs' | 'upload' | 'notices' | 'tokens' | 'profile' | 'plan' | 'admin';
  /**
   * Page scripts under /static (CSP allows no inline script). Signed-in pages also get the live
   * stream (live-stream.js, live.js) before them: the toasts and the badge come on every page.
   */
  scripts?: string[];
  body: Html;
  /** A one-line notice above the content (e.g. "Your profile was saved."). */
  notice?: string | null;
}

function navLink(href: string, label: string | Html, current: boolean): Html {
  return html`<a href="${href}"${current ? html` aria-current="page"` : ''}>${label}</a>`;
}

const LIVE_SCRIPTS = ['live-stream.js', 'live.js'];

/** The header's unread count: always in the markup, so the live script can show it when a notice comes. */
function unreadBadge(n: number | undefined): Html {
  return html`<span class="badge unread"${n ? '' : html` hidden`}>${n ?? 0}</span>`;
}

/** The page shell: header with navigation, the content, and the CSRF token for scripts. */
export function page(o: PageOptions): Html {
  const v = o.viewer;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} · GAS</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/app.css">
${
  v
    ? html`<meta name="csrf-token" content="${v.csrfToken}">
<meta name="gas-live" content="${v.liveKey}">`
    : ''
}
</head>
<body>
<header class="top">
  <a class="brand" href="/">GAS<span> · Genomics Annotation Service</span></a>
  ${
    v
      ? html`<nav aria-label="Main">
    ${navLink('/jobs', 'Jobs', o.nav === 'jobs')}
    ${navLink('/upload', 'Upload', o.nav === 'upload')}
    ${navLink('/notices', html`Notices ${unreadBadge(v.unreadNotices)}`, o.nav === 'notices')}
    ${navLink('/tokens', 'API tokens', o.nav === 'tokens')}
    ${navLink('/profile', 'Profile', o.nav === 'profile')}
    ${navLink('/subscribe', v.plan === 'premium' ? 'Premium' : 'Upgrade', o.nav === 'plan')}
    ${v.admin ? navLink('/admin', 'Admin', o.nav === 'admin') : ''}
    <form method="post" action="/signout" class="inline"><input type="hidden" name="_csrf" value="${v.csrfToken}"><button type="submit" class="link">Sign out</button></form>
  </nav>`
      : html`<nav aria-label="Main"><a href="/signin">Sign in</a><a href="/signup" class="button small">Sign up</a></nav>`
  }
</header>
<main>
${o.notice ? html`<p class="notice" role="status">${o.notice}</p>` : ''}
${o.body}
</main>
<footer><a href="/api/docs">API</a> · GAS annotates VCF files with genes, region classes, consequences and dbSNP rsIDs.</footer>
${
  v
    ? html`<div class="toasts" role="status" aria-live="polite"></div>
`
    : ''
}${[...(v ? LIVE_SCRIPTS : []), ...(o.scripts ?? [])].map((s) => html`<script src="/static/${s}" defer></script>`)}
</body>
</html>`;
}
