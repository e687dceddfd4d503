// What Kubernetes says about the annotator, for the admin page: its Deployment's replicas, its
// HorizontalPodAutoscaler (autoscaling/v2) and its pods. Read-only: the chart's Role lets the
// gateway get, list and watch those three kinds in its own namespace and nothing else. Every call
// has a short timeout; the admin page caches the answer (admin-state.ts).
import { existsSync } from 'node:fs';
import { ApiException, AppsV1Api, AutoscalingV2Api, CoreV1Api, KubeConfig, Observable } from '@kubernetes/client-node';
import type {
  ConfigurationOptions,
  RequestContext,
  ResponseContext,
  V1Deployment,
  V1Pod,
  V2HorizontalPodAutoscaler,
  V2MetricSpec,
  V2MetricStatus,
} from '@kubernetes/client-node';

/** Where a pod finds its service account's token (mounted only with automountServiceAccountToken). */
const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export const NOT_IN_KUBERNETES = 'not running in Kubernetes: replica and pod figures are not available';

export interface KubeSettings {
  /** GATEWAY_KUBECONFIG: a kubeconfig file, for running outside a cluster. */
  kubeconfig?: string;
  /** Whether the process runs in a pod (KUBERNETES_SERVICE_HOST is set). */
  inCluster: boolean;
  /** GATEWAY_K8S_NAMESPACE; else the kubeconfig context's (in a pod: the service account's), else `default`. */
  namespace?: string;
  deployment: string;
  hpa: string;
  /** Per API call. */
  timeoutMs: number;
}

/** One part of the answer: its figures, or what went wrong reading it. */
export type Part<T> = { ok: true; value: T } | { ok: false; error: string };

export interface DeploymentFigures {
  name: string;
  /** spec.replicas: what the Deployment (or the autoscaler through it) asks for. */
  desired: number;
  /** status.replicas: pods that exist now, old and new. */
  current: number;
  ready: number;
  updated: number;
  available: number;
}

export interface HpaMetric {
  /** e.g. `external gas_job_queue_depth`, `resource cpu`. */
  name: string;
  current: string | null;
  target: string;
}

export interface HpaFigures {
  name: string;
  minReplicas: number;
  maxReplicas: number;
  currentReplicas: number;
  desiredReplicas: number;
  lastScaleTime: string | null;
  metrics: HpaMetric[];
  conditions: Array<{ type: string; status: string; reason: string; message: string }>;
}

export interface PodFigures {
  name: string;
  /** The pod's phase, or `Terminating` once it is being deleted (as kubectl says). */
  phase: string;
  /** Ready containers of all containers. */
  ready: number;
  containers: number;
  restarts: number;
  createdAt: string | null;
  node: string | null;
}

export type KubeSnapshot =
  | { available: false; reason: string }
  | {
      available: true;
      namespace: string;
      /** `in-cluster` (the pod's service account) or `kubeconfig` (GATEWAY_KUBECONFIG). */
      source: 'in-cluster' | 'kubeconfig';
      deployment: Part<DeploymentFigures>;
      /** null: there is no autoscaler of that name (autoscaling off). */
      hpa: Part<HpaFigures | null>;
      pods: Part<PodFigures[]>;
    };

export interface KubeReader {
  read(): Promise<KubeSnapshot>;
}

/**
 * A reader for the settings, or one that always says the page is outside Kubernetes when there is
 * neither a kubeconfig nor a pod's service account. A kubeconfig that cannot be loaded, or a pod
 * without a token, is said on the page rather than failing the gateway.
 */
