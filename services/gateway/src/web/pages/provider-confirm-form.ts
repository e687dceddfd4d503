// For an account without a password, the proof before a deletion (its own, or an admin's of another
// account) or a change of address is a fresh sign-in at the identity provider: this form starts it,
// and the provider's answer brings the browser back to `next`.
import { html } from '../html.ts';
import type { Html } from '../html.ts';
import type { Viewer } from '../layout.ts';

/** `then`: what the user comes back to do ("delete", the default; "change your address"). */
export function confirmAtProviderForm(viewer: Viewer, o: { name: string; next: string; cancel: string; then?: string }): Html {
  return html`<form class="card narrow delete-account" method="post" action="/signin/oidc/reauthenticate">
  <input type="hidden" name="_csrf" value="${viewer.csrfToken}">
  <input type="hidden" name="next" value="${o.next}">
  <p class="muted">You sign in through ${o.name} and have no password here. To confirm that it is you, sign in at ${o.name} again; you come back here to ${o.then ?? 'delete'}.</p>
  <button type="submit">Confirm at ${o.name}</button>&nbsp;
  <a class="button secondary" href="${o.cancel}">Cancel</a>
</form>`;
}
