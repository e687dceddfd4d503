// The input as decompressed chunks of whole lines, the unit the engine annotates (in this thread or
// in workers). BGZF blocks decompress independently, so several groups of blocks inflate at once on
// libuv's thread pool while this thread does other work; plain gzip decompresses as one stream.
// A UTF-8 byte-order mark at the start of the text is dropped; a damaged or truncated compressed
// input is reported with its offset in the compressed file.
import type { Readable } from 'node:stream';
import { constants, createGunzip, gunzip, gunzipSync } from 'node:zlib';
import type { LineReaderLimits } from './line-reader.ts';

/** Thrown before any line number is known; the engine adds the line once earlier chunks are counted. */
export class InputLimitError extends Error {
  constructor(
    readonly field: 'line' | 'input',
    readonly reason: string,
    readonly where: {
      /** A damaged or truncated compressed input: where in the compressed file it went wrong (0-based). */
      compressedOffset?: number;
      /** The decompressed-size cap that stopped the input. */
      decompressedCap?: number;
    } = {},
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

/** bgzfBlockSize: the bytes at `at` start a gzip member that is not BGZF. */
const NOT_BGZF = -1;
/** bgzfBlockSize: the header's extra field goes past the bytes at hand. */
const NEED_MORE = -2;

/** The BSIZE + 1 of the BGZF block starting at `at`, NOT_BGZF, or NEED_MORE. */
function bgzfBlockSize(buf: Buffer, at: number): number {
  if (buf[at] !== 0x1f || buf[at + 1] !== 0x8b || buf[at + 2] !== 8 || (buf[at + 3]! & 4) === 0) return NOT_BGZF;
  const end = at + 12 + buf.readUInt16LE(at + 10);
  if (end > buf.length) return NEED_MORE;
  for (let p = at + 12; p + 4 <= end;) {
    const slen = buf.readUInt16LE(p + 2);
    if (buf[p] === 66 && buf[p + 1] === 67 && slen === 2 && p + 6 <= end) return buf.readUInt16LE(p + 4) + 1;
    p += 4 + slen;
  }
  return NOT_BGZF;
}

function zlibMessage(err: unknown): string {
  return (err as Error).message;
}

/** Why a BGZF block failed to inflate, naming the block. */
function bgzfBlockError(offset: number, err: unknown): InputLimitError {
  const code = (err as NodeJS.ErrnoException).code;
  const reason =
    code === 'ERR_BUFFER_TOO_LARGE' || code === 'ERR_OUT_OF_RANGE'
      ? `the BGZF block at byte offset ${offset} decompresses to more than 64 KiB (not a valid BGZF file)`
      : `the BGZF block at byte offset ${offset} of the compressed file is damaged (${zlibMessage(err)})`;
  return new InputLimitError('input', reason, { compressedOffset: offset });
}

/** A group of blocks that failed to inflate: the output of its good blocks, then the error. */
class BgzfGroupFailure extends Error {
  constructor(
    readonly before: Buffer,
    readonly error: InputLimitError,
  ) {
    super(error.message);
  }
}

/** A group of blocks failed: inflate them one by one (rare, and small) to name the first bad one. */
function bgzfGroupError(group: Buffer, groupOffset: number, err: unknown): BgzfGroupFailure {
  const good: Buffer[] = [];
  for (let at = 0; at < group.length;) {
    const size = bgzfBlockSize(group, at);
    if (size <= 0) break;
    try {
      good.push(gunzipSync(group.subarray(at, at + size), { maxOutputLength: BGZF_MAX_BLOCK_OUTPUT }));
    } catch (blockErr) {
      return new BgzfGroupFailure(Buffer.concat(good), bgzfBlockError(groupOffset + at, blockErr));
    }
    at += size;
  }
  return new BgzfGroupFailure(Buffer.alloc(0), bgzfBlockError(groupOffset, err));
}

/**
 * Groups of whole BGZF blocks from the raw stream, inflated in order with a few at a time in flight.
 * On damage, everything before the bad block is yielded before the error is thrown.
 */
async function* inflateBgzf(raw: AsyncIterable<Buffer>, first: Buffer): AsyncGenerator<Buffer, void> {
  const inFlight: Promise<Buffer>[] = [];
  let pending = first;
  // Offset of pending[0] in the compressed file.
  let base = 0;
  let failure: InputLimitError | undefined;
  const start = (group: Buffer, offset: number, blocks: number): void => {
    const inflated = inflate(group, blocks * BGZF_MAX_BLOCK_OUTPUT).catch((err: unknown) =>
      Promise.reject(bgzfGroupError(group, offset, err)),
    );
    inFlight.push(guard(inflated));
  };
  const cut = (final: boolean): void => {
    let at = 0;
    let groupStart = 0;
    let blocks = 0;
    for (;;) {
      if (pending.length - at < 18) break;
      const size = bgzfBlockSize(pending, at);
      if (size === NEED_MORE) break;
      if (size < 18) {
        failure = new InputLimitError(
          'input',
          `the gzip member at byte offset ${base + at} of the compressed file is not a BGZF block, although the file starts with one`,
          { compressedOffset: base + at },
        );
        break;
      }
      if (pending.length - at < size) break;
      at += size;
      blocks++;
      if (at - groupStart >= BGZF_GROUP_BYTES) {
        start(pending.subarray(groupStart, at), base + groupStart, blocks);
        groupStart = at;
        blocks = 0;
      }
    }
    if (final && !failure && at < pending.length)
      failure = new InputLimitError(
        'input',
        `the compressed input ends in the middle of the BGZF block at byte offset ${base + at} (truncated file?)`,
        { compressedOffset: base + at },
      );
    if (blocks > 0 && (final || failure || inFlight.length === 0)) {
      start(pending.subarray(groupStart, at), base + groupStart, blocks);
      groupStart = at;
    }
    pending = pending.subarray(groupStart);
    base += groupStart;
  };
  const next = async (): Promise<Buffer> => {
    try {
      return await inFlight.shift()!;
    } catch (err) {
      if (!(err instanceof BgzfGroupFailure)) throw err;
      // The groups after this one do not matter any more.
      inFlight.length = 0;
      failure = err.error;
      return err.before;
    }
  };
  cut(false);
  if (!failure) {
    for await (const chunk of raw) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      cut(false);
      while (inFlight.length >= BGZF_IN_FLIGHT || (failure && inFlight.length > 0)) yield await next();
      if (failure) break;
    }
  }
  if (!failure) cut(true);
  while (inFlight.length > 0) yield await next();
  if (failure) throw failure;
}

// A rejected inflate waiting its turn in the queue must not count as unhandled meanwhile.
function guard(p: Promise<Buffer>): Promise<Buffer> {
  p.catch(() => undefined);
  return p;
}

/**
 * Compressed bytes handed to gunzip at a time: a damaged stream is located to within this many
 * bytes (zlib reports an error, not where it found it), at the cost of a call per slice.
 */
const GZIP_SLICE = 16 * 1024;
/** Decompressed pieces (of up to 256 KiB) waiting for the reader before more input is fed. */
const MAX_READY = 4;

async function* gunzipStream(raw: AsyncIterator<Buffer>, first: Buffer): AsyncGenerator<Buffer, void> {
  const gz = createGunzip({ chunkSize: 256 * 1024 });
  let fed = 0;
  // Output is read through events, not the stream's async iterator, and never paused: either
  // drops the output already decompressed when an error comes, and the lines before it are wanted.
  const ready: Buffer[] = [];
  let failed: NodeJS.ErrnoException | undefined;
  let ended = false;
  let wake: (() => void) | undefined;
  let taken: (() => void) | undefined;
  // The last 8 bytes read (a gzip trailer when the stream ends there) are held back until the
  // next read, so at the end everything before the trailer is decompressed and out before the
  // checksum is checked: the output of the call that fails is lost.
  let held: Buffer = Buffer.alloc(0);
  const write = async (buf: Buffer): Promise<void> => {
    for (let at = 0; at < buf.length && !gz.destroyed; at += GZIP_SLICE) {
      const slice = buf.subarray(at, at + GZIP_SLICE);
      // Backpressure at the input: a slice decompresses to at most about 16 MB.
      while (ready.length >= MAX_READY && !failed && !gz.destroyed) await new Promise<void>((r) => (taken = r));
      fed += slice.length;
      if (!gz.write(slice)) await new Promise((r) => gz.once('drain', r));
    }
  };
  const feed = async (buf: Buffer): Promise<void> => {
    const all = held.length === 0 ? buf : Buffer.concat([held, buf]);
    held = all.subarray(Math.max(0, all.length - 8));
    await write(all.subarray(0, all.length - held.length));
  };
  void (async () => {
    try {
      await feed(first);
      // The reader may stop early (a cap, an error in the text): then so does reading the input.
      while (!gz.destroyed) {
        const n = await raw.next();
        if (n.done) break;
        await feed(n.value);
      }
      if (gz.destroyed) return;
      await new Promise<void>((r) => gz.flush(constants.Z_SYNC_FLUSH, () => r()));
      await write(held);
      gz.end();
    } catch (err) {
      gz.destroy(err as Error);
    }
  })();
  const notify = (): void => {
    wake?.();
    wake = undefined;
  };
  gz.on('data', (b: Buffer) => {
    ready.push(b);
    notify();
  });
  gz.on('error', (err) => {
    failed = err;
    notify();
  });
  gz.on('end', () => {
    ended = true;
    notify();
  });
  try {
    for (;;) {
      if (ready.length > 0) {
        const b = ready.shift()!;
        taken?.();
        taken = undefined;
        yield b;
        continue;
      }
      if (failed) break;
      if (ended) return;
      await new Promise<void>((r) => (wake = r));
    }
  } finally {
    gz.destroy();
    taken?.();
  }
  const code = failed.code;
  if (typeof code !== 'string' || !code.startsWith('Z_')) throw failed;
  // zlib counts the input it has finished with; the bad bytes are in the slice after that.
  const from = gz.bytesWritten;
  if (code === 'Z_BUF_ERROR')
    throw new InputLimitError('input', `the gzip input ends early, at byte offset ${fed} (truncated file?)`, { compressedOffset: fed });
  const to = Math.min(fed, from + GZIP_SLICE) - 1;
  throw new InputLimitError(
    'input',
    `the gzip data is damaged between byte offsets ${from} and ${to} of the compressed file (${zlibMessage(failed)})`,
    { compressedOffset: from },
  );
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
  if (first.length >= 18 && bgzfBlockSize(first, 0) >= 18) {
    return yield* inflateBgzf({ [Symbol.asyncIterator]: () => raw }, first);
  }
  return yield* gunzipStream(raw, first);
}

/** The UTF-8 encoding of U+FEFF, which some editors put at the start of a text file. */
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Decompressed chunks of about CHUNK_BYTES that end at a newline (the last may not), without a
 * leading byte-order mark. Enforces the limits: a line longer than maxLineBytes or more than
 * maxDecompressedBytes in all stop the input with InputLimitError, as does damaged compressed
 * input; the whole lines before the point where it stopped are yielded first, so the engine can
 * number the line where it stopped.
 */
export async function* readTextChunks(input: Readable, limits: LineReaderLimits): AsyncGenerator<Buffer> {
  let total = 0;
  let parts: Buffer[] = [];
  let size = 0;
  // Bytes after the last newline seen, carried into the next chunk.
  let carry: Buffer = Buffer.alloc(0);
  // The first bytes, held until there are enough to tell whether they start with a BOM.
  let start: Buffer | null = Buffer.alloc(0);
  let stopped: InputLimitError | undefined;
  let tooLong = false;
  /** Takes in decompressed bytes; returns a chunk when one is due. */
  const take = (buf: Buffer): Buffer | undefined => {
    if (total + buf.length > limits.maxDecompressedBytes) {
      buf = buf.subarray(0, limits.maxDecompressedBytes - total);
      stopped = new InputLimitError('input', `more than ${limits.maxDecompressedBytes} bytes after decompression`, {
        decompressedCap: limits.maxDecompressedBytes,
      });
    }
    total += buf.length;
    const nl = buf.lastIndexOf(10);
    if (nl < 0) {
      carry = carry.length === 0 ? buf : Buffer.concat([carry, buf]);
      tooLong = carry.length > limits.maxLineBytes;
      return undefined;
    }
    if (carry.length > 0) {
      parts.push(carry);
      size += carry.length;
    }
    parts.push(buf.subarray(0, nl + 1));
    size += nl + 1;
    carry = buf.subarray(nl + 1);
    tooLong = carry.length > limits.maxLineBytes;
    if (size < CHUNK_BYTES) return undefined;
    const chunk = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
    parts = [];
    size = 0;
    return chunk;
  };
  try {
    for await (const buf of decompressed(input)) {
      let bytes = buf;
      if (start !== null) {
        start = start.length === 0 ? buf : Buffer.concat([start, buf]);
        if (start.length < BOM.length) continue;
        bytes = start.subarray(0, BOM.length).equals(BOM) ? start.subarray(BOM.length) : start;
        start = null;
      }
      const chunk = take(bytes);
      if (chunk) yield chunk;
      if (stopped || tooLong) break;
    }
    // A text shorter than a BOM.
    if (start !== null && start.length > 0) take(start);
  } catch (err) {
    if (!(err instanceof InputLimitError)) throw err;
    stopped = err;
  }
  // The whole lines before the point where the input stopped still go out first, so the engine
  // can number it; the partial line after them is dropped.
  if (stopped) carry = Buffer.alloc(0);
  if (!tooLong && carry.length > 0) {
    parts.push(carry);
    size += carry.length;
  }
  if (size > 0) yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
  if (tooLong) throw new InputLimitError('line', `longer than ${limits.maxLineBytes} bytes`);
  if (stopped) throw stopped;
}
