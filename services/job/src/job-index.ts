import { errors } from '@nats-io/nats-core';
import type { KV, KvWatchEntry } from '@nats-io/kv';
import type { JetStreamManager } from '@nats-io/jetstream';
import { fromBinary, JobSchema } from '@gas/proto';
import type { Job } from '@gas/proto';

interface Entry {
  job: Job;
  /** The KV revision (stream sequence) the job was read at: an older copy never replaces a newer one. */
  revision: number;
}

interface UserJobs {
  /** Job ids ascending (ULIDs: creation order); lists read them from the end. */
  ids: string[];
  jobs: Map<string, Entry>;
}

/** Where `id` is in `ids` (ascending), or where it would go. */
function position(ids: string[], id: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Every job of the `gas-jobs` bucket in memory, per user in id order, fed by a watch of the whole
 * bucket: listing a user's jobs is a memory read instead of one KV read per job.
 *
 * A read must still see every write that finished before it began, whichever replica made it (the
 * gateway that took an upload may ask another replica for the list a moment later). So before
 * answering, `caughtUp` asks the KV stream for its last sequence and waits until the watch has
 * delivered that far. Concurrent reads share that question: one is on the wire at a time, and reads
 * arriving meanwhile wait for the next one, which leaves after them. A replica's own writes are put
 * in at once as well (`put`), so they never wait for the watch.
 */
export class JobIndex {
  private readonly users = new Map<string, UserJobs>();
  /** The highest stream sequence the watch has delivered. */
  private applied = 0;
  private waiters: Array<{ seq: number; resolve: (ok: boolean) => void }> = [];
  private onWire: Promise<number> | undefined;
  private waiting: Promise<number> | undefined;
  private watching: Promise<void> | undefined;
  private stopWatch: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** Starts the watch (once); it replays the bucket's current values, then follows every change. */
  start(): void {
    if (this.watching || this.closed) return;
    this.watching = this.follow();
  }

  close(): void {
    this.closed = true;
    this.stopWatch?.();
    for (const w of this.waiters.splice(0)) w.resolve(false);
  }

  /**
   * Resolves true once the index holds every write the bucket had when this was called, false if
   * the watch has not got there within `timeoutMs` (the caller then reads the bucket itself).
   */
  async caughtUp(timeoutMs: number): Promise<boolean> {
    this.start();
    const seq = await this.lastSequence();
    if (this.applied >= seq) return true;
    if (this.closed) return false;
    return new Promise<boolean>((resolve) => {
      const waiter = { seq, resolve };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      waiter.resolve = (ok) => {
        clearTimeout(timer);
        resolve(ok);
      };
      this.waiters.push(waiter);
    });
  }

  get(userId: string, jobId: string): Job | undefined {
    return this.users.get(userId)?.jobs.get(jobId)?.job;
  }

  /**
   * The user's jobs older than `before` (all when empty), newest first, that `keep` accepts, at
   * most `size` of them; `more` says whether any job is left after the last one returned.
   */
  page(userId: string, before: string, size: number, keep: (job: Job) => boolean): { jobs: Job[]; more: boolean } {
    const u = this.users.get(userId);
    if (!u) return { jobs: [], more: false };
    let i = (before ? position(u.ids, before) : u.ids.length) - 1;
    const jobs: Job[] = [];
    for (; i >= 0 && jobs.length < size; i--) {
      const job = u.jobs.get(u.ids[i]!)!.job;
      if (keep(job)) jobs.push(job);
    }
    return { jobs, more: i >= 0 };
  }

  /** A write this replica made (and the bucket acknowledged at `revision`). */
  put(job: Job, revision: number): void {
    this.set(job.userId, job.jobId, { job, revision });
  }

  /**
   * A delete this replica made. Reads wait for the watch to pass the delete marker anyway; this
   * only spares them the job in between.
   */
  drop(userId: string, jobId: string): void {
    const cur = this.users.get(userId)?.jobs.get(jobId);
    if (cur) this.remove(userId, jobId, cur.revision + 1);
  }

  private set(userId: string, jobId: string, entry: Entry): void {
    let u = this.users.get(userId);
    if (!u) this.users.set(userId, (u = { ids: [], jobs: new Map() }));
    const cur = u.jobs.get(jobId);
    if (cur && cur.revision >= entry.revision) return;
    if (!cur) {
      // New jobs are nearly always the newest: push, else insert in order.
      if (u.ids.length === 0 || u.ids[u.ids.length - 1]! < jobId) u.ids.push(jobId);
      else u.ids.splice(position(u.ids, jobId), 0, jobId);
    }
    u.jobs.set(jobId, entry);
  }

  private remove(userId: string, jobId: string, revision: number): void {
    const u = this.users.get(userId);
    const cur = u?.jobs.get(jobId);
    if (!u || !cur || cur.revision >= revision) return;
    u.jobs.delete(jobId);
    u.ids.splice(position(u.ids, jobId), 1);
    if (u.ids.length === 0) this.users.delete(userId);
  }

  private apply(e: KvWatchEntry): void {
    const dot = e.key.indexOf('.');
    if (dot > 0) {
      const userId = e.key.slice(0, dot);
      const jobId = e.key.slice(dot + 1);
      // This replica's own writes are in already (put), at their revision: not decoded again.
      const held = this.users.get(userId)?.jobs.get(jobId)?.revision ?? 0;
      if (held < e.revision) {
        if (e.operation === 'PUT' && e.value.length > 0)
          this.set(userId, jobId, { job: fromBinary(JobSchema, e.value), revision: e.revision });
        else this.remove(userId, jobId, e.revision);
      }
    }
    if (e.revision > this.applied) this.applied = e.revision;
    if (this.waiters.length > 0 && this.waiters.some((w) => w.seq <= this.applied)) {
      const ready = this.waiters.filter((w) => w.seq <= this.applied);
      this.waiters = this.waiters.filter((w) => w.seq > this.applied);
      for (const w of ready) w.resolve(true);
    }
  }

  private async follow(): Promise<void> {
    while (!this.closed) {
      try {
        // After a restart, the replay of current values starts again from the beginning; older
        // copies are ignored by revision, and deleted jobs are still there as delete markers.
        const it = await this.kv.watch({ key: '>' });
        this.stopWatch = () => it.stop();
        if (this.closed) it.stop();
        for await (const e of it) this.apply(e);
      } catch (err) {
        // The connection is going away with the service: nothing left to follow.
        if (err instanceof errors.ClosedConnectionError || err instanceof errors.DrainingConnectionError) this.close();
        if (!this.closed) this.onError(err);
      }
      if (!this.closed) await new Promise((r) => setTimeout(r, 1000).unref());
    }
  }

  /** The KV stream's last sequence, asked after the call (see the class comment). */
  private lastSequence(): Promise<number> {
    if (this.waiting) return this.waiting;
    if (!this.onWire) return this.send();
    this.waiting = this.onWire
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        this.waiting = undefined;
        return this.send();
      });
    return this.waiting;
  }

  private send(): Promise<number> {
    const p: Promise<number> = this.jsm.streams
      .info(this.stream)
      .then((info) => info.state.last_seq)
      .finally(() => {
        if (this.onWire === p) this.onWire = undefined;
      });
    this.onWire = p;
    return p;
  }
}
