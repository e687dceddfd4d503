// Small text files (checksum lists) over HTTP, with the same retries as the big downloads.
import { HttpStatusError, parseRetryAfter, request } from './http-request.ts';
import { withRetries } from './retry.ts';
import type { RetryOptions } from './retry.ts';

/** Checksum lists are a few kB; anything far larger is not one. */
const MAX_TEXT_BYTES = 4 * 1024 * 1024;

export async function fetchText(url: string, retry?: RetryOptions, say?: (m: string) => void): Promise<string> {
  return withRetries(
    url,
    async () => {
      const res = await request(url);
      if (!res.ok) {
        await res.body?.cancel();
        throw new HttpStatusError(url, res.status, parseRetryAfter(res.headers.get('retry-after')));
      }
      const text = await res.text();
      if (text.length > MAX_TEXT_BYTES) throw new Error(`${url}: ${text.length} characters, too large for a checksum list`);
      return text;
    },
    retry,
    say,
  );
}
