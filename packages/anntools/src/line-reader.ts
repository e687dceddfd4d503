import type { Readable } from 'node:stream';
import { VcfFormatError } from './vcf-error.ts';
import { readTextChunks, InputLimitError } from './text-chunks.ts';

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

/**
 * Yields the lines of each decompressed chunk as one batch (without newlines, CR stripped), with the
 * number of the batch's first line. Batches keep the per-line cost to a plain loop: an async
 * iteration per line would dominate the engine's time. Plain, gzip and BGZF input, a leading
 * byte-order mark dropped, as the engine reads them (readTextChunks).
 */
export async function* readLineBatches(
  input: Readable,
  limits: LineReaderLimits = defaultLimits,
): AsyncGenerator<{ lines: string[]; firstLine: number }> {
  let lineNo = 0;
  try {
    for await (const chunk of readTextChunks(input, limits)) {
      const lines = chunk.toString('utf8').split('\n');
      // Chunks end at a newline, except perhaps the last.
      if (lines.at(-1) === '') lines.pop();
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!;
        if (line.length > limits.maxLineBytes) throw new VcfFormatError(lineNo + 1 + i, 'line', `longer than ${limits.maxLineBytes} bytes`);
        if (line.charCodeAt(line.length - 1) === 13) lines[i] = line.slice(0, -1);
      }
      const firstLine = lineNo + 1;
      lineNo += lines.length;
      if (lines.length > 0) yield { lines, firstLine };
    }
  } catch (err) {
    if (!(err instanceof InputLimitError)) throw err;
    throw new VcfFormatError(lineNo + 1, err.field, err.reason);
  }
}

/** Line by line, with 1-based numbers; for readers where per-line cost does not matter. */
export async function* readLines(input: Readable, limits: LineReaderLimits = defaultLimits): AsyncGenerator<[string, number]> {
  for await (const { lines, firstLine } of readLineBatches(input, limits)) {
    for (let i = 0; i < lines.length; i++) yield [lines[i]!, firstLine + i];
  }
}
