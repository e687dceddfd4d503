// The JSON API's OpenAPI document (/api/openapi.json) and Swagger UI (/api/docs) on the real gateway:
// the document is valid OpenAPI 3.1 and lists exactly the /api/v1 routes, each documented route
// answers its owner with a status the document lists, and the docs page works under the gateway's
// Content-Security-Policy, in Chromium too.
import t from 'tap';
import type { Test } from 'tap';
import { launchBrowser, newPage, pageErrors, startGasStack, DESKTOP } from '@gas/testing';
import type { GasStack } from '@gas/testing';

const VCF = '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n1\t10177\t.\tA\tAC\t.\tPASS\t.\n';

/** Every route of routes/jobs-routes.ts, as OpenAPI spells it. */
const API_ROUTES: Record<string, string[]> = {
  '/api/v1/jobs': ['get', 'post'],
  '/api/v1/jobs/{id}': ['delete', 'get'],
  '/api/v1/jobs/{id}/input': ['get'],
  '/api/v1/jobs/{id}/result': ['get'],
  '/api/v1/jobs/{id}/tsv': ['get'],
  '/api/v1/jobs/{id}/tbi': ['get'],
  '/api/v1/jobs/{id}/summary': ['get'],
  '/api/v1/jobs/{id}/log': ['get'],
  '/api/v1/uploads': ['post'],
  '/api/v1/uploads/complete': ['post'],
};
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

type Json = Record<string, unknown>;
interface Operation {
  tags?: string[];
  parameters?: { name: string; in: string; required?: boolean; schema?: Json }[];
  requestBody?: { content: Record<string, { schema: Json }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: Json }>; headers?: Record<string, Json> }>;
  security?: Record<string, string[]>[];
}
interface OpenApi {
  openapi: string;
  info: { title: string; version: string; description?: string };
  tags?: { name: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas?: Record<string, Json>; securitySchemes?: Record<string, Json> };
}

const stack: GasStack = await startGasStack({ store: 'filesystem', services: ['job', 'gateway'] });
t.teardown(() => stack.stop());
const docRes = await fetch(`${stack.url}/api/openapi.json`);
t.equal(docRes.status, 200, 'GET /api/openapi.json');
t.match(docRes.headers.get('content-type') ?? '', /^application\/json/);
const doc = (await docRes.json()) as OpenApi;

/** Every object and array in `node`, with its JSON pointer. */
function* walk(node: unknown, at = '#'): Generator<[string, Json]> {
  if (node && typeof node === 'object') {
    yield [at, node as Json];
    for (const [k, v] of Object.entries(node)) yield* walk(v, `${at}/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`);
  }
}

function resolvePointer(root: unknown, ref: string): unknown {
  return ref
    .slice(2)
    .split('/')
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((n, k) => (n && typeof n === 'object' ? (n as Json)[k] : undefined), root);
}

/**
 * What makes the document invalid OpenAPI 3.1: the checks of the specification's required fields
 * and cross-references (the JSON Schema of OAS 3.1 is not a dependency of this repository).
 */
