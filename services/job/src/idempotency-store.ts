import { createHash } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import { isRevisionConflict } from '@gas/messaging';

export interface IdempotencyClaim {
  jobId: string;
  revision: number;
  ageMs: number;
}

/**
 * Idempotency keys in their own KV bucket (`gas-idempotency`, TTL = the retention window), so they
 * never mix with job keys. The first writer of `<userId>.<hash(key)>` owns the key.
 */
export class IdempotencyStore {
  constructor(private readonly kv: KV) {}

  private key(userId: string, idempotencyKey: string): string {
    return `${userId}.${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40)}`;
  }

  /** Registers `jobId` for the key and returns null, or returns the claim someone made before. */
  async claim(userId: string, idempotencyKey: string, jobId: string): Promise<IdempotencyClaim | null> {
    const k = this.key(userId, idempotencyKey);
    for (;;) {
      try {
        await this.kv.create(k, new TextEncoder().encode(jobId));
        return null;
      } catch (err) {
        if (!isRevisionConflict(err)) throw err;
      }
      const e = await this.kv.get(k);
      // Expired or deleted between our create and get: try to create again.
      if (e && e.operation === 'PUT') return { jobId: e.string(), revision: e.revision, ageMs: Date.now() - e.created.getTime() };
    }
  }

  /** Hands a key whose job was never created over to a new job id; false if someone else did first. */
  async reassign(userId: string, idempotencyKey: string, revision: number, jobId: string): Promise<boolean> {
    try {
      await this.kv.update(this.key(userId, idempotencyKey), new TextEncoder().encode(jobId), revision);
      return true;
    } catch (err) {
      if (isRevisionConflict(err)) return false;
      throw err;
    }
  }

  /**
   * Forgets every key of the user (DeleteAccount): also claims whose job was never created, which
   * would otherwise wait for the TTL. Resolves with how many there were.
   */
  async forgetUser(userId: string): Promise<number> {
    const keys: string[] = [];
    for await (const k of await this.kv.keys(`${userId}.*`)) keys.push(k);
    for (const k of keys) await this.kv.delete(k);
    return keys.length;
  }

  /** Forgets the key if it still names `jobId` (a key taken over by another job since stays). */
  async forget(userId: string, idempotencyKey: string, jobId: string): Promise<void> {
    const k = this.key(userId, idempotencyKey);
    const e = await this.kv.get(k);
    if (!e || e.operation !== 'PUT' || e.string() !== jobId) return;
    try {
      await this.kv.delete(k, { previousSeq: e.revision });
    } catch (err) {
      if (!isRevisionConflict(err)) throw err;
    }
  }
}
