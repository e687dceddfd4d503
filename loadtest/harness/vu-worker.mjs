// One k6 VU in a worker thread: registers the hooks that map the k6 modules to the shims, sets the
// globals k6 gives a script (__ENV, __VU, __ITER, open), runs the script's init context, then one
// phase of the test: setup(), iterations of a scenario's function, or teardown(). Each phase gets
// a fresh worker, as each gets a fresh JS runtime in k6, so state cannot leak between them here
// either: setup() hands its data over as JSON, like k6 does.
import { register } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

const shim = (name) => new URL(`./k6/${name}.mjs`, import.meta.url).href;
register(new URL('./hooks.mjs', import.meta.url), {
  data: { shims: { k6: shim('k6'), 'k6/http': shim('http'), 'k6/metrics': shim('metrics'), 'k6/data': shim('data') } },
});

const { addSample, vu } = await import('./vu-runtime.mjs');
const http = await import('./k6/http.mjs');

// What Node has and a k6 VU does not: hidden from the script, so a script that leans on one fails
// here as it would under k6. The shims took their own references first.
for (const name of [
  'fetch',
  'Request',
  'Response',
  'Headers',
  'FormData',
  'Blob',
  'File',
  'URL',
  'URLSearchParams',
  'Buffer',
  'TextEncoder',
  'TextDecoder',
  'structuredClone',
  'performance',
  'setImmediate',
  'clearImmediate',
  'navigator',
  'WebSocket',
]) {
  delete globalThis[name];
}

const { script, phase, env, vuId, exec, iterations, setupData, scenario, scenarioTags } = workerData;
const scriptDir = dirname(script);

globalThis.__ENV = { ...env };
globalThis.__VU = vuId;
globalThis.__ITER = 0;
globalThis.open = (path, mode) => {
  if (!vu.initContext) throw new Error('open() can only be called in the init context');
  const bytes = readFileSync(resolve(scriptDir, String(path)));
  if (mode === 'b') return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return bytes.toString('utf8');
};

const errors = [];
const result = { errors, samples: vu.samples };
try {
  const mod = await import(pathToFileURL(script).href);
  const options = mod.options ?? {};
  vu.options = options;
  vu.tags = { ...(options.tags ?? {}), ...(scenario ? { scenario } : {}), ...(scenarioTags ?? {}) };
  vu.initContext = false;
  if (phase === 'setup') {
    // The options cross to the main thread as JSON, the way k6 reads them from the script.
    result.options = JSON.parse(JSON.stringify(options));
    result.exports = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
    if (typeof mod.setup === 'function') {
      const data = mod.setup();
      result.setupData = data === undefined ? undefined : JSON.stringify(data);
    }
  } else if (phase === 'teardown') {
    if (typeof mod.teardown === 'function') mod.teardown(parse(setupData));
  } else {
    const fn = mod[exec];
    if (typeof fn !== 'function') throw new Error(`the script exports no function "${exec}" for scenario ${scenario}`);
    const data = parse(setupData);
    for (let i = 0; i < iterations; i++) {
      globalThis.__ITER = i;
      if (i > 0 && !options.noCookiesReset) http.resetVuCookies();
      const started = performance.now();
      try {
        fn(data);
        addSample('iterations', 'counter', 1);
      } catch (err) {
        errors.push({ phase: `iteration ${i} of ${scenario}`, message: describe(err) });
      }
      addSample('iteration_duration', 'trend', performance.now() - started, {}, true);
    }
  }
} catch (err) {
  errors.push({ phase, message: describe(err) });
}
parentPort.postMessage(result);

function parse(json) {
  return json === undefined ? undefined : JSON.parse(json);
}

function describe(err) {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
