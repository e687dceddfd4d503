import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Secrets (session ids, API tokens) and e-mail addresses are looked up by their SHA-256: a copy of
 * the bucket does not give anyone a usable session or token, and keys stay within KV's alphabet.
 */
export function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Whether two hex digests are the same, in constant time (a link's token against the one kept). */
export function digestsEqual(a: string, b: string): boolean {
  const [x, y] = [Buffer.from(a, 'hex'), Buffer.from(b, 'hex')];
  return x.length === y.length && timingSafeEqual(x, y);
}
