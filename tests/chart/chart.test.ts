// The Helm chart, rendered by the real helm (built from the Go module proxy by scripts/helm.sh) for
// every values file in charts/gas/ci/: it lints strictly, and the objects that matter carry what the
// design and the restricted Pod Security Standard ask for. The values table in its README is the
// one values.yaml's comments make.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '@gas/testing';

const root = repoRoot();
const chart = join(root, 'charts/gas');
const helm = execFileSync('bash', [join(root, 'scripts/helm.sh'), '--path'], { encoding: 'utf8' }).trim();
const SERVICES = ['gateway', 'job', 'annotator', 'notification', 'archive'];

interface K8sObject {
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

function render(valuesFile: string, extra: string[] = []): K8sObject[] {
  const out = execFileSync(helm, ['template', 'gas', chart, '-n', 'gas', '-f', valuesFile, '--kube-version', '1.34.0', ...extra], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return parseAllDocuments(out)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => Boolean(o));
}

const byKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
const named = (objects: K8sObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);

// Rendered manifests are untyped YAML, checked field by field below.
/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-assignment */
type Any = any;

// The chart's CI values and the example values in k8s/ that operators start from.
const valuesFiles = [
  ...readdirSync(join(chart, 'ci'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join('charts/gas/ci', f)),
  ...readdirSync(join(root, 'k8s'))
    .filter((f) => /^values-.*\.yaml$/.test(f))
    .map((f) => join('k8s', f)),
];

t.test('helm lint --strict passes for every values file in charts/gas/ci and k8s/', async (t) => {
  t.ok(valuesFiles.length >= 5, valuesFiles.join(', '));
  for (const file of valuesFiles) {
    const out = execFileSync(helm, ['lint', '--strict', chart, '-f', join(root, file)], { encoding: 'utf8' });
    t.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/, file);
  }
});

for (const file of valuesFiles) {
  t.test(`${file}: every workload is locked down, probed, labelled and drained`, async (t) => {
    const objects = render(join(root, file));
    const deployments = byKind(objects, 'Deployment');
    t.strictSame(deployments.map((d) => d.metadata.name).sort(), SERVICES.map((s) => `gas-${s}`).sort(), 'one Deployment per service');
    for (const d of deployments) {
      const name = d.metadata.name.replace(/^gas-/, '');
      const spec = d.spec as Any;
      const pod = spec.template.spec;
      const c = pod.containers[0];
      t.equal(d.metadata.labels?.['app.kubernetes.io/part-of'], 'gas', `${name}: labels`);
      t.equal(spec.selector.matchLabels['app.kubernetes.io/name'], `gas-${name}`);
      // The restricted Pod Security Standard.
      t.match(
        pod.securityContext,
        { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } },
        `${name}: pod security`,
      );
      t.strictSame(
        c.securityContext,
        { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
        `${name}: container security`,
      );
      t.equal(pod.automountServiceAccountToken, false);
      t.equal(pod.serviceAccountName, `gas-${name}`);
      // Probes: native gRPC for the gRPC services, HTTP on the ops port for the others.
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
        if (name === 'job' || name === 'notification') t.ok(c[probe]?.grpc?.port, `${name}: ${probe} is gRPC`);
        else t.equal(c[probe]?.httpGet?.port, 'ops', `${name}: ${probe} is HTTP on the ops port`);
      }
      const shutdownMs = Number(named(objects, 'ConfigMap', d.metadata.name)?.data?.['SHUTDOWN_TIMEOUT_MS']);
      t.ok(pod.terminationGracePeriodSeconds * 1000 > shutdownMs, `${name}: grace above the drain time`);
      // The config checksum is the ConfigMap's: a changed setting rolls the pods.
      t.match(spec.template.metadata.annotations['checksum/config'], /^[0-9a-f]{64}$/);
      t.ok(c.resources?.requests?.memory, `${name}: resources`);
      t.ok(
        c.envFrom.some((e: Any) => e.configMapRef?.name === d.metadata.name),
        `${name}: its ConfigMap`,
      );
    }
    const gateway = named(objects, 'Deployment', 'gas-gateway')!.spec as Any;
    t.ok(
      gateway.template.spec.containers[0].envFrom.some((e: Any) => e.secretRef?.name === 'gas-gateway'),
      'the gateway reads its Secret by reference',
    );
    const leaked = JSON.stringify(byKind(objects, 'ConfigMap')).match(/GATEWAY_SECRET|PASSWORD|SECRET_ACCESS_KEY|SMTP_URL/g);
    t.equal(leaked, null, 'no secret in a ConfigMap');
    t.equal(byKind(objects, 'Secret').length, 0, 'the chart creates no Secret: values never hold them');
  });
}

