// Worker threads that annotate chunks in parallel with the engine's own thread. Each worker parses
// the reference files from bytes shared with the other threads (the dbSNP tables are used in place)
// and builds its own gene-model index. The engine keeps results in input order.
import { Worker } from 'node:worker_threads';
import type { ChunkOptions } from './chunk-runner.ts';
import type { ChunkResult } from './chunk-annotator.ts';
import type { WorkerData, WorkerRequest } from './annotation-worker.ts';

export interface AnnotationPoolOptions {
  /** Reference files as readReferenceBytes returns them (shared memory), with their paths. */
  references: Array<{ path: string; bytes: Buffer }>;
  workers: number;
}

/** Chunks queued per worker: one running and one waiting, so a worker never waits for the next. */
const PER_WORKER = 2;

type Reply = { type: 'ready' } | { type: 'result'; id: number; result: ChunkResult };

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (r: ChunkResult) => void; reject: (e: Error) => void }>;
}

export class AnnotationPool {
  private nextId = 0;
  private failure: Error | undefined;

  private constructor(private readonly slots: Slot[]) {}

  get size(): number {
    return this.slots.length;
  }

  /** True while some worker has fewer than PER_WORKER chunks. */
  hasRoom(): boolean {
    if (this.failure) return true; // annotate() then rejects with the failure
    for (const s of this.slots) if (s.pending.size < PER_WORKER) return true;
    return false;
  }

  static async start(opts: AnnotationPoolOptions): Promise<AnnotationPool> {
    const threads = Math.max(1, opts.workers);
    const data: WorkerData = { references: opts.references };
    const slots: Slot[] = [];
    try {
      const ready = await Promise.all(
        Array.from({ length: threads }, () => {
          const worker = new Worker(new URL('./annotation-worker.mjs', import.meta.url), {
            workerData: data,
            // A larger young generation: chunk annotation makes many short-lived strings.
            resourceLimits: { maxYoungGenerationSizeMb: 16 },
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
      const pool = new AnnotationPool(slots);
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

  annotate(build: string | null, chunk: Uint8Array, options: ChunkOptions): Promise<ChunkResult> {
    if (this.failure) return Promise.reject(this.failure);
    // The least busy worker; ties go to the first.
    let slot = this.slots[0]!;
    for (const s of this.slots) if (s.pending.size < slot.pending.size) slot = s;
    const id = this.nextId++;
    // Transfer when the chunk owns its memory; otherwise send a copy: transferring would detach the
    // rest of a shared buffer (the next chunk's first bytes, or Node's buffer pool). Buffer#slice
    // makes a view, not a copy, hence Uint8Array.prototype.slice.
    const owned = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && !(chunk.buffer instanceof SharedArrayBuffer);
    const bytes = owned ? chunk : Uint8Array.prototype.slice.call(chunk);
    const request: WorkerRequest = { id, build, chunk: bytes, options };
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
