import t from 'tap';
import type { Test } from 'tap';
import { request } from 'node:http';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { Counter, Health, createLogger, createRegistry, startOpsServer } from '../src/index.ts';
import type { OpsServer } from '../src/index.ts';

const quiet = new Writable({ write: (_c, _e, cb) => cb() });
const logger = createLogger({ service: 'opstest', destination: quiet });
const registry = createRegistry('ops-test');
const health = new Health({ checks: ['nats'] });
const jobs = new Counter({ name: 'gas_ops_test_jobs_total', help: 'jobs seen', labelNames: ['outcome'], registers: [registry] });
const server: OpsServer = await startOpsServer({ port: 0, host: '127.0.0.1', registry, health, logger });
const base = `http://127.0.0.1:${server.port}`;
t.teardown(() => server.close());

type Sample = { name: string; labels: Record<string, string>; value: number };

// A minimal parser for the Prometheus text format, enough to check names, labels and values.
function parseProm(t: Test, text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name!, type!);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) {
      t.fail(`unparseable metrics line: ${line}`);
      continue;
    }
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

t.test('GET /metrics serves default and custom metrics in Prometheus text format', async (t) => {
  jobs.inc({ outcome: 'ok' }, 3);
  const res = await fetch(`${base}/metrics`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4; charset=utf-8$/);
  const { samples, types } = parseProm(t, await res.text());
  t.equal(types.get('gas_ops_test_process_cpu_user_seconds_total'), 'counter');
  t.equal(types.get('gas_ops_test_nodejs_heap_size_total_bytes'), 'gauge');
  const job = samples.find((s) => s.name === 'gas_ops_test_jobs_total');
  t.strictSame(job, { name: 'gas_ops_test_jobs_total', labels: { outcome: 'ok', service: 'ops-test' }, value: 3 });
  const unprefixed = samples.filter((s) => !s.name.startsWith('gas_ops_test_'));
  t.strictSame(unprefixed, []);
  t.ok(
    samples.every((s) => s.labels.service === 'ops-test'),
    'every sample carries the service label',
  );
});

t.test('GET /livez answers ok', async (t) => {
  const res = await fetch(`${base}/livez`);
  t.equal(res.status, 200);
  t.equal(await res.text(), 'ok');
});

t.test('GET /readyz follows Health: started, checks, shutdown', async (t) => {
  const probe = async () => {
    const res = await fetch(`${base}/readyz`);
    t.match(res.headers.get('content-type') ?? '', /application\/json/);
    return { status: res.status, body: (await res.json()) as { ready: boolean; checks: Record<string, boolean> } };
  };
  let r = await probe();
  t.equal(r.status, 503);
  t.strictSame(r.body.checks, { nats: false });

  health.setReady('nats', true);
  r = await probe();
  t.equal(r.status, 503, 'not ready before markStarted()');

  health.markStarted();
  r = await probe();
  t.equal(r.status, 200);
  t.equal(r.body.ready, true);
  t.strictSame(r.body.checks, { nats: true });

  health.setReady('grpc', false);
  r = await probe();
  t.equal(r.status, 503);
  t.strictSame(r.body.checks, { nats: true, grpc: false });
  health.setReady('grpc', true);
  t.equal((await probe()).status, 200);

  health.startShutdown();
  r = await probe();
  t.equal(r.status, 503);
  t.strictSame(r.body.checks, { nats: true, grpc: true });
  t.equal((await fetch(`${base}/livez`)).status, 200, 'still live while draining');
});

t.test('unknown paths and methods get 404; query strings are ignored', async (t) => {
  t.equal((await fetch(`${base}/nope`)).status, 404);
  t.equal((await fetch(`${base}/metrics`, { method: 'POST', body: 'x' })).status, 404);
  t.equal((await fetch(`${base}/livez?verbose=1`)).status, 200);
});

t.test('survives malformed requests', async (t) => {
  const raw = await new Promise<string>((resolve, reject) => {
    const sock = connect(server.port, '127.0.0.1', () => sock.write('GARBAGE \x00\x01 nonsense\r\n\r\n'));
    let data = '';
    sock.on('data', (d) => (data += String(d)));
    sock.on('end', () => resolve(data));
    sock.on('error', reject);
  });
  t.match(raw, /^HTTP\/1\.1 400/);
  const weird = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path: '//%%%/../livez', method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  t.equal(weird, 404);
  t.equal((await fetch(`${base}/livez`)).status, 200, 'still serving');
});

t.test('port 0 binds a free port and close() does not wait for keep-alive clients', async (t) => {
  const other = await startOpsServer({ port: 0, host: '127.0.0.1', registry, health: new Health(), logger });
  t.ok(other.port > 0 && other.port !== server.port);
  const res = await fetch(`http://127.0.0.1:${other.port}/livez`, { keepalive: true });
  await res.text();
  const t0 = Date.now();
  await other.close();
  const closeMs = Date.now() - t0;
  t.ok(closeMs < 1000, `close() took ${closeMs} ms`);
  await t.rejects(fetch(`http://127.0.0.1:${other.port}/livez`));
});