function openApi31Problems(d: OpenApi): string[] {
  const problems: string[] = [];
  if (!/^3\.1\.\d+$/.test(d.openapi)) problems.push(`openapi is ${d.openapi}, not 3.1.x`);
  if (typeof d.info?.title !== 'string' || typeof d.info?.version !== 'string') problems.push('info needs title and version');
  const schemes = d.components?.securitySchemes ?? {};
  for (const [name, s] of Object.entries(schemes)) {
    if (s['type'] === 'http' && typeof s['scheme'] !== 'string') problems.push(`securityScheme ${name}: http needs scheme`);
    if (s['type'] === 'apiKey' && (typeof s['name'] !== 'string' || !['query', 'header', 'cookie'].includes(String(s['in']))))
      problems.push(`securityScheme ${name}: apiKey needs name and in`);
    if (!['apiKey', 'http', 'mutualTLS', 'oauth2', 'openIdConnect'].includes(String(s['type'])))
      problems.push(`securityScheme ${name}: type ${String(s['type'])}`);
  }
  const tagNames = new Set((d.tags ?? []).map((tag) => tag.name));
  const operationIds = new Set<string>();
  for (const [path, item] of Object.entries(d.paths ?? {})) {
    if (!path.startsWith('/')) problems.push(`path ${path} does not start with /`);
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
    for (const [method, op] of Object.entries(item)) {
      const where = `${method.toUpperCase()} ${path}`;
      if (!METHODS.includes(method)) {
        if (method !== 'parameters' && method !== 'summary' && method !== 'description' && method !== 'servers')
          problems.push(`${path}: unknown key ${method}`);
        continue;
      }
      const opId = (op as { operationId?: string }).operationId;
      if (opId) {
        if (operationIds.has(opId)) problems.push(`${where}: duplicate operationId ${opId}`);
        operationIds.add(opId);
      }
      const params = op.parameters ?? [];
      const seen = new Set<string>();
      for (const p of params) {
        if (!['query', 'header', 'path', 'cookie'].includes(p.in)) problems.push(`${where}: parameter ${p.name} in ${p.in}`);
        if (seen.has(`${p.in}:${p.name}`)) problems.push(`${where}: parameter ${p.name} twice`);
        seen.add(`${p.in}:${p.name}`);
        if (p.in === 'path' && (p.required !== true || !templated.includes(p.name)))
          problems.push(`${where}: path parameter ${p.name} must be required and in the path`);
        if (!p.schema) problems.push(`${where}: parameter ${p.name} has no schema`);
      }
      for (const name of templated)
        if (!params.some((p) => p.in === 'path' && p.name === name)) problems.push(`${where}: {${name}} is not declared`);
      const codes = Object.keys(op.responses ?? {});
      if (codes.length === 0) problems.push(`${where}: no responses`);
      for (const code of codes) {
        if (!/^([1-5]\d\d|[1-5]XX|default)$/.test(code)) problems.push(`${where}: response key ${code}`);
        const r = op.responses[code]!;
        if (typeof r.description !== 'string') problems.push(`${where} ${code}: no description`);
        for (const [media, m] of Object.entries(r.content ?? {})) if (!m.schema) problems.push(`${where} ${code} ${media}: no schema`);
      }
      for (const req of op.security ?? [])
        for (const name of Object.keys(req)) if (!schemes[name]) problems.push(`${where}: security scheme ${name} is not defined`);
      for (const tag of op.tags ?? []) if (!tagNames.has(tag)) problems.push(`${where}: tag ${tag} is not declared`);
    }
  }
  for (const [at, node] of walk(d)) {
    const ref = node['$ref'];
    if (typeof ref === 'string' && (!ref.startsWith('#/') || resolvePointer(d, ref) === undefined))
      problems.push(`${at}: $ref ${ref} does not resolve`);
    // OpenAPI 3.0's keyword; 3.1 schemas say type: [..., 'null'].
    if ('nullable' in node && at.includes('schema')) problems.push(`${at}: nullable is not OpenAPI 3.1`);
  }
  return problems;
}

