// The admin's side of deleting an account on its owner's request (a user who lost both password and
// mailbox, or asked by e-mail to be erased): the "Accounts" section of /admin looks an account up
// by address, the lookup's page shows what the account holds, and the confirmation page says what
// goes and asks for the address again and the admin's own proof: their password, or for an admin
// without one, a fresh sign-in at the identity provider. The address travels only in
// form posts, never in a URL, so it stays out of access logs and browser history. No script.
import { html } from '../html.ts';
import type { Html } from '../html.ts';
import { page } from '../layout.ts';
import type { Viewer } from '../layout.ts';
import { confirmAtProviderForm } from './provider-confirm-form.ts';
import { formatTime } from './job-status.ts';

/** What the admin sees of an account. */
export interface AccountFacts {
  userId: string;
  /** Null when the job service has no record of it any more (a deletion stopped after its step d). */
  plan: 'free' | 'premium' | null;
  /** Premium bought through the billing provider: the deletion cancels it there. */
  subscription: boolean;
  /** A password, or (an account without one) its identity provider; none once an unfinished deletion removed them. */
  signIn: 'password' | 'provider' | 'none';
  /** When the address was confirmed, or null. */
  confirmedAt: string | null;
  createdAt: string;
  jobs: number;
  /** Queued, running or being restored: while there are any, the account cannot be deleted. */
  activeJobs: number;
  tokens: number;
  /** A deletion was started and did not finish; deleting finishes it. */
  unfinished: boolean;
  /** The admin's own account: not deleted here (the owner's page asks for the owner's proof). */
  own: boolean;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** The section of /admin: look an account up by its address. */
export function accountsSection(viewer: Viewer): Html {
  return html`<section class="card admin-accounts" aria-labelledby="admin-accounts-h">
<h2 id="admin-accounts-h">Accounts</h2>
<p class="muted small">To delete an account on its owner's request, look it up by its e-mail address.</p>
${lookupForm(viewer)}
</section>`;
}

function lookupForm(viewer: Viewer, email = ''): Html {
  return html`<form class="account-lookup" method="post" action="/admin/accounts">
  <input type="hidden" name="_csrf" value="${viewer.csrfToken}">
  <label>E-mail address <input type="email" name="email" value="${email}" autocomplete="off" required></label>
  <button type="submit">Look up</button>
</form>`;
}

function factsList(f: AccountFacts): Html {
  const plan = f.plan === null ? 'no account record (deleted)' : f.plan + (f.subscription ? ' (subscription)' : '');
  // The user id is too long for a cell of the grid: it gets a line of its own.
  return html`<p>User id <code data-fact="user-id">${f.userId}</code></p>
<dl class="facts account-facts">
  <div><dt>Plan</dt><dd data-fact="plan">${plan}</dd></div>
  <div><dt>Signs in with</dt><dd data-fact="sign-in">${f.signIn === 'password' ? 'password' : f.signIn === 'provider' ? 'identity provider (no password)' : 'nothing (removed by the unfinished deletion)'}</dd></div>
  <div><dt>Address</dt><dd data-fact="confirmed">${f.confirmedAt ? html`confirmed ${formatTime(f.confirmedAt)}` : 'not confirmed'}</dd></div>
  <div><dt>Created</dt><dd data-fact="created">${formatTime(f.createdAt)}</dd></div>
  <div><dt>Jobs</dt><dd data-fact="jobs">${f.jobs}</dd></div>
  <div><dt>Active jobs</dt><dd data-fact="active-jobs">${f.activeJobs}</dd></div>
  <div><dt>API tokens</dt><dd data-fact="tokens">${f.tokens}</dd></div>
  <div><dt>Unfinished deletion</dt><dd data-fact="unfinished">${f.unfinished ? 'yes' : 'no'}</dd></div>
</dl>`;
}

const ownAccount = html`<p class="callout warning own-account">This is your own account. Delete it yourself at <a href="/account/delete">Delete your account</a>, which asks for your own proof.</p>`;

function adminPageOf(viewer: Viewer, title: string, body: Html): Html {
  return page({ title, viewer, nav: 'admin', body: html`<p class="crumbs"><a href="/admin">← Admin</a></p>\n${body}` });
}

/** The lookup's answer: the account's facts and the way to its deletion, or that there is none. */
export function accountLookupPage(o: { viewer: Viewer; email: string; facts: AccountFacts | null }): Html {
  const f = o.facts;
  const body = !f
    ? html`<h1>No account</h1>
<p class="callout error" role="alert">There is no account with that address. (Operator-token users of GATEWAY_API_TOKENS have no sign-in here: remove them from that setting.)</p>`
    : html`<h1>Account</h1>
<p class="muted">The account that signs in with <strong>${o.email}</strong>.</p>
<section class="card">
${factsList(f)}
</section>
${f.unfinished ? html`<p class="callout warning">A deletion of this account was started and did not finish. Deleting it here finishes it.</p>` : ''}
${f.own ? ownAccount : html`<p><a class="button secondary" href="/admin/accounts/${f.userId}/delete">Delete this account…</a></p>`}`;
  return adminPageOf(
    o.viewer,
    'Account',
    html`${body}
<h2>Look up another</h2>
${lookupForm(o.viewer)}`,
  );
}

/** Why the admin cannot delete this account here, when they cannot. */
export type AdminDeletionBar = 'own-account' | 'no-admin-password' | null;

/**
 * How the admin shows it is them: their password, or, for an admin without one, a fresh sign-in at
 * the identity provider (`confirmed` once done, for 5 minutes, in this session).
 */
export type AdminProof = { kind: 'password' } | { kind: 'provider'; name: string; confirmed: boolean };

/**
 * Asks before deleting: what goes, the account's address typed again, the admin's own proof.
 * `error`: the last attempt's problem, shown above the form.
 */
export function adminDeleteAccountPage(o: {
  viewer: Viewer;
  facts: AccountFacts;
  bar: AdminDeletionBar;
  proof: AdminProof;
  error?: string | null;
}): Html {
  const f = o.facts;
  const error = o.error ? html`<p class="error" role="alert">${o.error}</p>` : '';
  let body: Html;
  if (o.bar === 'own-account') body = ownAccount;
  else if (o.bar === 'no-admin-password')
    body = html`<p class="callout warning no-admin-password">Your account has no password here, and this site has no identity provider to confirm at. Deleting an account needs an admin's password: use an admin account that has one.</p>`;
  else if (f.activeJobs > 0)
    body = html`${error}<p class="error" role="alert">This account has ${plural(f.activeJobs, 'job', 'jobs')} queued, running or being restored from cold storage. It can be deleted once ${f.activeJobs === 1 ? 'it finishes' : 'they finish'}; nothing has been deleted.</p>`;
  else
    body = html`${error}
${f.unfinished ? html`<p class="callout warning">A deletion of this account was started and did not finish. Confirm again to finish it.</p>` : ''}
<p>Deleting the account deletes, for good:</p>
<ul class="deletes">
  <li>${plural(f.jobs, 'job', 'jobs')}, with the files uploaded for them and all their results, archived copies included;</li>
  <li>${plural(f.tokens, 'API token', 'API tokens')}: scripts using ${f.tokens === 1 ? 'it' : 'them'} stop working;</li>
  <li>its notices, and the e-mails about its jobs stop;</li>
  <li>${f.signIn === 'none' ? html`what is left of its sign-in: the address the unfinished deletion kept.` : html`its sign-in: the e-mail address and ${f.signIn === 'password' ? 'the password' : 'the link to its identity provider'}.`} Every session of it is signed out.</li>
  ${f.subscription ? html`<li>Its premium subscription is cancelled at the payment provider: nothing more is charged.</li>` : ''}
</ul>
<p>This cannot be undone. The owner gets one last e-mail at the address saying the account was deleted.</p>
${o.proof.kind === 'provider' && !o.proof.confirmed ? confirmAtProviderForm(o.viewer, { name: o.proof.name, next: `/admin/accounts/${f.userId}/delete`, cancel: '/admin' }) : deleteForm(o.viewer, f.userId, o.proof)}`;
  return adminPageOf(
    o.viewer,
    'Delete an account',
    html`<h1>Delete this account?</h1>
<section class="card">
${factsList(f)}
</section>
${body}`,
  );
}

function deleteForm(viewer: Viewer, userId: string, proof: AdminProof): Html {
  return html`<form class="card narrow delete-account" method="post" action="/admin/accounts/${userId}/delete">
  <input type="hidden" name="_csrf" value="${viewer.csrfToken}">
  <label>The account's e-mail address, typed again <input type="email" name="email" autocomplete="off" required></label>
  ${
    proof.kind === 'password'
      ? html`<label>Your own password <input type="password" name="password" autocomplete="current-password" required></label>`
      : html`<p class="muted">You have just confirmed at ${proof.name} that it is you (valid for 5 minutes).</p>`
  }
  <button type="submit" class="danger">Delete this account and all its data</button>&nbsp;
  <a class="button secondary" href="/admin">Cancel</a>
</form>`;
}

/** After the deletion: what went. */
export function accountDeletedPage(o: {
  viewer: Viewer;
  userId: string;
  jobsDeleted: number;
  tokensRevoked: number;
  sessionsEnded: number;
}): Html {
  return adminPageOf(
    o.viewer,
    'Account deleted',
    html`<h1>Account deleted</h1>
<p class="notice" role="status">The account ${o.userId} and its data were deleted: ${plural(o.jobsDeleted, 'job', 'jobs')}, ${plural(o.tokensRevoked, 'API token', 'API tokens')} revoked, ${plural(o.sessionsEnded, 'session', 'sessions')} signed out.</p>
<p><a class="button secondary" href="/admin">Back to the admin page</a></p>`,
  );
}
