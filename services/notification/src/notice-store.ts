import { KvWatchInclude } from '@nats-io/kv';
import type { KV, KvEntry } from '@nats-io/kv';
import type { JetStreamManager } from '@gas/messaging';
import { isRevisionConflict, kvKeysUnder } from '@gas/messaging';
import { create, fromBinary, toBinary, NoticeSchema } from '@gas/proto';
import type { EmailStatus, Notice } from '@gas/proto';
import { noticeId } from './notice-id.ts';

/**
 * The key of a deleted account's tombstone beside its jobs' ones: job ids are ULIDs (upper case), so
 * no job's key is ever this.
 */
const ACCOUNT_TOMBSTONE = 'account';

/** What a user id may be (as the job service and the gRPC API check): never a subject wildcard or dot. */
export const USER_ID = /^[A-Za-z0-9_-]{1,64}$/;

const isPut = (e: KvEntry | null): boolean => Boolean(e && e.operation === 'PUT');

/**
 * In-app notices in the `gas-notices` KV bucket (key `<userId>.<noticeId>`, protobuf Notice), each
 * user's read mark in `gas-notice-reads` (key `<userId>`, the newest notice id read), and a
 * tombstone per deleted job in `gas-notice-deleted-jobs` (key `<userId>.<jobId>`, when), which
 * keeps a late or redelivered event of the job from making its notice again; a deleted account's
 * tombstone is there too (key `<userId>.account`), for every event of the user.
 */
export class NoticeStore {
  constructor(
    private readonly notices: KV,
    private readonly reads: KV,
    private readonly jsm: JetStreamManager,
    private readonly bucket: string,
    private readonly deletedJobs: KV,
    private readonly readsBucket: string,
  ) {}

  /** Stores the notice unless one with its id exists; returns what is stored either way, and whether it is new. */
  async ensure(notice: Notice): Promise<{ notice: Notice; created: boolean }> {
    const key = `${notice.userId}.${notice.noticeId}`;
    try {
      await this.notices.create(key, toBinary(NoticeSchema, notice));
      return { notice, created: true };
    } catch (err) {
      if (!isRevisionConflict(err)) throw err;
      return { notice: (await this.get(notice.userId, notice.noticeId)) ?? notice, created: false };
    }
  }

  async get(userId: string, noticeId: string): Promise<Notice | null> {
    const e = await this.notices.get(`${userId}.${noticeId}`);
    if (!e || e.operation !== 'PUT' || e.value.length === 0) return null;
    return fromBinary(NoticeSchema, e.value);
  }

  /**
   * Records what became of the notice's email (compare-and-set, so a concurrent change is not lost).
   * A notice that is gone stays gone: its job was deleted while its email was being sent.
   */
  async setEmail(notice: Notice, status: EmailStatus, detail = ''): Promise<Notice> {
    const key = `${notice.userId}.${notice.noticeId}`;
    for (let tries = 0; tries < 10; tries++) {
      const e = await this.notices.get(key);
      if (!e || e.operation !== 'PUT' || e.value.length === 0) return notice;
      const next = create(NoticeSchema, { ...fromBinary(NoticeSchema, e.value), emailStatus: status, emailDetail: detail.slice(0, 500) });
      try {
        await this.notices.update(key, toBinary(NoticeSchema, next), e.revision);
        return next;
      } catch (err) {
        if (!isRevisionConflict(err)) throw err;
      }
    }
    throw new Error(`notice ${notice.noticeId} is being changed concurrently`);
  }

  /** The user's notice ids, newest first. */
  ids(userId: string): Promise<string[]> {
    return kvKeysUnder(this.jsm, this.bucket, userId);
  }

  /**
   * Removes the notice outright: a purge of its key leaves no delete marker, which the per-subject
   * count that ids() reads would still list (and the unread count would still count).
   */
  async remove(userId: string, id: string): Promise<void> {
    await this.jsm.streams.purge(`KV_${this.bucket}`, { filter: `$KV.${this.bucket}.${userId}.${id}` });
  }

  /**
   * Removes every notice of the job and returns them. Only ids from a day before `since` (the job's
   * creation) are read: a notice's id carries its event's time, which comes after it.
   */
  async removeJob(userId: string, jobId: string, since?: Date): Promise<Notice[]> {
    const from = since ? noticeId('', new Date(since.getTime() - 86_400_000)).slice(0, 10) : '';
    const removed: Notice[] = [];
    for (const id of await this.ids(userId)) {
      if (id < from) break;
      const n = await this.get(userId, id);
      if (n?.jobId !== jobId) continue;
      await this.remove(userId, id);
      removed.push(n);
    }
    return removed;
  }

