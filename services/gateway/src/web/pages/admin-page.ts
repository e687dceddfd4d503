// The admin page: the annotator work queue, the annotators announcing themselves, and what
// Kubernetes says about the annotator's Deployment, autoscaler and pods. Each part says on its own
// when it cannot be read. The page script (static/admin.js) fetches the page again every few
// seconds and swaps in the fresh figures (#admin-state). Below them, looking an account up
// (admin-accounts-page.ts).
import { html } from '../html.ts';
import type { Html } from '../html.ts';
import { page } from '../layout.ts';
import type { Viewer } from '../layout.ts';
import type { AdminState, QueueFigures } from '../../admin-state.ts';
import type { DeploymentFigures, HpaFigures, KubeSnapshot, Part, PodFigures } from '../../admin-kube.ts';
import { durationWords } from '../../time-words.ts';
import { accountsSection } from './admin-accounts-page.ts';

/** An age as kubectl prints it: 45s, 12m, 5h, 3d. */
export function shortAge(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

const ageAt = (iso: string | null, readAt: string) => (iso ? shortAge((Date.parse(readAt) - Date.parse(iso)) / 1000) : '–');

function failed(error: string): Html {
  return html`<p class="callout error" role="alert">${error}</p>`;
}

function queueSection(q: AdminState['queue']): Html {
  return html`<section class="card admin-queue" aria-labelledby="admin-queue-h">
<h2 id="admin-queue-h">Queue</h2>
${q.ok ? queueFigures(q.value) : failed(q.error)}
</section>`;
}

function queueFigures(q: QueueFigures): Html {
  return html`<dl class="stats">
  <div><dt>Queue depth</dt><dd data-figure="depth">${q.depth}</dd></div>
  <div><dt>Waiting</dt><dd data-figure="waiting">${q.waiting}</dd></div>
  <div><dt>Running</dt><dd data-figure="running">${q.running}</dd></div>
  <div><dt>Oldest waiting</dt><dd data-figure="oldest">${q.oldestWaitingSeconds === null ? 'none waiting' : durationWords(q.oldestWaitingSeconds)}</dd></div>
</dl>
<p class="muted small">Depth is what the annotator autoscaler follows: jobs waiting plus jobs running (delivered, not yet acknowledged).</p>
<h3>JetStream consumers</h3>
${
  q.consumers.length === 0
    ? html`<p class="empty">No consumers on the job stream.</p>`
    : html`<div class="table-wrap"><table class="consumers">
<thead><tr><th>Consumer</th><th>Pending</th><th>Ack pending</th><th>Redelivered</th><th>Waiting pulls</th><th>Last active</th></tr></thead>
<tbody>${q.consumers.map(
        (c) =>
          html`<tr data-consumer="${c.name}"><td>${c.name}</td><td>${c.pending}</td><td>${c.ackPending}</td><td>${c.redelivered}</td><td>${c.waitingPulls}</td><td class="when">${c.lastActive ? html`<time datetime="${c.lastActive}">${c.lastActive.slice(11, 19)} UTC</time>` : '–'}</td></tr>`,
      )}</tbody>
</table></div>`
}`;
}

function annotatorsSection(list: AdminState['annotators']): Html {
  return html`<section class="card admin-annotators" aria-labelledby="admin-annotators-h">
<h2 id="admin-annotators-h">Annotators announcing themselves</h2>
${
  list === null
    ? html`<p class="muted">This gateway does not listen for annotators.</p>`
    : list.length === 0
      ? html`<p class="callout warning">No annotator is announcing itself: queued jobs wait until one is back.</p>`
      : html`<div class="table-wrap"><table class="annotators">
<thead><tr><th>Annotator</th><th>Busy</th><th>Slots</th></tr></thead>
<tbody>${list.map((a) => html`<tr data-annotator="${a.id}"><td>${a.id}</td><td>${a.busy}</td><td>${a.slots}</td></tr>`)}</tbody>
</table></div>`
}
</section>`;
}

function deploymentPart(d: Part<DeploymentFigures>): Html {
  if (!d.ok) return failed(d.error);
  const v = d.value;
  return html`<h3>Deployment ${v.name}</h3>
<dl class="stats deployment">
  <div><dt>Desired</dt><dd data-figure="deployment-desired">${v.desired}</dd></div>
  <div><dt>Current</dt><dd data-figure="deployment-current">${v.current}</dd></div>
  <div><dt>Ready</dt><dd data-figure="deployment-ready">${v.ready}</dd></div>
  <div><dt>Up to date</dt><dd>${v.updated}</dd></div>
  <div><dt>Available</dt><dd>${v.available}</dd></div>
</dl>`;
}

function hpaPart(h: Part<HpaFigures | null>, readAt: string): Html {
  if (!h.ok) return failed(h.error);
  if (!h.value)
    return html`<h3>Autoscaler</h3><p class="muted hpa-none">No HorizontalPodAutoscaler of that name: the annotator's replicas are fixed.</p>`;
  const v = h.value;
  return html`<h3>HorizontalPodAutoscaler ${v.name}</h3>
<dl class="stats hpa">
  <div><dt>Current replicas</dt><dd data-figure="hpa-current">${v.currentReplicas}</dd></div>
  <div><dt>Desired replicas</dt><dd data-figure="hpa-desired">${v.desiredReplicas}</dd></div>
  <div><dt>Min</dt><dd data-figure="hpa-min">${v.minReplicas}</dd></div>
  <div><dt>Max</dt><dd data-figure="hpa-max">${v.maxReplicas}</dd></div>
  <div><dt>Last scaled</dt><dd>${v.lastScaleTime ? `${ageAt(v.lastScaleTime, readAt)} ago` : 'never'}</dd></div>
</dl>
${
  v.metrics.length > 0
    ? html`<h4>Metrics</h4>
<div class="table-wrap"><table class="hpa-metrics">
<thead><tr><th>Metric</th><th>Current</th><th>Target</th></tr></thead>
<tbody>${v.metrics.map((m) => html`<tr><td>${m.name}</td><td data-figure="metric-current">${m.current ?? html`<span class="muted">unknown</span>`}</td><td>${m.target}</td></tr>`)}</tbody>
</table></div>`
    : ''
}
${
  v.conditions.length > 0
    ? html`<h4>Conditions</h4>
<div class="table-wrap"><table class="hpa-conditions">
<thead><tr><th>Condition</th><th>Status</th><th>Reason</th><th>Message</th></tr></thead>
<tbody>${v.conditions.map((c) => html`<tr><td>${c.type}</td><td>${c.status}</td><td>${c.reason}</td><td>${c.message}</td></tr>`)}</tbody>
</table></div>`
    : html`<p class="muted small">The autoscaler has reported no conditions yet.</p>`
}`;
}

function podsPart(p: Part<PodFigures[]>, readAt: string, announcing: Set<string> | null): Html {
  if (!p.ok) return html`<h3>Pods</h3>${failed(p.error)}`;
  if (p.value.length === 0) return html`<h3>Pods</h3><p class="empty">No annotator pods.</p>`;
  // Annotators name themselves `<hostname>-<pid>`, and a pod's hostname is its name.
  const announces = (pod: string) => (announcing === null ? '–' : [...announcing].some((id) => id.startsWith(`${pod}-`)) ? 'yes' : 'no');
  return html`<h3>Pods</h3>
<div class="table-wrap"><table class="pods">
<thead><tr><th>Pod</th><th>Phase</th><th>Ready</th><th>Restarts</th><th>Age</th><th>Node</th><th>Announcing</th></tr></thead>
<tbody>${p.value.map(
    (pod) =>
      html`<tr data-pod="${pod.name}"><td>${pod.name}</td><td>${pod.phase}</td><td>${pod.ready}/${pod.containers}</td><td>${pod.restarts}</td><td>${ageAt(pod.createdAt, readAt)}</td><td>${pod.node ?? '–'}</td><td>${announces(pod.name)}</td></tr>`,
  )}</tbody>
</table></div>`;
}

function kubernetesSection(k: KubeSnapshot, readAt: string, annotators: AdminState['annotators']): Html {
  return html`<section class="card admin-kubernetes" aria-labelledby="admin-k8s-h">
<h2 id="admin-k8s-h">Kubernetes</h2>
${
  !k.available
    ? html`<p class="muted k8s-unavailable">${k.reason}</p>`
    : html`<p class="muted small">Namespace <strong>${k.namespace}</strong>, read through ${k.source === 'in-cluster' ? "the gateway's service account" : 'GATEWAY_KUBECONFIG'}.</p>
${deploymentPart(k.deployment)}
${hpaPart(k.hpa, readAt)}
${podsPart(k.pods, readAt, annotators ? new Set(annotators.map((a) => a.id)) : null)}`
}
</section>`;
}

/** The figures alone: the page's body, and what its script swaps in on each refresh. */
export function adminState(s: AdminState): Html {
  return html`<div id="admin-state" data-read-at="${s.readAt}">
<p class="muted small">Read at <time datetime="${s.readAt}">${s.readAt.slice(11, 19)} UTC</time>; refreshed every few seconds.</p>
${queueSection(s.queue)}
${annotatorsSection(s.annotators)}
${kubernetesSection(s.kubernetes, s.readAt, s.annotators)}
</div>`;
}

export function adminPage(o: { viewer: Viewer; state: AdminState }): Html {
  return page({
    title: 'Admin',
    viewer: o.viewer,
    nav: 'admin',
    scripts: ['admin.js'],
    // The accounts section stays outside #admin-state: the refresh would wipe an address being typed.
    body: html`<h1>Admin</h1>
${adminState(o.state)}
${accountsSection(o.viewer)}`,
  });
}
