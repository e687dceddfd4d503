/* global __VU */
// A person using the web pages: sign in through the form, look at the jobs list, filter it to the
// finished jobs, open one (summary, log and table preview render on the page), download the
// annotated VCF with the session cookie, as the page's download button does. The VU keeps its
// session between iterations (noCookiesReset), as a browser keeps its cookie: sign-ins have a small
// budget per address (GATEWAY_SIGNIN_ATTEMPTS_PER_MINUTE), page views do not.
import http from 'k6/http';
import { check, fail, group, sleep } from 'k6';
import { BASE_URL, WEB_USERS } from './config.js';
import { download, isGzip, listJobs, withRetries } from './api.js';
import { submitAndWait } from './jobs.js';
import { thinkTime } from './profiles.js';

const FORM_TOKEN = /name="_csrf" value="([^"]+)"/;
const CSRF_META = /<meta name="csrf-token" content="([^"]+)">/;
const JOB_LINK = /<a href="\/jobs\/([0-9A-Z]{26})">/g;
const STATIC = /(?:href|src)="(\/static\/[^"?#]+)"/g;

/** The path of a URL (k6 has no URL class). */
const pathOf = (url) => url.replace(/^https?:\/\/[^/]+/, '');

/** This VU's session, or null before it signs in (or after the gateway ended it). */
let session = null;
let staticFetched = false;

function page(path, name) {
  return withRetries(() => http.get(`${BASE_URL}${path}`, { tags: { name } }));
}

/** Signs in through the form. Returns { csrf } for the signed-in pages, or null. */
export function signIn(user) {
  const form = page('/signin', 'GET /signin');
  const token = FORM_TOKEN.exec(form.body ?? '')?.[1];
  if (!check(form, { 'sign-in form (200, with its token)': (r) => r.status === 200 && Boolean(token) })) return null;
  // Not followed, so the answer's own latency is measured and the /jobs page is tagged as itself.
  const res = withRetries(() =>
    http.post(
      `${BASE_URL}/signin`,
      { _csrf: token, email: user.email, password: user.password },
      { redirects: 0, tags: { name: 'POST /signin' } },
    ),
  );
  if (!check(res, { 'signed in (303 to /jobs)': (r) => r.status === 303 && pathOf(r.headers.Location ?? '').startsWith('/jobs') })) {
    return null;
  }
  return { csrf: null };
}

export function signOut(csrf) {
  const res = http.post(`${BASE_URL}/signout`, { _csrf: csrf }, { redirects: 0, tags: { name: 'POST /signout' } });
  check(res, { 'signed out (303)': (r) => r.status === 303 });
  http.cookieJar().clear(BASE_URL);
}

/** Signs up `count` fresh accounts (the free plan) with generated addresses and passwords. */
function signUp(count, runId) {
  const users = [];
  for (let i = 1; i <= count; i++) {
    const user = {
      email: `loadtest-${runId}-${i}@example.org`,
      password: `lt-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`,
      name: `Load test user ${i}`,
    };
    const form = page('/signup', 'GET /signup');
    const token = FORM_TOKEN.exec(form.body ?? '')?.[1];
    const res = withRetries(() =>
      http.post(
        `${BASE_URL}/signup`,
        { _csrf: token, email: user.email, password: user.password, name: user.name, institution: '' },
        { tags: { name: 'POST /signup' } },
      ),
    );
    if (!check(res, { 'signed up': (r) => r.status === 200 && r.body.includes('sign in with the password you chose') })) {
      fail(`signing up ${user.email} answered ${res.status}`);
    }
    users.push({ email: user.email, password: user.password });
  }
  return users;
}

/**
 * For setup(): the web users' accounts (GAS_WEB_USERS, or `p.webUsers` signed up now), each with
 * at least one completed job to open and download; a user without one uploads the VCF through the
 * API with the session and its CSRF token, as the upload page does, and waits for it.
 */
