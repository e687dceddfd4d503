import { readSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';

/** Largest BGZF block on disk (BSIZE is a uint16 holding size − 1). */
const MAX_BLOCK_SIZE = 65536;
/** Fixed part of the gzip member header before the extra field. */
const GZIP_FIXED_HEADER = 12;
const FEXTRA = 4;

export interface BgzfBlockIndex {
  /** Compressed offset of each block start, ascending; entry 0 is always 0. */
  readonly compressed: Float64Array;
  /** Uncompressed offset of the same block start. */
  readonly uncompressed: Float64Array;
}

/** Whether the bytes start a gzip member at all (BGZF or not). */
export function isGzip(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/**
 * BSIZE + 1 from a gzip member header when it carries the BGZF `BC` extra subfield, otherwise
 * undefined. `header` must hold the fixed header plus the whole extra field.
 */
export function bgzfBlockSize(header: Buffer): number | undefined {
  if (header.length < GZIP_FIXED_HEADER || !isGzip(header) || header[2] !== 8) return undefined;
  if (((header[3] ?? 0) & FEXTRA) === 0) return undefined;
  const xlen = header.readUInt16LE(10);
  const end = Math.min(GZIP_FIXED_HEADER + xlen, header.length);
  let p = GZIP_FIXED_HEADER;
  while (p + 4 <= end) {
    const slen = header.readUInt16LE(p + 2);
    if (header[p] === 66 /* B */ && header[p + 1] === 67 /* C */ && slen === 2 && p + 6 <= end) {
      return header.readUInt16LE(p + 4) + 1;
    }
    p += 4 + slen;
  }
  return undefined;
}

/** Parses a samtools/htslib `.gzi`: uint64 count, then (compressed, uncompressed) uint64 pairs. */
export function parseGzi(buf: Buffer, what: string): BgzfBlockIndex {
  if (buf.length < 8) throw new Error(`${what}: too short to be a .gzi index`);
  const count = Number(buf.readBigUInt64LE(0));
  if (buf.length < 8 + count * 16) {
    throw new Error(`${what}: declares ${count} blocks but holds only ${Math.floor((buf.length - 8) / 16)}`);
  }
  // The first block (0 → 0) is implicit in the file format; storing it keeps lookups uniform.
  const compressed = new Float64Array(count + 1);
  const uncompressed = new Float64Array(count + 1);
  for (let i = 0; i < count; i++) {
    compressed[i + 1] = Number(buf.readBigUInt64LE(8 + i * 16));
    uncompressed[i + 1] = Number(buf.readBigUInt64LE(16 + i * 16));
    if (compressed[i + 1]! < compressed[i]! || uncompressed[i + 1]! < uncompressed[i]!) {
      throw new Error(`${what}: block offsets are not ascending at entry ${i}`);
    }
  }
  return { compressed, uncompressed };
}

interface Block {
  data: Buffer;
  /** Compressed offset of the following block. */
  next: number;
}

/**
 * Random access to the uncompressed bytes of a BGZF file through its block index. Inflated blocks
 * are kept in a small LRU because annotation asks for neighbouring codons over and over, and each
 * block is ~64 KiB of sequence, so most fetches hit a block already inflated.
 */
export class BgzfFile {
  private readonly cache = new Map<number, Block>();
  private readonly readBuf = Buffer.allocUnsafe(MAX_BLOCK_SIZE);
  private lastOffset = -1;
  private lastBlock: Block | undefined;

  constructor(
    private readonly fd: number,
    private readonly path: string,
    private readonly index: BgzfBlockIndex,
    private readonly fileSize: number,
    private readonly cacheBlocks = 64,
  ) {}

  /** `length` uncompressed bytes from `offset`; shorter only at the end of the file. */
  read(offset: number, length: number): Buffer {
    const i = this.blockIndexFor(offset);
    let coff = this.index.compressed[i]!;
    let ustart = this.index.uncompressed[i]!;
    let block = this.block(coff);
    // Most requests fall inside one block: hand out a view instead of copying.
    if (offset - ustart + length <= block.data.length) {
      return block.data.subarray(offset - ustart, offset - ustart + length);
    }
    const out = Buffer.allocUnsafe(length);
    let filled = 0;
    let pos = offset;
    for (;;) {
      const from = pos - ustart;
      if (from < block.data.length) {
        const n = block.data.copy(out, filled, from, Math.min(block.data.length, from + length - filled));
        filled += n;
        pos += n;
      }
      if (filled === length || block.next >= this.fileSize) break;
      ustart += block.data.length;
      coff = block.next;
      block = this.block(coff);
    }
    return out.subarray(0, filled);
  }

  /** Inflated contents of every block in order, bypassing the cache (for a one-pass scan). */
  *blocks(): Generator<Buffer> {
    let coff = 0;
    while (coff < this.fileSize) {
      const { data, next } = this.load(coff);
      yield data;
      coff = next;
    }
  }

  private blockIndexFor(offset: number): number {
    const u = this.index.uncompressed;
    let lo = 0;
    let hi = u.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (u[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private block(coff: number): Block {
    if (coff === this.lastOffset && this.lastBlock) return this.lastBlock;
    let block = this.cache.get(coff);
    if (block) {
      this.cache.delete(coff);
    } else {
      block = this.load(coff);
      if (this.cache.size >= this.cacheBlocks) {
        const oldest = this.cache.keys().next();
        if (!oldest.done) this.cache.delete(oldest.value);
      }
    }
    this.cache.set(coff, block);
    this.lastOffset = coff;
    this.lastBlock = block;
    return block;
  }

  private load(coff: number): Block {
    // One read of the largest possible block, into a reused buffer: a header read plus a sized read
    // and a fresh allocation per block cost about a third as much again as the inflate itself.
    const got = readSync(this.fd, this.readBuf, 0, Math.min(MAX_BLOCK_SIZE, this.fileSize - coff), coff);
    const size = bgzfBlockSize(this.readBuf.subarray(0, Math.min(got, GZIP_FIXED_HEADER + 256)));
    if (size === undefined) {
      throw new Error(`${this.path}: no BGZF block at compressed offset ${coff} (corrupt file or stale .gzi index)`);
    }
    if (size > got) throw new Error(`${this.path}: BGZF block at ${coff} is truncated`);
    const raw = this.readBuf.subarray(0, size);
    const xlen = raw.readUInt16LE(10);
    const isize = raw.readUInt32LE(size - 4);
    // One output chunk the size of a whole block saves zlib's chunk concatenation (~25% per block).
    const data =
      isize === 0 ? Buffer.alloc(0) : inflateRawSync(raw.subarray(GZIP_FIXED_HEADER + xlen, size - 8), { chunkSize: MAX_BLOCK_SIZE });
    if (data.length !== isize) {
      throw new Error(`${this.path}: BGZF block at ${coff} inflated to ${data.length} bytes, expected ${isize}`);
    }
    return { data, next: coff + size };
  }
}

/**
 * Block index built by walking block headers, for a BGZF file without a `.gzi`. Reads only
 * headers and trailers, so it costs two small reads per 64 KiB of sequence.
 */
export function scanBgzfBlocks(fd: number, path: string, fileSize: number): BgzfBlockIndex {
  const compressed: number[] = [0];
  const uncompressed: number[] = [0];
  const header = Buffer.alloc(GZIP_FIXED_HEADER + 256);
  const trailer = Buffer.alloc(4);
  let coff = 0;
  let uoff = 0;
  while (coff < fileSize) {
    const got = readSync(fd, header, 0, header.length, coff);
    const size = bgzfBlockSize(header.subarray(0, got));
    if (size === undefined || size > MAX_BLOCK_SIZE || coff + size > fileSize) {
      throw new Error(`${path}: no valid BGZF block at compressed offset ${coff}`);
    }
    readSync(fd, trailer, 0, 4, coff + size - 4);
    coff += size;
    uoff += trailer.readUInt32LE(0);
    if (coff < fileSize) {
      compressed.push(coff);
      uncompressed.push(uoff);
    }
  }
  return { compressed: Float64Array.from(compressed), uncompressed: Float64Array.from(uncompressed) };
}
