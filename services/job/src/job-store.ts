import type { KV } from '@nats-io/kv';
import type { JetStreamManager } from '@nats-io/jetstream';
import { isRevisionConflict, kvKeysUnder } from '@gas/messaging';
import { create, fromBinary, toBinary, rpcErrors, JobSchema } from '@gas/proto';
import type { Job } from '@gas/proto';
import { jobKey } from './ids.ts';
import { JobIndex } from './job-index.ts';

/** How long a read waits for the index to catch up with the bucket before reading the bucket itself. */
const CATCH_UP_MS = 2000;

export interface StoredJob {
  job: Job;
  revision: number;
}

/**
 * Jobs in the `gas-jobs` KV bucket, key `<userId>.<jobId>`, value protobuf-binary Job. Reads for
 * users (`find`, `list`) come from an in-memory index of the bucket (JobIndex); writes and the
 * reads they compare-and-set against go to the bucket.
 */
/** Deletions a watch reports when it opens: those of the last 10 minutes. */
export const REPLAY_DELETIONS_MS = 10 * 60_000;

export class JobStore {
  private readonly index: JobIndex;

  constructor(
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
    private readonly bucket: string,
    onIndexError: (err: unknown) => void = () => undefined,
    /** How old a deletion a watch that opens still reports (see watch). */
    private readonly replayDeletionsMs = REPLAY_DELETIONS_MS,
  ) {
    this.index = new JobIndex(kv, jsm, `KV_${bucket}`, onIndexError);
  }

  /** Starts following the bucket (reads start it too, but then the first of them waits for the replay). */
  startIndex(): void {
    this.index.start();
  }

  closeIndex(): void {
    this.index.close();
  }

  /** The job as of this call, including every write any replica finished before it. */
  async find(userId: string, jobId: string): Promise<Job | null> {
    if (await this.index.caughtUp(CATCH_UP_MS)) return this.index.get(userId, jobId) ?? null;
    return (await this.get(userId, jobId))?.job ?? null;
  }

  /**
   * One page of the user's jobs, newest first: those older than `before` (a job id; from the
   * newest when empty) that `keep` accepts, at most `size`; `more` when jobs are left after it.
   */
  async list(userId: string, before: string, size: number, keep: (job: Job) => boolean): Promise<{ jobs: Job[]; more: boolean }> {
    if (await this.index.caughtUp(CATCH_UP_MS)) return this.index.page(userId, before, size, keep);
    // The watch is behind (NATS trouble): the bucket itself, one read per job.
    const ids = await this.listIds(userId);
    let i = before ? ids.findIndex((id) => id < before) : 0;
    if (i === -1) i = ids.length;
    const jobs: Job[] = [];
    for (; i < ids.length && jobs.length < size; i++) {
      const s = await this.get(userId, ids[i]!);
      if (s && keep(s.job)) jobs.push(s.job);
    }
    return { jobs, more: i < ids.length };
  }

  async get(userId: string, jobId: string): Promise<StoredJob | null> {
    const e = await this.kv.get(jobKey(userId, jobId));
    if (!e || e.operation !== 'PUT' || e.value.length === 0) return null;
    return { job: fromBinary(JobSchema, e.value), revision: e.revision };
  }

  async mustGet(userId: string, jobId: string): Promise<StoredJob> {
    const s = await this.get(userId, jobId);
    if (!s) throw rpcErrors.notFound(`job ${jobId} not found`);
    return s;
  }

  /** Fails with ALREADY_EXISTS if the key is taken. */
  async create(job: Job): Promise<number> {
    try {
      const revision = await this.kv.create(jobKey(job.userId, job.jobId), toBinary(JobSchema, job));
      this.index.put(job, revision);
      return revision;
    } catch (err) {
      if (isRevisionConflict(err)) throw rpcErrors.alreadyExists(`job ${job.jobId} already exists`);
      throw err;
    }
  }

  /**
   * Compare-and-set on the KV revision. `change` sees the current record and returns the next one,
   * or null for "nothing to do"; on a revision conflict it runs again on the fresh record, so two
   * writers can never both make the same transition. `known`, a record the caller has just
   * written, saves the first read.
   */
  async update(
    userId: string,
    jobId: string,
    change: (job: Job) => Job | null,
    known?: StoredJob,
  ): Promise<{ job: Job; changed: boolean }> {
    for (let tries = 0; tries < 20; tries++) {
      const cur = (tries === 0 ? known : undefined) ?? (await this.mustGet(userId, jobId));
      const nextJob = change(create(JobSchema, cur.job));
      if (!nextJob) return { job: cur.job, changed: false };
      try {
        const revision = await this.kv.update(jobKey(userId, jobId), toBinary(JobSchema, nextJob), cur.revision);
        this.index.put(nextJob, revision);
        return { job: nextJob, changed: true };
      } catch (err) {
        if (!isRevisionConflict(err)) throw err;
      }
    }
    throw rpcErrors.aborted(`job ${jobId} is being changed concurrently; try again`);
  }

  /**
   * Removes the job, compare-and-delete on its revision: `check` sees the current record first
   * and throws to refuse; on a revision conflict (the job changed meanwhile) it runs again on the
   * fresh record. `before` runs once the record is judged and before it goes (DeleteJob publishes
   * its event there, so a call cut short in between is finished by a retry). Resolves with the
   * record as it was; NOT_FOUND when there is none.
   */
  async remove(userId: string, jobId: string, check: (job: Job) => void, before: (job: Job) => Promise<void>): Promise<Job> {
    for (let tries = 0; tries < 20; tries++) {
      const cur = await this.mustGet(userId, jobId);
      check(cur.job);
      await before(cur.job);
      try {
        await this.kv.delete(jobKey(userId, jobId), { previousSeq: cur.revision });
        this.index.drop(userId, jobId);
        return cur.job;
      } catch (err) {
        if (!isRevisionConflict(err)) throw err;
      }
    }
    throw rpcErrors.aborted(`job ${jobId} is being changed concurrently; try again`);
  }

  /** The user's job ids, newest first (ULIDs sort by time). */
  listIds(userId: string): Promise<string[]> {
    return kvKeysUnder(this.jsm, this.bucket, userId);
  }

  /**
   * The user's jobs as they are, then every change; a deleted job comes with only its ids and
   * `deleted`. A deleted job's marker stays in the bucket for good, so the replay a watch opens
   * with reports only deletions of the last replayDeletionsMs (a page whose stream was away for a
   * moment catches up), not every job the user ever deleted on every connect.
   */
  async *watch(userId: string, signal: AbortSignal): AsyncGenerator<{ job: Job; deleted: boolean }> {
    const it = await this.kv.watch({ key: `${userId}.*` });
    const stop = () => it.stop();
    signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const e of it) {
        if (signal.aborted) break;
        if (!e.isUpdate && e.operation !== 'PUT' && Date.now() - e.created.getTime() > this.replayDeletionsMs) continue;
        if (e.operation === 'PUT' && e.value.length > 0) yield { job: fromBinary(JobSchema, e.value), deleted: false };
        else yield { job: create(JobSchema, { userId, jobId: e.key.slice(userId.length + 1) }), deleted: true };
      }
    } finally {
      signal.removeEventListener('abort', stop);
      it.stop();
    }
  }
}
