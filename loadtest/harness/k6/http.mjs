// The `k6/http` module over the main thread's fetch: request and its shorthands, batch, file,
// cookie jars, expected statuses and the Response object, with the metrics k6 records per request
// (http_reqs, http_req_duration and its parts, http_req_failed, data_sent, data_received), tagged as
// k6 tags them (method, url, name, status, expected_response, group, scenario and the request's tags).
import { URL, URLSearchParams } from 'node:url';
import { TextDecoder, TextEncoder } from 'node:util';
import { addSample, fetchSync, vu } from '../vu-runtime.mjs';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class FileData {
  constructor(data, filename, contentType) {
    this.data = data;
    this.filename = filename;
    this.content_type = contentType ?? 'application/octet-stream';
  }
}

export function file(data, filename, contentType) {
  return new FileData(data, filename, contentType);
}

function bytesOf(data) {
  if (typeof data === 'string') return encoder.encode(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (Array.isArray(data)) return Uint8Array.from(data);
  throw new Error(`cannot send a ${typeof data} as a request body`);
}

function concat(chunks) {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * A request body as k6 sends it: a string or bytes as they are; an object as a urlencoded form, or
 * as multipart/form-data when one of its values is http.file(). k6 builds the multipart body from
 * a Go map, so the parts arrive in no particular order (grafana/k6#1382); the harness sends the
 * files first, the order least kind to a server that reads fields before the file, so a script
 * that depends on the order fails here as it may under k6.
 */
function encodeBody(body) {
  if (body === null || body === undefined) return { bytes: null };
  if (typeof body === 'string' || body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return { bytes: bytesOf(body) };
  if (typeof body !== 'object') return { bytes: encoder.encode(String(body)) };
  const entries = Object.entries(body);
  if (!entries.some(([, v]) => v instanceof FileData)) {
    const form = new URLSearchParams(entries.map(([k, v]) => [k, String(v)]));
    return { bytes: encoder.encode(form.toString()), contentType: 'application/x-www-form-urlencoded' };
  }
  const boundary = `----k6harness${Math.random().toString(16).slice(2)}${Date.now().toString(16)}`;
  const ordered = [...entries.filter(([, v]) => v instanceof FileData), ...entries.filter(([, v]) => !(v instanceof FileData))];
  const quote = (s) => String(s).replace(/["\r\n\\]/g, (c) => `\\${c}`);
  const chunks = [];
  for (const [name, v] of ordered) {
    if (v instanceof FileData) {
      const filename = v.filename ?? name;
      chunks.push(
        encoder.encode(
          `--${boundary}\r\nContent-Disposition: form-data; name="${quote(name)}"; filename="${quote(filename)}"\r\nContent-Type: ${v.content_type}\r\n\r\n`,
        ),
        bytesOf(v.data),
        encoder.encode('\r\n'),
      );
    } else {
      chunks.push(encoder.encode(`--${boundary}\r\nContent-Disposition: form-data; name="${quote(name)}"\r\n\r\n${String(v)}\r\n`));
    }
  }
  chunks.push(encoder.encode(`--${boundary}--\r\n`));
  return { bytes: concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** Go's canonical header key, which is how k6 names response headers: content-type → Content-Type. */
function canonical(name) {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash, c) => dash + c.toUpperCase());
}

function parseDuration(value, fallbackMs) {
  if (value === undefined || value === null || value === '') return fallbackMs;
  if (typeof value === 'number') return value;
  let ms = 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let m;
  let matched = '';
  while ((m = re.exec(value))) {
    ms += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2]];
    matched += m[0];
  }
  if (matched !== value) throw new Error(`invalid duration ${JSON.stringify(value)}`);
  return ms;
}

export class CookieJar {
  #cookies = [];

  #matching(url) {
    const u = new URL(url);
    const now = Date.now();
    this.#cookies = this.#cookies.filter((c) => c.expires === null || c.expires > now);
    return this.#cookies.filter(
      (c) =>
        (c.hostOnly ? u.hostname === c.domain : u.hostname === c.domain || u.hostname.endsWith(`.${c.domain}`)) &&
        (u.pathname === c.path || u.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)) &&
        (!c.secure || u.protocol === 'https:'),
    );
  }

  #put(cookie) {
    this.#cookies = this.#cookies.filter((c) => !(c.name === cookie.name && c.domain === cookie.domain && c.path === cookie.path));
    if (cookie.expires === null || cookie.expires > Date.now()) this.#cookies.push(cookie);
  }

  cookiesForURL(url) {
    const out = {};
    for (const c of this.#matching(url)) (out[c.name] ??= []).push(c.value);
    return out;
  }

  set(url, name, value, opts = {}) {
    const u = new URL(url);
    const expires = opts.max_age !== undefined ? Date.now() + opts.max_age * 1000 : opts.expires ? Date.parse(opts.expires) : null;
    this.#put({
      name,
      value: String(value),
      domain: (opts.domain ?? u.hostname).replace(/^\./, '').toLowerCase(),
      hostOnly: !opts.domain,
      path: opts.path ?? '/',
      secure: Boolean(opts.secure),
      httpOnly: Boolean(opts.http_only),
      expires,
    });
  }

  clear(url) {
    const gone = new Set(this.#matching(url));
    this.#cookies = this.#cookies.filter((c) => !gone.has(c));
  }

  delete(url, name) {
    const gone = new Set(this.#matching(url).filter((c) => c.name === name));
    this.#cookies = this.#cookies.filter((c) => !gone.has(c));
  }

  /** Stores a Set-Cookie answer (RFC 6265 section 5.2, without the public suffix list). */
  _store(url, line) {
    const u = new URL(url);
    const [pair, ...attrs] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq < 1) return;
    const cookie = {
      name: pair.slice(0, eq).trim(),
      value: pair.slice(eq + 1).trim(),
      domain: u.hostname,
      hostOnly: true,
      path: u.pathname.lastIndexOf('/') > 0 ? u.pathname.slice(0, u.pathname.lastIndexOf('/')) : '/',
      secure: false,
      httpOnly: false,
      expires: null,
    };
    let maxAge;
    for (const attr of attrs) {
      const i = attr.indexOf('=');
      const key = (i < 0 ? attr : attr.slice(0, i)).trim().toLowerCase();
      const val = i < 0 ? '' : attr.slice(i + 1).trim();
      if (key === 'max-age' && /^-?\d+$/.test(val)) maxAge = Number(val);
      else if (key === 'expires' && !Number.isNaN(Date.parse(val))) cookie.expires = Date.parse(val);
      else if (key === 'domain' && val) {
        const d = val.replace(/^\./, '').toLowerCase();
        if (u.hostname !== d && !u.hostname.endsWith(`.${d}`)) return;
        cookie.domain = d;
        cookie.hostOnly = false;
      } else if (key === 'path' && val.startsWith('/')) cookie.path = val;
      else if (key === 'secure') cookie.secure = true;
      else if (key === 'httponly') cookie.httpOnly = true;
    }
    if (maxAge !== undefined) cookie.expires = maxAge <= 0 ? 0 : Date.now() + maxAge * 1000;
    this.#put(cookie);
  }

  _header(url) {
    return this.#matching(url)
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }
}

