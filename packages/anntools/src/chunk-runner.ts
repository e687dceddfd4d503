// Where chunks are annotated: this thread (InProcessRunner) or worker threads (AnnotationPool).
import { ChunkAnnotator } from './chunk-annotator.ts';
import type { ChunkResult } from './chunk-annotator.ts';
import type { Reference } from './reference.ts';

export interface ChunkOptions {
  tsv: boolean;
  maxLineBytes: number;
  vcf33: boolean;
}

export interface ChunkRunner {
  /** The genome build annotated against; null counts and validates only. */
  readonly build: string | null;
  /** Chunks annotated at once; the engine keeps twice this many queued. */
  readonly concurrency: number;
  /** `chunk` holds whole lines; the runner may keep it (the caller does not reuse it). */
  annotate(chunk: Uint8Array, options: ChunkOptions): Promise<ChunkResult>;
}

/** Annotators keyed by their options, reused from chunk to chunk (they cache the last chromosome). */
export class AnnotatorCache {
  private readonly byKey = new Map<string, ChunkAnnotator>();
  constructor(private readonly reference: Reference | undefined) {}
  get(options: ChunkOptions): ChunkAnnotator {
    const key = `${options.tsv}:${options.maxLineBytes}:${options.vcf33}`;
    let a = this.byKey.get(key);
    if (!a) this.byKey.set(key, (a = new ChunkAnnotator({ ...options, reference: this.reference })));
    return a;
  }
}

export class InProcessRunner implements ChunkRunner {
  readonly build: string | null;
  readonly concurrency = 1;
  private readonly annotators: AnnotatorCache;

  constructor(reference: Reference | undefined) {
    this.build = reference?.build ?? null;
    this.annotators = new AnnotatorCache(reference);
  }

  async annotate(chunk: Uint8Array, options: ChunkOptions): Promise<ChunkResult> {
    return this.annotators.get(options).annotate(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1'));
  }
}
