import { html } from '../html.ts';
import type { Html } from '../html.ts';
import { page } from '../layout.ts';
import type { Viewer } from '../layout.ts';
import type { ChangeLinkOutcome, UndoLinkOutcome } from '../../email-change.ts';
import { formatTime } from './job-status.ts';
import { confirmAtProviderForm } from './provider-confirm-form.ts';

/** What the link page says for a link that cannot change the address, and its status. */
export const CHANGE_LINK_REFUSALS: Record<
  Exclude<ChangeLinkOutcome['outcome'], 'valid' | 'changed' | 'already'>,
  { status: number; text: string }
> = {
  invalid: {
    status: 400,
    text:
      'This link is not valid: it may be cut short or mistyped, or a newer request replaced it. ' +
      'Use the link in the newest e-mail, or ask again from your profile.',
  },
  expired: { status: 400, text: 'This link has expired: a link works for 24 hours. Ask again from your profile.' },
  'other-account': {
    status: 403,
    text:
      'This link belongs to another GAS account, not the one you are signed in with. ' +
      'Sign out, sign in with the account that asked for the change, and open the link again.',
  },
  taken: {
    status: 409,
    text: 'Another account has this address now, so yours cannot move to it. Your address is unchanged.',
  },
};

/** How the owner proves it is them: the password, a fresh sign-in at the provider, or neither possible. */
export type ChangeProof = { kind: 'password' } | { kind: 'provider'; name: string; confirmed: boolean } | { kind: 'none' };

export function changeEmailPage(o: {
  viewer: Viewer;
  email: string;
  proof: ChangeProof;
  /** A change waiting for its link. */
  pending?: { newEmail: string; expiresAt: string } | null;
  /** What was typed, shown again after an error. */
  newEmail?: string;
  error?: string | null;
}): Html {
  const v = o.viewer;
  const pending = o.pending
    ? html`<div class="callout email-change-pending" role="status"><p>A link to move your account to <strong>${o.pending.newEmail}</strong> is on its way to that address
(unless another account has it). Open it while signed in; it works until ${formatTime(o.pending.expiresAt)}. Asking again replaces it.</p></div>`
    : '';
  const form =
    o.proof.kind === 'none'
      ? html`<p class="muted">This account has no password and no identity provider to confirm with, so its address cannot be changed here.</p>`
      : o.proof.kind === 'provider' && !o.proof.confirmed
        ? confirmAtProviderForm(v, { name: o.proof.name, next: '/profile/email', cancel: '/profile', then: 'change your address' })
        : html`<form class="card narrow" method="post" action="/profile/email">
  <input type="hidden" name="_csrf" value="${v.csrfToken}">
  <label>New e-mail address <input type="email" name="new_email" value="${o.newEmail ?? ''}" maxlength="254" autocomplete="email" required></label>
  ${
    o.proof.kind === 'password'
      ? html`<label>Your password <input type="password" name="password" autocomplete="current-password" required></label>`
      : html`<p class="muted">You confirmed at ${o.proof.name} that it is you.</p>`
  }
  <button type="submit">Send the link</button>&nbsp;<a class="button secondary" href="/profile">Cancel</a>
</form>`;
  return page({
    title: 'Change your e-mail address',
    viewer: v,
    nav: 'profile',
    body: html`<h1>Change your e-mail address</h1>
<p>Your address is <strong>${o.email}</strong>. GAS mails it about your jobs and account, and you sign in with it.</p>
<p>We e-mail a link to the new address; the account moves there when you open it while signed in, and we tell ${o.email} about it.
Until then nothing changes.</p>
${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
${pending}
${form}`,
  });
}

/**
 * Opening the link mailed to the new address: a GET changes nothing (mail scanners and link
 * previews open links too), so a valid link shows a button that posts it with the session's CSRF token.
 */
