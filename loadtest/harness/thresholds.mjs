// Metric aggregation and threshold evaluation the way k6 does them: a threshold key is a metric
// name with an optional tag filter (`http_req_duration{name:GET /api/v1/jobs}`), each expression
// an aggregation, an operator and a number (`p(95)<500`, `rate<0.01`, `count>10`).

const AGGREGATIONS = {
  trend: ['avg', 'min', 'max', 'med', 'p(N)'],
  counter: ['count', 'rate'],
  rate: ['rate'],
  gauge: ['value'],
};

const EXPRESSION = /^\s*(avg|min|max|med|count|rate|value|p\(\s*(\d+(?:\.\d+)?)\s*\))\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/;

/** `metric{tag:value,tag:value}` → { metric, tags }. */
export function parseThresholdKey(key) {
  const m = /^([^{]+?)\s*(?:\{(.*)\})?\s*$/.exec(key);
  if (!m) throw new Error(`cannot read the threshold key ${JSON.stringify(key)}`);
  const tags = {};
  if (m[2] !== undefined) {
    for (const part of m[2].split(',')) {
      const i = part.indexOf(':');
      if (i < 1) throw new Error(`threshold ${JSON.stringify(key)}: a tag filter is "tag:value", got ${JSON.stringify(part)}`);
      tags[part.slice(0, i).trim()] = part.slice(i + 1).trim();
    }
  }
  return { metric: m[1], tags };
}

export function parseExpression(text) {
  const m = EXPRESSION.exec(text);
  if (!m) throw new Error(`cannot read the threshold ${JSON.stringify(text)}`);
  return {
    aggregation: m[2] !== undefined ? 'p(N)' : m[1],
    percentile: m[2] !== undefined ? Number(m[2]) : undefined,
    op: m[3],
    bound: Number(m[4]),
  };
}

/** k6's percentile: linear interpolation between the closest ranks. */
export function percentile(sorted, pct) {
  if (sorted.length === 0) return 0;
  if (sorted.length === 1) return sorted[0];
  const i = (pct / 100) * (sorted.length - 1);
  const lo = sorted[Math.floor(i)];
  const hi = sorted[Math.ceil(i)];
  return lo + (hi - lo) * (i - Math.floor(i));
}

/** The values k6 shows for a metric of samples: per kind, what its summary and thresholds read. */
export function aggregate(type, values, durationSeconds) {
  if (type === 'trend') {
    const sorted = [...values].sort((a, b) => a - b);
    const sum = values.reduce((a, b) => a + b, 0);
    return {
      count: values.length,
      avg: values.length ? sum / values.length : 0,
      min: sorted[0] ?? 0,
      max: sorted.at(-1) ?? 0,
      med: percentile(sorted, 50),
      p: (pct) => percentile(sorted, pct),
    };
  }
  if (type === 'counter') {
    const count = values.reduce((a, b) => a + b, 0);
    return { count, rate: durationSeconds > 0 ? count / durationSeconds : 0 };
  }
  if (type === 'rate') {
    const passes = values.filter((v) => v !== 0).length;
    return { rate: values.length ? passes / values.length : 0, passes, fails: values.length - passes };
  }
  return { value: values.at(-1) ?? 0, min: values.length ? Math.min(...values) : 0, max: values.length ? Math.max(...values) : 0 };
}

const COMPARE = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '==': (a, b) => a === b,
  '===': (a, b) => a === b,
  '!=': (a, b) => a !== b,
};

/**
 * Evaluates `options.thresholds` against the samples. A threshold on a metric that no sample
 * matched is reported with `noSamples`; `strict` counts it as failed, since in a smoke run it means
 * the script never sent what the threshold watches (a tag renamed in one place only).
 */
export function evaluateThresholds(thresholds, samples, durationSeconds, { strict = false } = {}) {
  const results = [];
  for (const [key, list] of Object.entries(thresholds ?? {})) {
    const { metric, tags } = parseThresholdKey(key);
    const matching = samples.filter((s) => s.metric === metric && Object.entries(tags).every(([k, v]) => s.tags[k] === v));
    const type = matching[0]?.type ?? samples.find((s) => s.metric === metric)?.type;
    for (const item of Array.isArray(list) ? list : [list]) {
      const text = typeof item === 'string' ? item : item.threshold;
      const expr = parseExpression(text);
      if (matching.length === 0 || !type) {
        results.push({ key, threshold: text, value: null, ok: !strict, noSamples: true });
        continue;
      }
      if (!AGGREGATIONS[type].includes(expr.aggregation)) {
        throw new Error(`threshold ${key}: ${text}: a ${type} metric has ${AGGREGATIONS[type].join(', ')}, not ${expr.aggregation}`);
      }
      const agg = aggregate(
        type,
        matching.map((s) => s.value),
        durationSeconds,
      );
      const value = expr.aggregation === 'p(N)' ? agg.p(expr.percentile) : agg[expr.aggregation];
      results.push({ key, threshold: text, value, ok: COMPARE[expr.op](value, expr.bound), noSamples: false });
    }
  }
  return results;
}
