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

export class ApiTokenStore {
  private readonly records: JsonKv<TokenRecord>;
  private readonly lists: JsonKv<UserTokens>;

  constructor(kv: KV) {
    this.records = new JsonKv(kv);
    this.lists = new JsonKv(kv);
  }

  async userOf(token: string): Promise<string | null> {
    return (await this.records.get(`token.${digest(token)}`))?.value.userId ?? null;
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
    if (revoked) await this.records.delete(`token.${revoked}`);
    return revoked !== undefined;
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