  /** Leaves the tombstone of a deleted job (again: a watcher of the user then counts anew). */
  async markJobDeleted(userId: string, jobId: string): Promise<void> {
    await this.deletedJobs.put(`${userId}.${jobId}`, new Date().toISOString());
  }

  /**
   * Whether an event of the user (of the job, if given) is to make nothing: `account` once the
   * account is deleted, `job` once the job is. The two keys are read at once, so checking the
   * account costs a job event one more small read on the server and no more waiting.
   */
  async deletion(userId: string, jobId?: string): Promise<'account' | 'job' | null> {
    const [account, job] = await Promise.all([
      this.deletedJobs.get(`${userId}.${ACCOUNT_TOMBSTONE}`),
      jobId ? this.deletedJobs.get(`${userId}.${jobId}`) : null,
    ]);
    return isPut(account) ? 'account' : isPut(job) ? 'job' : null;
  }

  /** Leaves the tombstone of a deleted account (again: a watcher of the user then counts anew). */
  async markAccountDeleted(userId: string): Promise<void> {
    await this.deletedJobs.put(`${userId}.${ACCOUNT_TOMBSTONE}`, new Date().toISOString());
  }

  /**
   * Removes every notice of the user and the read mark, and returns the notices it could read first
   * (for the count by kind). One purge by the user's prefix, which leaves no delete marker, and also
   * takes a notice stored between the read and the purge.
   */
  async removeUser(userId: string): Promise<Notice[]> {
    if (!USER_ID.test(userId)) throw new Error('not a user id');
    const removed: Notice[] = [];
    for (const id of await this.ids(userId)) {
      const n = await this.get(userId, id);
      if (n) removed.push(n);
    }
    await this.jsm.streams.purge(`KV_${this.bucket}`, { filter: `$KV.${this.bucket}.${userId}.>` });
    await this.jsm.streams.purge(`KV_${this.readsBucket}`, { filter: `$KV.${this.readsBucket}.${userId}` });
    return removed;
  }

  async readMark(userId: string): Promise<string> {
    const e = await this.reads.get(userId);
    return e && e.operation === 'PUT' ? e.string() : '';
  }

  /** Moves the read mark forward to `upTo` (never back). */
  async markRead(userId: string, upTo: string): Promise<void> {
    for (let tries = 0; tries < 10; tries++) {
      const e = await this.reads.get(userId);
      const current = e && e.operation === 'PUT' ? e.string() : '';
      if (upTo <= current) return;
      try {
        if (e) await this.reads.update(userId, upTo, e.revision);
        else await this.reads.create(userId, upTo);
        return;
      } catch (err) {
        if (!isRevisionConflict(err)) throw err;
      }
    }
  }

  /**
   * New or changed notices of the user, and (as null) changes of the read mark and deletions of the
   * user's jobs or account, whose notices are then gone, until the signal aborts.
   */
  async *watch(userId: string, signal: AbortSignal): AsyncGenerator<Notice | null> {
    const notices = await this.notices.watch({ key: `${userId}.*`, include: KvWatchInclude.UpdatesOnly });
    const reads = await this.reads.watch({ key: userId, include: KvWatchInclude.UpdatesOnly });
    const deletions = await this.deletedJobs.watch({ key: `${userId}.*`, include: KvWatchInclude.UpdatesOnly });
    const queue: Array<Notice | null> = [];
    let wake: (() => void) | undefined;
    const push = (n: Notice | null) => {
      queue.push(n);
      wake?.();
    };
    const stop = () => {
      notices.stop();
      reads.stop();
      deletions.stop();
      wake?.();
    };
    signal.addEventListener('abort', stop, { once: true });
    void (async () => {
      for await (const e of notices) if (e.operation === 'PUT' && e.value.length > 0) push(fromBinary(NoticeSchema, e.value));
    })().catch(() => undefined);
    void (async () => {
      for await (const e of reads) if (e.operation === 'PUT') push(null);
    })().catch(() => undefined);
    void (async () => {
      for await (const e of deletions) if (e.operation === 'PUT') push(null);
    })().catch(() => undefined);
    try {
      while (!signal.aborted) {
        if (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        while (queue.length > 0 && !signal.aborted) yield queue.shift()!;
      }
    } finally {
      signal.removeEventListener('abort', stop);
      stop();
    }
  }
}