t.test('/api/openapi.json is a valid OpenAPI 3.1 document of exactly the /api/v1 routes', async (t) => {
  t.strictSame(openApi31Problems(doc), []);
  t.equal(doc.info.title, 'GAS API');
  t.match(doc.info.description ?? '', /Authorization: Bearer <token>/);
  t.match(doc.info.description ?? '', /X-CSRF-Token/);
  t.match(doc.info.description ?? '', /Retry-After/);
  t.strictSame(Object.keys(doc.components.securitySchemes ?? {}).sort(), ['bearerAuth', 'cookieAuth']);
  const listed = Object.fromEntries(
    Object.entries(doc.paths).map(([p, item]) => [
      p,
      Object.keys(item)
        .filter((m) => METHODS.includes(m))
        .sort(),
    ]),
  );
  t.strictSame(listed, API_ROUTES, 'every API route with its methods, and no web page, docs page or HEAD route');
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const where = `${method.toUpperCase()} ${path}`;
      t.strictSame(op.security, [{ bearerAuth: [] }, { cookieAuth: [] }], where);
      t.ok(op.tags?.length, `${where} has a tag`);
      for (const code of ['401', '429', '500', '503']) {
        t.strictSame(
          op.responses[code]?.content,
          { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
          `${where} ${code}`,
        );
      }
      t.ok(op.responses['429']!.headers?.['Retry-After'], `${where} documents Retry-After`);
    }
  }
  const upload = doc.paths['/api/v1/jobs']!['post']!;
  const form = upload.requestBody?.content['multipart/form-data']?.schema as { properties: Json; required: string[] };
  t.strictSame(Object.keys(form.properties).sort(), ['file', 'genome_build']);
  t.strictSame([...form.required].sort(), ['file', 'genome_build']);
  const job = doc.components.schemas?.['Job'] as { properties: Record<string, { type: unknown }> };
  for (const nullable of [
    'genome_build',
    'started_at',
    'finished_at',
    'failure_reason',
    'progress',
    'queue_position',
    'result_state',
    'counts',
  ]) {
    t.ok(
      Array.isArray(job.properties[nullable]!.type) && (job.properties[nullable]!.type as string[]).includes('null'),
      `${nullable} is nullable`,
    );
  }
});

t.test('every documented operation answers its owner with a status the document lists, never 404', async (t) => {
  const user = stack.users[0]!;
  const created = await stack.submitText(user, 'docs.vcf', VCF, { genomeBuild: 'GRCh37' });
  t.equal(created.status, 201, await created.clone().text());
  const jobId = ((await created.json()) as { id: string }).id;
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const where = `${method.toUpperCase()} ${path}`;
      const url = path.replace('{id}', jobId);
      // Without an annotator the job stays PENDING, so its results answer 409 (documented). A
      // route that takes a JSON body gets an empty one: any documented answer but 404 will do.
      const res =
        method === 'post' && path === '/api/v1/jobs'
          ? await stack.submitText(user, 'again.vcf', VCF, { genomeBuild: 'GRCh38' })
          : await stack.api(user, url, {
              method: method.toUpperCase(),
              ...(method === 'get' ? {} : { body: '{}', headers: { 'content-type': 'application/json' } }),
            });
      const body = await res.text();
      t.not(res.status, 404, `${where}: ${body.slice(0, 200)}`);
      const documented = op.responses[String(res.status)];
      t.ok(documented, `${where} answered ${res.status}, which the document does not list: ${body.slice(0, 200)}`);
      const media = (res.headers.get('content-type') ?? '').split(';')[0]!;
      t.ok(
        Object.keys(documented?.content ?? {}).includes(media),
        `${where} ${res.status} answered ${media}; documented: ${Object.keys(documented?.content ?? {}).join(', ')}`,
      );
    }
  }
});

/** A CSP header as directive → sources. */
function csp(t: Test, header: string | null): Map<string, string[]> {
  t.ok(header, 'a Content-Security-Policy header');
  if (!header) return new Map();
  return new Map(
    header
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...sources]) => [name!, sources]),
  );
}

