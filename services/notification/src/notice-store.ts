import { KvWatchInclude } from '@nats-io/kv';
import type { KV } from '@nats-io/kv';
import type { JetStreamManager } from '@gas/messaging';
import { isRevisionConflict, kvKeysUnder } from '@gas/messaging';
import { create, fromBinary, toBinary, NoticeSchema } from '@gas/proto';
import type { EmailStatus, Notice } from '@gas/proto';

/**
 * In-app notices in the `gas-notices` KV bucket (key `<userId>.<noticeId>`, protobuf Notice) and
 * each user's read mark in `gas-notice-reads` (key `<userId>`, the newest notice id read).
 */
export class NoticeStore {
  constructor(
    private readonly notices: KV,
    private readonly reads: KV,
    private readonly jsm: JetStreamManager,
    private readonly bucket: string,
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

  /** Records what became of the notice's email (compare-and-set, so a concurrent change is not lost). */
  async setEmail(notice: Notice, status: EmailStatus, detail = ''): Promise<Notice> {
    const key = `${notice.userId}.${notice.noticeId}`;
    for (let tries = 0; tries < 10; tries++) {
      const e = await this.notices.get(key);
      const current = e && e.operation === 'PUT' && e.value.length > 0 ? fromBinary(NoticeSchema, e.value) : notice;
      const next = create(NoticeSchema, { ...current, emailStatus: status, emailDetail: detail.slice(0, 500) });
      try {
        if (e && e.operation === 'PUT') await this.notices.update(key, toBinary(NoticeSchema, next), e.revision);
        else await this.notices.create(key, toBinary(NoticeSchema, next));
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

  /** New or changed notices of the user, and changes of the read mark (as null), until the signal aborts. */
  async *watch(userId: string, signal: AbortSignal): AsyncGenerator<Notice | null> {
    const notices = await this.notices.watch({ key: `${userId}.*`, include: KvWatchInclude.UpdatesOnly });
    const reads = await this.reads.watch({ key: userId, include: KvWatchInclude.UpdatesOnly });
    const queue: Array<Notice | null> = [];
    let wake: (() => void) | undefined;
    const push = (n: Notice | null) => {
      queue.push(n);
      wake?.();
    };
    const stop = () => {
      notices.stop();
      reads.stop();
      wake?.();
    };
    signal.addEventListener('abort', stop, { once: true });
    void (async () => {
      for await (const e of notices) if (e.operation === 'PUT' && e.value.length > 0) push(fromBinary(NoticeSchema, e.value));
    })().catch(() => undefined);
    void (async () => {
      for await (const e of reads) if (e.operation === 'PUT') push(null);
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
