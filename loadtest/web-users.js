/* global open */
// Web users: people signing in through the form, browsing their jobs, opening one and downloading
// its files, with think times between clicks. Does the web tier hold its latency under load?
//
//   k6 run -e GAS_URL=https://gas.example.org -e PROFILE=load loadtest/web-users.js
//
// Accounts: GAS_WEB_USERS=email:password,... or, without it, setup() signs up WEB_USERS fresh
// accounts and gives each a completed job (README.md, "Credentials").
import { GENOME_BUILD, VCF_PATH, loadVcf } from './lib/config.js';
import { profile, webScenario } from './lib/profiles.js';
import { WEB_ENDPOINTS, thresholds } from './lib/slo.js';
import { prepareWebUsers, webVisit } from './lib/web.js';

const p = profile();
// Only setup() uploads it, for a user without a completed job.
const vcf = loadVcf((mode) => open(VCF_PATH, mode));

export const options = {
  scenarios: { web: webScenario(p) },
  thresholds: thresholds(p, {
    endpoints: WEB_ENDPOINTS,
  }),
  // A browser keeps its session cookie from one visit to the next.
  noCookiesReset: true,
  setupTimeout: '15m',
  tags: { testid: `web-users-${p.name}` },
};

export function setup() {
  const runId = Date.now().toString(36);
  return { runId, build: GENOME_BUILD, webUsers: prepareWebUsers(p, vcf, runId) };
}

export default function (data) {
  webVisit(p, data);
}
