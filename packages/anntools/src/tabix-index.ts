// A tabix index (.tbi) of a BGZF VCF as BgzfWriter writes it, built while the file is written: the
// binning index (UCSC bins over 16 kbp to 512 Mbp, chunks of virtual file offsets) and the linear
// index (the first record's offset per 16 kbp window), per the tabix and SAM specifications. htslib
// (tabix, bcftools view -r) queries the file with it.
//
// BgzfWriter puts exactly BGZF_BLOCK_DATA text bytes in each block, so a text offset u lies in
// block floor(u / BGZF_BLOCK_DATA); offsets are kept as (block number, offset in block) and turned
// into virtual offsets (compressed block start << 16 | offset in block) once the block sizes are known.
import { BGZF_BLOCK_DATA, BgzfWriter, bgzfSync } from './bgzf-writer.ts';
import type { BgzfWriterOptions } from './bgzf-writer.ts';

const MIN_SHIFT = 14;
/** The largest position a .tbi index holds (its bins cover 2^29 bases). */
const MAX_POSITION = 2 ** 29;
/** The pseudo-bin holding a reference's offsets and record count. */
const META_BIN = 37450;
/** "Provisional" offsets: block number * 2^16 + offset in the block. */
const BLOCK = 65536;

/** The UCSC bin of [beg, end), 0-based, as the SAM specification's reg2bin. */
export function reg2bin(beg: number, end: number): number {
  end--;
  if (beg >> 14 === end >> 14) return ((1 << 15) - 1) / 7 + (beg >> 14);
  if (beg >> 17 === end >> 17) return ((1 << 12) - 1) / 7 + (beg >> 17);
  if (beg >> 20 === end >> 20) return ((1 << 9) - 1) / 7 + (beg >> 20);
  if (beg >> 23 === end >> 23) return ((1 << 6) - 1) / 7 + (beg >> 23);
  if (beg >> 26 === end >> 26) return ((1 << 3) - 1) / 7 + (beg >> 26);
  return 0;
}

interface RefIndex {
  name: string;
  /** Bin → [start, end, start, end, ...] (provisional offsets). */
  bins: Map<number, number[]>;
  /** Window → first record's start (provisional), -1 where none began or overlapped. */
  linear: number[];
  first: number;
  last: number;
  records: number;
}

const TAB = 9;
const NL = 10;
const SEMI = 59;
const END_TAG = Buffer.from('END=');

export class TabixIndexBuilder {
  private readonly refs: RefIndex[] = [];
  private readonly seen = new Set<string>();
  private ref: RefIndex | undefined;
  private lastBeg = 0;
  private saveBin = -1;
  private saveOff = 0;
  private lastOff = 0;
  /** Text offset of the next byte fed. */
  private offset = 0;
  private carry: Buffer | null = null;
  private lineNo = 0;
  private readonly tabs = new Int32Array(7);
  /** The CHROM bytes of the last record, to tell a new chromosome without making a string per line. */
  private lastName: Buffer | null = null;
  private endSearchIn: Buffer | null = null;
  private nextEnd = -1;
  /** Compressed start of each block, and of the one after the last. */
  private readonly blockStarts: number[] = [0];
  /** Why the file cannot be indexed (unsorted records), once known; the index is then not made. */
  unindexable: string | null = null;

  /** The text of the file, in order, as it is written. */
  feed(text: Buffer): void {
    let at = 0;
    if (this.carry) {
      const nl = text.indexOf(NL);
      if (nl < 0) {
        this.carry = Buffer.concat([this.carry, text]);
        return;
      }
      const line = Buffer.concat([this.carry, text.subarray(0, nl + 1)]);
      this.carry = null;
      this.line(line, 0, line.length);
      at = nl + 1;
    }
    while (at < text.length) {
      const nl = text.indexOf(NL, at);
      if (nl < 0) {
        this.carry = Buffer.from(text.subarray(at));
        return;
      }
      this.line(text, at, nl + 1);
      at = nl + 1;
    }
  }

