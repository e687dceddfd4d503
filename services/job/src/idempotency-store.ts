import { createHash } from 'node:crypto';
import type { KV } from '@nats-io/kv';

/**
 * Idempotency keys in their own KV bucket (`gas-idempotency`, TTL = the retention window), so they
 * never mix with job keys. The first writer of `<userId>.<hash(key)>` owns the key.
 */
export class IdempotencyStore {
  constructor(private readonly kv: KV) {}

  private key(userId: string, idempotencyKey: string): string {
    return `${userId}.${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40)}`;
  }

  /** Returns the job id already registered for this key, or null after registering `jobId`. */
  async claim(userId: string, idempotencyKey: string, jobId: string): Promise<string | null> {
    const k = this.key(userId, idempotencyKey);
    try {
      await this.kv.create(k, new TextEncoder().encode(jobId));
      return null;
    } catch (err) {
      if (!/wrong last sequence|key exists/i.test(String((err as Error).message))) throw err;
      const e = await this.kv.get(k);
      if (!e || e.operation !== 'PUT') return this.claim(userId, idempotencyKey, jobId);
      return e.string();
    }
  }
}
