// The state one VU has in the worker thread: its metric samples, the group it is in, whether it is
// still in the init context, and the synchronous bridge to the main thread's fetch.
//
// k6 scripts call http.get() and expect the response back, with no await. A worker thread can wait:
// it posts the request to the main thread on its own MessagePort and blocks in Atomics.wait on a
// shared counter; the main thread, once its fetch has finished, posts the response on that port and
// bumps the counter. receiveMessageOnPort then takes the response synchronously. sleep() is
// Atomics.wait with a timeout. The worker's event loop never runs while the script does, as in a k6 VU.
import { receiveMessageOnPort, workerData } from 'node:worker_threads';

const { httpPort, signal } = workerData;
const answers = new Int32Array(signal);
let sequence = 0;
let taken = 0;

export const vu = {
  /** True while the script's module body runs: k6 allows open() there and no HTTP requests. */
  initContext: true,
  groupPath: '',
  /** Tags every sample of this VU carries: the scenario's and the `tags` option's. */
  tags: {},
  options: {},
  samples: [],
};

/**
 * Performs the requests (in parallel, on the main thread) and returns their raw answers:
 * `{ status, statusText, headers: [[name, value]], setCookies, body: ArrayBuffer | null, timings, error, errorCode }`.
 */
export function fetchSync(requests) {
  if (vu.initContext) throw new Error('Making HTTP requests in the init context is not supported (k6 refuses them too)');
  const id = ++sequence;
  httpPort.postMessage({ id, requests });
  const limit = Math.max(...requests.map((r) => r.timeoutMs)) + 30_000;
  const deadline = Date.now() + limit;
  for (;;) {
    const message = receiveMessageOnPort(httpPort)?.message;
    if (message) {
      taken += 1;
      // An answer to an earlier request that gave up waiting is dropped.
      if (message.id === id) return message.responses;
      continue;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new Error(`the harness's main thread did not answer within ${limit} ms`);
    // The main thread counts its answers in `answers` after queueing each on the port: while the
    // count equals the answers taken, none is waiting, and a new one wakes this wait.
    Atomics.wait(answers, 0, taken, remaining);
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

export function blockFor(ms) {
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms);
}

/** Metric kinds, as k6 has them: Counter, Gauge, Rate, Trend; `time` marks values in milliseconds. */
export function addSample(metric, type, value, tags = {}, time = false) {
  const all = { ...vu.tags, group: vu.groupPath, ...tags };
  for (const k of Object.keys(all)) if (all[k] === undefined || all[k] === null) delete all[k];
  vu.samples.push({
    metric,
    type,
    time,
    value: Number(value),
    tags: Object.fromEntries(Object.entries(all).map(([k, v]) => [k, String(v)])),
  });
}
