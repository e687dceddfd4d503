// The admin page in a real Chromium, with its Kubernetes figures from a real kube-apiserver (the
// chart tests' control plane, tests/chart/control-plane.ts; no controllers: this test writes the
// objects' status itself, as the controllers would). The gateway reads the API with the chart's own
// RBAC: the ServiceAccount, Role and RoleBinding that `helm template` renders for an install with
// admins, and a token for that ServiceAccount from the TokenRequest API in a kubeconfig
// (GATEWAY_KUBECONFIG), checked against the API server's certificate. The same token is shown to be
// enough and read-only (writes, Secrets, other Deployments and other namespaces are forbidden). Then
// an admin signed in through the browser sees the annotator Deployment's replicas, its autoscaler's
// figures, metric and conditions, and its pods, and sees them change without reloading, once it has
// confirmed its address with the link the notification service mailed (to the outbox folder here);
// before that, and for a user who is not an admin, the not-found page. Screenshots under .artifacts/screenshots/web-admin.test/.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { launchBrowser, newPage, pageErrors, parseMail, repoRoot, screenshot, startGasStack, DESKTOP, PHONE } from '@gas/testing';
import type { GasStack, Page } from '@gas/testing';
import { startControlPlane } from '../chart/control-plane.ts';
import { kubeReader } from '../../services/gateway/src/admin-kube.ts';

const NS = 'gas';
const ADMIN = { email: 'ops@example.org', name: 'Grace Ops', password: 'watch the queue 2026' };
const USER = { email: 'someone@example.org', name: 'Some One', password: 'just annotating 2026' };

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  data?: Record<string, string>;
  [k: string]: unknown;
}

const cp = await startControlPlane({ workers: false });
let stack: GasStack | undefined;
t.teardown(async () => {
  await stack?.stop();
  await cp.stop();
});
const { api } = cp;

/** The REST path of an object's collection, or of the object itself with `name`. */
function pathOf(o: Pick<K8sObject, 'apiVersion' | 'kind'>, name?: string): string {
  const plural: Record<string, string> = {
    ServiceAccount: 'serviceaccounts',
    Role: 'roles',
    RoleBinding: 'rolebindings',
    Deployment: 'deployments',
    HorizontalPodAutoscaler: 'horizontalpodautoscalers',
    Pod: 'pods',
    ConfigMap: 'configmaps',
  };
  const base = o.apiVersion === 'v1' ? '/api/v1' : `/apis/${o.apiVersion}`;
  return `${base}/namespaces/${NS}/${plural[o.kind]!}${name ? `/${name}` : ''}`;
}

