import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { canonicalChrom } from '../chrom-alias.ts';
import { BgzfFile, bgzfBlockSize, isGzip, parseGzi, scanBgzfBlocks } from './bgzf.ts';
import type { BgzfBlockIndex } from './bgzf.ts';
import { FaiBuilder, parseFai } from './fai.ts';
import type { FaiEntry } from './fai.ts';

/** Uncompressed bytes of the file, whatever its container. */
interface ByteSource {
  read(offset: number, length: number): Buffer;
}

class PlainFile implements ByteSource {
  constructor(private readonly fd: number) {}

  read(offset: number, length: number): Buffer {
    const buf = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const n = readSync(this.fd, buf, filled, length - filled, offset + filled);
      if (n === 0) break;
      filled += n;
    }
    return buf.subarray(0, filled);
  }
}

const SCAN_CHUNK = 1 << 20;
const NAMES_IN_ERROR = 5;

export interface FastaOpenOptions {
  /** Inflated BGZF blocks kept in memory (~64 KiB each). */
  cacheBlocks?: number;
}

/**
 * Synchronous random access to a reference FASTA, plain or bgzip-compressed, through its samtools
 * `.fai` (and `.gzi` for bgzip). Synchronous because annotation asks for a few bases per variant
 * from inside tight loops, where a promise per codon would cost more than the read.
 */
export class FastaReader {
  private readonly byName = new Map<string, FaiEntry>();
  private readonly byCanonical = new Map<string, FaiEntry>();
  private fd: number | undefined;

  private constructor(
    readonly path: string,
    fd: number,
    private readonly entries: readonly FaiEntry[],
    private readonly source: ByteSource,
  ) {
    this.fd = fd;
    for (const e of entries) {
      this.byName.set(e.name, e);
      // A file holding both `chr1` and `1` keeps exact-name lookups apart; the alias goes to the first.
      const c = canonicalChrom(e.name);
      if (!this.byCanonical.has(c)) this.byCanonical.set(c, e);
    }
  }

  /**
   * Opens `path` and reads `path.fai` (and `path.gzi` for bgzip). Missing indexes are built in
   * memory by one pass over the file, which for a whole genome takes seconds: index it once with
   * `samtools faidx` instead.
   */
  static open(path: string, options: FastaOpenOptions = {}): FastaReader {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      const head = Buffer.alloc(512);
      const got = readSync(fd, head, 0, head.length, 0);
      let source: ByteSource;
      let scan: () => Iterable<Buffer>;
      if (isGzip(head.subarray(0, got))) {
        if (bgzfBlockSize(head.subarray(0, got)) === undefined) {
          throw new Error(
            `${path} is plain gzip, which cannot be read at random positions. ` +
              `Recompress it with bgzip (\`gunzip -c ${path} | bgzip > new.fa.gz\`) and index it with \`samtools faidx new.fa.gz\`.`,
          );
        }
        const index: BgzfBlockIndex = existsSync(`${path}.gzi`)
          ? parseGzi(readFileSync(`${path}.gzi`), `${path}.gzi`)
          : scanBgzfBlocks(fd, path, size);
        const bgzf = new BgzfFile(fd, path, index, size, options.cacheBlocks ?? 64);
        source = bgzf;
        scan = () => bgzf.blocks();
      } else {
        source = new PlainFile(fd);
        scan = () => plainChunks(fd, size);
      }
      const entries = existsSync(`${path}.fai`) ? parseFai(readFileSync(`${path}.fai`, 'latin1'), `${path}.fai`) : buildFai(path, scan());
      return new FastaReader(path, fd, entries, source);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** Sequence names as spelled in the file, in file order. */
  names(): string[] {
    return this.entries.map((e) => e.name);
  }

  has(chrom: string): boolean {
    return this.entry(chrom) !== undefined;
  }

  length(chrom: string): number | undefined {
    return this.entry(chrom)?.length;
  }

  /**
   * Bases [start0, end0) of `chrom` (0-based, half-open), uppercased so soft-masked repeats compare
   * equal to VCF alleles. The range is clipped to the sequence, so a request past the end gives
   * fewer bases (or '') rather than an error.
   */
  fetch(chrom: string, start0: number, end0: number): string {
    if (this.fd === undefined) throw new Error(`FastaReader for ${this.path} is closed`);
    if (!Number.isInteger(start0) || !Number.isInteger(end0)) {
      throw new RangeError(`fetch(${chrom}, ${start0}, ${end0}): start and end must be integers`);
    }
    const e = this.entry(chrom);
    if (!e) {
      const names = this.entries.map((x) => x.name);
      const shown = names.slice(0, NAMES_IN_ERROR).join(', ') + (names.length > NAMES_IN_ERROR ? `, … (${names.length} in all)` : '');
      throw new Error(`chromosome ${chrom} is not in ${this.path}; it holds ${shown || 'no sequences'}`);
    }
    const start = Math.max(0, start0);
    const end = Math.min(e.length, end0);
    if (end <= start) return '';
    const first = byteOffset(e, start);
    const raw = this.source.read(first, byteOffset(e, end - 1) + 1 - first);
    const out = Buffer.allocUnsafe(end - start);
    let n = 0;
    let pos = start;
    let at = 0;
    while (pos < end) {
      const col = pos % e.lineBases;
      const take = Math.min(e.lineBases - col, end - pos);
      if (at + take > raw.length) {
        throw new Error(`${this.path}: ${e.name} ends early at ${pos}; the .fai does not match the file`);
      }
      for (let k = 0; k < take; k++) {
        const c = raw[at + k]!;
        // Lowercase ASCII letters to uppercase; anything else (N, IUPAC codes, '*', '-') passes through.
        out[n++] = c >= 97 && c <= 122 ? c - 32 : c;
      }
      pos += take;
      at += take + (e.lineWidth - e.lineBases);
    }
    return out.toString('latin1', 0, n);
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }

  private entry(chrom: string): FaiEntry | undefined {
    return this.byName.get(chrom) ?? this.byCanonical.get(canonicalChrom(chrom));
  }
}

function byteOffset(e: FaiEntry, pos: number): number {
  return e.offset + Math.floor(pos / e.lineBases) * e.lineWidth + (pos % e.lineBases);
}

function* plainChunks(fd: number, size: number): Generator<Buffer> {
  const buf = Buffer.allocUnsafe(SCAN_CHUNK);
  for (let off = 0; off < size;) {
    const n = readSync(fd, buf, 0, buf.length, off);
    if (n === 0) break;
    yield buf.subarray(0, n);
    off += n;
  }
}

function buildFai(path: string, chunks: Iterable<Buffer>): FaiEntry[] {
  const builder = new FaiBuilder(path);
  for (const chunk of chunks) builder.push(chunk);
  return builder.finish();
}
