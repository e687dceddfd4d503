import { createHash } from 'node:crypto';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** What is wrong with GATEWAY_API_TOKENS entries, without repeating a token. */
export function apiTokenProblems(pairs: string[]): string[] {
  return pairs.flatMap((pair, n) => {
    const i = pair.indexOf(':');
    const userId = pair.slice(0, Math.max(i, 0));
    const token = pair.slice(i + 1);
    if (i < 1 || !/^[A-Za-z0-9_-]{1,64}$/.test(userId)) return [`entry ${n + 1} must be userId:token (userId of A-Z a-z 0-9 _ -)`];
    if (token.length < 16) return [`the token of entry ${n + 1} (${userId}) is shorter than 16 characters`];
    return [];
  });
}

/**
 * Operator-issued API tokens (GATEWAY_API_TOKENS, for the local stack and load tests) → user id.
 * Tokens are held only as SHA-256 digests, so the lookup does not compare secrets byte by byte and
 * a heap dump does not reveal them.
 */
export class ApiTokenAuth {
  private readonly users = new Map<string, string>();

  constructor(pairs: string[]) {
    const problems = apiTokenProblems(pairs);
    if (problems.length > 0) throw new Error(problems.join('; '));
    for (const pair of pairs) {
      const i = pair.indexOf(':');
      this.users.set(sha256(pair.slice(i + 1)), pair.slice(0, i));
    }
  }

  /** The user of an operator-issued token, or undefined. */
  lookup(token: string): string | undefined {
    return this.users.get(sha256(token));
  }

  /** lookup, by the token's SHA-256 (hex). */
  lookupDigest(tokenDigest: string): string | undefined {
    return this.users.get(tokenDigest);
  }
}
