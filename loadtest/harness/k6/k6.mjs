// The `k6` module: check, group, sleep, fail, randomSeed.
import { performance } from 'node:perf_hooks';
import { addSample, blockFor, vu } from '../vu-runtime.mjs';

export function check(value, sets, tags = {}) {
  let all = true;
  for (const [name, test] of Object.entries(sets)) {
    // As in k6, a check whose function throws ends the iteration with that error.
    const ok = Boolean(typeof test === 'function' ? test(value) : test);
    addSample('checks', 'rate', ok ? 1 : 0, { ...tags, check: name });
    all &&= ok;
  }
  return all;
}

export function group(name, fn) {
  if (vu.initContext) throw new Error('group() is not available in the init context');
  if (name.includes('::')) throw new Error('group and check names may not contain "::"');
  const parent = vu.groupPath;
  vu.groupPath = `${parent}::${name}`;
  const started = performance.now();
  try {
    return fn();
  } finally {
    addSample('group_duration', 'trend', performance.now() - started, {}, true);
    vu.groupPath = parent;
  }
}

export function sleep(seconds) {
  if (vu.initContext) throw new Error('sleep() is not available in the init context');
  blockFor(Number(seconds) * 1000);
}

export function fail(message = '') {
  throw new Error(message);
}

/** k6 seeds Math.random per VU; the harness's one VU keeps Node's generator. */
export function randomSeed() {}

export default { check, group, sleep, fail, randomSeed };
