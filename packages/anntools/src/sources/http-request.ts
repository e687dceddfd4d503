// One HTTP request with fetch(), and the errors a request can end in, each naming the URL: fetch()
// itself only says "fetch failed" and hides the reason in `cause`.

export class HttpStatusError extends Error {
  override name = 'HttpStatusError';
  constructor(
    readonly url: string,
    readonly status: number,
    readonly retryAfterMs?: number,
  ) {
    super(`${url}: HTTP ${status}`);
  }
}

/** A failure that is worth another try although it carries no socket error code (a short body). */
export class TransientError extends Error {
  override name = 'TransientError';
}

/** The request did not get an answer: DNS, refused or reset connection, timeout. */
export class NetworkError extends Error {
  override name = 'NetworkError';
  constructor(url: string, cause: unknown) {
    super(`${url}: ${reasonOf(cause)}`, { cause });
  }
}

/** The innermost code or message: "ENOTFOUND", "ECONNREFUSED 127.0.0.1:80", "other side closed". */
function reasonOf(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  if (!(e instanceof Error)) return String(e);
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && !e.message.includes(code) ? `${code}: ${e.message}` : e.message;
}

/** fetch() that asks for the bytes as stored (no transfer compression) and names the URL on failure. */
export async function request(url: string, headers: Record<string, string> = {}): Promise<Response> {
  try {
    return await fetch(url, { headers: { 'accept-encoding': 'identity', ...headers } });
  } catch (err) {
    throw new NetworkError(url, err);
  }
}

/** Retry-After in milliseconds (seconds or an HTTP date), or undefined. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
