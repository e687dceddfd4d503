import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { VcfFormatError } from './vcf-error.ts';

export interface LineReaderLimits {
  /** Longest accepted line in bytes; longer lines are refused rather than buffered. */
  maxLineBytes: number;
  /** Most decompressed bytes accepted from one input (a gzip bomb stops here). */
  maxDecompressedBytes: number;
}

export const defaultLimits: LineReaderLimits = {
  maxLineBytes: 16 * 1024 * 1024,
  maxDecompressedBytes: 64 * 1024 * 1024 * 1024,
};

/** Peeks at the first bytes: gzip and BGZF both start with 1f 8b and decompress with gunzip. */
async function decompressed(input: Readable): Promise<AsyncIterable<Buffer>> {
  const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await it.next();
  async function* rest(): AsyncGenerator<Buffer> {
    if (!first.done) yield first.value;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield n.value;
    }
  }
  if (first.done || first.value.length < 2 || first.value[0] !== 0x1f || first.value[1] !== 0x8b) return rest();
  // Large output chunks: fewer batches, and fewer round trips to the zlib thread.
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  void (async () => {
    try {
      for await (const chunk of rest()) if (!gunzip.write(chunk)) await new Promise((r) => gunzip.once('drain', r));
      gunzip.end();
    } catch (err) {
      gunzip.destroy(err as Error);
    }
  })();
  return gunzip;
}

/**
 * Yields the lines of each decompressed chunk as one batch (without newlines, CR stripped), with the
 * number of the batch's first line. Batches keep the per-line cost to a plain loop: an async
 * iteration per line would dominate the engine's time.
 */
export async function* readLineBatches(
  input: Readable,
  limits: LineReaderLimits = defaultLimits,
): AsyncGenerator<{ lines: string[]; firstLine: number }> {
  let carry = '';
  let lineNo = 0;
  let total = 0;
  for await (const chunk of await decompressed(input)) {
    total += chunk.length;
    if (total > limits.maxDecompressedBytes) {
      throw new VcfFormatError(lineNo + 1, 'input', `more than ${limits.maxDecompressedBytes} bytes after decompression`);
    }
    const text = carry + chunk.toString('utf8');
    const lines = text.split('\n');
    carry = lines.pop()!;
    const firstLine = lineNo + 1;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.length > limits.maxLineBytes) throw new VcfFormatError(firstLine + i, 'line', `longer than ${limits.maxLineBytes} bytes`);
      if (line.charCodeAt(line.length - 1) === 13) lines[i] = line.slice(0, -1);
    }
    lineNo += lines.length;
    if (carry.length > limits.maxLineBytes) throw new VcfFormatError(lineNo + 1, 'line', `longer than ${limits.maxLineBytes} bytes`);
    if (lines.length > 0) yield { lines, firstLine };
  }
  if (carry.length > 0) {
    lineNo++;
    yield { lines: [carry.endsWith('\r') ? carry.slice(0, -1) : carry], firstLine: lineNo };
  }
}

/** Line by line, with 1-based numbers; for readers where per-line cost does not matter. */
export async function* readLines(input: Readable, limits: LineReaderLimits = defaultLimits): AsyncGenerator<[string, number]> {
  for await (const { lines, firstLine } of readLineBatches(input, limits)) {
    for (let i = 0; i < lines.length; i++) yield [lines[i]!, firstLine + i];
  }
}