let vuJar = new CookieJar();

export function cookieJar() {
  return vuJar;
}

/** Called by the worker between iterations unless the script sets `noCookiesReset`. */
export function resetVuCookies() {
  vuJar = new CookieJar();
}

class ExpectedStatuses {
  constructor(list) {
    this.list = list;
  }
  accepts(status) {
    return this.list.some((s) => (typeof s === 'number' ? s === status : status >= s.min && status <= s.max));
  }
}

export function expectedStatuses(...list) {
  for (const s of list) {
    if (typeof s !== 'number' && !(s && typeof s.min === 'number' && typeof s.max === 'number')) {
      throw new Error('expectedStatuses takes status codes and {min, max} ranges');
    }
  }
  return new ExpectedStatuses(list);
}

let responseCallback = expectedStatuses({ min: 200, max: 399 });

export function setResponseCallback(callback) {
  if (callback !== null && !(callback instanceof ExpectedStatuses))
    throw new Error('setResponseCallback takes http.expectedStatuses() or null');
  responseCallback = callback;
}

/** A gjson-like selector, the simple part of it: dotted keys, array indices and `#` for a length. */
function select(value, selector) {
  let v = value;
  for (const part of selector.split('.')) {
    if (v === null || v === undefined) return undefined;
    v = part === '#' && Array.isArray(v) ? v.length : v[part];
  }
  return v;
}

