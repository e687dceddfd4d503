// Where chunks are annotated: in this thread, and in an AnnotationPool's worker threads when the
// engine is given one. This thread keeps working too, so N threads need only N − 1 workers (and
// N − 1 more copies of the gene models in memory).
import { ChunkAnnotator, warmUp } from './chunk-annotator.ts';
import type { ChunkResult } from './chunk-annotator.ts';
import type { Reference } from './reference.ts';
import type { AnnotationPool } from './annotation-pool.ts';

export interface ChunkOptions {
  tsv: boolean;
  maxLineBytes: number;
  vcf33: boolean;
}

/** Annotators keyed by their options, reused from chunk to chunk (they cache the last chromosome). */
export class AnnotatorCache {
  private readonly byKey = new Map<string, ChunkAnnotator>();
  constructor(private readonly reference: Reference | undefined) {}
  get(options: ChunkOptions): ChunkAnnotator {
    const key = `${options.tsv}:${options.maxLineBytes}:${options.vcf33}`;
    let a = this.byKey.get(key);
    if (!a) {
      warmUp(this.reference);
      this.byKey.set(key, (a = new ChunkAnnotator({ ...options, reference: this.reference })));
    }
    return a;
  }
}

export class ChunkRunner {
  /** The genome build annotated against; null counts and validates only. */
  readonly build: string | null;
  private readonly local: AnnotatorCache;
  private pool: AnnotationPool | undefined;
  private poolError: Error | undefined;

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
    if (this.pool?.hasRoom()) return this.pool.annotate(this.build, chunk, options);
    try {
      return Promise.resolve(this.local.get(options).annotate(chunk));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }
}
