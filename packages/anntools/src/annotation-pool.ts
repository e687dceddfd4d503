// Worker threads that annotate chunks in parallel, each with its own copy of one reference file.
// The engine keeps results in input order; the pool only spreads the work.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ChunkOptions, ChunkRunner } from './chunk-runner.ts';
import type { ChunkResult } from './chunk-annotator.ts';
import type { WorkerData, WorkerRequest } from './annotation-worker.ts';

export interface AnnotationPoolOptions {
  /** A .gasref file; without one the workers validate and count only. */
  referenceFile?: string;
  /** Worker threads; default: the cores available, at most 4. */
  threads?: number;
}

type Reply = { type: 'ready'; build: string | null; missingFasta: string | null } | { type: 'result'; id: number; result: ChunkResult };

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (r: ChunkResult) => void; reject: (e: Error) => void }>;
}

export class AnnotationPool implements ChunkRunner {
  private nextId = 0;
  private failure: Error | undefined;

  private constructor(
    private readonly slots: Slot[],
    readonly build: string | null,
    /** The FASTA the reference names but this machine lacks (consequences are off); null when fine. */
    readonly missingFasta: string | null,
  ) {}

  get concurrency(): number {
    return this.slots.length;
  }

  static async start(opts: AnnotationPoolOptions = {}): Promise<AnnotationPool> {
    const threads = Math.max(1, opts.threads ?? Math.min(4, availableParallelism()));
    const data: WorkerData = { referenceFile: opts.referenceFile ?? null };
    const slots: Slot[] = [];
    try {
      const ready = await Promise.all(
        Array.from({ length: threads }, () => {
          const worker = new Worker(new URL('./annotation-worker.mjs', import.meta.url), {
            workerData: data,
            // A larger young generation: chunk annotation makes many short-lived strings.
            resourceLimits: { maxYoungGenerationSizeMb: 48 },
          });
          slots.push({ worker, pending: new Map() });
          return new Promise<Extract<Reply, { type: 'ready' }>>((resolve, reject) => {
            const onMessage = (m: Reply): void => {
              worker.off('error', reject);
              worker.off('exit', onExit);
              if (m.type === 'ready') resolve(m);
              else reject(new Error('annotation worker: unexpected first message'));
            };
            const onExit = (code: number): void => reject(new Error(`annotation worker exited with code ${code} while starting`));
            worker.once('message', onMessage);
            worker.once('error', reject);
            worker.once('exit', onExit);
          });
        }),
      );
      const pool = new AnnotationPool(slots, ready[0]!.build, ready[0]!.missingFasta);
      for (const slot of slots) pool.watch(slot);
      return pool;
    } catch (err) {
      await Promise.all(slots.map((s) => s.worker.terminate()));
      throw err;
    }
  }

  private watch(slot: Slot): void {
    slot.worker.on('message', (m: Reply) => {
      if (m.type !== 'result') return;
      const p = slot.pending.get(m.id);
      slot.pending.delete(m.id);
      p?.resolve(m.result);
    });
    const fail = (err: Error): void => {
      this.failure ??= err;
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
    };
    slot.worker.on('error', fail);
    slot.worker.on('exit', (code) => fail(new Error(`annotation worker exited with code ${code}`)));
  }

  annotate(chunk: Uint8Array, options: ChunkOptions): Promise<ChunkResult> {
    if (this.failure) return Promise.reject(this.failure);
    // The least busy worker; ties go to the first.
    let slot = this.slots[0]!;
    for (const s of this.slots) if (s.pending.size < slot.pending.size) slot = s;
    const id = this.nextId++;
    // Transfer when the chunk owns its memory; otherwise send a copy (it may share a pooled buffer).
    const owned = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && !(chunk.buffer instanceof SharedArrayBuffer);
    const bytes = owned ? chunk : chunk.slice();
    const request: WorkerRequest = { id, chunk: bytes, options };
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage(request, [bytes.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    this.failure ??= new Error('annotation pool closed');
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