async function createObject(o: K8sObject): Promise<K8sObject> {
  const res = await api<K8sObject>(pathOf(o), { method: 'POST', body: o });
  if (res.status !== 201) throw new Error(`creating ${o.kind} ${o.metadata.name}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Writes an object's status, as its controller (or the kubelet) would. */
async function writeStatus(o: Pick<K8sObject, 'apiVersion' | 'kind' | 'metadata'>, status: Record<string, unknown>): Promise<void> {
  const current = (await api<K8sObject>(pathOf(o, o.metadata.name))).body;
  const res = await api(`${pathOf(o, o.metadata.name)}/status`, { method: 'PUT', body: { ...current, status } });
  if (res.status !== 200) throw new Error(`status of ${o.kind} ${o.metadata.name}: ${res.status} ${JSON.stringify(res.body)}`);
}

// What the chart installs for the admin page, rendered by the real helm with admins set.
const rendered = parseAllDocuments(
  cp.helm(['template', 'gas', join(repoRoot(), 'charts/gas'), '-n', NS, '--set', `gateway.adminEmails={${ADMIN.email}}`]),
)
  .map((d) => d.toJS() as K8sObject | null)
  .filter((o): o is K8sObject => Boolean(o));
const chartObject = (kind: string, name: string) => {
  const o = rendered.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`the chart renders no ${kind} ${name}`);
  return o;
};
const gatewayEnv = chartObject('ConfigMap', 'gas-gateway').data!;
const DEPLOYMENT = gatewayEnv['GATEWAY_ANNOTATOR_DEPLOYMENT']!;
const HPA = gatewayEnv['GATEWAY_ANNOTATOR_HPA']!;

await api('/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } } });
for (const o of [
  chartObject('ServiceAccount', 'gas-gateway'),
  chartObject('ServiceAccount', 'gas-annotator'),
  ...rendered.filter((o) => o.kind === 'Role' || o.kind === 'RoleBinding'),
])
  await createObject(o);

// The annotator as the chart makes it, three replicas asked for; two pods up, one starting.
const deployment = chartObject('Deployment', DEPLOYMENT);
const template = (deployment.spec as { template: { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> } })
  .template;
await createObject({ ...deployment, spec: { ...deployment.spec, replicas: 3 } });
await writeStatus(deployment, { observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 2, availableReplicas: 2 });
const started = new Date(Date.now() - 5 * 60_000).toISOString();
const pods = [
  { name: `${DEPLOYMENT}-7c9f8d6b5-2kq9x`, node: 'node-a', ready: true, restarts: 0 },
  { name: `${DEPLOYMENT}-7c9f8d6b5-h4m7p`, node: 'node-b', ready: true, restarts: 2 },
  { name: `${DEPLOYMENT}-7c9f8d6b5-x8v2c`, node: 'node-b', ready: false, restarts: 0 },
];
for (const p of pods) {
  const pod = await createObject({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.name, labels: template.metadata.labels },
    spec: { ...template.spec, nodeName: p.node },
  });
  const containers = (pod.spec as { containers: Array<{ name: string; image: string }> }).containers;
  await writeStatus(pod, {
    phase: p.ready ? 'Running' : 'Pending',
    startTime: started,
    conditions: [{ type: 'Ready', status: p.ready ? 'True' : 'False', lastTransitionTime: started }],
    containerStatuses: containers.map((c) => ({
      name: c.name,
      image: c.image,
      imageID: '',
      ready: p.ready,
      started: p.ready,
      restartCount: p.restarts,
      state: p.ready ? { running: { startedAt: started } } : { waiting: { reason: 'ContainerCreating' } },
    })),
  });
}
// Another service's pod in the same namespace: not the annotator's, so not on the page.
await createObject({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'gas-gateway-5d4c3b2a1-qqqqq',
    labels: { 'app.kubernetes.io/name': 'gas-gateway', 'app.kubernetes.io/instance': 'gas' },
  },
  spec: {
    serviceAccountName: 'gas-gateway',
    automountServiceAccountToken: false,
    containers: [{ name: 'gateway', image: 'gas-gateway:test' }],
  },
});

// The annotator's autoscaler, as mode hpa renders it in outline, with the status the HPA controller writes.
const hpa: K8sObject = {
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: HPA },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: DEPLOYMENT },
    minReplicas: 1,
    maxReplicas: 10,
    metrics: [
      {
        type: 'External',
        external: { metric: { name: 'gas_annotator_queue_depth' }, target: { type: 'AverageValue', averageValue: '2' } },
      },
    ],
  },
};
await createObject(hpa);
const hpaStatus = (desired: number, message: string) => ({
  currentReplicas: 3,
  desiredReplicas: desired,
  lastScaleTime: new Date(Date.now() - 90_000).toISOString(),
  currentMetrics: [{ type: 'External', external: { metric: { name: 'gas_annotator_queue_depth' }, current: { averageValue: '3500m' } } }],
  conditions: [
    { type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message, lastTransitionTime: started },
    {
      type: 'ScalingActive',
      status: 'True',
      reason: 'ValidMetricFound',
      message: 'the HPA was able to successfully calculate a replica count from external metric gas_annotator_queue_depth',
      lastTransitionTime: started,
    },
  ],
});
await writeStatus(hpa, hpaStatus(5, 'the HPA controller was able to update the target scale to 5'));

// The gateway's credentials: a token for the chart's ServiceAccount, in a kubeconfig that checks the
// API server's certificate.
const tokenRequest = await api<{ status: { token: string } }>(`/api/v1/namespaces/${NS}/serviceaccounts/gas-gateway/token`, {
  method: 'POST',
  body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
});
const saToken = tokenRequest.body.status.token;
const kubeconfig = join(cp.dir, 'gateway-kubeconfig');
writeFileSync(
  kubeconfig,
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: { server: cp.server, 'certificate-authority': cp.caFile } }],
    users: [{ name: 'gas-gateway', user: { token: saToken } }],
    contexts: [{ name: 'test', context: { cluster: 'test', user: 'gas-gateway', namespace: NS } }],
    'current-context': 'test',
  }),
);

t.test("the chart's Role is enough for the page, and read-only", async (t) => {
  t.ok(saToken, 'a service-account token from the TokenRequest API');
  const as = (path: string, init: { method?: string; body?: unknown; contentType?: string } = {}) =>
    api(path, { ...init, token: saToken }).then((r) => r.status);
  const deploymentPath = pathOf(deployment, DEPLOYMENT);
  t.equal(await as(deploymentPath), 200, 'reads the annotator Deployment');
  t.equal(await as(pathOf(hpa, HPA)), 200, 'reads its autoscaler');
  t.equal(await as(`/api/v1/namespaces/${NS}/pods?labelSelector=app.kubernetes.io%2Fname%3Dgas-annotator`), 200, 'lists pods');
  t.equal(
    await as(deploymentPath, { method: 'PATCH', body: { spec: { replicas: 9 } }, contentType: 'application/merge-patch+json' }),
    403,
    'cannot scale the Deployment',
  );
  t.equal(await as(`${pathOf(hpa, HPA)}`, { method: 'DELETE' }), 403, 'cannot delete the autoscaler');
  t.equal(await as(`/api/v1/namespaces/${NS}/pods/${pods[0]!.name}`, { method: 'DELETE' }), 403, 'cannot delete a pod');
  t.equal(
    await as(`/api/v1/namespaces/${NS}/pods`, {
      method: 'POST',
      body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, spec: { containers: [{ name: 'x', image: 'x' }] } },
    }),
    403,
    'cannot create a pod',
  );
  t.equal(await as(`/apis/apps/v1/namespaces/${NS}/deployments/gas-job`), 403, 'cannot read another Deployment');
  t.equal(await as(`/apis/apps/v1/namespaces/${NS}/deployments`), 403, 'cannot list Deployments');
  t.equal(await as(`/api/v1/namespaces/${NS}/secrets`), 403, 'cannot read Secrets');
  t.equal(await as(`/api/v1/namespaces/${NS}/configmaps`), 403, 'cannot read ConfigMaps');
  t.equal(await as('/api/v1/namespaces/default/pods'), 403, 'cannot list pods in another namespace');
  t.equal(await as('/api/v1/pods'), 403, 'cannot list pods cluster-wide');

  // Without the RoleBinding (another ServiceAccount) the reader says "forbidden" part by part.
  await createObject({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'no-role' } });
  const other = await api<{ status: { token: string } }>(`/api/v1/namespaces/${NS}/serviceaccounts/no-role/token`, {
    method: 'POST',
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 } },
  });
  const file = join(cp.dir, 'no-role-kubeconfig');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'test', cluster: { server: cp.server, 'certificate-authority': cp.caFile } }],
      users: [{ name: 'no-role', user: { token: other.body.status.token } }],
      contexts: [{ name: 'test', context: { cluster: 'test', user: 'no-role', namespace: NS } }],
      'current-context': 'test',
    }),
  );
  const snapshot = await kubeReader({ kubeconfig: file, inCluster: false, deployment: DEPLOYMENT, hpa: HPA, timeoutMs: 2000 }).read();
  t.match(
    snapshot,
    {
      available: true,
      deployment: {
        ok: false,
        error:
          /^the Deployment gas-annotator: forbidden \(deployments.apps "gas-annotator" is forbidden: User "system:serviceaccount:gas:no-role"/,
      },
      hpa: { ok: false, error: /^the HorizontalPodAutoscaler gas-annotator: forbidden/ },
    },
    'a forbidden API is said as such',
  );
});

t.test('an admin sees replicas, the autoscaler and pods in Chromium; they change without a reload', async (t) => {
  stack = await startGasStack({
    store: 'filesystem',
    services: ['job', 'notification', 'gateway'],
    env: {
      gateway: {
        GATEWAY_ADMIN_EMAILS: ADMIN.email,
        GATEWAY_KUBECONFIG: kubeconfig,
        // As the chart sets them: the namespace from the downward API, the names from the ConfigMap.
        GATEWAY_K8S_NAMESPACE: NS,
        GATEWAY_ANNOTATOR_DEPLOYMENT: DEPLOYMENT,
        GATEWAY_ANNOTATOR_HPA: HPA,
        // This test process trusts the API server blindly; the gateway must check its certificate.
        NODE_TLS_REJECT_UNAUTHORIZED: '1',
      },
    },
  });
  const browser = await launchBrowser();
  t.teardown(() => browser.close());
  const shot = (page: Page, step: string) => screenshot(page, import.meta.filename, step);

  const signUpAndIn = async (who: typeof ADMIN): Promise<Page> => {
    const page = await newPage(browser, DESKTOP);
    await page.goto(`${stack!.url}/signup`);
    await page.getByLabel('Name').fill(who.name);
    await page.getByLabel('E-mail').fill(who.email);
    await page.getByLabel(/^Password/).fill(who.password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByLabel('Password').fill(who.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/jobs\?welcome=1$/);
    return page;
  };

  /** The confirmation link the notification service wrote to the outbox for `email`. */
  const confirmationLink = async (email: string): Promise<string> => {
    const outbox = stack!.outboxDir;
    return stack!.eventually(
      async () => {
        for (const name of await readdir(outbox).catch(() => [] as string[])) {
          if (!name.endsWith('.eml')) continue;
          const mail = await parseMail(await readFile(join(outbox, name)));
          if (mail.subject === 'GAS: Confirm your email address' && mail.headers.get('to')?.includes(email))
            return /^(http\S+\/confirm-email\?token=\S+)$/m.exec(mail.text)?.[1];
        }
        return undefined;
      },
      (link) => link !== undefined,
      30_000,
    ) as Promise<string>;
  };

  const page = await signUpAndIn(ADMIN);
  t.teardown(() => page.close());
  // Listed, but not an admin until the address is confirmed.
  t.equal(await page.getByRole('link', { name: 'Admin', exact: true }).count(), 0, 'no Admin link before the address is confirmed');
  // Asked beside the page (same cookies): a 404 the page itself loads counts as a console error.
  t.equal((await page.request.get(`${stack.url}/admin`)).status(), 404, 'and no page');
  await page.goto(await confirmationLink(ADMIN.email));
  await page.getByRole('button', { name: 'Confirm my address' }).click();
  await page.waitForURL(/\/profile\?confirmed=1$/);
  await page.getByRole('link', { name: 'Admin', exact: true }).click();
  await page.waitForURL(/\/admin$/);
  await page.locator('#admin-state').waitFor();
  await page.evaluate('window.stayed = true');
  const figure = (name: string) => page.locator(`[data-figure="${name}"]`).first().innerText();

  t.equal(await figure('depth'), '0', 'the queue: nothing submitted');
  t.equal(await figure('oldest'), 'none waiting');
  t.match(await page.locator('.admin-kubernetes').innerText(), `Namespace ${NS}, read through GATEWAY_KUBECONFIG`);
  t.equal(await figure('deployment-desired'), '3', 'the Deployment asks for 3');
  t.equal(await figure('deployment-current'), '3');
  t.equal(await figure('deployment-ready'), '2');
  t.equal(await figure('hpa-current'), '3', 'the autoscaler has 3');
  t.equal(await figure('hpa-desired'), '5', 'and wants 5');
  t.equal(await figure('hpa-min'), '1');
  t.equal(await figure('hpa-max'), '10');
  const metric = await page.locator('table.hpa-metrics tbody tr').innerText();
  t.match(metric, /external gas_annotator_queue_depth\s+3500m\s+2 per pod/, 'its metric: current and target');
  const conditions = await page.locator('table.hpa-conditions').innerText();
  t.match(conditions, /AbleToScale\s+True\s+SucceededRescale\s+the HPA controller was able to update the target scale to 5/);
  t.match(conditions, /ScalingActive\s+True\s+ValidMetricFound/);

  const rows = page.locator('table.pods tbody tr');
  t.equal(await rows.count(), 3, "the annotator's pods only");
  const podRows = (await rows.allInnerTexts()).map((r) => r.split('\t').map((c) => c.trim()));
  t.strictSame(
    podRows.map(([name, phase, ready, restarts, , node]) => [name, phase, ready, restarts, node]),
    [
      [pods[0]!.name, 'Running', '1/1', '0', 'node-a'],
      [pods[1]!.name, 'Running', '1/1', '2', 'node-b'],
      [pods[2]!.name, 'Pending', '0/1', '0', 'node-b'],
    ],
    'name, phase, ready, restarts, node',
  );
  // Ages count from the pods' creation (as kubectl's do), moments ago here.
  t.ok(
    podRows.every((r) => /^\d+s$/.test(r[4]!)),
    `ages in seconds: ${podRows.map((r) => r[4]).join(', ')}`,
  );
  await shot(page, 'admin');

  // The controller decides on more replicas and the Deployment follows: the open page shows it.
  await writeStatus(hpa, hpaStatus(7, 'the HPA controller was able to update the target scale to 7'));
  await page.locator('[data-figure="hpa-desired"]', { hasText: '7' }).waitFor({ timeout: 20_000 });
  t.equal(await page.evaluate('window.stayed'), true, 'refreshed in place, not reloaded');
  t.match(await page.locator('table.hpa-conditions').innerText(), /update the target scale to 7/);
  await shot(page, 'admin refreshed');
  t.strictSame(pageErrors(page), [], 'no script, CSP or console errors');

  // At phone width the tables scroll inside their frames; the page itself fits.
  const phone = await newPage(browser, PHONE);
  t.teardown(() => phone.close());
  await phone.context().addCookies(await page.context().cookies());
  await phone.goto(`${stack.url}/admin`);
  const { scroll, width } = await phone.evaluate<{ scroll: number; width: number }>(
    '({ scroll: document.documentElement.scrollWidth, width: window.innerWidth })',
  );
  t.ok(scroll <= width, `the page is ${scroll} px wide in a ${width} px window`);
  await shot(phone, 'admin phone');

  // Someone who is not an admin: no link, and the page does not exist for them.
  const other = await signUpAndIn(USER);
  t.teardown(() => other.close());
  t.equal(await other.getByRole('link', { name: 'Admin', exact: true }).count(), 0, 'no Admin link');
  const res = await other.goto(`${stack.url}/admin`);
  t.equal(res?.status(), 404);
  t.match(await other.locator('main').innerText(), /There is no page at this address/);
  await shot(other, 'not an admin');
});
