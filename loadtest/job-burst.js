/* global __VU, open */
// The annotator scale test (the original GAS's, now against queue-depth autoscaling): jobs arrive
// at BURST_RATE a second for BURST_DURATION, each VU uploading one VCF and polling its job until it
// completes. While it runs, watch the queue depth climb, the HPA raise the annotator Deployment's
// replicas, the queue drain, and the replicas come back down after the scale-down window.
//
//   k6 run -e GAS_URL=https://gas.example.org -e GAS_TOKENS=t1,t2,t3 -e PROFILE=burst loadtest/job-burst.js
import { GENOME_BUILD, TOKENS, VCF_PATH, loadVcf, pickToken } from './lib/config.js';
import { checkTokens } from './lib/api.js';
import { submitAndWait } from './lib/jobs.js';
import { jobScenario, profile } from './lib/profiles.js';
import { JOB_ENDPOINTS, thresholds } from './lib/slo.js';

const p = profile();
const vcf = loadVcf((mode) => open(VCF_PATH, mode));

export const options = {
  scenarios: { jobs: jobScenario(p) },
  thresholds: thresholds(p, { endpoints: JOB_ENDPOINTS, jobs: true }),
  setupTimeout: '2m',
  tags: { testid: `job-burst-${p.name}` },
};

export function setup() {
  checkTokens(TOKENS);
  return { runId: Date.now().toString(36), build: GENOME_BUILD };
}

export default function (data) {
  submitAndWait({ token: pickToken(__VU) }, vcf, p, data.runId);
}