  /** The compressed size of the next block written (the EOF block included). */
  block(compressedBytes: number): void {
    this.blockStarts.push(this.blockStarts.at(-1)! + compressedBytes);
  }

  /** One line, [start, end) of `buf` with its newline; advances the text offset. */
  private line(buf: Buffer, start: number, end: number): void {
    const u = this.offset;
    this.offset += end - start;
    this.lineNo++;
    if (this.unindexable !== null || buf[start] === 35 /* # */ || end - start === 1) return;
    // The tabs before POS, ID, REF, ALT, QUAL, FILTER and INFO: a byte loop, as these columns are short.
    const tabs = this.tabs;
    let found = 0;
    for (let k = start; k < end && found < 7; k++) if (buf[k] === TAB) tabs[found++] = k;
    if (found < 4) return this.refuse(`line ${this.lineNo} has fewer than five columns`);
    const t1 = tabs[0]!;
    let pos = 0;
    for (let k = t1 + 1; k < tabs[1]!; k++) {
      const d = buf[k]! - 48;
      if (d < 0 || d > 9) return this.refuse(`line ${this.lineNo}: POS is not a number`);
      pos = pos * 10 + d;
    }
    const beg = Math.max(0, pos - 1);
    let stop = beg + Math.max(1, tabs[3]! - tabs[2]! - 1);
    if (found === 7) {
      const endTag = this.endTag(buf, tabs[6]! + 1, end);
      if (endTag > stop) stop = endTag;
    }
    if (stop > MAX_POSITION) return this.refuse(`line ${this.lineNo}: position ${stop} is beyond what a .tbi index holds (2^29)`);
    const last = this.lastName;
    const sameName = last !== null && last.length === t1 - start && buf.compare(last, 0, last.length, start, t1) === 0;
    if (!sameName) this.lastName = Buffer.from(buf.subarray(start, t1));
    const name = sameName ? this.ref!.name : buf.toString('latin1', start, t1);
    this.add(name, beg, stop, this.provisional(u), this.provisional(u + end - start));
  }

  /** The INFO END= value (1-based, inclusive: the exclusive 0-based end), or -1. INFO is [info, the next tab or the line's end). */
  private endTag(buf: Buffer, info: number, end: number): number {
    // The next "END=" in this buffer, found once for many lines: searching each line's INFO alone
    // costs a call and a view per line, and most files have none.
    if (this.endSearchIn !== buf || (this.nextEnd >= 0 && this.nextEnd < info)) {
      this.endSearchIn = buf;
      this.nextEnd = buf.indexOf(END_TAG, info);
    }
    let stop = buf.indexOf(TAB, info);
    if (stop < 0 || stop > end) stop = end - 1;
    let k = this.nextEnd;
    // "END=" inside another key (SVEND=) is not it; a real one may follow in the same INFO.
    while (k >= info && k < stop && k > info && buf[k - 1] !== SEMI) k = this.nextEnd = buf.indexOf(END_TAG, k + 1);
    if (k < info || k >= stop) return -1;
    let value = 0;
    let p = k + 4;
    for (; p < stop && buf[p] !== SEMI; p++) {
      const d = buf[p]! - 48;
      if (d < 0 || d > 9) return -1;
      value = value * 10 + d;
    }
    return p > k + 4 ? value : -1;
  }

  private provisional(u: number): number {
    const b = Math.floor(u / BGZF_BLOCK_DATA);
    return b * BLOCK + (u - b * BGZF_BLOCK_DATA);
  }

  private refuse(reason: string): void {
    this.unindexable = reason;
  }

