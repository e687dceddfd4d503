// Where chunks are annotated: in this thread, and in an AnnotationPool's worker threads when the
// engine is given one. This thread keeps working too, so N threads need only N − 1 workers (and
// N − 1 more copies of the gene models in memory).
import { ChunkAnnotator } from './chunk-annotator.ts';
import { warmUp } from './warm-up.ts';
import type { ChunkResult } from './chunk-annotator.ts';
import type { Reference } from './reference.ts';
import type { AnnotationPool } from './annotation-pool.ts';

export interface ChunkOptions {
  tsv: boolean;
  csq: boolean;
  maxLineBytes: number;
  vcf33: boolean;
  /**
   * The input header's `##contig` lengths, `ID<tab>length` lines ('' for none): the same for
   * every chunk of a run, so the annotators keep it apart from the options they are keyed by.
   */
  contigLengths?: string;
  /**
   * The whole input is this one chunk (under about 192 KB): annotating it takes less than the
   * warm-up would (about 0.3 s in the interpreter), which pays off only over many chunks.
   */
  skipWarmUp?: boolean;
}

/** Annotators keyed by their options, reused from chunk to chunk (they cache the last chromosome). */
export class AnnotatorCache {
  private readonly byKey = new Map<string, ChunkAnnotator>();
  constructor(private readonly reference: Reference | undefined) {}
  get(options: ChunkOptions): ChunkAnnotator {
    const cold = options.skipWarmUp === true;
    const key = `${options.tsv}:${options.csq}:${options.maxLineBytes}:${options.vcf33}:${cold}`;
    let a = this.byKey.get(key);
    if (!a) {
      if (!cold) warmUp(this.reference, options.tsv, options.csq);
      this.byKey.set(
        key,
        (a = new ChunkAnnotator({
          tsv: options.tsv,
          csq: options.csq,
          maxLineBytes: options.maxLineBytes,
          vcf33: options.vcf33,
          reference: this.reference,
        })),
      );
    }
    return a;
  }
}

/** Output pieces kept for reuse: about as many as are in flight (queued results, buffered writes). */
const MAX_SPARES = 24;
/** Pieces handed with each chunk to the thread that annotates it. */
const SPARES_PER_CHUNK = 6;

export class ChunkRunner {
  /** The genome build annotated against; null counts and validates only. */
  readonly build: string | null;
  private readonly local: AnnotatorCache;
  private pool: AnnotationPool | undefined;
  private poolError: Error | undefined;
  /** Output memory given back by recycle(), handed to the next chunk's annotator (here or in a worker). */
  private readonly spareVcf: ArrayBuffer[] = [];
  private readonly spareTsv: ArrayBuffer[] = [];

  /**
   * `pool` may still be starting: this thread annotates meanwhile, and the workers join when
   * ready (starting them takes a few hundred milliseconds; small inputs never wait for them).
   */
  constructor(reference: Reference | undefined, pool?: AnnotationPool | Promise<AnnotationPool>) {
    this.build = reference?.build ?? null;
    this.local = new AnnotatorCache(reference);
    if (pool instanceof Promise) {
      pool.then(
        (p) => (this.pool = p),
        (err: Error) => (this.poolError = err),
      );
    } else this.pool = pool;
  }

  /** Chunks annotated at once; the engine keeps twice this many queued. */
  get concurrency(): number {
    return 1 + (this.pool?.size ?? 1);
  }

  /**
   * A worker takes the chunk while it has room; otherwise this thread annotates it now, which
   * balances the two by itself. `chunk` holds whole lines and is not reused by the caller.
   */
  annotate(chunk: Uint8Array, options: ChunkOptions): Promise<ChunkResult> {
    if (this.poolError) return Promise.reject(this.poolError);
    const vcf = this.spareVcf.splice(-SPARES_PER_CHUNK);
    const tsv = this.spareTsv.splice(-SPARES_PER_CHUNK);
    if (this.pool?.hasRoom()) return this.pool.annotate(this.build, chunk, options, vcf, tsv);
    try {
      const annotator = this.local.get(options);
      annotator.recycle(vcf, tsv);
      return Promise.resolve(annotator.annotate(chunk, options.contigLengths));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error('annotation failed', { cause: err }));
    }
  }

  /**
   * Gives back the memory of a piece of a result's output once it has been written and nothing reads it any
   * more; later chunks reuse it instead of new memory (which costs a page fault per 4 KB).
   */
  recycle(output: Uint8Array, kind: 'vcf' | 'tsv'): void {
    const spares = kind === 'vcf' ? this.spareVcf : this.spareTsv;
    if (spares.length < MAX_SPARES && output.byteOffset === 0 && !(output.buffer instanceof SharedArrayBuffer)) spares.push(output.buffer);
  }
}
