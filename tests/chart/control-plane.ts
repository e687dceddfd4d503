// A real Kubernetes control plane on 127.0.0.1 for the tests that need one: etcd and kube-apiserver
// (built from the Go module proxy by scripts/k8s-tools.sh, cached per machine), with RBAC on, a token
// for the tests (system:masters) and a service-account key pair, so TokenRequest works; unless
// `workers: false`, also kube-controller-manager, kube-scheduler and kwok with two fake nodes, so
// Deployments get pods that "run". `stop()` ends every process it started (spawnTool's too) and
// removes its folder.
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, repoRoot } from '@gas/testing';

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  server: string;
  /** The tests' own token: system:masters. */
  token: string;
  /** A kubeconfig with that token (for helm and the controllers). */
  kubeconfig: string;
  /** The API server's certificate bundle (self-signed, with its CA): a client that checks TLS trusts this. */
  caFile: string;
  /** The folder holding the state, keys, certificates and kubeconfigs. */
  dir: string;
  /** Where the binaries are (scripts/k8s-tools.sh). */
  tools: string;
  /** helm (scripts/helm.sh) with `--kubeconfig`; its standard output. */
  helm: (args: string[]) => string;
  /** Starts another program (an adapter, Prometheus) that stops with the control plane. */
  spawnTool: (name: string, path: string, args: string[]) => ChildProcess;
  /** A call to the API server as `token` (the tests' by default); a body that is not JSON reads as {}. */
  api: <T = Record<string, unknown>>(
    path: string,
    init?: { method?: string; body?: unknown; token?: string; contentType?: string },
  ) => Promise<{ status: number; body: T }>;
  /** `probe` every half second until `ok` accepts its value; throws with the last value after the timeout. */
  until: <T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs?: number) => Promise<T>;
  stop: () => Promise<void>;
}

export interface ControlPlaneOptions {
  /** kube-controller-manager, kube-scheduler and kwok with two fake nodes (fake-0 in zone-a, fake-1 in zone-b); true unless false. */
  workers?: boolean;
  /** More kube-apiserver flags, made once the folder exists (certificates written into it). */
  apiServerArgs?: (dir: string) => string[];
  /** More kube-controller-manager flags. */
  controllerManagerArgs?: string[];
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const tools = execFileSync('bash', [join(repoRoot(), 'scripts/k8s-tools.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  const dir = mkdtempSync(join(tmpdir(), 'gas-k8s-'));
  const processes: ChildProcess[] = [];
  let stopping = false;

  const helmPath = execFileSync('bash', [join(repoRoot(), 'scripts/helm.sh'), '--path'], { encoding: 'utf8' }).trim();
  const spawnTool = (name: string, path: string, args: string[]): ChildProcess => {
    const p = spawn(path, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err = (err + String(d)).slice(-4000)));
    p.on('exit', (code) => {
      if (!stopping && code !== null && code !== 0) process.stderr.write(`${name} exited ${code}:\n${err}\n`);
    });
    processes.push(p);
    return p;
  };
  const start = (name: string, args: string[]) => spawnTool(name, join(tools, name), args);
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    for (const p of processes.reverse()) p.kill('SIGTERM');
    const running = processes.filter((p) => p.exitCode === null && p.signalCode === null);
    await Promise.all(running.map((p) => Promise.race([once(p), sleep(5000)])));
    // kube-apiserver, its etcd gone, can take a minute to give up, and a child still running keeps
    // this process alive: what is left after 5 s is killed (its state is a temp folder, thrown away).
    for (const p of processes) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };

  try {
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
      ...(opts.apiServerArgs?.(dir) ?? []),
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
    const api: ControlPlane['api'] = async (path, init = {}) => {
      const res = await fetch(server + path, {
        method: init.method ?? 'GET',
        headers: { authorization: `Bearer ${init.token ?? token}`, 'content-type': init.contentType ?? 'application/json' },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
      return { status: res.status, body: (await res.json().catch(() => ({}))) as never };
    };
    const until: ControlPlane['until'] = async (what, probe, ok, timeoutMs = 120_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = await probe().catch(() => undefined as never);
        if (v !== undefined && ok(v)) return v;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)?.slice(0, 2000)}`);
        await sleep(500);
      }
    };
    await until(
      'the API server',
      async () => (await fetch(`${server}/readyz`, { headers: { authorization: `Bearer ${token}` } })).status,
      (s) => s === 200,
    );

    if (opts.workers !== false) {
      // Controllers (the ReplicaSet controller creates the pods; the token controller their
      // ServiceAccounts' tokens), the scheduler, and kwok with two fake nodes.
      const common = [`--kubeconfig=${kubeconfig}`, '--leader-elect=false'];
      start('kube-controller-manager', [
        ...common,
        `--service-account-private-key-file=${join(dir, 'sa.key')}`,
        `--root-ca-file=${join(dir, 'certs', 'apiserver.crt')}`,
        '--use-service-account-credentials=false',
        '--bind-address=127.0.0.1',
        // No serving port: nothing here reads their health or metrics, and a port picked by freePort
        // can be taken by another process's outgoing connection before they bind it.
        '--secure-port=0',
        ...(opts.controllerManagerArgs ?? []),
      ]);
      start('kube-scheduler', [...common, '--bind-address=127.0.0.1', '--secure-port=0']);
      const stages = readdirSync(join(tools, 'kwok-stages')).map((f) => `--config=${join(tools, 'kwok-stages', f)}`);
      start('kwok', [`--kubeconfig=${kubeconfig}`, '--manage-all-nodes=true', ...stages]);
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
    }
    const helm = (args: string[]) =>
      execFileSync(helmPath, [...args, '--kubeconfig', kubeconfig], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { server, token, kubeconfig, caFile: join(dir, 'certs', 'apiserver.crt'), dir, tools, helm, spawnTool, api, until, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

const once = (p: ChildProcess) => new Promise<void>((resolve) => p.once('exit', () => resolve()));
