import { html } from '../html.ts';
import type { Html } from '../html.ts';
import { page } from '../layout.ts';
import type { Viewer } from '../layout.ts';
import type { ApiTokenInfo, Session } from '../../identity/index.ts';
import { formatTime } from './job-status.ts';
import { deleteAccountSection } from './delete-account-page.ts';
import { changePasswordSection } from './password-pages.ts';

export interface ProfileData {
  name: string;
  email: string;
  institution: string;
  emailOnCompletion: boolean;
  emailOnFailure: boolean;
}

/** The profile's three email choices, over the account's two switches (a job is done, a job fails). */
export type EmailChoice = 'all' | 'failures' | 'none';
export const EMAIL_CHOICES: ReadonlyArray<readonly [EmailChoice, string]> = [
  ['all', 'All notices: a job is done or fails, results move to cold storage and back, your plan changes'],
  ['failures', 'Failures only: a job fails'],
  ['none', 'None (notices still show on the site)'],
];

/**
 * The choice the switches amount to. "Done but not failures" only older records can hold; it reads
 * as all, as the notification service reads it, so saving the form turns failures on too.
 */
export function emailChoiceOf(p: { emailOnCompletion: boolean; emailOnFailure: boolean }): EmailChoice {
  if (p.emailOnCompletion) return 'all';
  return p.emailOnFailure ? 'failures' : 'none';
}

export function emailSwitchesOf(choice: EmailChoice): { emailOnCompletion: boolean; emailOnFailure: boolean } {
  return { emailOnCompletion: choice === 'all', emailOnFailure: choice !== 'none' };
}

export function isEmailChoice(v: unknown): v is EmailChoice {
  return EMAIL_CHOICES.some(([c]) => c === v);
}

/**
 * Whether the account's address is confirmed; unconfirmed, the page says so and offers a new link
 * (a form of its own: forms cannot nest).
 */
function confirmation(v: Viewer, p: ProfileData, confirmed: boolean): Html {
  if (confirmed || !p.email) return html``;
  return html`<div class="callout warning email-unconfirmed"><p><strong>Your e-mail address ${p.email} is not confirmed yet.</strong>
Open the link we e-mailed to it when you signed up (it works for 24 hours). Until then GAS does not treat the address as yours:
an address on the operator's admin list, for example, gets no admin rights.</p>
<form method="post" action="/profile/confirm-email" class="inline"><input type="hidden" name="_csrf" value="${v.csrfToken}"><button type="submit" class="small">Send a new link</button></form></div>`;
}

export function profilePage(o: {
  viewer: Viewer;
  profile: ProfileData;
  /** Whether the account has proven it owns its address; absent counts as confirmed (nothing said). */
  emailConfirmed?: boolean;
  /** Job e-mails wait for the address to be confirmed: the choice is shown off and cannot be changed yet. */
  jobMailHeld?: boolean;
  /** The account has a password (not only an identity provider): the page offers to change it. */
  hasPassword?: boolean;
  /** The account's live browser sessions, `current` the one showing the page. */
  sessions?: Array<Pick<Session, 'createdAt' | 'lastSeenAt'> & { current: boolean }>;
  notice?: string | null;
  error?: string | null;
}): Html {
  const p = o.profile;
  const v = o.viewer;
  const choice = emailChoiceOf(p);
  return page({
    title: 'Profile',
    viewer: v,
    nav: 'profile',
    notice: o.notice,
    body: html`<h1>Profile</h1>
${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
${confirmation(v, p, o.emailConfirmed ?? true)}
<form class="card narrow" method="post" action="/profile">
  <input type="hidden" name="_csrf" value="${v.csrfToken}">
  <label>Name <input name="name" value="${p.name}" maxlength="200" required></label>
  <label>E-mail <input type="email" value="${p.email}" disabled></label>
  ${p.email ? html`<p class="muted"><a href="/profile/email">Change your e-mail address</a></p>` : ''}
  <label>Institution <input name="institution" value="${p.institution}" maxlength="200"></label>
  <fieldset id="notifications"${o.jobMailHeld ? html` disabled` : ''}>
    <legend>E-mail me about</legend>
    ${o.jobMailHeld ? html`<p class="muted job-mail-held">Job e-mails start once your address is confirmed; the notices here come meanwhile.</p>` : ''}
    ${EMAIL_CHOICES.map(
      ([value, label]) =>
        html`<label class="choice"><input type="radio" name="email" value="${value}"${value === choice ? html` checked` : ''}> ${label}</label>`,
    )}
  </fieldset>
  <p>Plan: <strong>${v.plan}</strong> · <a href="/subscribe">${v.plan === 'premium' ? 'manage' : 'upgrade'}</a></p>
  <button type="submit">Save</button>
</form>
${o.hasPassword ? changePasswordSection(v) : ''}
${o.sessions ? sessionsSection(v, o.sessions) : ''}
${deleteAccountSection()}`,
  });
}

