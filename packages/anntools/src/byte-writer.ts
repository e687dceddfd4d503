/**
 * Output bytes built piece by piece: strings of one-byte characters, numbers, and byte ranges of
 * the input. Writing pieces directly, rather than concatenating them into strings first, spares
 * the garbage collector millions of short-lived strings per second and the cost of flattening them.
 *
 * The pieces are short (a column, a gene name, a cached annotation of 20–100 bytes), so the cost
 * is per call, not per byte: ranges of the input are copied four bytes at a time through DataViews
 * (a byte loop costs about 2 ns a byte, `set(subarray)` about 60 ns a call for the view it makes),
 * and fixed texts are encoded once (`Buffer.from(text, 'latin1')`) and copied with `set`, one memcpy (those under a
 * dozen bytes by hand, which is cheaper than the call).
 */
/** Output buffers kept for reuse by one writer: about as many as its outputs in flight. */
const MAX_SPARES = 6;

export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private at = 0;
  /** Memory of earlier outputs, given back once written, for take() and grow() to reuse. */
  private readonly spares: ArrayBuffer[] = [];

  constructor(private readonly initialBytes = 1 << 20) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
  }

  /** `text` must hold only one-byte (latin1) characters, as every string read from the input does. */
  str(text: string): void {
    const n = text.length;
    this.room(n);
    const b = this.buf;
    let o = this.at;
    for (let i = 0; i < n; i++) b[o++] = text.charCodeAt(i);
    this.at = o;
  }

  byte(code: number): void {
    this.room(1);
    this.buf[this.at++] = code;
  }

  /** A non-negative integer in decimal. */
  int(value: number): void {
    if (value < 10) return this.byte(48 + value);
    this.room(16);
    const b = this.buf;
    if (value < 0x80000000) {
      // Small integers divide as int32, several times cheaper than Math.floor on doubles.
      let digits = 2;
      for (let limit = 100; value >= limit && digits < 10; limit *= 10) digits++;
      let v = value | 0;
      for (let o = this.at + digits - 1; o >= this.at; o--) {
        const q = (v / 10) | 0;
        b[o] = 48 + (v - q * 10);
        v = q;
      }
      this.at += digits;
      return;
    }
    let digits = 2;
    for (let limit = 100; value >= limit && digits < 16; limit *= 10) digits++;
    let v = value;
    for (let o = this.at + digits - 1; o >= this.at; o--) {
      const q = Math.floor(v / 10);
      b[o] = 48 + (v - q * 10);
      v = q;
    }
    this.at += digits;
  }

  /** Bytes [start, end) of `src`, read through `srcView` (a DataView over the same bytes). */
  bytes(src: Uint8Array, srcView: DataView, start: number, end: number): void {
    const n = end - start;
    this.room(n);
    const dst = this.view;
    let o = this.at;
    let i = start;
    for (; i + 4 <= end; i += 4, o += 4) dst.setUint32(o, srcView.getUint32(i, true), true);
    const b = this.buf;
    for (; i < end; i++) b[o++] = src[i]!;
    this.at = o;
  }

  /** All of `piece` (a fixed text encoded once, or a cached annotation). */
  copy(piece: Uint8Array): void {
    const n = piece.length;
    this.room(n);
    // set() is one memcpy behind a call that costs as much as copying a dozen bytes by hand.
    if (n < 12) {
      const b = this.buf;
      let o = this.at;
      for (let i = 0; i < n; i++) b[o++] = piece[i]!;
    } else {
      this.buf.set(piece, this.at);
    }
    this.at += n;
  }

  /**
   * Gives back the memory of an output take() returned, once nothing reads it any more (it has
   * been written out), so the writer can reuse it.
   */
  recycle(memory: ArrayBuffer): void {
    const spares = this.spares;
    if (spares.length < MAX_SPARES) {
      spares.push(memory);
      return;
    }
    let smallest = 0;
    for (let i = 1; i < spares.length; i++) if (spares[i]!.byteLength < spares[smallest]!.byteLength) smallest = i;
    if (memory.byteLength > spares[smallest]!.byteLength) spares[smallest] = memory;
  }

  /** The smallest spare of at least `bytes`, taken out of the spares. */
  private reuse(bytes: number): Uint8Array | undefined {
    const spares = this.spares;
    let best = -1;
    for (let i = 0; i < spares.length; i++) {
      const n = spares[i]!.byteLength;
      if (n >= bytes && (best < 0 || n < spares[best]!.byteLength)) best = i;
    }
    if (best < 0) return undefined;
    const memory = spares[best]!;
    spares[best] = spares[spares.length - 1]!;
    spares.pop();
    return new Uint8Array(memory);
  }

  /** Bytes written so far. */
  get size(): number {
    return this.at;
  }

  /** A copy of the bytes written from offset `from` on. */
  copyFrom(from: number): Uint8Array {
    return this.buf.slice(from, this.at);
  }

  /**
   * The bytes written, in memory of their own (safe to transfer to another thread); the writer
   * starts again in a new buffer. Handing over the buffer instead of copying out of it saves a copy
   * of every output byte; the next buffer is sized for what the last chunk needed.
   */
  take(): Buffer {
    const out = Buffer.from(this.buf.buffer, 0, this.at);
    // The same size every time (the starting one) while outputs fit it, so that given-back memory
    // fits the next output; an output that grew it sizes the next.
    const next = this.at > this.initialBytes ? this.at + (this.at >> 3) : this.initialBytes;
    // Fresh memory costs a page fault per 4 KB on first write; memory already written to does not.
    this.buf = this.reuse(next) ?? new Uint8Array(next);
    this.view = new DataView(this.buf.buffer);
    this.at = 0;
    return out;
  }

  /**
   * Makes room for `n` more bytes. Every writer checks through this one method, so the first
   * growth seen by any of them (the warm-up's small buffers grow) covers all of them in V8.
   */
  private room(n: number): void {
    if (this.at + n > this.buf.length) this.grow(n);
  }

  private grow(need: number): void {
    const size = Math.max(this.buf.length * 2, this.at + need);
    const bigger = this.reuse(size) ?? new Uint8Array(size);
    bigger.set(this.buf.subarray(0, this.at));
    // Never handed out: the smaller buffer is a spare at once.
    this.recycle(this.buf.buffer as ArrayBuffer);
    this.buf = bigger;
    this.view = new DataView(bigger.buffer);
  }
}
