// The annotation engine: one streaming pass over a VCF. The header is read here; the data lines go
// in chunks of about 1 MB to a ChunkRunner (this thread, plus an AnnotationPool's workers when
// given one) and the results are written back in input order. Without a reference it validates, counts and
// passes the VCF through (the first GAS engine).
import type { Readable, Writable } from 'node:stream';
import { defaultLimits } from './line-reader.ts';
import type { LineReaderLimits } from './line-reader.ts';
import { InputCapError, VcfFormatError } from './vcf-error.ts';
import { addCounts, emptySummary, finishSummary } from './annotation/summary.ts';
import { checkCoverage } from './annotation/coverage.ts';
import type { AnnotationSummary, OutsideChromosome } from './annotation/summary.ts';
import { contigLines } from './genome-build.ts';
import type { Reference } from './reference.ts';
import { readTextChunks, InputLimitError } from './text-chunks.ts';
import { VcfHeaderReader } from './vcf-header.ts';
import { ChunkRunner } from './chunk-runner.ts';
import type { AnnotationPool } from './annotation-pool.ts';
import type { ChunkResult } from './chunk-annotator.ts';

export { ENGINE_NAME } from './vcf-header.ts';
import { ENGINE_NAME } from './vcf-header.ts';
import { TSV_COLUMNS } from './result-kinds.ts';

export interface AnnotateOptions {
  input: Readable;
  vcfOut: Writable;
  /** One row per variant allele; omitted when not given. */
  tsvOut?: Writable;
  /** Without one the engine validates, counts and passes the VCF through. */
  reference?: Reference;
  /** Ensembl VEP's per-transcript CSQ INFO field beside the GAS_ fields (default true; with a reference). */
  csq?: boolean;
  /** Worker threads holding the same reference (by build), annotating alongside this thread; may still be starting. */
  pool?: AnnotationPool | Promise<AnnotationPool>;
  /**
   * The output streams let go of each buffer once its write has completed (true of fs write
   * streams; not of a PassThrough whose reader keeps the chunks): the engine then reuses the memory
   * for later output, which spares a page fault per 4 KB written.
   */
  reuseOutputBuffers?: boolean;
  /** Called about every progressEvery records (at chunk ends) with the records done so far. */
  onProgress?: (recordsDone: number) => void;
  progressEvery?: number;
  signal?: AbortSignal;
  /**
   * Caps on the input (a plan's): passing maxDecompressedBytes or maxRecords stops the run with an
   * InputCapError naming the line, before the output grows further.
   */
  limits?: Partial<LineReaderLimits> & { maxHeaderBytes?: number; maxRecords?: number };
}

const DEFAULT_MAX_HEADER_BYTES = 64 * 1024 * 1024;

/**
 * Output held in a stream's buffer before the engine waits: annotation goes on while it is written.
 * It holds a few pieces of output (PIECE_BYTES).
 */
const MAX_BUFFERED_OUTPUT = 8 * 1024 * 1024;

/**
 * Writes to one output stream. Past MAX_BUFFERED_OUTPUT the engine waits for the oldest write to
 * complete, not for the stream to empty ('drain'): the stream starts its next write at once, and
 * the engine annotates again instead of waiting while the rest is written.
 */
class Output {
  private wake: (() => void) | undefined;
  private failed: Error | undefined;
  private readonly done = (err?: Error | null): void => {
    if (err) this.failed ??= err;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  };

  constructor(private readonly out: Writable) {}