export class Response {
  constructor(fields) {
    Object.assign(this, fields);
  }

  json(selector) {
    if (typeof this.body !== 'string') throw new Error('json() needs a text body (responseType "text")');
    const value = JSON.parse(this.body);
    return selector === undefined ? value : select(value, selector);
  }

  html() {
    throw new Error('the loadtest harness does not implement Response.html(); parse what you need with a regular expression');
  }
}

function normaliseParams(params = {}) {
  const o = vu.options;
  return {
    headers: params.headers ?? {},
    tags: params.tags ?? {},
    cookies: params.cookies ?? {},
    jar: params.jar ?? vuJar,
    timeoutMs: parseDuration(params.timeout, 60_000),
    redirects: params.redirects ?? o.maxRedirects ?? 10,
    responseType: params.responseType ?? (o.discardResponseBodies ? 'none' : 'text'),
    responseCallback: params.responseCallback === undefined ? responseCallback : params.responseCallback,
  };
}

function buildHop(method, url, body, params, bodyBytes) {
  const u = new URL(url);
  const headers = {};
  headers['User-Agent'] = vu.options.userAgent ?? 'k6-harness/1 (GAS loadtest; +loadtest/README.md)';
  if (bodyBytes.contentType) headers['Content-Type'] = bodyBytes.contentType;
  for (const [k, v] of Object.entries(params.headers)) headers[k] = String(v);
  const fromJar = params.jar._header(u.href);
  const extra = Object.entries(params.cookies).map(([k, v]) => [k, typeof v === 'object' && v !== null ? v : { value: v }]);
  const replaced = new Set(extra.filter(([, v]) => v.replace).map(([k]) => k));
  const jarPart = fromJar
    .split('; ')
    .filter((p) => p && !replaced.has(p.slice(0, p.indexOf('='))))
    .join('; ');
  const cookie = [jarPart, ...extra.map(([k, v]) => `${k}=${v.value}`)].filter(Boolean).join('; ');
  if (cookie && !Object.keys(headers).some((h) => h.toLowerCase() === 'cookie')) headers['Cookie'] = cookie;
  return {
    method: method.toUpperCase(),
    url: u.href,
    headers,
    body: bodyBytes.bytes,
    timeoutMs: params.timeoutMs,
    keepBody: params.responseType !== 'none',
  };
}

function record(hop, raw, params, expected) {
  const name = params.tags.name ?? hop.url;
  const tags = {
    method: hop.method,
    url: hop.url,
    status: String(raw.status),
    proto: 'HTTP/1.1',
    ...(raw.error ? { error: raw.error, error_code: String(raw.errorCode) } : {}),
    ...(expected === undefined ? {} : { expected_response: String(expected) }),
    ...params.tags,
    name,
  };
  const t = raw.timings;
  addSample('http_reqs', 'counter', 1, tags);
  for (const [metric, v] of [
    ['http_req_duration', t.duration],
    ['http_req_blocked', 0],
    ['http_req_connecting', 0],
    ['http_req_tls_handshaking', 0],
    ['http_req_sending', t.sending],
    ['http_req_waiting', t.waiting],
    ['http_req_receiving', t.receiving],
  ])
    addSample(metric, 'trend', v, tags, true);
  if (expected !== undefined) addSample('http_req_failed', 'rate', expected ? 0 : 1, tags);
  addSample('data_sent', 'counter', raw.sentBytes, tags);
  addSample('data_received', 'counter', raw.receivedBytes, tags);
}

function toResponse(hop, raw, params, body) {
  const headers = {};
  for (const [k, v] of raw.headers) {
    const key = canonical(k);
    headers[key] = headers[key] === undefined ? v : `${headers[key]}, ${v}`;
  }
  if (raw.setCookies.length > 0) headers['Set-Cookie'] = raw.setCookies.join(', ');
  const cookies = {};
  for (const line of raw.setCookies) {
    const [pair] = line.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    (cookies[name] ??= []).push({ name, value: pair.slice(eq + 1).trim() });
  }
  const t = raw.timings;
  return new Response({
    status: raw.status,
    status_text: raw.status ? `${raw.status} ${raw.statusText}` : '',
    proto: raw.status ? 'HTTP/1.1' : '',
    url: hop.url,
    headers,
    cookies,
    body:
      params.responseType === 'none' || raw.body === null ? null : params.responseType === 'binary' ? raw.body : decoder.decode(raw.body),
    error: raw.error ?? '',
    error_code: raw.error ? raw.errorCode : 0,
    timings: {
      blocked: 0,
      connecting: 0,
      tls_handshaking: 0,
      sending: t.sending,
      waiting: t.waiting,
      receiving: t.receiving,
      duration: t.duration,
    },
    request: {
      method: hop.method,
      url: hop.url,
      headers: Object.fromEntries(Object.entries(hop.headers).map(([k, v]) => [canonical(k), [v]])),
      body: body === null || body === undefined ? '' : typeof body === 'string' ? body : '[binary]',
      cookies: {},
    },
  });
}

