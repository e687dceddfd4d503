// One verified download: bytes stream into `<dest>.partial` while the publisher's checksum is
// computed, and only a file that matches is renamed to `<dest>`. A run that is interrupted leaves the
// .partial (and a small .partial.json saying which URL and version it holds) to resume from.
import { createWriteStream, existsSync } from 'node:fs';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { ChecksumVerifier, checksumFile, feedFile, formatExpected } from './checksum.ts';
import type { ChecksumResult, ExpectedChecksum } from './checksum.ts';
import { checkGzip } from './gzip-check.ts';
import { ProgressReporter, formatBytes } from './progress.ts';
import { HttpStatusError, NetworkError, TransientError, parseRetryAfter, request } from './http-request.ts';
import { isTransient, withRetries } from './retry.ts';
import type { RetryOptions } from './retry.ts';

export interface DownloadOptions {
  url: string;
  dest: string;
  /** The publisher's checksum; without one the file is only recorded by SHA-256. */
  expected?: ExpectedChecksum;
  /**
   * For a file with no published checksum: the SHA-256 recorded when it was last downloaded. A file
   * already at `dest` with this digest is kept; without it an existing file cannot be vouched for.
   */
  knownSha256?: string;
  /** Decompress the finished download once to check its gzip CRCs (for files with a weak or no checksum). */
  checkGzip?: boolean;
  retry?: RetryOptions;
  say?: (message: string) => void;
  progressIntervalMs?: number;
}

export interface DownloadResult {
  action: 'downloaded' | 'present';
  bytes: number;
  sha256: string;
  /** The publisher's checksum as computed here (equal to the expected one). */
  actual?: string;
}

export class ChecksumMismatchError extends Error {
  override name = 'ChecksumMismatchError';
  constructor(
    readonly url: string,
    readonly expected: string,
    readonly actual: string,
    readonly bytes: number,
  ) {
    super(`checksum mismatch for ${url}: expected ${expected}, got ${actual} over ${bytes} bytes; the download was discarded`);
  }
}

/** What `<dest>.partial.json` records about the bytes in `<dest>.partial`. */
interface PartialState {
  url: string;
  /** A strong ETag or Last-Modified, sent as If-Range so a changed file is sent whole. */
  validator?: string;
}

interface Attempt {
  result: ChecksumResult;
  resumed: boolean;
}

export async function downloadVerified(o: DownloadOptions): Promise<DownloadResult> {
  const say = o.say ?? (() => undefined);
  const name = basename(o.dest);
  if (existsSync(o.dest)) {
    const kept = await keepExisting(o, name, say);
    if (kept) return kept;
  }
  let restarted = false;
  for (;;) {
    const got = await withRetries(name, () => attempt(o, name, say), o.retry, say);
    const partial = `${o.dest}.partial`;
    if (got.result.ok) {
      if (o.checkGzip) {
        try {
          await checkGzip(partial);
        } catch (err) {
          await discardPartial(o.dest);
          throw new Error(`${o.url}: the download is not a valid gzip file; it was discarded (${(err as Error).message})`, { cause: err });
        }
      }
      await rename(partial, o.dest);
      await rm(`${partial}.json`, { force: true });
      return { action: 'downloaded', bytes: got.result.bytes, sha256: got.result.sha256, actual: got.result.actual };
    }
    await discardPartial(o.dest);
    // Bytes kept from an earlier run may be what is wrong (a server without validators changed the
    // file in between); one fresh download settles it. A fresh download that fails is final.
    if (got.resumed && !restarted) {
      say(`${name}: checksum mismatch after resuming an earlier partial download; downloading again from the first byte`);
      restarted = true;
      continue;
    }
    throw new ChecksumMismatchError(o.url, formatExpected(o.expected!), got.result.actual!, got.result.bytes);
  }
}

async function keepExisting(o: DownloadOptions, name: string, say: (m: string) => void): Promise<DownloadResult | undefined> {
  if (o.expected) {
    const r = await checksumFile(o.dest, o.expected);
    if (r.ok) {
      say(`${name}: already present and its ${r.actual} matches; not downloaded again`);
      return { action: 'present', bytes: r.bytes, sha256: r.sha256, actual: r.actual };
    }
    say(`${name}: the file present has ${r.actual}, the publisher lists ${formatExpected(o.expected)}; downloading it again`);
  } else if (o.knownSha256) {
    const r = await checksumFile(o.dest, undefined);
    if (r.sha256 === o.knownSha256) {
      say(`${name}: already present with the SHA-256 recorded at its last download; not downloaded again`);
      return { action: 'present', bytes: r.bytes, sha256: r.sha256 };
    }
    say(`${name}: the file present differs from the one recorded at its last download; downloading it again`);
  } else {
    say(`${name}: present, but with no published or recorded checksum to vouch for it; downloading it again`);
  }
  await rm(o.dest, { force: true });
  return undefined;
}

