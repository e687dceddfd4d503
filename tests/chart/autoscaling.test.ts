// The annotator's HorizontalPodAutoscaler, as charts/gas renders it (autoscaling.annotator.mode:
// hpa), on the real control plane of the chart tests with the real metric path: the job service's
// /metrics (gas_job_queue_depth_jobs, read from JetStream) scraped by Prometheus, served as the
// external metric gas_annotator_queue_depth by prometheus-adapter with k8s/prometheus-adapter-config.yaml,
// registered with kube-apiserver as an aggregated API, read by kube-controller-manager's HPA
// controller. Prometheus and the adapter are built from the Go module proxy by
// scripts/autoscale-tools.sh. A burst of jobs with no annotator running must make the controller
// raise the annotator Deployment's replicas; annotators draining the queue must bring them back down.
// The gateway's CPU HPA must own its Deployment's replicas, and mode keda's ScaledObject must pass
// KEDA's own CRD schema (taken from the KEDA module; no KEDA operator runs here).
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { freePort, repoRoot, sharedDataPath, startGasStack } from '@gas/testing';
import { startControlPlane } from './control-plane.ts';

const root = repoRoot();
const tools = execFileSync('bash', [join(root, 'scripts/autoscale-tools.sh')], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
}).trim();
const FREE_1 = sharedDataPath('vcf/gas_anntools/free_1.vcf');
const BURST = 12;
const JOBS_PER_REPLICA = 2;

// The API server reaches an aggregated API through its Service's endpoints, and endpoints may not be
// loopback addresses: the adapter listens on this machine's own address.
const hostIp = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
if (!hostIp) throw new Error('the autoscaling test needs a non-loopback IPv4 address for the adapter endpoint');

/** The front proxy's CA and client certificate: kube-apiserver proves to the adapter whom it forwards. */
function frontProxyCerts(dir: string): { ca: string; cert: string; key: string } {
  const f = (name: string) => join(dir, name);
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=front-proxy-ca',
    '-keyout',
    f('fp-ca.key'),
    '-out',
    f('fp-ca.crt'),
  ]);
  openssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=front-proxy-client',
    '-keyout',
    f('fp-client.key'),
    '-out',
    f('fp-client.csr'),
  ]);
  writeFileSync(f('fp-client.ext'), 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n');
  openssl(
    ['x509', '-req', '-days', '1', '-in', f('fp-client.csr'), '-CA', f('fp-ca.crt'), '-CAkey', f('fp-ca.key'), '-CAcreateserial'].concat([
      '-extfile',
      f('fp-client.ext'),
      '-out',
      f('fp-client.crt'),
    ]),
  );
  return { ca: f('fp-ca.crt'), cert: f('fp-client.crt'), key: f('fp-client.key') };
}

const cp = await startControlPlane({
  apiServerArgs: (dir) => {
    const fp = frontProxyCerts(dir);
    return [
      `--requestheader-client-ca-file=${fp.ca}`,
      '--requestheader-allowed-names=front-proxy-client',
      '--requestheader-username-headers=X-Remote-User',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      `--proxy-client-cert-file=${fp.cert}`,
      `--proxy-client-key-file=${fp.key}`,
      // Straight to the endpoint: there is no kube-proxy to route a ClusterIP here.
      '--enable-aggregator-routing=true',
    ];
  },
  // The HPA controller reads the metric every second instead of every 15 s, so the test is short;
  // the scaling decisions follow the chart's behaviour all the same.
  controllerManagerArgs: ['--horizontal-pod-autoscaler-sync-period=1s'],
});
t.teardown(() => cp.stop());
const { api, until } = cp;

// The local stack without annotators: jobs submitted now wait in the queue.
const stack = await startGasStack({ store: 'filesystem', services: ['job', 'gateway'] });
t.teardown(() => stack.stop());
const jobOps = stack.services.job!.opsPort;

