/**
 * Collects output text into one growing buffer. Lines are gathered into a short string first and
 * copied out every few kilobytes: a long chain of concatenated strings would outlive the young
 * generation and make garbage collection, not annotation, the engine's main cost.
 */
export class Latin1Writer {
  private buf: Buffer;
  private length = 0;
  private pending = '';

  constructor(initialBytes = 1 << 20) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  add(text: string): void {
    this.pending += text;
    if (this.pending.length >= 8192) this.copyPending();
  }

  /** The bytes written, in a buffer of their own (safe to transfer to another thread). */
  take(): Buffer {
    this.copyPending();
    const out = Buffer.allocUnsafeSlow(this.length);
    this.buf.copy(out, 0, 0, this.length);
    this.length = 0;
    return out;
  }

  private copyPending(): void {
    const text = this.pending;
    if (text.length === 0) return;
    this.pending = '';
    if (this.length + text.length > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + text.length));
      this.buf.copy(bigger, 0, 0, this.length);
      this.buf = bigger;
    }
    this.length += this.buf.write(text, this.length, 'latin1');
  }
}