export function changeEmailLinkPage(o: { viewer: Viewer; email: string; token: string; link: ChangeLinkOutcome }): Html {
  const v = o.viewer;
  const l = o.link;
  const body =
    l.outcome === 'valid'
      ? html`<p>Move your GAS account from <strong>${o.email}</strong> to <strong>${l.newEmail}</strong>? You will sign in with the new address from now on.</p>
<form class="card narrow" method="post" action="/change-email">
  <input type="hidden" name="_csrf" value="${v.csrfToken}">
  <input type="hidden" name="token" value="${o.token}">
  <button type="submit">Change my address</button>&nbsp;<a class="button secondary" href="/profile">Cancel</a>
</form>`
      : l.outcome === 'changed' || l.outcome === 'already'
        ? html`<p class="notice" role="status">Your address is ${l.newEmail}.</p><p><a href="/profile">Your profile</a></p>`
        : html`<p class="error" role="alert">${CHANGE_LINK_REFUSALS[l.outcome].text}</p><p><a href="/profile">Your profile</a></p>`;
  return page({
    title: 'Change your e-mail address',
    viewer: v,
    nav: 'profile',
    body: html`<h1>Change your e-mail address</h1>\n${body}`,
  });
}

/** What the undo page says for a link that cannot take the account back, and its status. */
export const UNDO_LINK_REFUSALS: Record<
  Extract<UndoLinkOutcome['outcome'], 'expired' | 'invalid' | 'taken'>,
  { status: number; text: string }
> = {
  invalid: {
    status: 400,
    text:
      'This link is not valid: it may be cut short or mistyped, or the account it belonged to is gone. ' +
      'If your account was taken from you, tell the people who run this site.',
  },
  expired: {
    status: 400,
    text: 'This link has expired: it works for 7 days after the change. If your account was taken from you, tell the people who run this site.',
  },
  taken: {
    status: 409,
    text: 'Another account has your old address now, so the account cannot move back to it. Tell the people who run this site.',
  },
};

/**
 * The link mailed to the address an account left, for an owner who did not make the change. No
 * session needed (whoever changed the address may have signed the owner out): a GET changes
 * nothing, the button posts with the signed-out forms' token.
 */
export function undoEmailChangePage(o: { formToken: string; token: string; link: UndoLinkOutcome; error?: string | null }): Html {
  const l = o.link;
  let body: Html;
  if (l.outcome === 'valid') {
    body = html`${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
<p>The address of the GAS account that had <strong>${l.email}</strong> was changed to <strong>${l.from}</strong>.
If you did not do that, take the account back:</p>
<ul>
  <li>its address goes back to ${l.email};</li>
  <li>every browser signed in to it is signed out, and every API token of it is revoked;</li>
  <li>its password stops working, and we e-mail ${l.email} a link to set a new one.</li>
</ul>
<form method="post" action="/undo-email-change">
  <input type="hidden" name="_csrf" value="${o.formToken}">
  <input type="hidden" name="token" value="${o.token}">
  <button type="submit" class="danger">Take my account back</button>
</form>
<p class="muted">Then tell the people who run this site what happened.</p>`;
  } else if (l.outcome === 'undone' || l.outcome === 'already') {
    body = html`<p class="notice" role="status">The account is back at ${l.email}. Every browser was signed out and every API token revoked.</p>
${
  l.hadPassword
    ? html`<p>Its old password no longer works: we e-mailed ${l.email} a link to set a new one (it works for one hour; <a href="/password/forgot">ask for another</a>).</p>`
    : html`<p>Sign in as before, through your identity provider.</p>`
}
<p>Tell the people who run this site what happened.</p>`;
  } else {
    body = html`<p class="error" role="alert">${UNDO_LINK_REFUSALS[l.outcome].text}</p>`;
  }
  return page({
    title: 'Take your account back',
    body: html`<section class="card narrow undo-email-change">
  <h1>Take your account back</h1>
  ${body}
</section>`,
  });
}
