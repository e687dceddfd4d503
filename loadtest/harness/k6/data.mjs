// The `k6/data` module: SharedArray. k6 runs the function once, keeps the array as JSON and hands
// every VU a read-only view; the harness does the same round trip, so what cannot cross it
// (functions, class instances) is lost here as it is in k6.
import { vu } from '../vu-runtime.mjs';

const arrays = new Map();

function deepFreeze(value) {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export class SharedArray {
  constructor(name, fn) {
    if (!vu.initContext) throw new Error('SharedArray can only be created in the init context');
    if (typeof name !== 'string' || name === '') throw new Error('SharedArray needs a name');
    if (!arrays.has(name)) {
      const data = fn();
      if (!Array.isArray(data)) throw new Error('the function given to SharedArray must return an array');
      arrays.set(name, deepFreeze(JSON.parse(JSON.stringify(data))));
    }
    return arrays.get(name);
  }
}

export default { SharedArray };
