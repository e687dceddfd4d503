// The chart on a real Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager and
// kube-scheduler (built from the Go module proxy by scripts/k8s-tools.sh), with fake nodes from kwok.
// `helm install` into a namespace that enforces the restricted Pod Security Standard must be
// accepted whole, the Deployments' pods must be created (no Pod Security violation) and run on the
// fake nodes, and `helm upgrade` with a changed setting must roll the pods (the config checksum).
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, repoRoot } from '@gas/testing';

const root = repoRoot();
const tools = execFileSync('bash', [join(root, 'scripts/k8s-tools.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
const helm = execFileSync('bash', [join(root, 'scripts/helm.sh'), '--path'], { encoding: 'utf8' }).trim();
const dir = mkdtempSync(join(tmpdir(), 'gas-k8s-'));
const processes: ChildProcess[] = [];
let stopping = false;
t.teardown(async () => {
  stopping = true;
  for (const p of processes.reverse()) p.kill('SIGTERM');
  await sleep(500);
  rmSync(dir, { recursive: true, force: true });
});

function start(name: string, args: string[]): ChildProcess {
  const p = spawn(join(tools, name), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d) => (err = (err + String(d)).slice(-4000)));
  p.on('exit', (code) => {
    if (!stopping && code !== null && code !== 0) process.stderr.write(`${name} exited ${code}:\n${err}\n`);
  });
  processes.push(p);
  return p;
}

// etcd, then the API server with a token for the tests and a service-account key pair.
const etcdPort = await freePort();
const etcdPeer = await freePort();
start('etcd', [
  '--data-dir',
  join(dir, 'etcd'),
  '--listen-client-urls',
  `http://127.0.0.1:${etcdPort}`,
  '--advertise-client-urls',
  `http://127.0.0.1:${etcdPort}`,
  '--listen-peer-urls',
  `http://127.0.0.1:${etcdPeer}`,
  '--initial-advertise-peer-urls',
  `http://127.0.0.1:${etcdPeer}`,
  '--initial-cluster',
  `default=http://127.0.0.1:${etcdPeer}`,
]);
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs1', format: 'pem' }));
writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
const token = randomBytes(24).toString('hex');
writeFileSync(join(dir, 'tokens.csv'), `${token},admin,admin,system:masters\n`);
const apiPort = await freePort();
start('kube-apiserver', [
  `--etcd-servers=http://127.0.0.1:${etcdPort}`,
  '--bind-address=127.0.0.1',
  '--advertise-address=127.0.0.1',
  `--secure-port=${apiPort}`,
  `--cert-dir=${join(dir, 'certs')}`,
  '--service-account-issuer=https://kubernetes.default.svc',
  `--service-account-key-file=${join(dir, 'sa.pub')}`,
  `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
  '--service-cluster-ip-range=10.96.0.0/24',
  '--authorization-mode=RBAC',
  `--token-auth-file=${join(dir, 'tokens.csv')}`,
]);
const server = `https://127.0.0.1:${apiPort}`;
const kubeconfig = join(dir, 'kubeconfig');
writeFileSync(
  kubeconfig,
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'admin', user: { token } }],
    contexts: [{ name: 'test', context: { cluster: 'test', user: 'admin' } }],
    'current-context': 'test',
  }),
);

// The API server's certificate is its own, self-signed: this process talks to it without checking.
process.env['NODE_TLS_REJECT_UNAUTHORIZED'] = '0';
async function api<T = Record<string, unknown>>(
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; body: T }> {
  const res = await fetch(server + path, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as T };
}
async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined as T);
    if (v !== undefined && ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)?.slice(0, 2000)}`);
    await sleep(500);
  }
}
await until(
  'the API server',
  async () => (await fetch(`${server}/readyz`, { headers: { authorization: `Bearer ${token}` } })).status,
  (s) => s === 200,
);

// Controllers (the ReplicaSet controller creates the pods; the token controller their
// ServiceAccounts' tokens), the scheduler, and kwok with two fake nodes.
const common = [`--kubeconfig=${kubeconfig}`, '--leader-elect=false'];
start('kube-controller-manager', [
  ...common,
  `--service-account-private-key-file=${join(dir, 'sa.key')}`,
  `--root-ca-file=${join(dir, 'certs', 'apiserver.crt')}`,
  '--use-service-account-credentials=false',
  '--bind-address=127.0.0.1',
  `--secure-port=${await freePort()}`,
]);
start('kube-scheduler', [...common, '--bind-address=127.0.0.1', `--secure-port=${await freePort()}`]);
const stages = readdirSync(join(tools, 'kwok-stages')).map((f) => `--config=${join(tools, 'kwok-stages', f)}`);
start('kwok', [`--kubeconfig=${kubeconfig}`, '--manage-all-nodes=true', `--server-address=127.0.0.1:${await freePort()}`, ...stages]);
for (const [i, zone] of ['a', 'b'].entries()) {
  await api('/api/v1/nodes', {
    method: 'POST',
    body: {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: `fake-${i}`,
        labels: { 'kubernetes.io/hostname': `fake-${i}`, 'topology.kubernetes.io/zone': `zone-${zone}`, type: 'kwok' },
        annotations: { 'kwok.x-k8s.io/node': 'fake' },
      },
      status: { allocatable: { cpu: '32', memory: '256Gi', pods: '110' }, capacity: { cpu: '32', memory: '256Gi', pods: '110' } },
    },
  });
}

function helmRun(args: string[]): string {
  return execFileSync(helm, [...args, '--kubeconfig', kubeconfig], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

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