export function kubeReader(s: KubeSettings): KubeReader {
  if (!s.kubeconfig && !s.inCluster) return { read: async () => ({ available: false, reason: NOT_IN_KUBERNETES }) };
  const kc = new KubeConfig();
  try {
    if (s.kubeconfig) kc.loadFromFile(s.kubeconfig);
    else if (existsSync(SERVICE_ACCOUNT_TOKEN)) kc.loadFromCluster();
    else throw new Error('no service account token is mounted in this pod (the chart mounts one into the gateway only)');
  } catch (err) {
    const reason = `Kubernetes could not be configured: ${(err as Error).message}`;
    return { read: async () => ({ available: false, reason }) };
  }
  const namespace = s.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const apps = kc.makeApiClient(AppsV1Api);
  const autoscaling = kc.makeApiClient(AutoscalingV2Api);
  const core = kc.makeApiClient(CoreV1Api);
  const source = s.kubeconfig ? 'kubeconfig' : 'in-cluster';
  const seconds = `${s.timeoutMs / 1000} s`;

  /** Each call aborts after the timeout; the kubeconfig's own middleware (its credentials) stays first. */
  const withTimeout = (): ConfigurationOptions => ({
    middleware: [
      {
        pre: (ctx: RequestContext) => {
          ctx.setSignal(AbortSignal.timeout(s.timeoutMs));
          return new Observable(Promise.resolve(ctx));
        },
        post: (res: ResponseContext) => new Observable(Promise.resolve(res)),
      },
    ],
    middlewareMergeStrategy: 'append',
  });

  const part = async <T>(what: string, call: () => Promise<T>, notFound?: () => T): Promise<Part<T>> => {
    try {
      return { ok: true, value: await call() };
    } catch (err) {
      if (err instanceof ApiException && err.code === 404 && notFound) return { ok: true, value: notFound() };
      return { ok: false, error: `${what}: ${apiError(err, seconds)}` };
    }
  };

  return {
    async read() {
      const [deployment, hpa] = await Promise.all([
        part(`the Deployment ${s.deployment}`, async () => apps.readNamespacedDeployment({ name: s.deployment, namespace }, withTimeout())),
        part(
          `the HorizontalPodAutoscaler ${s.hpa}`,
          async () => hpaFigures(await autoscaling.readNamespacedHorizontalPodAutoscaler({ name: s.hpa, namespace }, withTimeout())),
          () => null,
        ),
      ]);
      const selector = deployment.ok ? labelSelector(deployment.value) : null;
      const pods: Part<PodFigures[]> = !deployment.ok
        ? { ok: false, error: 'the pods are found through the Deployment, which could not be read' }
        : !selector
          ? { ok: false, error: `the Deployment ${s.deployment} has no label selector to find its pods by` }
          : await part('the pods', async () =>
              (await core.listNamespacedPod({ namespace, labelSelector: selector }, withTimeout())).items.map(podFigures).sort(byName),
            );
      return {
        available: true,
        namespace,
        source,
        deployment: deployment.ok ? { ok: true, value: deploymentFigures(deployment.value) } : deployment,
        hpa,
        pods,
      };
    },
  };
}

const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);

/** What went wrong, in words: the API server's own message when it gave one. */
function apiError(err: unknown, timeout: string): string {
  if (err instanceof ApiException) {
    const message = statusMessage(err.body);
    const what = err.code === 403 ? 'forbidden' : err.code === 401 ? 'unauthorized' : err.code === 404 ? 'not found' : `HTTP ${err.code}`;
    return message ? `${what} (${message})` : what;
  }
  const e = err as { name?: string; code?: string; message?: string };
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return `the Kubernetes API did not answer within ${timeout}`;
  if (e.code) return `the Kubernetes API could not be reached (${e.code})`;
  return e.message ?? String(err);
}

/** The `message` of a Kubernetes Status body (a string of JSON or already parsed). */
function statusMessage(body: unknown): string {
  try {
    const status = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: unknown } | null;
    return typeof status?.message === 'string' ? status.message : '';
  } catch {
    return typeof body === 'string' ? body.slice(0, 300) : '';
  }
}

function labelSelector(d: V1Deployment): string | null {
  const labels = Object.entries(d.spec?.selector?.matchLabels ?? {});
  return labels.length > 0 ? labels.map(([k, v]) => `${k}=${v}`).join(',') : null;
}

