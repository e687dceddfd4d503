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
  const gunzip = createGunzip();
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
 * Yields lines (without the newline, CR stripped) with their 1-based numbers, streaming: memory stays
 * bounded by maxLineBytes whatever the input size.
 */
export async function* readLines(input: Readable, limits: LineReaderLimits = defaultLimits): AsyncGenerator<[string, number]> {
  let carry = '';
  let lineNo = 0;
  let total = 0;
  for await (const chunk of await decompressed(input)) {
    total += chunk.length;
    if (total > limits.maxDecompressedBytes) {
      throw new VcfFormatError(lineNo + 1, 'input', `more than ${limits.maxDecompressedBytes} bytes after decompression`);
    }
    const text = carry + chunk.toString('utf8');
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl !== -1; nl = text.indexOf('\n', start)) {
      let line = text.slice(start, nl);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      lineNo++;
      if (line.length > limits.maxLineBytes) throw new VcfFormatError(lineNo, 'line', `longer than ${limits.maxLineBytes} bytes`);
      yield [line, lineNo];
      start = nl + 1;
    }
    carry = text.slice(start);
    if (carry.length > limits.maxLineBytes) {
      throw new VcfFormatError(lineNo + 1, 'line', `longer than ${limits.maxLineBytes} bytes`);
    }
  }
  if (carry.length > 0) {
    lineNo++;
    yield [carry.endsWith('\r') ? carry.slice(0, -1) : carry, lineNo];
  }
}
