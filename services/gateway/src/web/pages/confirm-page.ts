import { html } from '../html.ts';
import type { Html } from '../html.ts';
import { page } from '../layout.ts';
import type { Viewer } from '../layout.ts';
import type { LinkOutcome } from '../../email-confirmation.ts';

/** What the page says for a link that cannot confirm, and its status. */
export const LINK_REFUSALS: Record<Exclude<LinkOutcome, 'valid' | 'confirmed' | 'already'>, { status: number; text: string }> = {
  invalid: {
    status: 400,
    text:
      'This confirmation link is not valid: it may be cut short or mistyped, or a newer link replaced it. ' +
      'Use the link in the newest e-mail, or send a new one from your profile.',
  },
  expired: { status: 400, text: 'This confirmation link has expired: a link works for 24 hours. Send a new one from your profile.' },
  'other-account': {
    status: 403,
    text:
      'This confirmation link belongs to another GAS account, not the one you are signed in with. ' +
      'Sign out, sign in with the account it was sent for, and open the link again.',
  },
};

/**
 * Opening a confirmation link: a GET changes nothing (mail scanners and link previews open links
 * too), so a valid link shows a button that posts it with the session's CSRF token.
 */
export function confirmEmailPage(o: { viewer: Viewer; email: string; token: string; outcome: LinkOutcome }): Html {
  const v = o.viewer;
  const body =
    o.outcome === 'valid'
      ? html`<p>Confirm that <strong>${o.email}</strong> is the address of your GAS account.</p>
<form class="card narrow" method="post" action="/confirm-email">
  <input type="hidden" name="_csrf" value="${v.csrfToken}">
  <input type="hidden" name="token" value="${o.token}">
  <button type="submit">Confirm my address</button>
</form>`
      : o.outcome === 'already' || o.outcome === 'confirmed'
        ? html`<p class="notice" role="status">Your e-mail address ${o.email} is confirmed.</p><p><a href="/profile">Your profile</a></p>`
        : html`<p class="error" role="alert">${LINK_REFUSALS[o.outcome].text}</p><p><a href="/profile">Your profile</a></p>`;
  return page({
    title: 'Confirm your e-mail address',
    viewer: v,
    nav: 'profile',
    body: html`<h1>Confirm your e-mail address</h1>\n${body}`,
  });
}
