import { html } from '../html.ts';
import type { Html } from '../html.ts';
import { page } from '../layout.ts';
import type { Viewer } from '../layout.ts';
import { formatBytes } from './job-status.ts';
import { durationWords } from '../../time-words.ts';

export function subscribePage(o: {
  viewer: Viewer;
  freeLimit: number;
  cap: number;
  /** How long free users' annotated files stay hot before they move to cold storage. */
  retentionSeconds: number;
  provider: 'builtin' | 'stripe';
  notice?: string | null;
  error?: string | null;
}): Html {
  const v = o.viewer;
  const premium = v.plan === 'premium';
  return page({
    title: premium ? 'Your premium plan' : 'Upgrade to premium',
    viewer: v,
    nav: 'plan',
    notice: o.notice,
    body: html`<h1>${premium ? 'You are on premium' : 'Upgrade to premium'}</h1>
${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
<div class="plans">
  <section class="card plan${premium ? '' : ' current'}">
    <h2>Free</h2>
    <ul><li>Inputs up to ${formatBytes(o.freeLimit)}</li><li>Every annotation: genes, consequences, rsIDs</li><li>Results kept for ${durationWords(o.retentionSeconds)}, then moved to cold storage</li></ul>
    ${premium ? '' : html`<p class="muted">Your current plan.</p>`}
  </section>
  <section class="card plan${premium ? ' current' : ''}">
    <h2>Premium</h2>
    <ul><li>Inputs up to ${formatBytes(o.cap)}</li><li>Everything in free</li><li>Results kept hot, and archived ones brought back when you upgrade</li></ul>
    ${
      premium
        ? html`<form method="post" action="/subscribe/cancel"><input type="hidden" name="_csrf" value="${v.csrfToken}"><button type="submit" class="danger">Cancel premium</button></form>
<p class="muted small">Jobs you submit after cancelling use the free plan's limits.</p>`
        : html`<form method="post" action="/subscribe"><input type="hidden" name="_csrf" value="${v.csrfToken}"><button type="submit">Upgrade</button></form>
<p class="muted small">${o.provider === 'stripe' ? 'You pay on Stripe’s secure checkout page.' : 'Local stack: no payment is taken.'}</p>`
    }
  </section>
</div>`,
  });
}

export function builtinCheckoutPage(o: { viewer: Viewer; token: string }): Html {
  return page({
    title: 'Confirm upgrade',
    viewer: o.viewer,
    nav: 'plan',
    body: html`<section class="card narrow">
<h1>Confirm your upgrade</h1>
<p>This GAS runs with the built-in billing provider (a local or test installation): confirming upgrades your account to premium without a payment.</p>
<form method="post" action="/billing/builtin/checkout">
  <input type="hidden" name="_csrf" value="${o.viewer.csrfToken}">
  <input type="hidden" name="token" value="${o.token}">
  <button type="submit">Confirm upgrade</button> <a href="/subscribe">Cancel</a>
</form>
</section>`,
  });
}