  /** `written` is called once the stream has let go of `bytes`. */
  async write(bytes: Uint8Array, written?: () => void): Promise<void> {
    if (bytes.length === 0) return;
    this.out.write(
      bytes,
      written
        ? (err?: Error | null) => {
            if (!err) written();
            this.done(err);
          }
        : this.done,
    );
    while (this.out.writableLength > MAX_BUFFERED_OUTPUT) {
      if (this.failed) throw this.failed;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

/**
 * The records (non-blank lines) of a chunk of whole lines, up to `allowed`: `at` is where the first
 * record past `allowed` starts, or -1 when there is none.
 */
export function recordsWithin(chunk: Uint8Array, allowed: number): { records: number; at: number } {
  let records = 0;
  for (let at = 0; at < chunk.length;) {
    let nl = chunk.indexOf(10, at);
    if (nl < 0) nl = chunk.length;
    const blank = nl === at || (nl === at + 1 && chunk[at] === 13);
    if (!blank) {
      if (records === allowed) return { records, at };
      records++;
    }
    at = nl + 1;
  }
  return { records, at: -1 };
}

/**
 * The chunks, each with whether it is the last: one is held back until the next arrives. A read
 * error comes after the chunk before it, as without the look-ahead.
 */
async function* withLast<T>(chunks: AsyncIterable<T>): AsyncGenerator<[T, boolean]> {
  let held: T | undefined;
  let holding = false;
  try {
    for await (const c of chunks) {
      if (holding) yield [held as T, false];
      held = c;
      holding = true;
    }
  } catch (err) {
    if (holding) yield [held as T, false];
    throw err;
  }
  if (holding) yield [held as T, true];
}

export async function annotateVcf(opts: AnnotateOptions): Promise<AnnotationSummary> {
  const started = performance.now();
  const limits: LineReaderLimits = { ...defaultLimits, ...opts.limits };
  const runner = new ChunkRunner(opts.reference, opts.pool);
  const summary = emptySummary(runner.build ? ENGINE_NAME : 'gas-count', runner.build);
  const every = opts.progressEvery ?? 10_000;
  let nextProgress = every;
  const header = new VcfHeaderReader(opts.limits?.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES);
  const tsvStream = runner.build !== null ? opts.tsvOut : undefined;
  const vcfOut = new Output(opts.vcfOut);
  const tsv = tsvStream ? new Output(tsvStream) : undefined;
  const csq = runner.build !== null && opts.csq !== false;
  // Results are awaited in input order; a few chunks ahead keep every worker busy.
  const queue: Array<Promise<ChunkResult>> = [];

  // Lines before the chunk at the head of the queue, to number a chunk's error in the whole file.
  let linesDone = 0;
  const maxRecords = opts.limits?.maxRecords ?? Infinity;
  // Records sent to be annotated, counted only under a cap.
  let recordsSent = 0;
  let overRecordCap = false;
  // The header's contig lengths for the annotators, and the records outside their chromosome.
  let contigLengths = '';
  let outside: OutsideChromosome | null = null;

  const emit = async (result: ChunkResult): Promise<void> => {
    if (result.error) throw new VcfFormatError(linesDone + result.error.line, result.error.field, result.error.reason);
    if (result.outside) {
      if (outside) outside.records += result.outside.records;
      else outside = { ...result.outside, line: linesDone + result.outside.line };
    }
    linesDone += result.lines;
    addCounts(summary, result.counts);
    const reuse = opts.reuseOutputBuffers === true;
    for (const piece of result.vcf) await vcfOut.write(piece, reuse ? () => runner.recycle(piece, 'vcf') : undefined);
    if (tsv && result.tsv) for (const piece of result.tsv) await tsv.write(piece, reuse ? () => runner.recycle(piece, 'tsv') : undefined);
    if (summary.records >= nextProgress) {
      opts.onProgress?.(summary.records);
      nextProgress = summary.records + every;
    }
  };
  const drain = async (): Promise<void> => {
    while (queue.length > 0) await emit(await queue.shift()!);
  };

  try {
    // Chunks sent to be annotated: a whole input in its first chunk skips the warm-up.
    let chunksSent = 0;
    for await (const [chunk, last] of withLast(readTextChunks(opts.input, limits))) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
      let body = chunk;
      if (!header.done) {
        body = header.feed(chunk);
        if (!header.done) continue;
        summary.headerLines = header.metaLines + 1;
        linesDone = header.lines;
        if (runner.build !== null) {
          contigLengths = contigLines(header.meta)
            .flatMap((c) => (c.length === undefined ? [] : [`${c.id}\t${c.length}`]))
            .join('\n');
        }
        await vcfOut.write(header.output(ENGINE_NAME, runner.build, csq));
        if (tsv) await tsv.write(Buffer.from(TSV_COLUMNS.join('\t') + '\n'));
        if (body.length === 0) continue;
      }
      if (maxRecords !== Infinity) {
        const within = recordsWithin(body, maxRecords - recordsSent);
        recordsSent += within.records;
        if (within.at >= 0) {
          overRecordCap = true;
          body = body.subarray(0, within.at);
        }
      }
      if (overRecordCap && body.length === 0) break;
      const pending = runner.annotate(body, {
        tsv: tsv !== undefined,
        csq,
        maxLineBytes: limits.maxLineBytes,
        vcf33: header.vcf33,
        contigLengths,
        ...(last && chunksSent === 0 ? { skipWarmUp: true } : {}),
      });
      chunksSent++;
      // A rejection waiting its turn in the queue is not unhandled; it is thrown when its turn comes.
      pending.catch(() => undefined);
      queue.push(pending);
      while (queue.length >= runner.concurrency * 3) await emit(await queue.shift()!);
      if (overRecordCap) break;
    }
  } catch (err) {
    if (!(err instanceof InputLimitError)) throw err;
    // Lines before the limit come first: their own errors take precedence, and they give the number.
    await drain();
    const line = header.done ? linesDone + 1 : header.lines + 1;
    if (err.where.decompressedCap !== undefined) throw new InputCapError(line, 'decompressedBytes', err.where.decompressedCap);
    if (err.where.compressedOffset !== undefined) {
      const complete = line > 1 ? `the last complete line is ${line - 1}` : 'no line is complete before it';
      throw new VcfFormatError(line, err.field, `${err.reason}; ${complete}`);
    }
    throw new VcfFormatError(line, err.field, err.reason);
  }
  await drain();
  if (overRecordCap) throw new InputCapError(linesDone + 1, 'records', maxRecords);
  header.finish();
  checkCoverage(summary, header.meta, opts.reference?.coverage, outside);
  opts.onProgress?.(summary.records);
  return finishSummary(summary, (performance.now() - started) / 1000);
}