async function attempt(o: DownloadOptions, name: string, say: (m: string) => void): Promise<Attempt> {
  const partial = `${o.dest}.partial`;
  const sidecar = `${partial}.json`;
  const state = await readPartialState(sidecar);
  let offset = existsSync(partial) ? (await stat(partial)).size : 0;
  // Resume only bytes of the same URL, and only where a wrong join would be caught: by If-Range
  // (the server then sends the whole file if it changed) or by the checksum at the end.
  if (offset > 0 && !(state?.url === o.url && (state.validator !== undefined || o.expected !== undefined))) offset = 0;

  const headers: Record<string, string> = {};
  if (offset > 0) {
    headers['range'] = `bytes=${offset}-`;
    if (state?.validator) headers['if-range'] = state.validator;
  }
  const res = await request(o.url, headers);
  let append = false;
  if (res.status === 206 && offset > 0) {
    const range = res.headers.get('content-range') ?? '';
    if (Number(/^bytes (\d+)-/.exec(range)?.[1]) !== offset) {
      await res.body?.cancel();
      await discardPartial(o.dest);
      throw new TransientError(`${o.url}: asked for the bytes from ${offset} and got "${range}"; starting again`);
    }
    append = true;
  } else if (res.status === 416 && offset > 0) {
    await res.body?.cancel();
    await discardPartial(o.dest);
    throw new TransientError(`${o.url}: the server cannot resume at byte ${offset}; starting again`);
  } else if (res.status !== 200) {
    await res.body?.cancel();
    throw new HttpStatusError(o.url, res.status, parseRetryAfter(res.headers.get('retry-after')));
  }
  const encoding = res.headers.get('content-encoding');
  if (encoding && encoding !== 'identity') {
    await res.body?.cancel();
    // fetch() would already have decoded the body, so the bytes are not the published file's.
    throw new Error(`${o.url}: the server applied Content-Encoding "${encoding}" although identity was asked for; use another mirror`);
  }
  if (!append) {
    offset = 0;
    const state: PartialState = { url: o.url, validator: validatorOf(res.headers) };
    await writeFile(sidecar, JSON.stringify(state) + '\n');
  }

  const verifier = new ChecksumVerifier(o.expected);
  if (append) await feedFile(verifier, partial, offset);
  const lengthHeader = res.headers.get('content-length');
  const length = lengthHeader === null ? undefined : Number(lengthHeader);
  const total = length === undefined ? undefined : offset + length;
  say(
    `${name}: ${append ? `resuming at ${formatBytes(offset)}` : 'downloading'} ${o.url}${total === undefined ? '' : ` (${formatBytes(total)})`}`,
  );
  const progress = new ProgressReporter(name, offset, total, say, o.progressIntervalMs);
  let received = 0;
  const body = res.body ? Readable.fromWeb(res.body as WebReadableStream<Uint8Array>) : Readable.from([]);
  try {
    await pipeline(
      body,
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          verifier.update(chunk);
          received += chunk.length;
          progress.add(chunk.length);
          yield chunk;
        }
      },
      createWriteStream(partial, { flags: append ? 'a' : 'w' }),
    );
  } catch (err) {
    // A connection lost mid-body surfaces as a bare "terminated"; say which download it was.
    if (isTransient(err)) throw new NetworkError(o.url, err);
    throw err;
  }
  if (length !== undefined && received !== length) {
    throw new TransientError(`${o.url}: the connection ended after ${received} of ${length} bytes`);
  }
  return { result: verifier.result(), resumed: append };
}

/** A strong ETag, else Last-Modified: what If-Range accepts. Weak ETags cannot be used there. */
function validatorOf(h: Headers): string | undefined {
  const etag = h.get('etag');
  if (etag && !etag.startsWith('W/')) return etag;
  return h.get('last-modified') ?? undefined;
}

async function readPartialState(path: string): Promise<PartialState | undefined> {
  try {
    const s = JSON.parse(await readFile(path, 'utf8')) as Partial<PartialState>;
    return typeof s.url === 'string' ? { url: s.url, validator: typeof s.validator === 'string' ? s.validator : undefined } : undefined;
  } catch {
    return undefined;
  }
}

async function discardPartial(dest: string): Promise<void> {
  await rm(`${dest}.partial`, { force: true });
  await rm(`${dest}.partial.json`, { force: true });
}
