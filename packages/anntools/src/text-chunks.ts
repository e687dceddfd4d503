// The input as decompressed chunks of whole lines, the unit the engine annotates (in this thread or
// in workers). BGZF blocks decompress independently, so several groups of blocks inflate at once on
// libuv's thread pool while this thread does other work; plain gzip decompresses as one stream.
import type { Readable } from 'node:stream';
import { createGunzip, gunzip } from 'node:zlib';
import type { LineReaderLimits } from './line-reader.ts';

/** Thrown before any line number is known; the engine adds the line once earlier chunks are counted. */
export class InputLimitError extends Error {
  constructor(
    readonly field: 'line' | 'input',
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'InputLimitError';
  }
}

/** About this many decompressed bytes per chunk: large enough to amortise a worker round trip. */
const CHUNK_BYTES = 192 * 1024;
/**
 * Compressed bytes of BGZF blocks inflated together (≈ 190 KB decompressed at typical VCF ratios,
 * one chunk). Larger groups cost fewer zlib calls, but a chunk cut out of a shared group must be
 * copied before it goes to a worker, which measured slower.
 */
const BGZF_GROUP_BYTES = 32 * 1024;
/** Groups inflating at once: libuv's pool has four threads. */
const BGZF_IN_FLIGHT = 4;
const BGZF_MAX_BLOCK_OUTPUT = 65536;

// Output in one piece per group where it fits: zlib's default 16 KB pieces cost a callback and a
// copy each on this thread.
const inflate = (buf: Buffer, maxOutputLength: number): Promise<Buffer> =>
  new Promise((resolve, reject) =>
    gunzip(buf, { maxOutputLength, chunkSize: Math.min(maxOutputLength, 1024 * 1024) }, (err, out) => (err ? reject(err) : resolve(out))),
  );

/** The BSIZE of the BGZF block starting at `at`, or -1 when the gzip member there is not BGZF. */
function bgzfBlockSize(buf: Buffer, at: number): number {
  if (buf[at] !== 0x1f || buf[at + 1] !== 0x8b || buf[at + 2] !== 8 || (buf[at + 3]! & 4) === 0) return -1;
  const xlen = buf.readUInt16LE(at + 10);
  for (let p = at + 12; p + 4 <= at + 12 + xlen;) {
    const slen = buf.readUInt16LE(p + 2);
    if (buf[p] === 66 && buf[p + 1] === 67 && slen === 2) return buf.readUInt16LE(p + 4) + 1;
    p += 4 + slen;
  }
  return -1;
}

/** Groups of whole BGZF blocks from the raw stream, inflated in order with a few at a time in flight. */
async function* inflateBgzf(raw: AsyncIterable<Buffer>, first: Buffer): AsyncGenerator<Buffer, void> {
  const inFlight: Promise<Buffer>[] = [];
  let pending = first;
  const cut = (final: boolean): void => {
    let at = 0;
    let groupStart = 0;
    let blocks = 0;
    for (;;) {
      if (pending.length - at < 18) break;
      const size = bgzfBlockSize(pending, at);
      if (size < 0)
        throw new InputLimitError('input', 'the gzip member at this point is not a BGZF block, although the file starts with one');
      if (pending.length - at < size) break;
      at += size;
      blocks++;
      if (at - groupStart >= BGZF_GROUP_BYTES) {
        inFlight.push(guard(inflate(pending.subarray(groupStart, at), blocks * BGZF_MAX_BLOCK_OUTPUT)));
        groupStart = at;
        blocks = 0;
      }
    }
    if (final && at < pending.length)
      throw new InputLimitError('input', 'the compressed input ends in the middle of a BGZF block (truncated file?)');
    if (blocks > 0 && (final || inFlight.length === 0)) {
      inFlight.push(guard(inflate(pending.subarray(groupStart, at), blocks * BGZF_MAX_BLOCK_OUTPUT)));
      groupStart = at;
    }
    pending = pending.subarray(groupStart);
  };
  cut(false);
  for await (const chunk of raw) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    cut(false);
    while (inFlight.length >= BGZF_IN_FLIGHT) yield await inFlight.shift()!;
  }
  cut(true);
  while (inFlight.length > 0) yield await inFlight.shift()!;
}

