/**
 * Output bytes built piece by piece: strings of one-byte characters, numbers, and byte ranges of
 * the input. Writing pieces directly, rather than concatenating them into strings first, spares
 * the garbage collector millions of short-lived strings per second and the cost of flattening them.
 */
export class ByteWriter {
  private buf: Buffer;
  private at = 0;

  constructor(initialBytes = 1 << 20) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** `text` must hold only one-byte (latin1) characters, as every string read from the input does. */
  str(text: string): void {
    const n = text.length;
    if (this.at + n > this.buf.length) this.grow(n);
    const b = this.buf;
    let o = this.at;
    for (let i = 0; i < n; i++) b[o++] = text.charCodeAt(i);
    this.at = o;
  }

  byte(code: number): void {
    if (this.at + 1 > this.buf.length) this.grow(1);
    this.buf[this.at++] = code;
  }

  /** A non-negative integer in decimal. */
  int(value: number): void {
    if (value < 10) return this.byte(48 + value);
    if (this.at + 16 > this.buf.length) this.grow(16);
    let digits = 1;
    for (let v = value; v >= 10; v = Math.floor(v / 10)) digits++;
    const b = this.buf;
    let v = value;
    for (let o = this.at + digits - 1; o >= this.at; o--) {
      b[o] = 48 + (v % 10);
      v = Math.floor(v / 10);
    }
    this.at += digits;
  }

  /** Bytes [start, end) of `src`. */
  bytes(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (this.at + n > this.buf.length) this.grow(n);
    const b = this.buf;
    if (n < 128) {
      let o = this.at;
      for (let i = start; i < end; i++) b[o++] = src[i]!;
    } else {
      b.set(src.subarray(start, end), this.at);
    }
    this.at += n;
  }

  /** Bytes written so far. */
  get size(): number {
    return this.at;
  }

  /** A copy of the bytes written from offset `from` on. */
  copyFrom(from: number): Uint8Array {
    return Uint8Array.prototype.slice.call(this.buf, from, this.at);
  }

  /** The bytes written, in a buffer of their own (safe to transfer to another thread); then empty. */
  take(): Buffer {
    const out = Buffer.allocUnsafeSlow(this.at);
    this.buf.copy(out, 0, 0, this.at);
    this.at = 0;
    return out;
  }

  private grow(need: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + need));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }
}
