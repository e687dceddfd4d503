// API tokens that users create and revoke on their tokens page, for scripts and load tests. The
// token is shown once; the bucket keeps its SHA-256 (key `token.<digest>`) and, per user, the list
// of their tokens without the secrets (key `user.<userId>`).
import { randomBytes } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import { ulid } from 'ulid';
import { JsonKv } from './json-kv.ts';
import { digest } from './digest.ts';

export interface ApiTokenInfo {
  tokenId: string;
  name: string;
  createdAt: string;
  /** The first characters, so users can tell their tokens apart. */
  prefix: string;
}

interface TokenRecord {
  userId: string;
  tokenId: string;
}

interface UserTokens {
  tokens: Array<ApiTokenInfo & { digest: string }>;
}

export const MAX_TOKENS_PER_USER = 20;

export class TooManyTokensError extends Error {
  constructor() {
    super(`you have ${MAX_TOKENS_PER_USER} API tokens; revoke one before creating another`);
  }
}

/** How long a cached token is trusted without a read of the bucket: the bound while this replica's watch is cut off. */
export const TOKEN_CACHE_MAX_AGE_MS = 30_000;

export class ApiTokenStore {
  private readonly records: JsonKv<TokenRecord>;
  private readonly lists: JsonKv<UserTokens>;
  /**
   * Token digest → user, filled only by a watch of the bucket's `token.*` keys, so a revocation
   * (the key's deletion) takes the token out on every replica as soon as the watch delivers it,
   * and on the replica that revoked it at once. A read of the bucket never adds an entry (it could
   * race a deletion the watch has already applied); it only renews the age of one that is there.
   */
  private readonly cache = new Map<string, { userId: string; checkedAt: number }>();
  /** Revoked here, and the watch has not delivered the deletion yet: a late copy of the token must not come back. */
  private readonly revokedHere = new Set<string>();
  private watching = false;
  private stopWatch: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly kv: KV,
    private readonly now: () => number = Date.now,
  ) {
    this.records = new JsonKv(kv);
    this.lists = new JsonKv(kv);
  }

  async userOf(token: string): Promise<string | null> {
    return this.userOfDigest(digest(token));
  }

  /** userOf, for a caller that has the token's digest already (the gateway hashes each request's token once). */
  async userOfDigest(d: string): Promise<string | null> {
    this.follow();
    const hit = this.cache.get(d);
    if (hit && this.now() - hit.checkedAt < TOKEN_CACHE_MAX_AGE_MS) return hit.userId;
    const userId = (await this.records.get(`token.${d}`))?.value.userId ?? null;
    const cached = this.cache.get(d);
    if (cached && userId === cached.userId) cached.checkedAt = this.now();
    else this.cache.delete(d);
    return userId;
  }

  /** Stops the watch (the connection closing stops it too). */
  close(): void {
    this.closed = true;
    this.stopWatch?.();
    this.cache.clear();
  }

  private follow(): void {
    if (this.watching || this.closed) return;
    this.watching = true;
    void (async () => {
      while (!this.closed) {
        try {
          const it = await this.kv.watch({ key: 'token.>' });
          this.stopWatch = () => it.stop();
          if (this.closed) it.stop();
          for await (const e of it) {
            const d = e.key.slice('token.'.length);
            const userId = e.operation === 'PUT' && e.value.length > 0 ? (e.json<TokenRecord>().userId ?? null) : null;
            if (userId && !this.revokedHere.has(d)) this.cache.set(d, { userId, checkedAt: this.now() });
            else if (!userId) {
              this.cache.delete(d);
              this.revokedHere.delete(d);
            }
          }
        } catch (err) {
          // The connection is closing with the gateway: nothing left to watch.
          if (/ClosedConnection|DrainingConnection/.test((err as Error).name)) this.closed = true;
        }
        // Deletions may be missed while no watch runs: start again from an empty cache.
        this.cache.clear();
        this.revokedHere.clear();
        if (!this.closed) await new Promise((r) => setTimeout(r, 1000).unref());
      }
    })();
  }

  async list(userId: string): Promise<ApiTokenInfo[]> {
    const found = await this.lists.get(`user.${userId}`);
    return (found?.value.tokens ?? []).map(({ digest: _d, ...info }) => info);
  }

  /** A new token for `userId`: the secret is in the result and never stored. */
  async create(userId: string, name: string): Promise<{ token: string; info: ApiTokenInfo }> {
    const token = `gas_${randomBytes(32).toString('base64url')}`;
    const info: ApiTokenInfo = { tokenId: ulid(), name, createdAt: new Date().toISOString(), prefix: token.slice(0, 10) };
    await this.changeList(userId, (tokens) => {
      if (tokens.length >= MAX_TOKENS_PER_USER) throw new TooManyTokensError();
      return [...tokens, { ...info, digest: digest(token) }];
    });
    await this.records.put(`token.${digest(token)}`, { userId, tokenId: info.tokenId });
    return { token, info };
  }

  /** False when the user has no such token. */
  async revoke(userId: string, tokenId: string): Promise<boolean> {
    let revoked: string | undefined;
    await this.changeList(userId, (tokens) => {
      revoked = tokens.find((t) => t.tokenId === tokenId)?.digest;
      return tokens.filter((t) => t.tokenId !== tokenId);
    });
    if (revoked) {
      if (this.watching) this.revokedHere.add(revoked);
      this.cache.delete(revoked);
      await this.records.delete(`token.${revoked}`);
    }
    return revoked !== undefined;
  }

  /**
   * Revokes every token of the user and removes their list; answers how many were revoked. The list
   * goes only if nothing was added since it was read (else the new token is revoked on the next round).
   */
  async revokeAll(userId: string): Promise<number> {
    const key = `user.${userId}`;
    const revoked = new Set<string>();
    for (let tries = 0; tries < 10; tries++) {
      const cur = await this.lists.get(key);
      if (!cur) return revoked.size;
      for (const t of cur.value.tokens) {
        if (this.watching) this.revokedHere.add(t.digest);
        this.cache.delete(t.digest);
        await this.records.delete(`token.${t.digest}`);
        revoked.add(t.digest);
      }
      if (await this.lists.deleteIf(key, cur.revision)) return revoked.size;
    }
    throw new Error('the token list is being changed concurrently; try again');
  }

  private async changeList(userId: string, change: (tokens: UserTokens['tokens']) => UserTokens['tokens']): Promise<void> {
    const key = `user.${userId}`;
    for (let tries = 0; tries < 10; tries++) {
      const cur = await this.lists.get(key);
      const next = { tokens: change(cur?.value.tokens ?? []) };
      if (cur ? await this.lists.update(key, next, cur.revision) : await this.lists.create(key, next)) return;
    }
    throw new Error('the token list is being changed concurrently; try again');
  }
}
