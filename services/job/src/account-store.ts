import type { KV } from '@nats-io/kv';
import { isRevisionConflict } from '@gas/messaging';
import { create, fromBinary, toBinary, rpcErrors, AccountSchema } from '@gas/proto';
import type { Account } from '@gas/proto';

/** Accounts in the `gas-accounts` KV bucket, key `<userId>`. */
export class AccountStore {
  constructor(private readonly kv: KV) {}

  async get(userId: string): Promise<{ account: Account; revision: number } | null> {
    const e = await this.kv.get(userId);
    if (!e || e.operation !== 'PUT' || e.value.length === 0) return null;
    return { account: fromBinary(AccountSchema, e.value), revision: e.revision };
  }

  /** CAS loop like JobStore.update; `change` receives null when the account does not exist yet. */
  async upsert(
    userId: string,
    change: (cur: Account | null) => Account | null,
  ): Promise<{ account: Account; created: boolean; changed: boolean }> {
    for (let tries = 0; tries < 20; tries++) {
      const cur = await this.get(userId);
      const next = change(cur ? create(AccountSchema, cur.account) : null);
      if (!next) {
        if (!cur) throw rpcErrors.notFound(`account ${userId} not found`);
        return { account: cur.account, created: false, changed: false };
      }
      try {
        if (cur) await this.kv.update(userId, toBinary(AccountSchema, next), cur.revision);
        else await this.kv.create(userId, toBinary(AccountSchema, next));
        return { account: next, created: !cur, changed: true };
      } catch (err) {
        if (!isRevisionConflict(err)) throw err;
      }
    }
    throw rpcErrors.aborted(`account ${userId} is being changed concurrently; try again`);
  }

  /**
   * Removes the account, compare-and-delete on its revision. `before` runs on the record about to
   * go (DeleteAccount publishes its event there, so a call cut short in between is finished by a
   * retry); on a revision conflict it runs again on the fresh record. Resolves with the record as
   * it was, or null when there is none.
   */
  async remove(userId: string, before: (account: Account) => Promise<void>): Promise<Account | null> {
    for (let tries = 0; tries < 20; tries++) {
      const cur = await this.get(userId);
      if (!cur) return null;
      await before(cur.account);
      try {
        await this.kv.delete(userId, { previousSeq: cur.revision });
        return cur.account;
      } catch (err) {
        if (!isRevisionConflict(err)) throw err;
      }
    }
    throw rpcErrors.aborted(`account ${userId} is being changed concurrently; try again`);
  }
}
