import type { KV } from '@nats-io/kv';
import { isRevisionConflict } from '@gas/messaging';

/** JSON values in a JetStream KV bucket, with the compare-and-set operations the stores need. */
export class JsonKv<T> {
  constructor(readonly kv: KV) {}

  async get(key: string): Promise<{ value: T; revision: number } | null> {
    const e = await this.kv.get(key);
    if (!e || e.operation !== 'PUT' || e.value.length === 0) return null;
    return { value: JSON.parse(new TextDecoder().decode(e.value)) as T, revision: e.revision };
  }

  /** False when the key already exists. */
  async create(key: string, value: T): Promise<boolean> {
    try {
      await this.kv.create(key, JSON.stringify(value));
      return true;
    } catch (err) {
      if (isRevisionConflict(err)) return false;
      throw err;
    }
  }

  /** False when the value changed since `revision` was read. */
  async update(key: string, value: T, revision: number): Promise<boolean> {
    try {
      await this.kv.update(key, JSON.stringify(value), revision);
      return true;
    } catch (err) {
      if (isRevisionConflict(err)) return false;
      throw err;
    }
  }

  async put(key: string, value: T): Promise<void> {
    await this.kv.put(key, JSON.stringify(value));
  }

  async delete(key: string): Promise<void> {
    await this.kv.delete(key);
  }

  /** Deletes the key if its value is still the one at `revision`; false when it changed since. */
  async deleteIf(key: string, revision: number): Promise<boolean> {
    try {
      await this.kv.delete(key, { previousSeq: revision });
      return true;
    } catch (err) {
      if (isRevisionConflict(err)) return false;
      throw err;
    }
  }
}
