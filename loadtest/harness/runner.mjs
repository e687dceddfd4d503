// Runs a k6 script the way `k6 run` would for one VU and one iteration per scenario: the init
// context and setup() in one worker, each scenario's function in a worker of its own (concurrently,
// as k6 runs scenarios), then teardown(). The main thread performs the workers' HTTP requests with
// fetch, then aggregates the samples into the summary k6 would print and evaluates the thresholds.
import { Worker, MessageChannel } from 'node:worker_threads';
import { resolve } from 'node:path';
import { aggregate, evaluateThresholds } from './thresholds.mjs';

const WORKER = new URL('./vu-worker.mjs', import.meta.url);

/** Performs one request for a worker; never rejects: a failure becomes k6's status 0 with an error. */
async function performOne(r) {
  const started = performance.now();
  const sentBytes = (r.body?.length ?? 0) + Object.entries(r.headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
  try {
    const res = await fetch(r.url, {
      method: r.method,
      headers: r.headers,
      body: r.body && r.method !== 'GET' && r.method !== 'HEAD' ? r.body : undefined,
      redirect: 'manual',
      signal: AbortSignal.timeout(r.timeoutMs),
    });
    const headersAt = performance.now();
    const bytes = new Uint8Array(await res.arrayBuffer());
    const done = performance.now();
    const headers = [...res.headers].filter(([k]) => k !== 'set-cookie');
    return {
      status: res.status,
      statusText: res.statusText,
      headers,
      setCookies: res.headers.getSetCookie(),
      body: r.keepBody ? bytes.buffer : null,
      sentBytes,
      receivedBytes: bytes.length + headers.reduce((n, [k, v]) => n + k.length + v.length + 4, 0),
      timings: { sending: 0, waiting: headersAt - started, receiving: done - headersAt, duration: done - started },
    };
  } catch (err) {
    const cause = err?.cause ?? err;
    const timedOut = err?.name === 'TimeoutError';
    // k6's error codes for the common cases: 1050 request timeout, 1212 connection refused, 1101 no such host.
    const errorCode = timedOut ? 1050 : cause?.code === 'ECONNREFUSED' ? 1212 : cause?.code === 'ENOTFOUND' ? 1101 : 1000;
    const elapsed = performance.now() - started;
    return {
      status: 0,
      statusText: '',
      headers: [],
      setCookies: [],
      body: null,
      sentBytes,
      receivedBytes: 0,
      error: timedOut ? 'request timeout' : String(cause?.message ?? cause),
      errorCode,
      timings: { sending: 0, waiting: elapsed, receiving: 0, duration: elapsed },
    };
  }
}

function runWorker(workerData) {
  const signal = new SharedArrayBuffer(4);
  const answers = new Int32Array(signal);
  const { port1, port2 } = new MessageChannel();
  port1.on('message', async ({ id, requests }) => {
    const responses = await Promise.all(requests.map(performOne));
    port1.postMessage(
      { id, responses },
      responses.map((r) => r.body).filter((b) => b !== null),
    );
    Atomics.add(answers, 0, 1);
    Atomics.notify(answers, 0);
  });
  const worker = new Worker(WORKER, { workerData: { ...workerData, httpPort: port2, signal }, transferList: [port2] });
  return new Promise((resolvePhase) => {
    let result;
    worker.on('message', (m) => (result = m));
    worker.on(
      'error',
      (err) => (result = { errors: [{ phase: workerData.phase, message: err.stack ?? String(err) }], samples: result?.samples ?? [] }),
    );
    worker.on('exit', (code) => {
      port1.close();
      if (!result) result = { errors: [{ phase: workerData.phase, message: `the VU worker exited with code ${code}` }], samples: [] };
      resolvePhase(result);
    });
  });
}

/** The scenarios the harness runs, one VU and `iterations` iterations each, from the script's options. */
function scenariosOf(options) {
  if (options.scenarios && Object.keys(options.scenarios).length > 0) {
    return Object.entries(options.scenarios).map(([name, s]) => ({
      name,
      exec: s.exec ?? 'default',
      env: s.env ?? {},
      tags: s.tags ?? {},
    }));
  }
  return [{ name: 'default', exec: 'default', env: {}, tags: {} }];
}

/**
 * @param {{ script: string, env?: Record<string, string>, iterations?: number, strict?: boolean }} o
 * `env` becomes __ENV (k6 passes the system environment too; the CLI does so). `strict`: a
 * threshold that no sample matched fails (smoke runs).
 */
export async function runK6Script(o) {
  const script = resolve(o.script);
  const env = o.env ?? {};
  const iterations = o.iterations ?? 1;
  const started = performance.now();
  const errors = [];
  const samples = [];

  const setup = await runWorker({ script, phase: 'setup', env, vuId: 0, scenario: 'setup' });
  errors.push(...setup.errors);
  samples.push(...setup.samples);
  const options = setup.options ?? {};
  const scenarios = setup.errors.length === 0 ? scenariosOf(options) : [];
  const runs = await Promise.all(
    scenarios.map((s, i) =>
      runWorker({
        script,
        phase: 'vu',
        env: { ...env, ...s.env },
        vuId: i + 1,
        exec: s.exec,
        iterations,
        setupData: setup.setupData,
        scenario: s.name,
        scenarioTags: s.tags,
      }),
    ),
  );
  for (const r of runs) {
    errors.push(...r.errors);
    samples.push(...r.samples);
  }
  if (setup.errors.length === 0) {
    const teardown = await runWorker({ script, phase: 'teardown', env, vuId: 0, setupData: setup.setupData, scenario: 'teardown' });
    errors.push(...teardown.errors);
    samples.push(...teardown.samples);
  }
  const durationSeconds = (performance.now() - started) / 1000;

  const checks = new Map();
  for (const s of samples.filter((x) => x.metric === 'checks')) {
    const key = `${s.tags.group ?? ''}\u0000${s.tags.check}`;
    const c = checks.get(key) ?? { group: s.tags.group ?? '', name: s.tags.check, passes: 0, fails: 0 };
    if (s.value) c.passes += 1;
    else c.fails += 1;
    checks.set(key, c);
  }
  const metrics = {};
  for (const name of [...new Set(samples.map((s) => s.metric))].sort()) {
    const of = samples.filter((s) => s.metric === name);
    const { p, ...values } = aggregate(
      of[0].type,
      of.map((s) => s.value),
      durationSeconds,
    );
    if (p) Object.assign(values, { 'p(90)': p(90), 'p(95)': p(95), 'p(99)': p(99) });
    metrics[name] = { type: of[0].type, contains: of[0].time ? 'time' : 'default', values };
  }
  let thresholds = [];
  try {
    thresholds = evaluateThresholds(options.thresholds, samples, durationSeconds, { strict: o.strict ?? false });
  } catch (err) {
    errors.push({ phase: 'thresholds', message: err.message });
  }
  const checkList = [...checks.values()];
  return {
    script,
    durationSeconds,
    scenarios: scenarios.map((s) => s.name),
    options,
    checks: checkList,
    metrics,
    thresholds,
    errors,
    samples,
    ok: errors.length === 0 && checkList.every((c) => c.fails === 0) && thresholds.every((t) => t.ok),
  };
}
