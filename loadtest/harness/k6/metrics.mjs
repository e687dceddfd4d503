// The `k6/metrics` module: custom Counter, Gauge, Rate and Trend metrics, created in the init context.
import { addSample, vu } from '../vu-runtime.mjs';

// What current k6 releases accept; older ones allowed more, and warned.
const NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,127}$/;

class Metric {
  constructor(name, type, isTime = false) {
    if (!vu.initContext) throw new Error('metrics must be declared in the init context');
    if (typeof name !== 'string' || !NAME.test(name)) throw new Error(`invalid metric name ${JSON.stringify(name)}`);
    this.name = name;
    this.type = type;
    this.isTime = Boolean(isTime);
  }

  add(value, tags = {}) {
    if (vu.initContext) throw new Error('metrics can only be added to outside the init context');
    const v = this.type === 'rate' ? (typeof value === 'boolean' ? Number(value) : Number(value) !== 0 ? 1 : 0) : Number(value);
    if (!Number.isFinite(v)) throw new Error(`${this.name}: ${String(value)} is not a number`);
    addSample(this.name, this.type, v, tags, this.isTime);
    return true;
  }
}

export class Counter extends Metric {
  constructor(name) {
    super(name, 'counter');
  }
}
export class Gauge extends Metric {
  constructor(name, isTime) {
    super(name, 'gauge', isTime);
  }
}
export class Rate extends Metric {
  constructor(name) {
    super(name, 'rate');
  }
}
export class Trend extends Metric {
  constructor(name, isTime) {
    super(name, 'trend', isTime);
  }
}

export default { Counter, Gauge, Rate, Trend };
