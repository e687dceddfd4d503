// Short-lived statements the gateway hands out and takes back (built-in checkout links, upload
// tickets), signed with GATEWAY_SECRET so it keeps no state between the two requests.
import { createHmac, timingSafeEqual } from 'node:crypto';

export class StatementError extends Error {}

export class SignedStatements<T extends object> {
  readonly #secret: Buffer;

  /**
   * `purpose` binds the MAC to one use, so a value signed with the same key for another purpose
   * is not accepted here; `name` is what errors call the statement ("checkout token").
   */
  constructor(
    secret: Buffer,
    private readonly purpose: string,
    private readonly name: string,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    if (secret.length < 32) throw new Error(`${name}s need a secret of at least 32 bytes`);
    this.#secret = Buffer.from(secret);
  }

  sign(claims: T): string {
    const payload = Buffer.from(JSON.stringify({ ...claims, exp: this.now() + this.ttlMs })).toString('base64url');
    return `${payload}.${this.#mac(payload)}`;
  }

  /** The claims; throws StatementError if the statement was altered, is malformed or has expired. */
  verify(token: string): T {
    const [payload, mac, ...rest] = token.split('.');
    if (!payload || !mac || rest.length > 0) throw new StatementError(`malformed ${this.name}`);
    // Compared as text: Node's base64url decoder skips stray characters, so decoding first would
    // accept more than one spelling of the same MAC.
    const given = Buffer.from(mac);
    const expected = Buffer.from(this.#mac(payload));
    // timingSafeEqual throws on unequal lengths, and a length says nothing about the key.
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw new StatementError(`${this.name} signature does not match`);
    let claims: unknown;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw new StatementError(`malformed ${this.name}`);
    }
    const { exp, ...rest2 } = (claims ?? {}) as { exp?: unknown };
    if (typeof exp !== 'number') throw new StatementError(`malformed ${this.name}`);
    if (this.now() >= exp) throw new StatementError(`${this.name} has expired`);
    return rest2 as T;
  }

  #mac(payload: string): string {
    return createHmac('sha256', this.#secret).update(this.purpose).update(payload).digest('base64url');
  }
}
