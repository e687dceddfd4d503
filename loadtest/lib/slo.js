// The service level objectives, written as k6 thresholds. Latency budgets are per endpoint (the
// `name` tag every request carries, with ids replaced by {id}), so one slow route cannot hide behind
// many fast ones. A run that breaks one ends with k6's threshold exit code (99), or the harness's 1.

/** p95 and p99 budgets in milliseconds, for a gateway under its intended load. */
export const LATENCY_SLOS = {
  'GET /signin': [300, 800],
  // scrypt on purpose: a sign-in costs tens of milliseconds of CPU.
  'POST /signin': [1000, 2000],
  'GET /jobs': [500, 1200],
  'GET /jobs/{id}': [500, 1200],
  'GET /static/{file}': [200, 500],
  'GET /api/v1/jobs': [300, 800],
  'GET /api/v1/jobs/{id}': [200, 500],
  'POST /api/v1/jobs': [1000, 2500],
  'GET /api/v1/jobs/{id}/result': [800, 2000],
  'GET /api/v1/jobs/{id}/log': [300, 800],
};

/** The requests a web user's visit makes (lib/web.js), by their name tag. */
export const WEB_ENDPOINTS = [
  'GET /signin',
  'POST /signin',
  'GET /jobs',
  'GET /static/{file}',
  'GET /jobs/{id}',
  'GET /api/v1/jobs/{id}/log',
  'GET /api/v1/jobs/{id}/result',
];

/** The requests a job submission makes (lib/jobs.js): the upload, then polling the job. */
export const JOB_ENDPOINTS = ['POST /api/v1/jobs', 'GET /api/v1/jobs/{id}'];

/**
 * Thresholds for a script: errors under 1 %, checks over 99 %, the latency budgets of the
 * endpoints it calls (scaled by the profile's sloScale) and, when it submits jobs, that 99 % of its
 * jobs complete within the profile's budget and that they complete at all.
 */
export function thresholds(p, { endpoints, jobs = false }) {
  const t = {
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
  };
  for (const name of endpoints) {
    const slo = LATENCY_SLOS[name];
    if (!slo) throw new Error(`no latency SLO for ${name}`);
    t[`http_req_duration{name:${name}}`] = [`p(95)<${slo[0] * p.sloScale}`, `p(99)<${slo[1] * p.sloScale}`];
  }
  if (jobs) {
    t.job_submit_to_completed = [`p(99)<${p.jobP99Ms}`];
    t.jobs_completed = ['rate>0.99'];
  }
  return t;
}