// Prometheus scrapes the job service every second, labelling the series with the namespace the
// Prometheus Operator would give it (the adapter's rules are namespace-aware).
const promPort = await freePort();
writeFileSync(
  join(cp.dir, 'prometheus.yml'),
  JSON.stringify({
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    scrape_configs: [
      { job_name: 'gas-job', static_configs: [{ targets: [`127.0.0.1:${jobOps}`], labels: { namespace: 'gas', service: 'gas-job' } }] },
    ],
  }),
);
cp.spawnTool('prometheus', join(tools, 'prometheus'), [
  `--config.file=${join(cp.dir, 'prometheus.yml')}`,
  `--storage.tsdb.path=${join(cp.dir, 'prometheus')}`,
  `--web.listen-address=127.0.0.1:${promPort}`,
]);
const promQuery = async (q: string) => {
  const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await res.json()) as { data: { result: Array<{ value: [number, string] }> } };
  return body.data.result.map((r) => Number(r.value[1]));
};
await until(
  'Prometheus scraping gas_job_queue_depth_jobs',
  () => promQuery('gas_job_queue_depth_jobs'),
  (v) => v.length === 1,
  60_000,
);

// prometheus-adapter with the repository's rules, reachable by the API server on this machine's address.
const adapterPort = await freePort();
cp.spawnTool('prometheus-adapter', join(tools, 'prometheus-adapter'), [
  `--secure-port=${adapterPort}`,
  `--bind-address=${hostIp}`,
  `--cert-dir=${join(cp.dir, 'adapter-certs')}`,
  `--lister-kubeconfig=${cp.kubeconfig}`,
  `--authentication-kubeconfig=${cp.kubeconfig}`,
  `--authorization-kubeconfig=${cp.kubeconfig}`,
  `--prometheus-url=http://127.0.0.1:${promPort}/`,
  '--metrics-relist-interval=5s',
  `--config=${join(root, 'k8s/prometheus-adapter-config.yaml')}`,
]);
await api('/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'monitoring' } } });
await api('/api/v1/namespaces/monitoring/services', {
  method: 'POST',
  body: {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'prometheus-adapter' },
    spec: { ports: [{ name: 'https', port: 443, targetPort: adapterPort }] },
  },
});
// Both forms of the endpoints, whichever the aggregator's resolver reads (the Endpoints object is
// not mirrored, so there is one slice).
await api('/api/v1/namespaces/monitoring/endpoints', {
  method: 'POST',
  body: {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'prometheus-adapter', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [{ addresses: [{ ip: hostIp }], ports: [{ name: 'https', port: adapterPort }] }],
  },
});
await api('/apis/discovery.k8s.io/v1/namespaces/monitoring/endpointslices', {
  method: 'POST',
  body: {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'prometheus-adapter', labels: { 'kubernetes.io/service-name': 'prometheus-adapter' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [hostIp], conditions: { ready: true } }],
    ports: [{ name: 'https', port: adapterPort, protocol: 'TCP' }],
  },
});
await api('/apis/apiregistration.k8s.io/v1/apiservices', {
  method: 'POST',
  body: {
    apiVersion: 'apiregistration.k8s.io/v1',
    kind: 'APIService',
    metadata: { name: 'v1beta1.external.metrics.k8s.io' },
    spec: {
      group: 'external.metrics.k8s.io',
      version: 'v1beta1',
      service: { namespace: 'monitoring', name: 'prometheus-adapter', port: 443 },
      // The adapter's certificate is self-signed, made at its start.
      insecureSkipTLSVerify: true,
      groupPriorityMinimum: 100,
      versionPriority: 100,
    },
  },
});

interface MetricList {
  items?: Array<{ metricName: string; value: string }>;
}
const externalDepth = async () => {
  const res = await api<MetricList>('/apis/external.metrics.k8s.io/v1beta1/namespaces/gas/gas_annotator_queue_depth');
  return res.status === 200 ? res.body.items?.map((i) => Number(i.value)) : undefined;
};

interface Hpa {
  spec: { minReplicas: number; maxReplicas: number };
  status?: {
    currentReplicas?: number;
    desiredReplicas?: number;
    currentMetrics?: Array<{ external?: { current: { averageValue?: string } } }>;
    conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
  };
}
const hpa = async () => (await api<Hpa>('/apis/autoscaling/v2/namespaces/gas/horizontalpodautoscalers/gas-annotator')).body;
const deploymentReplicas = async () =>
  (await api<{ spec: { replicas: number } }>('/apis/apps/v1/namespaces/gas/deployments/gas-annotator')).body.spec.replicas;

