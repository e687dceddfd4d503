import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { Problem } from './problem.ts';

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
 * Bearer API tokens → user id. Tokens are held only as SHA-256 digests, so the lookup does not
 * compare secrets byte by byte and a heap dump does not reveal them.
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

  /** The user the request acts for; throws a 401 Problem otherwise. */
  userOf(req: FastifyRequest): string {
    const header = req.headers.authorization;
    const m = header?.match(/^Bearer\s+(\S+)\s*$/i);
    if (!m) throw new Problem(401, 'Unauthorized', 'send an API token as "Authorization: Bearer <token>"', { 'WWW-Authenticate': 'Bearer' });
    const userId = this.users.get(sha256(m[1]!));
    if (!userId) throw new Problem(401, 'Unauthorized', 'the API token is not valid', { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    return userId;
  }
}
