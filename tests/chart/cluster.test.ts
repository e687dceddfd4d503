// The chart on a real Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager and
// kube-scheduler (built from the Go module proxy by scripts/k8s-tools.sh), with fake nodes from kwok.
// `helm install` into a namespace that enforces the restricted Pod Security Standard must be
// accepted whole, the Deployments' pods must be created (no Pod Security violation) and run on the
// fake nodes, `helm upgrade` with a changed setting must roll the pods (the config checksum), and
// switching a running install over to the annotator autoscaler must not reset its replicas.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { repoRoot } from '@gas/testing';
import { startControlPlane } from './control-plane.ts';

const root = repoRoot();
const cp = await startControlPlane();
t.teardown(() => cp.stop());
const { api, until } = cp;
const helmRun = cp.helm;

interface Pod {
  metadata: { name: string; labels: Record<string, string> };
  spec: { nodeName?: string };
  status: { phase: string };
}

t.test('helm install into a namespace that enforces the restricted Pod Security Standard', async (t) => {
  const ns = await api('/api/v1/namespaces', {
    method: 'POST',
    body: {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'gas', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
    },
  });
  t.equal(ns.status, 201, 'a restricted namespace');
  // What the chart references and never holds: the gateway's Secret, the reference volume claim.
  await api('/api/v1/namespaces/gas/secrets', {
    method: 'POST',
    body: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'gas-gateway' },
      stringData: { GATEWAY_SECRET: randomBytes(32).toString('base64') },
    },
  });
  await api('/api/v1/namespaces/gas/persistentvolumeclaims', {
    method: 'POST',
    body: {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'gas-reference' },
      spec: { accessModes: ['ReadOnlyMany'], resources: { requests: { storage: '1Gi' } } },
    },
  });
  const out = helmRun(['install', 'gas', join(root, 'charts/gas'), '-n', 'gas']);
  t.match(out, /STATUS: deployed/, 'every object accepted');

  const pods = await until(
    'the pods of the five Deployments',
    async () => (await api<{ items: Pod[] }>('/api/v1/namespaces/gas/pods')).body.items,
    (items) => items.length >= 10,
  );
  t.equal(pods.length, 10, 'two pods for each of the five services');
  const events = (await api<{ items: Array<{ reason: string; message: string }> }>('/api/v1/namespaces/gas/events')).body.items;
  t.strictSame(
    events.filter((e) => /violates PodSecurity/.test(e.message)).map((e) => e.message),
    [],
    'no Pod Security violation',
  );
  // The annotator's pods wait for their volume claim (no storage here); the others run on the fake nodes.
  const running = await until(
    'pods running on the fake nodes',
    async () => (await api<{ items: Pod[] }>('/api/v1/namespaces/gas/pods')).body.items.filter((p) => p.status.phase === 'Running'),
    (items) => items.length >= 8,
  );
  t.ok(
    running.every((p) => p.spec.nodeName?.startsWith('fake-')),
    'scheduled on kwok nodes',
  );
});

t.test('helm upgrade with a changed setting rolls the pods', async (t) => {
  const replicaSets = async () =>
    (
      await api<{ items: Array<{ metadata: { name: string } }> }>(
        '/apis/apps/v1/namespaces/gas/replicasets?labelSelector=app.kubernetes.io/name%3Dgas-archive',
      )
    ).body.items;
  const before = await replicaSets();
  t.equal(before.length, 1);
  helmRun(['upgrade', 'gas', join(root, 'charts/gas'), '-n', 'gas', '--set', 'freeRetentionSeconds=60']);
  const after = await until('a new ReplicaSet for the archive service', replicaSets, (items) => items.length === 2);
  t.equal(after.length, 2, 'the changed checksum made a new ReplicaSet');
  const unchanged = (
    await api<{ items: unknown[] }>('/apis/apps/v1/namespaces/gas/replicasets?labelSelector=app.kubernetes.io/name%3Dgas-job')
  ).body.items;
  t.equal(unchanged.length, 1, 'a service whose settings did not change is not rolled');
});

t.test('switching the running install to the annotator autoscaler keeps its replicas, and so does a later upgrade', async (t) => {
  const annotatorReplicas = async () =>
    (await api<{ spec: { replicas: number } }>('/apis/apps/v1/namespaces/gas/deployments/gas-annotator')).body.spec.replicas;
  helmRun(['upgrade', 'gas', join(root, 'charts/gas'), '-n', 'gas', '--reuse-values', '--set', 'services.annotator.replicas=3']);
  t.equal(await annotatorReplicas(), 3, 'three annotators without an autoscaler');
  // No metric reaches this HPA (no adapter here), so it leaves the count where the upgrade puts it.
  const out = helmRun([
    'upgrade',
    'gas',
    join(root, 'charts/gas'),
    '-n',
    'gas',
    '--reuse-values',
    '--set',
    'autoscaling.annotator.mode=hpa,autoscaling.annotator.minReplicas=1,autoscaling.annotator.maxReplicas=10',
  ]);
  t.match(out, /STATUS: deployed/);
  t.equal((await api('/apis/autoscaling/v2/namespaces/gas/horizontalpodautoscalers/gas-annotator')).status, 200, 'the HPA is in place');
  t.equal(await annotatorReplicas(), 3, 'not dropped to one by the switch');
  helmRun(['upgrade', 'gas', join(root, 'charts/gas'), '-n', 'gas', '--reuse-values', '--set', 'freeRetentionSeconds=61']);
  t.equal(await annotatorReplicas(), 3, 'nor by a later upgrade');
});