t.test('PodDisruptionBudgets and NetworkPolicies follow the design', async (t) => {
  const objects = render(join(chart, 'ci', 'default-values.yaml'));
  t.equal(byKind(objects, 'PodDisruptionBudget').length, 5, 'one PDB per service with two replicas');
  const policies = byKind(objects, 'NetworkPolicy');
  t.equal(policies.length, 5);
  const job = named(objects, 'NetworkPolicy', 'gas-job')!.spec as Any;
  const callers = job.ingress
    .flatMap((rule: Any) => (rule.from ?? []).map((f: Any) => f.podSelector?.matchLabels?.['app.kubernetes.io/name']))
    .filter(Boolean)
    .sort();
  t.strictSame(callers, ['gas-annotator', 'gas-archive', 'gas-gateway', 'gas-notification'], 'only GAS services call the job service');
  const annotator = named(objects, 'NetworkPolicy', 'gas-annotator')!.spec as Any;
  t.equal(annotator.ingress.length, 1, 'nothing but Prometheus reaches the annotator');
  const notification = named(objects, 'NetworkPolicy', 'gas-notification')!.spec as Any;
  t.ok(
    notification.egress.some((e: Any) => (e.ports ?? []).some((p: Any) => p.port === 587)),
    'the notification service may reach a mail server',
  );
  t.notOk(
    (named(objects, 'NetworkPolicy', 'gas-job')!.spec as Any).egress.some((e: Any) => (e.ports ?? []).some((p: Any) => p.port === 443)),
    'the job service reaches nothing outside',
  );
  const filesystem = render(join(chart, 'ci', 'filesystem-values.yaml'));
  t.equal(byKind(filesystem, 'NetworkPolicy').length, 0, 'off when asked');
  t.equal(byKind(filesystem, 'PodDisruptionBudget').length, 0, 'no PDB for a single replica');
});

t.test('a changed setting changes the checksum that rolls the pods', async (t) => {
  const checksum = (objects: K8sObject[]) =>
    (named(objects, 'Deployment', 'gas-archive')!.spec as Any).template.metadata.annotations['checksum/config'];
  const base = render(join(chart, 'ci', 'default-values.yaml'));
  const changed = render(join(chart, 'ci', 'default-values.yaml'), ['--set', 'freeRetentionSeconds=60']);
  t.not(checksum(changed), checksum(base));
  t.equal(named(changed, 'ConfigMap', 'gas-archive')?.data?.['ARCHIVE_FREE_RETENTION_SECONDS'], '60');
  t.equal(
    named(changed, 'ConfigMap', 'gas-gateway')?.data?.['GATEWAY_FREE_RETENTION_SECONDS'],
    '60',
    'the gateway says the same retention',
  );
});

t.test('the values schema refuses what the chart cannot use', async (t) => {
  t.throws(() => render(join(chart, 'ci', 'default-values.yaml'), ['--set', 'blobStore.kind=ftp']), /blobStore.kind|must be one of/);
  t.throws(() => render(join(chart, 'ci', 'default-values.yaml'), ['--set', 'services.job.replicas=-1']));
});