/** The replica curve, sampled every second until stopped: seconds since `t0`, queue depth, HPA desired, Deployment replicas. */
function recordCurve(t0: number) {
  const samples: Array<{ s: number; depth: number | undefined; desired: number | undefined; replicas: number }> = [];
  let on = true;
  const sample = async () => {
    const [depth, h, replicas] = await Promise.all([externalDepth().catch(() => undefined), hpa(), deploymentReplicas()]);
    samples.push({ s: Math.round((Date.now() - t0) / 100) / 10, depth: depth?.[0], desired: h.status?.desiredReplicas, replicas });
  };
  const done = (async () => {
    while (on) {
      await sample();
      await sleep(1000);
    }
  })();
  return {
    async stop() {
      on = false;
      await done;
      await sample();
      return samples;
    },
  };
}

t.test('the external metric is the queue depth read from the job service through Prometheus and the adapter', async (t) => {
  const depth = await until('the external metric API', externalDepth, (v) => v?.length === 1, 60_000);
  t.strictSame(depth, [0], 'an empty queue reads 0');
});

t.test('a burst raises the annotator Deployment’s replicas and the drain brings them back down', async (t) => {
  await api('/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'gas' } } });
  // The chart's HPA as rendered, with its scale-up behaviour; only scale-in is quickened for the test.
  const out = cp.helm([
    'install',
    'gas',
    join(root, 'charts/gas'),
    '-n',
    'gas',
    '-f',
    join(root, 'charts/gas/ci/hpa-values.yaml'),
    '--set',
    'autoscaling.annotator.minReplicas=1,autoscaling.annotator.maxReplicas=8',
    '--set',
    `autoscaling.annotator.jobsPerReplica=${JOBS_PER_REPLICA}`,
    '--set',
    'autoscaling.annotator.scaleDownStabilizationSeconds=5,autoscaling.annotator.scaleDownPercent=100',
    '--set',
    'networkPolicy.enabled=false',
  ]);
  t.match(out, /STATUS: deployed/);
  const settled = await until(
    'the HPA reading the metric at its minimum',
    hpa,
    (h) => h.status?.currentMetrics?.[0]?.external !== undefined && h.status.desiredReplicas === 1,
    60_000,
  );
  t.equal(settled.status?.desiredReplicas, 1, 'an empty queue keeps the minimum');
  t.equal(await deploymentReplicas(), 1);

  // The burst: BURST jobs and no annotator to take them.
  const user = stack.users[0]!;
  const ids: string[] = [];
  for (let i = 0; i < BURST; i++) {
    const res = await stack.submit(user, FREE_1, { genomeBuild: 'GRCh37' });
    t.equal(res.status, 201, `job ${i + 1} accepted`);
    ids.push(((await res.json()) as { id: string }).id);
  }
  const t0 = Date.now();
  const curve = recordCurve(t0);
  const want = Math.ceil(BURST / JOBS_PER_REPLICA);
  await until('the controller scaling the annotator out', deploymentReplicas, (r) => r > 1, 60_000);
  const firstScaleOut = (Date.now() - t0) / 1000;
  await until(`${want} annotators`, deploymentReplicas, (r) => r === want, 60_000);
  const full = (Date.now() - t0) / 1000;
  t.equal((await hpa()).status?.desiredReplicas, want, `desired = ceil(${BURST} jobs / ${JOBS_PER_REPLICA} per replica)`);

  // Drain: annotators on the local stack take the queue; the controller scales back in.
  const t1 = Date.now();
  await stack.startService('annotator');
  for (const id of ids) await stack.waitForJob(user, id, (j) => j.status === 'COMPLETED', 60_000);
  const drained = (Date.now() - t0) / 1000;
  await until('the controller scaling back in', deploymentReplicas, (r) => r === 1, 60_000);
  const back = (Date.now() - t1) / 1000;
  const samples = await curve.stop();
  t.equal((await hpa()).status?.desiredReplicas, 1, 'back to the minimum');

  // The replica curve, for docs/operations.md: each time the figures changed.
  const changes = samples.filter((x, i) => i === 0 || x.depth !== samples[i - 1]!.depth || x.replicas !== samples[i - 1]!.replicas);
  t.comment(
    `burst of ${BURST} jobs, ${JOBS_PER_REPLICA} per replica: first scale-out ${firstScaleOut.toFixed(1)} s, ${want} replicas at ${full.toFixed(1)} s, queue drained at ${drained.toFixed(1)} s, back to 1 replica ${back.toFixed(1)} s after annotators started`,
  );
  t.comment('  t (s)  depth  desired  replicas');
  for (const x of changes)
    t.comment(
      `${String(x.s).padStart(7)}  ${String(x.depth ?? '-').padStart(5)}  ${String(x.desired ?? '-').padStart(7)}  ${String(x.replicas).padStart(8)}`,
    );
  t.ok(
    changes.some((x) => x.depth === BURST),
    'the metric read the whole burst',
  );
});

t.test('the gateway’s CPU autoscaler owns its replicas: the controller raises them to its minimum', async (t) => {
  // No metrics-server here, so the HPA cannot read CPU; the minimum holds without metrics, and helm
  // left the Deployment's replicas out (one by default) for the controller to set.
  const gatewayHpa = await api<Hpa>('/apis/autoscaling/v2/namespaces/gas/horizontalpodautoscalers/gas-gateway');
  t.equal(gatewayHpa.status, 200);
  t.equal(gatewayHpa.body.spec.minReplicas, 2);
  const replicas = await until(
    'the gateway at the HPA minimum',
    async () => (await api<{ spec: { replicas: number } }>('/apis/apps/v1/namespaces/gas/deployments/gas-gateway')).body.spec.replicas,
    (r) => r === 2,
    30_000,
  );
  t.equal(replicas, 2);
});

t.test('mode keda: the ScaledObject passes KEDA’s own CRD schema, our HPA goes, the gateway stops needing an annotator', async (t) => {
  const crd = parse(readFileSync(join(tools, 'keda-v2.20.2', 'keda.sh_scaledobjects.yaml'), 'utf8')) as Record<string, unknown>;
  t.equal((await api('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { method: 'POST', body: crd })).status, 201);
  await until(
    'the ScaledObject CRD established',
    async () =>
      (
        await api<{ status?: { conditions?: Array<{ type: string; status: string }> } }>(
          '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/scaledobjects.keda.sh',
        )
      ).body.status?.conditions ?? [],
    (c) => c.some((x) => x.type === 'Established' && x.status === 'True'),
    30_000,
  );
  const out = cp.helm([
    'upgrade',
    'gas',
    join(root, 'charts/gas'),
    '-n',
    'gas',
    '-f',
    join(root, 'charts/gas/ci/keda-values.yaml'),
    '--set',
    'networkPolicy.enabled=false',
  ]);
  t.match(out, /STATUS: deployed/, 'the API server accepted the ScaledObject');
  const scaled = await api<{ spec: { minReplicaCount: number; triggers: Array<{ type: string; metadata: Record<string, string> }> } }>(
    '/apis/keda.sh/v1alpha1/namespaces/gas/scaledobjects/gas-annotator',
  );
  t.equal(scaled.status, 200);
  t.equal(scaled.body.spec.minReplicaCount, 0);
  t.match(scaled.body.spec.triggers, [{ type: 'nats-jetstream', metadata: { stream: 'GAS_JOBS', consumer: 'annotator' } }]);
  t.equal((await api('/apis/autoscaling/v2/namespaces/gas/horizontalpodautoscalers/gas-annotator')).status, 404, 'no HPA of ours');
  const gatewayEnv = await api<{ data: Record<string, string> }>('/api/v1/namespaces/gas/configmaps/gas-gateway');
  t.equal(gatewayEnv.body.data['GATEWAY_READY_REQUIRES_ANNOTATOR'], 'false');
});

t.test('the adapter values for the prometheus-community chart hold the rules the test ran with', async (t) => {
  const config = parse(readFileSync(join(root, 'k8s/prometheus-adapter-config.yaml'), 'utf8')) as { externalRules: unknown[] };
  const values = parse(readFileSync(join(root, 'k8s/prometheus-adapter-values.yaml'), 'utf8')) as { rules: { external: unknown[] } };
  t.strictSame(values.rules.external, config.externalRules);
  t.match(JSON.stringify(config.externalRules), /max\(gas_job_queue_depth_jobs\{<<\.LabelMatchers>>\}\)/, 'max across series, not sum');
});
