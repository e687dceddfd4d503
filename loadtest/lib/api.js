// The GAS JSON API (docs/api.md) as the scripts call it: credentials, the `name` tag per endpoint,
// and what a polite client does with 429 (wait Retry-After) and 503 (back off, then try again).
import http from 'k6/http';
import { check, fail, sleep } from 'k6';
import { Counter } from 'k6/metrics';
import { BASE_URL, VCF_CONTENT_TYPE } from './config.js';

/** Answers 429: the test outran a credential's budget (GATEWAY_RATE_LIMIT_PER_MINUTE). */
export const rateLimited = new Counter('rate_limited');
/** Answers 503 or no answer at all: the gateway or the job service was away. */
export const unavailable = new Counter('unavailable');

/**
 * Credentials: `{ token }` for an API token, or `{ csrf }` for a signed-in web session (the cookie
 * rides in the VU's cookie jar; what changes something also sends the session's CSRF token).
 */
export function authHeaders(auth, method = 'GET') {
  if (auth.token) return { Authorization: `Bearer ${auth.token}` };
  return method === 'GET' || method === 'HEAD' ? {} : { 'X-CSRF-Token': auth.csrf };
}

export function params(auth, name, { method = 'GET', headers = {}, responseType, tags = {} } = {}) {
  return {
    headers: { ...authHeaders(auth, method), ...headers },
    tags: { ...tags, name },
    ...(responseType ? { responseType } : {}),
  };
}

function retryAfterSeconds(res, fallback) {
  const v = Number(res.headers['Retry-After']);
  return Number.isFinite(v) && v > 0 ? Math.min(v, 120) : fallback;
}

/**
 * Sends, and sends again after a 429 (as long as Retry-After says), a 503 or a lost connection
 * (exponential backoff with jitter) or a 409 from an idempotency key still in progress. Only safe
 * for requests that are: GETs, and job submissions with an Idempotency-Key.
 */
export function withRetries(send, { attempts = 6, conflictRetries = false } = {}) {
  let res;
  for (let attempt = 0; attempt < attempts; attempt++) {
    res = send();
    if (res.status === 429) {
      rateLimited.add(1);
      sleep(retryAfterSeconds(res, 5) + Math.random());
    } else if (res.status === 503 || res.status === 0) {
      unavailable.add(1);
      sleep(Math.min(30, 2 ** attempt) * (0.5 + Math.random()));
    } else if (res.status === 409 && conflictRetries) {
      sleep(retryAfterSeconds(res, 2));
    } else {
      return res;
    }
  }
  return res;
}

export function listJobs(auth, query = '') {
  return withRetries(() => http.get(`${BASE_URL}/api/v1/jobs${query}`, params(auth, 'GET /api/v1/jobs')));
}

export function getJob(auth, id) {
  return withRetries(() => http.get(`${BASE_URL}/api/v1/jobs/${id}`, params(auth, 'GET /api/v1/jobs/{id}')));
}

/**
 * Uploads a VCF as a new job. The genome build goes in the query: k6 sends an object body's
 * multipart parts in no fixed order, and the gateway reads form fields only up to the file.
 */
export function submitJob(auth, vcf, { fileName, build, idempotencyKey }) {
  const body = { file: http.file(vcf, fileName, VCF_CONTENT_TYPE) };
  const p = params(auth, 'POST /api/v1/jobs', { method: 'POST', headers: { 'Idempotency-Key': idempotencyKey } });
  return withRetries(() => http.post(`${BASE_URL}/api/v1/jobs?genome_build=${build}`, body, p), { conflictRetries: true });
}

/** Downloads a result file (`result`, `tsv`, `log`, `summary`...) as bytes. */
export function download(auth, id, kind = 'result') {
  return withRetries(() =>
    http.get(`${BASE_URL}/api/v1/jobs/${id}/${kind}`, params(auth, `GET /api/v1/jobs/{id}/${kind}`, { responseType: 'binary' })),
  );
}

/** The first bytes of a gzip (and BGZF) file. */
export function isGzip(body) {
  if (!body) return false;
  const b = new Uint8Array(body);
  return b.length > 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/** For setup(): every API token must be accepted, or the run would measure nothing but 401s. */
export function checkTokens(tokens) {
  if (tokens.length === 0) fail('set GAS_TOKEN (or GAS_TOKENS, comma-separated) to API tokens; see loadtest/README.md');
  let refused = 0;
  for (const token of tokens) {
    const res = listJobs({ token }, '?page_size=1');
    if (!check(res, { 'API token accepted': (r) => r.status === 200 })) refused += 1;
  }
  if (refused > 0) fail(`${refused} of ${tokens.length} API tokens were refused (401 means unknown or revoked)`);
}
