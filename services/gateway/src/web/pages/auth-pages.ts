import { html } from '../html.ts';
import type { Html } from '../html.ts';
import { page } from '../layout.ts';
import { MIN_PASSWORD_LENGTH } from '../../identity/index.ts';

export function landingPage(o: { freeLimit: string; notice?: string | null }): Html {
  return page({
    title: 'Annotate your VCF',
    notice: o.notice,
    body: html`<section class="hero">
  <h1>Annotate a VCF in minutes</h1>
  <p>Upload a VCF (GRCh37 or GRCh38) and GAS adds genes and transcripts, region classes, coding consequences with HGVS, and dbSNP rsIDs to every variant. Watch it run, read the summary, download the annotated VCF and a table.</p>
  <p><a class="button" href="/signup">Create a free account</a> <a class="button secondary" href="/signin">Sign in</a></p>
  <p class="muted">Free accounts annotate files up to ${o.freeLimit}; premium accounts annotate larger files.</p>
</section>`,
  });
}

interface AuthForm {
  error?: string | null;
  /** A line above the form (e.g. after a sign-up). */
  notice?: string | null;
  email?: string;
  next?: string;
  oidc?: { name: string } | null;
  /** A CSRF token for the signed-out forms (double-submit cookie). */
  formToken: string;
}

export function signInPage(o: AuthForm): Html {
  return page({
    title: 'Sign in',
    notice: o.notice,
    body: html`<section class="card narrow">
  <h1>Sign in</h1>
  ${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
  <form method="post" action="/signin">
    <input type="hidden" name="_csrf" value="${o.formToken}">
    <input type="hidden" name="next" value="${o.next ?? ''}">
    <label>E-mail <input type="email" name="email" value="${o.email ?? ''}" autocomplete="username" required></label>
    <label>Password <input type="password" name="password" autocomplete="current-password" required></label>
    <button type="submit">Sign in</button>
  </form>
  <p class="muted small"><a href="/password/forgot">Forgot your password?</a></p>
  ${o.oidc ? html`<p class="or">or</p><p><a class="button secondary wide" href="/signin/oidc${o.next ? html`?next=${encodeURIComponent(o.next)}` : ''}">Sign in with ${o.oidc.name}</a></p>` : ''}
  <p class="muted">No account yet? <a href="/signup">Sign up</a></p>
</section>`,
  });
}

export function signUpPage(o: AuthForm & { name?: string; institution?: string }): Html {
  return page({
    title: 'Sign up',
    body: html`<section class="card narrow">
  <h1>Create your account</h1>
  ${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
  <form method="post" action="/signup">
    <input type="hidden" name="_csrf" value="${o.formToken}">
    <label>Name <input name="name" value="${o.name ?? ''}" autocomplete="name" maxlength="200" required></label>
    <label>E-mail <input type="email" name="email" value="${o.email ?? ''}" autocomplete="username" maxlength="254" required></label>
    <label>Institution <span class="muted">(optional)</span> <input name="institution" value="${o.institution ?? ''}" autocomplete="organization" maxlength="200"></label>
    <label>Password <span class="muted">(at least ${MIN_PASSWORD_LENGTH} characters)</span> <input type="password" name="password" autocomplete="new-password" minlength="${MIN_PASSWORD_LENGTH}" required></label>
    <button type="submit">Create account</button>
  </form>
  ${o.oidc ? html`<p class="or">or</p><p><a class="button secondary wide" href="/signin/oidc">Sign up with ${o.oidc.name}</a></p>` : ''}
  <p class="muted">Already have an account? <a href="/signin">Sign in</a></p>
</section>`,
  });
}
