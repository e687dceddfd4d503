// Loops that compare many thousands of values (every base of a gene, every line of a file, every
// range of a sequence) gather their mismatches here and make one tap assertion at the end: an
// assertion per comparison would print a line each and cost more than the comparison itself.
// Values are compared with the deep strict equality of assert.deepStrictEqual
// (util.isDeepStrictEqual), so a check keeps the meaning it had before the move to tap.
import { isDeepStrictEqual } from 'node:util';
import type { Test } from 'tap';

/** How many mismatches the final assertion names (it counts them all). */
const SHOWN = 10;

export class Mismatches {
  private count = 0;
  private checks = 0;
  private readonly first: string[] = [];

  constructor(
    private readonly t: Test,
    private readonly what: string,
  ) {}

  /** `found` deep-strict-equals `wanted`. */
  same(found: unknown, wanted: unknown, label: string): boolean {
    this.checks++;
    if (isDeepStrictEqual(found, wanted)) return true;
    // The first mismatch gets an assertion of its own, for its diff.
    if (this.count++ === 0) this.t.strictSame(found, wanted, `first mismatch: ${label}`);
    if (this.first.length < SHOWN) this.first.push(label);
    return false;
  }

  /** `value` is truthy. */
  ok(value: unknown, label: string): boolean {
    this.checks++;
    if (value) return true;
    this.count++;
    if (this.first.length < SHOWN) this.first.push(label);
    return false;
  }

  /** The one assertion: no check failed. */
  done(): void {
    this.t.strictSame({ mismatches: this.count, first: this.first }, { mismatches: 0, first: [] }, `${this.what} (${this.checks} checks)`);
  }
}

/**
 * Byte-for-byte equality of two outputs that may be megabytes long: on a difference, the assertion
 * shows the lengths and the line holding the first differing byte instead of a diff of every byte.
 */
export function sameBytes(t: Test, found: Uint8Array, wanted: Uint8Array, msg = 'the same bytes'): boolean {
  const f = Buffer.from(found.buffer, found.byteOffset, found.byteLength);
  const w = Buffer.from(wanted.buffer, wanted.byteOffset, wanted.byteLength);
  if (f.equals(w)) return t.pass(msg);
  let at = 0;
  while (at < f.length && at < w.length && f[at] === w[at]) at++;
  const lineAt = (b: Buffer): string => {
    const start = at === 0 ? 0 : b.lastIndexOf(10, at - 1) + 1;
    const end = b.indexOf(10, at);
    return b.subarray(start, end < 0 ? b.length : end).toString('latin1');
  };
  return t.strictSame(
    { length: f.length, firstDifferenceAt: at, line: lineAt(f) },
    { length: w.length, firstDifferenceAt: at, line: lineAt(w) },
    msg,
  );
}