  private add(name: string, beg: number, end: number, start: number, stop: number): void {
    if (this.ref?.name !== name) {
      if (this.seen.has(name)) return this.refuse(`the records of ${name} are not together (line ${this.lineNo}): the file is not sorted`);
      this.closeChunk();
      this.seen.add(name);
      this.ref = { name, bins: new Map(), linear: [], first: start, last: stop, records: 0 };
      this.refs.push(this.ref);
      this.lastBeg = 0;
      this.saveBin = -1;
    }
    if (beg < this.lastBeg)
      return this.refuse(`line ${this.lineNo}: ${name}:${beg + 1} comes after ${name}:${this.lastBeg + 1}: the file is not sorted`);
    this.lastBeg = beg;
    const ref = this.ref;
    const bin = reg2bin(beg, end);
    if (bin !== this.saveBin) {
      this.closeChunk();
      this.saveBin = bin;
      this.saveOff = start;
    }
    this.lastOff = stop;
    ref.last = stop;
    ref.records++;
    const lin = ref.linear;
    for (let w = beg >> MIN_SHIFT; w <= (end - 1) >> MIN_SHIFT; w++) {
      while (lin.length <= w) lin.push(-1);
      if (lin[w] === -1) lin[w] = start;
    }
  }

  private closeChunk(): void {
    if (!this.ref || this.saveBin < 0) return;
    let chunks = this.ref.bins.get(this.saveBin);
    if (!chunks) this.ref.bins.set(this.saveBin, (chunks = []));
    chunks.push(this.saveOff, this.lastOff);
  }

  /**
   * The .tbi file (BGZF-compressed), once all the text has been fed and every block reported; null
   * when the file cannot be indexed (see unindexable).
   */
  finish(): Buffer | null {
    if (this.unindexable !== null) return null;
    this.closeChunk();
    this.saveBin = -1;
    const real = (p: number): bigint => {
      const b = Math.floor(p / BLOCK);
      const start = this.blockStarts[b];
      if (start === undefined) throw new Error(`tabix index: block ${b} was never written`);
      return (BigInt(start) << 16n) | BigInt(p - b * BLOCK);
    };
    const names = Buffer.from(this.refs.map((r) => r.name + '\0').join(''), 'latin1');
    const parts: Buffer[] = [];
    const i32 = (v: number) => {
      const b = Buffer.alloc(4);
      b.writeInt32LE(v);
      parts.push(b);
    };
    const u64 = (v: bigint) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(v);
      parts.push(b);
    };
    parts.push(Buffer.from('TBI\x01', 'latin1'));
    // n_ref, format (2: VCF), col_seq, col_beg, col_end (0: from REF and END), meta char '#', skip.
    for (const v of [this.refs.length, 2, 1, 2, 0, 35, 0, names.length]) i32(v);
    parts.push(names);
    for (const ref of this.refs) {
      const bins = [...ref.bins.entries()].sort((a, b) => a[0] - b[0]);
      i32(bins.length + 1);
      for (const [bin, list] of bins) {
        // Chunks that end in the block where the next starts are read as one.
        const merged: Array<[bigint, bigint]> = [];
        for (let k = 0; k < list.length; k += 2) {
          const s = real(list[k]!);
          const e = real(list[k + 1]!);
          const prev = merged.at(-1);
          if (prev && prev[1] >> 16n === s >> 16n) prev[1] = e;
          else merged.push([s, e]);
        }
        i32(bin);
        i32(merged.length);
        for (const [s, e] of merged) {
          u64(s);
          u64(e);
        }
      }
      i32(META_BIN);
      i32(2);
      u64(real(ref.first));
      u64(real(ref.last));
      u64(BigInt(ref.records));
      u64(0n);
      // Windows where no record starts take the offset before them (the first record's, at the start).
      const firstSet = ref.linear.find((v) => v >= 0) ?? ref.first;
      let prev = firstSet;
      i32(ref.linear.length);
      for (const v of ref.linear) {
        if (v >= 0) prev = v;
        u64(real(prev));
      }
    }
    return bgzfSync(Buffer.concat(parts));
  }
}

/** A BGZF writer for a VCF that builds its tabix index as it goes: `indexer.finish()` once the writer has finished. */
export function indexedBgzfWriter(opts: Pick<BgzfWriterOptions, 'level' | 'inFlight'> = {}): {
  writer: BgzfWriter;
  indexer: TabixIndexBuilder;
} {
  const indexer = new TabixIndexBuilder();
  const writer = new BgzfWriter({ ...opts, onData: (text) => indexer.feed(text), onBlock: (bytes) => indexer.block(bytes) });
  return { writer, indexer };
}