/** Runs requests in parallel, each following its redirects; returns their final responses. */
function perform(list) {
  const states = list.map(({ method, url, body, params }) => {
    if (typeof url !== 'string' && !(url instanceof URL)) throw new Error(`invalid URL ${String(url)}`);
    const p = normaliseParams(params);
    return { p, body, hop: buildHop(method, String(url), body, p, encodeBody(body)), redirects: 0, response: null };
  });
  let pending = states;
  while (pending.length > 0) {
    const raws = fetchSync(pending.map((s) => s.hop));
    const next = [];
    pending.forEach((s, i) => {
      const raw = raws[i];
      for (const line of raw.setCookies) s.p.jar._store(s.hop.url, line);
      const expected = s.p.responseCallback ? s.p.responseCallback.accepts(raw.status) : undefined;
      record(s.hop, raw, s.p, expected);
      const location = raw.headers.find(([k]) => k.toLowerCase() === 'location')?.[1];
      if (REDIRECTS.has(raw.status) && location && s.redirects < s.p.redirects) {
        // Go's rules, which k6 follows: 307 and 308 repeat the request; 301, 302 and 303 turn
        // anything but GET and HEAD into a GET without a body.
        const keepMethod = raw.status === 307 || raw.status === 308 || s.hop.method === 'GET' || s.hop.method === 'HEAD';
        const method = keepMethod ? s.hop.method : 'GET';
        const url = new URL(location, s.hop.url).href;
        const headers = Object.fromEntries(Object.entries(s.p.headers).filter(([k]) => keepMethod || !/^content-(type|length)$/i.test(k)));
        s.hop = buildHop(method, url, keepMethod ? s.body : null, { ...s.p, headers }, keepMethod ? encodeBody(s.body) : { bytes: null });
        s.redirects += 1;
        next.push(s);
        return;
      }
      if (raw.error && vu.options.throw) throw new Error(`${raw.error} (${s.hop.method} ${s.hop.url})`);
      s.response = toResponse(s.hop, raw, s.p, s.body);
    });
    pending = next;
  }
  return states.map((s) => s.response);
}

export function request(method, url, body = null, params = {}) {
  return perform([{ method, url, body, params }])[0];
}

export const get = (url, params) => request('GET', url, null, params);
export const head = (url, params) => request('HEAD', url, null, params);
export const post = (url, body, params) => request('POST', url, body, params);
export const put = (url, body, params) => request('PUT', url, body, params);
export const patch = (url, body, params) => request('PATCH', url, body, params);
export const del = (url, body, params) => request('DELETE', url, body, params);
export const options = (url, body, params) => request('OPTIONS', url, body, params);

/** http.batch: an array or an object of URLs, [method, url, body, params] arrays or {method, url, body, params} objects. */
export function batch(requests) {
  const one = (r) =>
    typeof r === 'string'
      ? { method: 'GET', url: r, body: null, params: {} }
      : Array.isArray(r)
        ? { method: r[0], url: r[1], body: r[2] ?? null, params: r[3] ?? {} }
        : { method: r.method ?? 'GET', url: r.url, body: r.body ?? null, params: r.params ?? {} };
  if (Array.isArray(requests)) return perform(requests.map(one));
  const keys = Object.keys(requests);
  const responses = perform(keys.map((k) => one(requests[k])));
  return Object.fromEntries(keys.map((k, i) => [k, responses[i]]));
}

export default {
  request,
  get,
  head,
  post,
  put,
  patch,
  del,
  options,
  batch,
  file,
  cookieJar,
  CookieJar,
  expectedStatuses,
  setResponseCallback,
  FileData,
  Response,
};
