import type { KV } from '@nats-io/kv';
import type { JetStreamManager } from '@nats-io/jetstream';
import { isRevisionConflict, kvKeysUnder } from '@gas/messaging';
import { create, fromBinary, toBinary, rpcErrors, JobSchema } from '@gas/proto';
import type { Job } from '@gas/proto';
import { jobKey } from './ids.ts';

export interface StoredJob {
  job: Job;
  revision: number;
}

/** Jobs in the `gas-jobs` KV bucket, key `<userId>.<jobId>`, value protobuf-binary Job. */
export class JobStore {
  constructor(
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
    private readonly bucket: string,
  ) {}

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
      return await this.kv.create(jobKey(job.userId, job.jobId), toBinary(JobSchema, job));
    } catch (err) {
      if (isRevisionConflict(err)) throw rpcErrors.alreadyExists(`job ${job.jobId} already exists`);
      throw err;
    }
  }

  /**
   * Compare-and-set on the KV revision. `change` sees the current record and returns the next one,
   * or null for "nothing to do"; on a revision conflict it runs again on the fresh record, so two
   * writers can never both make the same transition.
   */
  async update(userId: string, jobId: string, change: (job: Job) => Job | null): Promise<{ job: Job; changed: boolean }> {
    for (let tries = 0; tries < 20; tries++) {
      const cur = await this.mustGet(userId, jobId);
      const nextJob = change(create(JobSchema, cur.job));
      if (!nextJob) return { job: cur.job, changed: false };
      try {
        await this.kv.update(jobKey(userId, jobId), toBinary(JobSchema, nextJob), cur.revision);
        return { job: nextJob, changed: true };
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

  async *watch(userId: string, signal: AbortSignal): AsyncGenerator<Job> {
    const it = await this.kv.watch({ key: `${userId}.*` });
    const stop = () => it.stop();
    signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const e of it) {
        if (signal.aborted) break;
        if (e.operation !== 'PUT' || e.value.length === 0) continue;
        yield fromBinary(JobSchema, e.value);
      }
    } finally {
      signal.removeEventListener('abort', stop);
      it.stop();
    }
  }
}
