/* global __VU, open */
// The soak: hours of web users with a trickle of jobs beside them (PROFILE=soak: 20 users and a
// job every 10 s for 4 h; DURATION, WEB_VUS and JOB_RATE move it). What it finds is slow: memory
// that grows, connections that leak, KV buckets and streams that only fill, archive timers piling up.
//
//   k6 run -e GAS_URL=https://gas.example.org -e GAS_TOKEN=... -e PROFILE=soak -e DURATION=8h loadtest/soak.js
import { GENOME_BUILD, TOKENS, VCF_PATH, loadVcf, pickToken } from './lib/config.js';
import { checkTokens } from './lib/api.js';
import { submitAndWait } from './lib/jobs.js';
import { jobScenario, profile, webScenario } from './lib/profiles.js';
import { JOB_ENDPOINTS, WEB_ENDPOINTS, thresholds } from './lib/slo.js';
import { prepareWebUsers, webVisit } from './lib/web.js';

const p = profile();
const vcf = loadVcf((mode) => open(VCF_PATH, mode));

export const options = {
  scenarios: { web: webScenario(p, 'webUser'), jobs: jobScenario(p, 'jobTrickle') },
  thresholds: thresholds(p, {
    endpoints: [...WEB_ENDPOINTS, ...JOB_ENDPOINTS],
    jobs: true,
  }),
  noCookiesReset: true,
  setupTimeout: '15m',
  tags: { testid: `soak-${p.name}` },
};

export function setup() {
  checkTokens(TOKENS);
  const runId = Date.now().toString(36);
  return { runId, build: GENOME_BUILD, webUsers: prepareWebUsers(p, vcf, runId) };
}

export function webUser(data) {
  webVisit(p, data);
}

export function jobTrickle(data) {
  submitAndWait({ token: pickToken(__VU) }, vcf, p, data.runId);
}
