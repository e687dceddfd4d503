// Deleting one's account from the web: the profile links here, and this page says what goes and
// asks for the password (or, for an account that signs in only through an identity provider, a
// fresh sign-in there first) with a form that posts the session's CSRF token. No script.
import { html } from '../html.ts';
import type { Html } from '../html.ts';
import { page } from '../layout.ts';
import type { Viewer } from '../layout.ts';
import { confirmAtProviderForm } from './provider-confirm-form.ts';

/** What the deletion would remove, as the page tells it. */
export interface AccountDeletionView {
  jobs: number;
  /** Jobs queued, running or being restored: while there are any, nothing can be deleted. */
  activeJobs: number;
  tokens: number;
  premium: boolean;
  /**
   * How the owner shows it is them: the password; for an account without one, signing in at the
   * identity provider again ('provider'), or, when the gateway has no provider configured any
   * more, the account's address typed in ('email').
   */
  proof: 'password' | 'provider' | 'email';
  /** With proof 'provider': its name, and whether this session has just confirmed there. */
  provider?: { name: string; confirmed: boolean };
  /** A deletion was started before and did not finish: this one finishes it. */
  unfinished: boolean;
}

/** The profile's way in. */
export function deleteAccountSection(): Html {
  return html`<section class="card narrow delete-account">
<h2>Delete your account</h2>
<p class="muted">Deletes your account and everything of it: your jobs with their files and results, your API tokens and your notices.</p>
<p><a class="button secondary" href="/account/delete">Delete your account…</a></p>
</section>`;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/**
 * Asks before deleting, or says why the account cannot be deleted now (jobs still active). `error`:
 * the last attempt's problem, shown above the form.
 */
export function deleteAccountPage(o: { viewer: Viewer; view: AccountDeletionView; error?: string | null }): Html {
  const v = o.view;
  const blocked = v.activeJobs > 0;
  const body = blocked
    ? html`${o.error ? html`<p class="error">${o.error}</p>` : ''}
<p class="error" role="alert">You have ${plural(v.activeJobs, 'job', 'jobs')} queued, running or being restored from cold storage. Your account can be deleted once ${v.activeJobs === 1 ? 'it finishes' : 'they finish'}; nothing has been deleted.</p>
<p><a class="button secondary" href="/jobs">Your jobs</a> <a class="button secondary" href="/profile">Back to your profile</a></p>`
    : html`${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
${v.unfinished ? html`<p class="callout warning">A deletion of your account was started and did not finish. Confirm again to finish it.</p>` : ''}
<p>Deleting your account deletes, for good:</p>
<ul class="deletes">
  <li>${plural(v.jobs, 'job', 'jobs')}, with the files you uploaded and all their results, archived copies included;</li>
  <li>${plural(v.tokens, 'API token', 'API tokens')}: scripts using ${v.tokens === 1 ? 'it' : 'them'} stop working;</li>
  <li>your notices, and the e-mails about your jobs stop;</li>
  <li>your sign-in: your e-mail address and ${v.proof === 'password' ? 'password' : 'the link to your identity provider'}. You are signed out everywhere.</li>
  ${v.premium ? html`<li>Your premium subscription is cancelled: nothing more is charged.</li>` : ''}
</ul>
<p>This cannot be undone: download anything you want to keep first. We send one last e-mail to say the account was deleted.</p>
${v.proof === 'provider' && !v.provider?.confirmed ? confirmAtProviderForm(o.viewer, { name: v.provider?.name ?? 'your identity provider', next: '/account/delete', cancel: '/profile' }) : deleteForm(o.viewer, v)}`;
  return page({
    title: 'Delete your account',
    viewer: o.viewer,
    nav: 'profile',
    body: html`<p class="crumbs"><a href="/profile">← Profile</a></p>
<h1>Delete your account?</h1>
${body}`,
  });
}

function deleteForm(viewer: Viewer, v: AccountDeletionView): Html {
  return html`<form class="card narrow delete-account" method="post" action="/account/delete">
  <input type="hidden" name="_csrf" value="${viewer.csrfToken}">
  ${
    v.proof === 'password'
      ? html`<label>Your password <input type="password" name="password" autocomplete="current-password" required></label>`
      : v.proof === 'provider'
        ? html`<p class="muted">You have just confirmed at ${v.provider?.name ?? 'your identity provider'} that it is you (valid for 5 minutes).</p>`
        : html`<p class="muted">You sign in through an identity provider and have no password here: type your account's e-mail address to confirm that it is you.</p>
  <label>Your e-mail address <input type="email" name="email" autocomplete="off" required></label>`
  }
  <button type="submit" class="danger">Delete my account and all its data</button>&nbsp;
  <a class="button secondary" href="/profile">Cancel</a>
</form>`;
}
