/* global __ENV */
// What the scripts read from the environment (`k6 run -e NAME=value`, or the shell's environment).
// Read once per VU, in the init context.
import { SharedArray } from 'k6/data';

function list(value) {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export const BASE_URL = (__ENV.GAS_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');

/** API tokens (`Authorization: Bearer`), one per VU in turn, so each token's rate limit is shared by fewer VUs. */
export const TOKENS = list(__ENV.GAS_TOKENS || __ENV.GAS_TOKEN);

/** Accounts for the web users, `email:password,...`; without them setup() signs up fresh accounts. */
export const WEB_USERS = list(__ENV.GAS_WEB_USERS).map((entry) => {
  const i = entry.indexOf(':');
  if (i < 1) throw new Error('GAS_WEB_USERS is a comma-separated list of email:password');
  return { email: entry.slice(0, i), password: entry.slice(i + 1) };
});

/**
 * The VCF every job uploads, opened by the entry script (k6 resolves a relative path against the
 * script's folder). The default is the original GAS's free_1.vcf (1,141 records, 33 KB, under the
 * free plan's 150 KiB), from the shared data beside this repository.
 */
export const VCF_PATH = __ENV.GAS_VCF || '../../shared/data/vcf/gas_anntools/free_1.vcf';
export const VCF_NAME = VCF_PATH.split('/').pop();
export const VCF_CONTENT_TYPE = /\.(b?gz)$/.test(VCF_NAME) ? 'application/gzip' : 'text/plain';
export const GENOME_BUILD = __ENV.GAS_GENOME_BUILD || 'GRCh37';

/**
 * The VCF to upload, as a function that returns it. A plain-text VCF is read once for the whole
 * test into a SharedArray: a burst runs thousands of VUs and open() gives each its own copy. A
 * compressed VCF is bytes, which a SharedArray cannot hold, so each VU opens its own. `openFile` is
 * `(mode) => open(VCF_PATH, mode)` written in the entry script, so that open() resolves the path
 * against the script's folder.
 */
export function loadVcf(openFile) {
  if (VCF_CONTENT_TYPE === 'application/gzip') {
    const bytes = openFile('b');
    return () => bytes;
  }
  const shared = new SharedArray('vcf', () => [openFile()]);
  return () => shared[0];
}

export function pickToken(vu) {
  if (TOKENS.length === 0) throw new Error('set GAS_TOKEN or GAS_TOKENS to API tokens (see loadtest/README.md)');
  return TOKENS[(Math.max(vu, 1) - 1) % TOKENS.length];
}