// A rejected inflate waiting its turn in the queue must not count as unhandled meanwhile.
function guard(p: Promise<Buffer>): Promise<Buffer> {
  p.catch(() => undefined);
  return p;
}

async function* gunzipStream(raw: AsyncIterator<Buffer>, first: Buffer): AsyncGenerator<Buffer, void> {
  const gz = createGunzip({ chunkSize: 256 * 1024 });
  void (async () => {
    try {
      if (!gz.write(first)) await new Promise((r) => gz.once('drain', r));
      for (;;) {
        const n = await raw.next();
        if (n.done) break;
        if (!gz.write(n.value)) await new Promise((r) => gz.once('drain', r));
      }
      gz.end();
    } catch (err) {
      gz.destroy(err as Error);
    }
  })();
  yield* gz as AsyncIterable<Buffer>;
}

async function* plain(raw: AsyncIterator<Buffer>, first: Buffer): AsyncGenerator<Buffer, void> {
  yield first;
  for (;;) {
    const n = await raw.next();
    if (n.done) return;
    yield n.value;
  }
}

async function* decompressed(input: Readable): AsyncGenerator<Buffer> {
  const raw = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let first: Buffer = Buffer.alloc(0);
  // Enough bytes to read a gzip header with its extra field.
  while (first.length < 64) {
    const n = await raw.next();
    if (n.done) break;
    first = first.length === 0 ? n.value : Buffer.concat([first, n.value]);
  }
  if (first.length < 2 || first[0] !== 0x1f || first[1] !== 0x8b) return yield* plain(raw, first);
  if (bgzfBlockSize(first, 0) > 0) {
    return yield* inflateBgzf({ [Symbol.asyncIterator]: () => raw }, first);
  }
  return yield* gunzipStream(raw, first);
}

/**
 * Decompressed chunks of about CHUNK_BYTES that end at a newline (the last may not). Enforces the
 * limits: a line longer than maxLineBytes or more than maxDecompressedBytes in all stop the input
 * with InputLimitError.
 */
export async function* readTextChunks(input: Readable, limits: LineReaderLimits): AsyncGenerator<Buffer> {
  let total = 0;
  let parts: Buffer[] = [];
  let size = 0;
  // Bytes after the last newline seen, carried into the next chunk.
  let carry: Buffer = Buffer.alloc(0);
  try {
    for await (const buf of decompressed(input)) {
      total += buf.length;
      if (total > limits.maxDecompressedBytes)
        throw new InputLimitError('input', `more than ${limits.maxDecompressedBytes} bytes after decompression`);
      const nl = buf.lastIndexOf(10);
      if (nl < 0) {
        carry = carry.length === 0 ? buf : Buffer.concat([carry, buf]);
        if (carry.length > limits.maxLineBytes) break;
        continue;
      }
      if (carry.length > 0) {
        parts.push(carry);
        size += carry.length;
      }
      parts.push(buf.subarray(0, nl + 1));
      size += nl + 1;
      carry = buf.subarray(nl + 1);
      if (carry.length > limits.maxLineBytes) break;
      if (size >= CHUNK_BYTES) {
        yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
        parts = [];
        size = 0;
      }
    }
  } catch (err) {
    if (err instanceof InputLimitError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || code === 'ERR_OUT_OF_RANGE')
      throw new InputLimitError('input', 'a BGZF block decompresses to more than 64 KiB (not a valid BGZF file)');
    if (typeof code === 'string' && code.startsWith('Z_'))
      throw new InputLimitError('input', `the gzip data is damaged (${(err as Error).message})`);
    throw err;
  }
  // The lines before an over-long one still go out first, so the engine can number it.
  const tooLong = carry.length > limits.maxLineBytes;
  if (!tooLong && carry.length > 0) {
    parts.push(carry);
    size += carry.length;
  }
  if (size > 0) yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
  if (tooLong) throw new InputLimitError('line', `longer than ${limits.maxLineBytes} bytes`);
}