t.test('autoscaling: the annotator on its queue depth (HPA or KEDA), the gateway on CPU, no replicas fought over', async (t) => {
  const replicasOf = (objects: K8sObject[], name: string) => (named(objects, 'Deployment', `gas-${name}`)!.spec as Any).replicas;
  const none = render(join(chart, 'ci', 'default-values.yaml'));
  t.equal(byKind(none, 'HorizontalPodAutoscaler').length + byKind(none, 'ScaledObject').length, 0, 'off by default');
  t.equal(replicasOf(none, 'annotator'), 2, 'replicas from values without an autoscaler');

  const hpa = render(join(chart, 'ci', 'hpa-values.yaml'));
  const annotator = named(hpa, 'HorizontalPodAutoscaler', 'gas-annotator')!.spec as Any;
  t.match(annotator, {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'gas-annotator' },
    minReplicas: 2,
    maxReplicas: 20,
    metrics: [
      {
        type: 'External',
        external: { metric: { name: 'gas_annotator_queue_depth' }, target: { type: 'AverageValue', averageValue: '2' } },
      },
    ],
  });
  // Out fast: no stabilization, doubling or +4 pods per 15 s; in slowly, after a stabilized window.
  t.equal(annotator.behavior.scaleUp.stabilizationWindowSeconds, 0);
  t.equal(annotator.behavior.scaleUp.selectPolicy, 'Max');
  t.strictSame(annotator.behavior.scaleUp.policies, [
    { type: 'Percent', value: 100, periodSeconds: 15 },
    { type: 'Pods', value: 4, periodSeconds: 15 },
  ]);
  t.ok(annotator.behavior.scaleDown.stabilizationWindowSeconds >= 120, "scale-in waits out a burst's tail");
  const gateway = named(hpa, 'HorizontalPodAutoscaler', 'gas-gateway')!.spec as Any;
  t.match(gateway, {
    scaleTargetRef: { kind: 'Deployment', name: 'gas-gateway' },
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
  });
  const gatewayCpu = (named(hpa, 'Deployment', 'gas-gateway')!.spec as Any).template.spec.containers[0].resources.requests.cpu;
  t.ok(gatewayCpu, 'the gateway requests CPU, which its utilization is a share of');
  t.equal(replicasOf(hpa, 'annotator'), undefined, 'the annotator Deployment leaves replicas to the HPA');
  t.equal(replicasOf(hpa, 'gateway'), undefined, 'the gateway Deployment leaves replicas to the HPA');
  t.equal(replicasOf(hpa, 'job'), 2, 'the others keep theirs');
  t.ok(named(hpa, 'PodDisruptionBudget', 'gas-annotator'), 'an autoscaled service keeps its PodDisruptionBudget');
  t.equal(
    named(hpa, 'ConfigMap', 'gas-gateway')?.data?.['GATEWAY_READY_REQUIRES_ANNOTATOR'],
    undefined,
    'the gateway still needs an annotator to be ready',
  );

  const keda = render(join(chart, 'ci', 'keda-values.yaml'));
  t.equal(named(keda, 'HorizontalPodAutoscaler', 'gas-annotator'), undefined, "no HPA of ours beside KEDA's");
  const scaled = named(keda, 'ScaledObject', 'gas-annotator')!.spec as Any;
  t.match(scaled, {
    scaleTargetRef: { name: 'gas-annotator' },
    minReplicaCount: 0,
    maxReplicaCount: 10,
    triggers: [
      {
        type: 'nats-jetstream',
        metadata: {
          natsServerMonitoringEndpoint: 'nats-headless.nats.svc.cluster.local:8222',
          account: '$G',
          stream: 'GAS_JOBS',
          consumer: 'annotator',
          lagThreshold: '2',
        },
      },
    ],
  });
  t.strictSame(scaled.advanced.horizontalPodAutoscalerConfig.behavior, annotator.behavior, 'the same behaviour as the HPA');
  t.equal(replicasOf(keda, 'annotator'), undefined, 'the annotator Deployment leaves replicas to KEDA');
  t.equal(
    named(keda, 'ConfigMap', 'gas-gateway')?.data?.['GATEWAY_READY_REQUIRES_ANNOTATOR'],
    'false',
    'annotators at zero do not make the site unready',
  );
  const kedaDefault = render(join(chart, 'ci', 'default-values.yaml'), ['--set', 'autoscaling.annotator.mode=keda']);
  t.equal(
    (named(kedaDefault, 'ScaledObject', 'gas-annotator')!.spec as Any).triggers[0].metadata.natsServerMonitoringEndpoint,
    'nats-headless.gas.svc.cluster.local:8222',
    "the NATS chart's headless service in the release namespace by default",
  );

  t.throws(
    () => render(join(chart, 'ci', 'hpa-values.yaml'), ['--set', 'autoscaling.annotator.minReplicas=0']),
    /scaling to zero needs mode keda/,
    'an HPA cannot scale to zero',
  );
  t.throws(() => render(join(chart, 'ci', 'hpa-values.yaml'), ['--set', 'autoscaling.annotator.mode=vpa']), 'the schema knows the modes');
  t.throws(
    () => render(join(chart, 'ci', 'hpa-values.yaml'), ['--set', 'services.gateway.resources.requests.cpu=null']),
    /requests.cpu/,
    'a CPU HPA needs a CPU request',
  );
});

