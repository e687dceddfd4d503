/* global __ENV */
// The load shapes, picked with PROFILE=smoke|load|burst|soak. Each knob can be moved with an
// environment variable of the same meaning (listed in loadtest/README.md); the scripts build their
// k6 scenarios from the profile with webScenario() and jobScenario().

const PROFILES = {
  // What CI runs through the harness: one VU, one iteration per scenario, short think times. The
  // latency budgets stay the SLOs' shape but ten times looser: a shared CI machine is no cluster.
  smoke: { webVus: 1, jobRate: 0, think: 0.05, pollMin: 0.25, pollMax: 1, jobTimeout: 120, sloScale: 10, jobP99Ms: 120_000, webUsers: 1 },
  // The web tier at a steady, realistic load, with a trickle of jobs: does it hold its latency?
  load: {
    webVus: 50,
    rampUp: '2m',
    duration: '10m',
    rampDown: '1m',
    jobRate: 1,
    think: 1,
    pollMin: 1,
    pollMax: 10,
    jobTimeout: 600,
    sloScale: 1,
    jobP99Ms: 60_000,
    webUsers: 10,
  },
  // The annotator scale test: jobs arrive at BURST_RATE a second for BURST_DURATION, then stop.
  // Queue depth climbs, the HPA (or KEDA) adds annotators, the queue drains, and after the
  // scale-down window the annotators go back. Iterations wait for their jobs, so gracefulStop is long.
  burst: {
    webVus: 10,
    rampUp: '30s',
    duration: '2m',
    rampDown: '30s',
    jobRate: 10,
    think: 1,
    pollMin: 2,
    pollMax: 15,
    jobTimeout: 1800,
    sloScale: 1,
    jobP99Ms: 600_000,
    webUsers: 10,
  },
  // Hours of a steady mix: memory, connections, KV growth and the archive timers over time.
  soak: {
    webVus: 20,
    rampUp: '5m',
    duration: '4h',
    rampDown: '2m',
    jobRate: 0.1,
    think: 1,
    pollMin: 2,
    pollMax: 15,
    jobTimeout: 900,
    sloScale: 1,
    jobP99Ms: 120_000,
    webUsers: 10,
  },
};

function number(name, fallback) {
  const v = __ENV[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(v)}`);
  return n;
}

export function profile() {
  const name = __ENV.PROFILE || 'smoke';
  const base = PROFILES[name];
  if (!base) throw new Error(`PROFILE must be one of ${Object.keys(PROFILES).join(', ')}; got ${JSON.stringify(name)}`);
  return {
    ...base,
    name,
    webVus: number('WEB_VUS', base.webVus),
    jobRate: number(name === 'burst' ? 'BURST_RATE' : 'JOB_RATE', base.jobRate),
    duration: __ENV.DURATION || (name === 'burst' ? __ENV.BURST_DURATION : undefined) || base.duration,
    think: number('THINK_SCALE', base.think),
    pollMin: number('POLL_MIN_SECONDS', base.pollMin),
    pollMax: number('POLL_MAX_SECONDS', base.pollMax),
    jobTimeout: number('JOB_TIMEOUT_SECONDS', base.jobTimeout),
    sloScale: number('SLO_SCALE', base.sloScale),
    jobP99Ms: number('JOB_P99_MS', base.jobP99Ms),
    webUsers: number('WEB_USERS', base.webUsers),
    maxVus: number('MAX_VUS', 0),
  };
}

const once = (exec) => ({ executor: 'per-vu-iterations', vus: 1, iterations: 1, exec, maxDuration: '10m' });

/** Web users: a fixed number of VUs, each a person clicking through the pages with think times. */
export function webScenario(p, exec = 'default') {
  if (p.name === 'smoke') return once(exec);
  return {
    executor: 'ramping-vus',
    exec,
    startVUs: 0,
    stages: [
      { duration: p.rampUp, target: p.webVus },
      { duration: p.duration, target: p.webVus },
      { duration: p.rampDown, target: 0 },
    ],
    gracefulRampDown: '30s',
  };
}

/**
 * Job submissions at an arrival rate (open model: jobs keep coming however slow the service is,
 * as uploads do). Each iteration submits one job and waits for it, so a VU is busy for the job's
 * whole queue wait; maxVUs must cover rate × the longest wait (MAX_VUS to change it).
 */
export function jobScenario(p, exec = 'default') {
  if (p.name === 'smoke') return once(exec);
  const perMinute = Math.max(1, Math.round(p.jobRate * 60));
  const maxVUs = p.maxVus || Math.min(5000, Math.ceil(p.jobRate * p.jobTimeout) + 10);
  const common = { exec, timeUnit: '1m', preAllocatedVUs: Math.min(maxVUs, Math.max(5, Math.ceil(p.jobRate * 30))), maxVUs };
  if (p.name === 'burst') {
    return {
      ...common,
      executor: 'ramping-arrival-rate',
      startRate: 0,
      stages: [
        { duration: p.rampUp, target: perMinute },
        { duration: p.duration, target: perMinute },
        { duration: '5s', target: 0 },
      ],
      // The last jobs of the burst wait for the scaled-out annotators to reach them.
      gracefulStop: `${Math.ceil(p.jobTimeout)}s`,
    };
  }
  return {
    ...common,
    executor: 'constant-arrival-rate',
    rate: perMinute,
    duration: p.duration,
    gracefulStop: `${Math.ceil(p.jobTimeout)}s`,
  };
}

/** A think time between min and max seconds, scaled by the profile (short in smoke runs). */
export function thinkTime(p, min, max) {
  return (min + Math.random() * (max - min)) * p.think;
}