/**
 * Where the account is signed in: each browser session, when it began and was last active (activity
 * is written back every few minutes, not on each request), and a button that signs out the others,
 * for a browser left signed in somewhere or a sign-in the owner does not recognise.
 */
function sessionsSection(v: Viewer, sessions: Array<Pick<Session, 'createdAt' | 'lastSeenAt'> & { current: boolean }>): Html {
  const others = sessions.filter((s) => !s.current).length;
  const iso = (ms: number) => new Date(ms).toISOString();
  return html`<section class="card narrow sessions" id="sessions">
<h2>Where you are signed in</h2>
<ul class="session-list">
${sessions.map(
  (s) =>
    html`<li>${s.current ? html`<strong>This browser</strong>` : 'Another browser'}: signed in ${formatTime(iso(s.createdAt))}, last active ${formatTime(iso(s.lastSeenAt))}</li>`,
)}
</ul>
${
  others > 0
    ? html`<form method="post" action="/profile/sessions/end-others">
  <input type="hidden" name="_csrf" value="${v.csrfToken}">
  <button type="submit" class="secondary">Sign out the other ${others === 1 ? 'browser' : `${others} browsers`}</button>
</form>`
    : html`<p class="muted small">No other browser is signed in.</p>`
}
<p class="muted small">API tokens are not sessions: they keep working until you revoke them on <a href="/tokens">API tokens</a>.</p>
</section>`;
}

export function tokensPage(o: {
  viewer: Viewer;
  tokens: ApiTokenInfo[];
  created?: { name: string; token: string } | null;
  error?: string | null;
  notice?: string | null;
}): Html {
  const v = o.viewer;
  return page({
    title: 'API tokens',
    viewer: v,
    nav: 'tokens',
    notice: o.notice,
    body: html`<h1>API tokens</h1>
<p>Tokens let scripts, pipelines and load tests use the <a href="/api/docs">JSON API</a> as you: send <code>Authorization: Bearer &lt;token&gt;</code>.</p>
${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
${
  o.created
    ? html`<div class="callout token-once"><p><strong>Your new token “${o.created.name}”.</strong> Copy it now: it is not shown again.</p><p><code class="secret">${o.created.token}</code></p></div>`
    : ''
}
<form class="card inline-form" method="post" action="/tokens">
  <input type="hidden" name="_csrf" value="${v.csrfToken}">
  <label>Name <input name="name" maxlength="60" placeholder="e.g. pipeline on cluster" required></label>
  <button type="submit">Create token</button>
</form>
${
  o.tokens.length === 0
    ? html`<p class="empty">You have no API tokens.</p>`
    : html`<div class="table-wrap"><table class="tokens"><thead><tr><th>Name</th><th>Starts with</th><th>Created</th><th></th></tr></thead><tbody>
${o.tokens.map(
  (t) => html`<tr><td>${t.name}</td><td><code>${t.prefix}…</code></td><td>${formatTime(t.createdAt)}</td><td>
<form method="post" action="/tokens/${t.tokenId}/revoke" class="inline"><input type="hidden" name="_csrf" value="${v.csrfToken}"><button type="submit" class="danger small">Revoke</button></form></td></tr>`,
)}
</tbody></table></div>`
}`,
  });
}
