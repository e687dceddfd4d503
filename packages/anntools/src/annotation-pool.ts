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

type Reply = { type: 'ready' } | { type: 'result'; id: number; result: ChunkResult } | { type: 'failure'; id: number; message: string };

interface Slot {
  /** Null while a replacement for a failed worker starts. */
  worker: Worker | null;
  pending: Map<number, { resolve: (r: ChunkResult) => void; reject: (e: Error) => void }>;
}

function newWorker(data: WorkerData): Worker {
  return new Worker(new URL('./annotation-worker.mjs', import.meta.url), {
    workerData: data,
    resourceLimits: { maxYoungGenerationSizeMb: 16 },
  });
}

/** Starts one worker and resolves once it has parsed its references. */
function spawn(data: WorkerData): Promise<Worker> {
  const worker = newWorker(data);
  return new Promise<Worker>((resolve, reject) => {
    const onMessage = (m: Reply): void => {
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (m.type === 'ready') resolve(worker);
      else reject(new Error('annotation worker: unexpected first message'));
    };
    const onError = (err: Error): void => {
      worker.off('exit', onExit);
      reject(err);
    };
    const onExit = (code: number): void => reject(new Error(`annotation worker exited with code ${code} while starting`));
    worker.once('message', onMessage);
    worker.once('error', onError);
    worker.once('exit', onExit);
  });
}

/**
 * Worker threads that annotate chunks. A worker that dies fails only the chunks it held (their
 * jobs fail and may be retried) and is replaced; the pool goes on with the others meanwhile.
 */
export class AnnotationPool {
  private nextId = 0;
  private closed = false;
  /** Workers replaced after a failure, for logs and tests. */
  restarts = 0;
  private readonly replacing = new Set<Promise<void>>();

  private constructor(
    private readonly slots: Slot[],
    private readonly data: WorkerData,
  ) {}

  get size(): number {
    return this.slots.length;
  }

  /** True while some running worker has fewer than PER_WORKER chunks. */
  hasRoom(): boolean {
    if (this.closed) return false;
    for (const s of this.slots) if (s.worker && s.pending.size < PER_WORKER) return true;
    return false;
  }

  /**
   * Workers that are still starting: chunks sent before one is ready wait in its queue, so a
   * one-off run (the CLI) gets them working from its first chunk instead of waiting for 'ready'
   * while this thread is busy. A worker that fails to start fails the chunks it was sent.
   */
  static spawn(opts: AnnotationPoolOptions): AnnotationPool {
    const data: WorkerData = { references: opts.references };
    const slots: Slot[] = Array.from({ length: Math.max(1, opts.workers) }, () => ({ worker: newWorker(data), pending: new Map() }));
    const pool = new AnnotationPool(slots, data);
    for (const slot of slots) pool.watch(slot, slot.worker!);
    return pool;
  }

  /** Workers that are ready: for a service, whose readiness should mean they are. */
  static async start(opts: AnnotationPoolOptions): Promise<AnnotationPool> {
    const data: WorkerData = { references: opts.references };
    const started = await Promise.allSettled(Array.from({ length: Math.max(1, opts.workers) }, () => spawn(data)));
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) {
      await Promise.all(started.flatMap((r) => (r.status === 'fulfilled' ? [r.value.terminate()] : [])));
      throw failed.reason;
    }
    const slots = started.map((r) => ({ worker: (r as PromiseFulfilledResult<Worker>).value, pending: new Map() }));
    const pool = new AnnotationPool(slots, data);
    for (const slot of slots) pool.watch(slot, slot.worker);
    return pool;
  }

  private watch(slot: Slot, worker: Worker): void {
    worker.on('message', (m: Reply) => {
      if (m.type === 'ready') return;
      const p = slot.pending.get(m.id);
      slot.pending.delete(m.id);
      if (m.type === 'result') p?.resolve(m.result);
      else p?.reject(new Error(`annotation worker: ${m.message}`));
    });
    let failed = false;
    const fail = (err: Error): void => {
      if (failed || this.closed) return;
      failed = true;
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
      slot.worker = null;
      void worker.terminate();
      this.restarts++;
      const replacing = spawn(this.data).then(
        (next) => {
          if (this.closed) return void next.terminate();
          slot.worker = next;
          this.watch(slot, next);
        },
        // The slot stays empty; the others, and the engine's own thread, carry on.
        () => undefined,
      );
      this.replacing.add(replacing);
      void replacing.finally(() => this.replacing.delete(replacing));
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`annotation worker exited with code ${code}`)));
  }

  /** `vcf` and `tsv`: output memory to reuse (see ChunkRunner.recycle); it moves to the worker. */
  annotate(
    build: string | null,
    chunk: Uint8Array,
    options: ChunkOptions,
    vcf: ArrayBuffer[] = [],
    tsv: ArrayBuffer[] = [],
  ): Promise<ChunkResult> {
    // The least busy running worker; ties go to the first.
    let slot: Slot | undefined;
    for (const s of this.slots) if (s.worker && (!slot || s.pending.size < slot.pending.size)) slot = s;
    if (!slot || this.closed) return Promise.reject(new Error(this.closed ? 'annotation pool closed' : 'no annotation worker is running'));
    const worker = slot.worker!;
    const id = this.nextId++;
    // Transfer when the chunk owns its memory; otherwise send a copy: transferring would detach the
    // rest of a shared buffer (the next chunk's first bytes, or Node's buffer pool). Buffer#slice
    // makes a view, not a copy, hence Uint8Array.prototype.slice.
    const owned = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && !(chunk.buffer instanceof SharedArrayBuffer);
    const bytes = owned ? chunk : Uint8Array.prototype.slice.call(chunk);
    const request: WorkerRequest = { id, build, chunk: bytes, options, vcf, tsv };
    const transfer = [bytes.buffer as ArrayBuffer, ...vcf, ...tsv];
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      worker.postMessage(request, transfer);
    });
  }

  /** @internal Resolves once every replacement started so far is running (or has failed to start). */
  async replacementsStarted(): Promise<void> {
    await Promise.all(this.replacing);
  }

  /** @internal The running workers, so tests can stop one. */
  runningWorkers(): Worker[] {
    return this.slots.flatMap((s) => (s.worker ? [s.worker] : []));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.flatMap((s) => (s.worker ? [s.worker.terminate()] : [])));
  }
}