function deploymentFigures(d: V1Deployment): DeploymentFigures {
  return {
    name: d.metadata?.name ?? '',
    desired: d.spec?.replicas ?? 1,
    current: d.status?.replicas ?? 0,
    ready: d.status?.readyReplicas ?? 0,
    updated: d.status?.updatedReplicas ?? 0,
    available: d.status?.availableReplicas ?? 0,
  };
}

const iso = (d: Date | string | undefined | null): string | null => (d ? new Date(d).toISOString() : null);

export function hpaFigures(h: V2HorizontalPodAutoscaler): HpaFigures {
  const current = h.status?.currentMetrics ?? [];
  return {
    name: h.metadata?.name ?? '',
    minReplicas: h.spec?.minReplicas ?? 1,
    maxReplicas: h.spec?.maxReplicas ?? 0,
    currentReplicas: h.status?.currentReplicas ?? 0,
    desiredReplicas: h.status?.desiredReplicas ?? 0,
    lastScaleTime: iso(h.status?.lastScaleTime),
    metrics: (h.spec?.metrics ?? []).map((m) => metricFigures(m, current)),
    conditions: (h.status?.conditions ?? []).map((c) => ({
      type: c.type,
      status: c.status,
      reason: c.reason ?? '',
      message: c.message ?? '',
    })),
  };
}

type Target = { type: string; value?: string; averageValue?: string; averageUtilization?: number };
type Current = { value?: string; averageValue?: string; averageUtilization?: number };

/** A metric the autoscaler follows: its target and, when the autoscaler could read it, its current value. */
function metricFigures(m: V2MetricSpec, current: V2MetricStatus[]): HpaMetric {
  let name: string;
  let target: Target | undefined;
  let now: Current | undefined;
  const kind = m.type.toLowerCase();
  if (m.external) {
    name = m.external.metric.name;
    target = m.external.target;
    now = current.find((c) => c.external?.metric.name === name)?.external?.current;
  } else if (m.pods) {
    name = m.pods.metric.name;
    target = m.pods.target;
    now = current.find((c) => c.pods?.metric.name === name)?.pods?.current;
  } else if (m.object) {
    name = m.object.metric.name;
    target = m.object.target;
    now = current.find((c) => c.object?.metric.name === name)?.object?.current;
  } else if (m.resource) {
    name = m.resource.name;
    target = m.resource.target;
    now = current.find((c) => c.resource?.name === name)?.resource?.current;
  } else if (m.containerResource) {
    name = `${m.containerResource.name} of ${m.containerResource.container}`;
    target = m.containerResource.target;
    now = current.find((c) => c.containerResource?.name === m.containerResource!.name)?.containerResource?.current;
  } else {
    return { name: kind, current: null, target: '' };
  }
  const t = target ?? { type: '' };
  const perPod = t.type === 'AverageValue' ? ' per pod' : '';
  const show = (v: Current | Target | undefined): string | null => {
    if (!v) return null;
    if (t.type === 'Utilization') return v.averageUtilization === undefined ? null : `${v.averageUtilization}%`;
    const q = t.type === 'AverageValue' ? v.averageValue : (v.value ?? v.averageValue);
    return q === undefined ? null : String(q);
  };
  return { name: `${kind} ${name}`, current: show(now), target: `${show(t) ?? '?'}${perPod}` };
}

function podFigures(p: V1Pod): PodFigures {
  const statuses = p.status?.containerStatuses ?? [];
  return {
    name: p.metadata?.name ?? '',
    phase: p.metadata?.deletionTimestamp ? 'Terminating' : (p.status?.phase ?? 'Unknown'),
    ready: statuses.filter((c) => c.ready).length,
    containers: p.spec?.containers.length ?? statuses.length,
    restarts: statuses.reduce((n, c) => n + c.restartCount, 0),
    createdAt: iso(p.metadata?.creationTimestamp),
    node: p.spec?.nodeName ?? null,
  };
}
