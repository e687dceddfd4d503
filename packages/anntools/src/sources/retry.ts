// Retrying what fails for passing reasons: dropped connections, timeouts, and the HTTP statuses that
// servers use for "busy, try later". Everything else (404, a wrong checksum, a full disk) fails at once.
import { HttpStatusError, TransientError } from './http-request.ts';

export interface RetryOptions {
  /** Tries in all, the first included. */
  attempts?: number;
  /** Wait before the second try; doubled for each later one, at most maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

const DEFAULTS = { attempts: 5, baseDelayMs: 2000, maxDelayMs: 60_000 };

/** Statuses that say the server, not the request, is the problem right now. */
const TRANSIENT_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Socket-level error codes (Node and undici) worth another try. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

export function isTransient(err: unknown): boolean {
  if (err instanceof HttpStatusError) return TRANSIENT_STATUS.has(err.status);
  if (err instanceof TransientError) return true;
  // fetch() wraps socket errors in TypeError("fetch failed" or "terminated") with the cause inside.
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
    if (e.name === 'TypeError' && (e.message === 'terminated' || e.message === 'fetch failed') && e.cause === undefined) return true;
  }
  return false;
}

/**
 * Runs `attempt` until it succeeds, a failure is not transient, or the tries run out; the last error
 * is thrown. Each try starts from scratch, so `attempt` must pick up whatever an earlier try left
 * (the downloader resumes its .partial file).
 */
export async function withRetries<T>(
  what: string,
  attempt: (tryNo: number) => Promise<T>,
  opts: RetryOptions = {},
  say: (message: string) => void = () => undefined,
): Promise<T> {
  const { attempts, baseDelayMs, maxDelayMs } = { ...DEFAULTS, ...opts };
  for (let tryNo = 1; ; tryNo++) {
    try {
      return await attempt(tryNo);
    } catch (err) {
      if (tryNo >= attempts || !isTransient(err)) throw err;
      const hinted = err instanceof HttpStatusError ? err.retryAfterMs : undefined;
      const delay = Math.min(maxDelayMs, hinted ?? baseDelayMs * 2 ** (tryNo - 1));
      say(`${what}: ${describe(err)}; try ${tryNo + 1} of ${attempts} in ${(delay / 1000).toFixed(1)} s`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
  return `${err.message}${cause}`;
}
