// A forgotten password (ask for a link, then choose a new password on the page it opens) and the
// profile's "Change your password". No script: plain forms, each with its CSRF token.
import { html } from '../html.ts';
import type { Html } from '../html.ts';
import { page } from '../layout.ts';
import type { Viewer } from '../layout.ts';
import { MIN_PASSWORD_LENGTH } from '../../identity/index.ts';
import type { ResetLinkOutcome } from '../../password-reset.ts';

/** The answer to every well-formed request, whether or not the address has an account: it tells nobody who does. */
export const RESET_LINK_ASKED =
  'If GAS has an account with a password for this address, a link to set a new password is on its way there; it works for one hour. ' +
  'Check your mailbox (and its spam folder). An account that signs in through an identity provider has no password here: sign in there.';

const newPasswordFields = (label: string) =>
  html`<label>${label} <span class="muted">(at least ${MIN_PASSWORD_LENGTH} characters)</span> <input type="password" name="password" autocomplete="new-password" minlength="${MIN_PASSWORD_LENGTH}" required></label>
    <label>The same again <input type="password" name="repeat" autocomplete="new-password" minlength="${MIN_PASSWORD_LENGTH}" required></label>`;

export function forgotPasswordPage(o: { formToken: string; email?: string; error?: string | null; notice?: string | null }): Html {
  return page({
    title: 'Forgot your password?',
    notice: o.notice,
    body: html`<section class="card narrow">
  <h1>Forgot your password?</h1>
  ${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
  <p class="muted">Enter the address of your account and we e-mail you a link to choose a new password.</p>
  <form method="post" action="/password/forgot">
    <input type="hidden" name="_csrf" value="${o.formToken}">
    <label>E-mail <input type="email" name="email" value="${o.email ?? ''}" autocomplete="username" maxlength="254" required></label>
    <button type="submit">Send me a link</button>
  </form>
  <p class="muted"><a href="/signin">Back to sign in</a></p>
</section>`,
  });
}

/** What the page says for a link that cannot be used. */
export const RESET_LINK_REFUSALS: Record<Exclude<ResetLinkOutcome, 'valid'>, string> = {
  invalid:
    'This link is not valid: it may be cut short or mistyped, it was used already, or a newer link replaced it. Ask for a new one below.',
  expired: 'This link has expired: a link works for one hour. Ask for a new one below.',
};

/**
 * Opening the mailed link: a GET changes nothing (mail scanners and link previews open links too),
 * the form posts the token with the new password.
 */
export function resetPasswordPage(o: { formToken: string; token: string; outcome: ResetLinkOutcome; error?: string | null }): Html {
  const body =
    o.outcome === 'valid'
      ? html`${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
  <form method="post" action="/password/reset">
    <input type="hidden" name="_csrf" value="${o.formToken}">
    <input type="hidden" name="token" value="${o.token}">
    ${newPasswordFields('New password')}
    <button type="submit">Set the new password</button>
  </form>
  <p class="muted">Every session of the account is signed out when the password changes; your API tokens keep working.</p>`
      : html`<p class="error" role="alert">${RESET_LINK_REFUSALS[o.outcome]}</p>
  <p><a class="button secondary" href="/password/forgot">Send me a new link</a></p>`;
  return page({
    title: 'Choose a new password',
    body: html`<section class="card narrow">
  <h1>Choose a new password</h1>
  ${body}
</section>`,
  });
}

/** The profile's section: only for an account with a password (one that signs in through a provider has none to change). */
export function changePasswordSection(v: Viewer): Html {
  return html`<section class="card narrow change-password" id="password">
<h2>Change your password</h2>
<form method="post" action="/profile/password">
  <input type="hidden" name="_csrf" value="${v.csrfToken}">
  <label>Current password <input type="password" name="current" autocomplete="current-password" required></label>
  ${newPasswordFields('New password')}
  <button type="submit">Change the password</button>
</form>
<p class="muted small">Your other sessions are signed out; this one and your API tokens keep working. We e-mail you that the password changed.</p>
</section>`;
}