t.test('the README values table is the one values.yaml makes', async (t) => {
  const result = execFileSync(process.execPath, [join(root, 'scripts/chart-values-table.mjs')], { encoding: 'utf8', stdio: 'pipe' });
  t.equal(result, '');
  t.match(readFileSync(join(chart, 'README.md'), 'utf8'), '| `freeRetentionSeconds` | `1800` |');
});

t.test('admins: the gateway alone gets a read-only Role on the annotator, its token and its namespace', async (t) => {
  const none = render(join(chart, 'ci', 'default-values.yaml'));
  t.equal(byKind(none, 'Role').length, 0, 'no admins, no Role');
  t.notOk(named(none, 'ConfigMap', 'gas-gateway')?.data?.['GATEWAY_ADMIN_EMAILS']);
  const objects = render(join(chart, 'ci', 'default-values.yaml'), ['--set', 'gateway.adminEmails={ops@example.org,Lead@Example.org}']);
  const role = named(objects, 'Role', 'gas-gateway-admin-view') as Any;
  t.strictSame(
    role.rules.map((r: Any) => [r.apiGroups, r.resources, r.resourceNames ?? null, r.verbs]),
    [
      [['apps'], ['deployments'], ['gas-annotator'], ['get', 'list', 'watch']],
      [['autoscaling'], ['horizontalpodautoscalers'], ['gas-annotator'], ['get', 'list', 'watch']],
      [[''], ['pods'], null, ['get', 'list', 'watch']],
    ],
    'get, list and watch on three kinds, the Deployment and the autoscaler by name',
  );
  const binding = named(objects, 'RoleBinding', 'gas-gateway-admin-view') as Any;
  t.strictSame(binding.subjects, [{ kind: 'ServiceAccount', name: 'gas-gateway', namespace: 'gas' }]);
  t.equal(byKind(objects, 'ClusterRole').length + byKind(objects, 'ClusterRoleBinding').length, 0, 'nothing cluster-wide');
  for (const d of byKind(objects, 'Deployment')) {
    const pod = (d.spec as Any).template.spec;
    t.equal(pod.automountServiceAccountToken, d.metadata.name === 'gas-gateway', `${d.metadata.name}: a token only for the gateway`);
  }
  const gateway = (named(objects, 'Deployment', 'gas-gateway')!.spec as Any).template.spec.containers[0];
  t.strictSame(gateway.env, [{ name: 'GATEWAY_K8S_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }]);
  const env = named(objects, 'ConfigMap', 'gas-gateway')!.data!;
  t.equal(env['GATEWAY_ADMIN_EMAILS'], 'ops@example.org,Lead@Example.org');
  t.equal(env['GATEWAY_ANNOTATOR_DEPLOYMENT'], 'gas-annotator');
  t.equal(env['GATEWAY_ANNOTATOR_HPA'], 'gas-annotator');
  t.ok(
    (named(objects, 'NetworkPolicy', 'gas-gateway')!.spec as Any).egress.some((e: Any) =>
      (e.ports ?? []).some((p: Any) => p.port === 6443),
    ),
    'the gateway may reach the API server',
  );
  t.throws(() => render(join(chart, 'ci', 'default-values.yaml'), ['--set', 'gateway.adminEmails={not-an-address}']), /adminEmails/);
});