export function prepareWebUsers(p, vcf, runId) {
  const jar = http.cookieJar();
  const users = WEB_USERS.length > 0 ? WEB_USERS : signUp(Math.max(1, p.webUsers), runId);
  for (const user of users) {
    jar.clear(BASE_URL);
    if (!signIn(user)) fail(`could not sign in as ${user.email}; check GAS_WEB_USERS`);
    const jobsPage = page('/jobs', 'GET /jobs');
    const csrf = CSRF_META.exec(jobsPage.body ?? '')?.[1];
    if (!csrf) fail(`the jobs page of ${user.email} carries no CSRF token (status ${jobsPage.status})`);
    const done = listJobs({ csrf }, '?status=COMPLETED&page_size=1');
    if (done.status !== 200) fail(`listing the jobs of ${user.email} answered ${done.status}`);
    if (done.json('jobs').length === 0 && !submitAndWait({ csrf }, vcf, p, runId)) {
      fail(`the job uploaded for ${user.email} did not complete`);
    }
    signOut(csrf);
  }
  return users;
}

/** One visit: sign in if this VU has no session, browse the jobs, open one, download its VCF. */
export function webVisit(p, data) {
  const user = data.webUsers[(Math.max(__VU, 1) - 1) % data.webUsers.length];
  if (!session) {
    session = group('sign in', () => signIn(user));
    if (!session) {
      sleep(thinkTime(p, 5, 15));
      return;
    }
  }
  let completed = [];
  group('list jobs', () => {
    const res = page('/jobs', 'GET /jobs');
    if (pathOf(res.url).startsWith('/signin')) {
      // The session ended (idle or maximum age): sign in again on the next visit.
      session = null;
      return;
    }
    check(res, { 'jobs page (200)': (r) => r.status === 200, 'jobs page lists jobs': (r) => r.body.includes('data-job=') });
    session.csrf = CSRF_META.exec(res.body ?? '')?.[1] ?? session.csrf;
    if (!staticFetched) {
      // A browser fetches the page's stylesheet and scripts once, then caches them (max-age 1 h).
      const assets = [...new Set([...res.body.matchAll(STATIC)].map((m) => m[1]))];
      const answers = http.batch(assets.map((a) => ['GET', `${BASE_URL}${a}`, null, { tags: { name: 'GET /static/{file}' } }]));
      check(answers, { 'page assets (200)': (list) => list.length > 0 && list.every((r) => r.status === 200) });
      staticFetched = true;
    }
    sleep(thinkTime(p, 2, 6));
    const done = page('/jobs?status=COMPLETED', 'GET /jobs');
    completed = [...(done.body ?? '').matchAll(JOB_LINK)].map((m) => m[1]);
    check(done, { 'the Done filter lists completed jobs': (r) => r.status === 200 && completed.length > 0 });
    sleep(thinkTime(p, 1, 4));
  });
  if (!session || completed.length === 0) return;
  const id = completed[Math.floor(Math.random() * completed.length)];
  let vcfOffered = false;
  group('open a job', () => {
    const res = page(`/jobs/${id}`, 'GET /jobs/{id}');
    check(res, { 'job page (200)': (r) => r.status === 200 });
    // A free user's VCF moves to cold storage after the retention window (30 min by default) and
    // the page stops offering it; the log and summary stay.
    vcfOffered = (res.body ?? '').includes(`/api/v1/jobs/${id}/result`);
    // Reading the summary and the table preview.
    sleep(thinkTime(p, 3, 10));
  });
  group('download', () => {
    const auth = { csrf: session.csrf };
    const log = download(auth, id, 'log');
    check(log, { 'log downloaded (200)': (r) => r.status === 200 && new Uint8Array(r.body).length > 0 });
    sleep(thinkTime(p, 1, 3));
    if (vcfOffered) {
      const res = download(auth, id, 'result');
      check(res, { 'annotated VCF downloaded (200)': (r) => r.status === 200, 'annotated VCF is BGZF': (r) => isGzip(r.body) });
    }
    sleep(thinkTime(p, 2, 5));
  });
}