t.test('/api/docs is an HTML page whose scripts and styles are served, under a CSP without inline scripts', async (t) => {
  const pageUrl = `${stack.url}/api/docs`;
  const res = await fetch(pageUrl);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type') ?? '', /^text\/html/);
  const html = await res.text();
  t.notMatch(html, /<script(?![^>]*\bsrc=)[^>]*>\s*\S/, 'no inline script');
  const scripts = [...html.matchAll(/<script[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1]!);
  const links = [...html.matchAll(/<link[^>]*\bhref="([^"]+)"/g)].map((m) => m[1]!);
  t.ok(scripts.length >= 3, `scripts: ${scripts.join(', ')}`);
  t.ok(
    links.some((l) => l.endsWith('.css')),
    `links: ${links.join(', ')}`,
  );
  for (const src of scripts) {
    const file = await fetch(new URL(src, pageUrl));
    t.equal(file.status, 200, src);
    t.match(file.headers.get('content-type') ?? '', /javascript/, src);
    t.ok((await file.arrayBuffer()).byteLength > 0, src);
  }
  for (const href of links) {
    const file = await fetch(new URL(href, pageUrl));
    t.equal(file.status, 200, href);
    if (href.endsWith('.css')) t.match(file.headers.get('content-type') ?? '', /^text\/css/, href);
    await file.body?.cancel();
  }

  const policy = csp(t, res.headers.get('content-security-policy'));
  t.strictSame(policy.get('script-src'), ["'self'"]);
  t.strictSame(policy.get('default-src'), ["'self'"]);
  t.strictSame(policy.get('frame-ancestors'), ["'none'"]);
  t.strictSame(policy.get('object-src'), ["'none'"]);
  // The UI loads the document from its own address; it is the same document.
  const uiDoc = await fetch(new URL('/api/docs/json', stack.url));
  t.strictSame(await uiDoc.json(), doc);
  const yaml = await fetch(new URL('/api/docs/yaml', stack.url));
  t.equal(yaml.status, 200);
  t.match(await yaml.text(), /^openapi: 3\.1\.0$/m);
  // The rest of the site keeps its own, strict policy.
  for (const path of ['/signin', '/api/v1/jobs', '/api/openapi.json']) {
    const other = await fetch(`${stack.url}${path}`);
    await other.body?.cancel();
    const p = csp(t, other.headers.get('content-security-policy'));
    t.strictSame(p.get('style-src'), ["'self'"], path);
    t.strictSame(p.get('script-src'), ["'self'"], path);
  }
});

t.test('Swagger UI renders every operation in Chromium with no CSP violation or script error', async (t) => {
  const browser = await launchBrowser();
  try {
    const page = await newPage(browser, DESKTOP);
    // A string, as the test's TypeScript knows no DOM: it runs in the page before its scripts.
    await page.addInitScript(`
      window.cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber));
    `);
    await page.goto(`${stack.url}/api/docs`);
    await page.locator('.opblock').first().waitFor({ timeout: 30_000 });
    const operations = Object.values(doc.paths).flatMap((item) => Object.keys(item).filter((m) => METHODS.includes(m)));
    t.equal(await page.locator('.opblock').count(), operations.length);
    t.match(await page.locator('.info .title').innerText(), /GAS API/);
    // Try the list with an API token, as a reader of the page would: Authorize, Try it out, Execute.
    await page.getByRole('button', { name: 'Authorize' }).first().click();
    const bearer = page.locator('.auth-container', { hasText: 'bearerAuth' });
    await bearer.locator('input').fill(stack.users[0]!.token);
    await bearer.getByRole('button', { name: 'Apply credentials' }).click();
    await bearer.locator('button', { hasText: 'Logout' }).waitFor();
    await page.locator('.close-modal').click();
    const list = page.locator('.opblock-get', { hasText: '/api/v1/jobs' }).first();
    await list.locator('.opblock-summary').click();
    await list.getByRole('button', { name: 'Try it out' }).click();
    await list.getByRole('button', { name: 'Execute' }).click();
    await list.locator('.live-responses-table .response-col_status', { hasText: '200' }).waitFor();
    t.match(await list.locator('.live-responses-table .microlight').first().innerText(), /"next_page_token"/);
    // The shared schemas are listed under their names, and open up.
    const titles = page.locator('section.models > div > article > .json-schema-2020-12-head .json-schema-2020-12__title');
    await titles.first().waitFor();
    t.strictSame((await titles.allInnerTexts()).sort(), ['Job', 'JobList', 'Problem', 'UploadTicket']);
    const job = page
      .locator('section.models > div > article')
      .filter({ has: page.locator('.json-schema-2020-12__title', { hasText: /^Job$/ }) });
    await job.getByRole('button', { name: 'Expand all' }).first().click();
    await job.getByText('queue_position').first().waitFor();
    t.strictSame(await page.evaluate('window.cspViolations'), []);
    t.strictSame(pageErrors(page), []);
  } finally {
    await browser.close();
  }
});
