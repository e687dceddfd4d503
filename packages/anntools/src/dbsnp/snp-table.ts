import { endianness } from 'node:os';
import { canonicalChrom } from '../chrom-alias.ts';

/*
 * rsID lookup table.
 *
 * Every entry is keyed by the MINIMAL representation of its allele, so that the VCF form (anchor
 * base, 1-based), the Ensembl form (no anchor, `-` for an empty allele) and UCSC BED spans all meet at
 * the same coordinate:
 *
 *   1. trailing bases shared by REF and ALT are stripped, then
 *   2. leading shared bases are stripped, each one moving the position one base to the right.
 *
 * The position of an entry is therefore the first REF base that the variant changes; for an
 * insertion (empty minimal REF) it is the base AFTER the insertion point. Examples:
 *   VCF 1:100 A>G          → 100  A/G
 *   VCF 1:100 ATT>A        → 101  TT/-      Ensembl "TT/-" start 101 is the same key
 *   VCF 1:100 A>AC         → 101  -/C       Ensembl "-/C" start 101 (end 100) is the same key
 *   BED chr1 100 101       → 101  span of 1 base (no alleles)
 *   BED chr1 100 100       → 101  span of 0 bases: an insertion between bases 100 and 101
 *
 * Trailing-first trimming puts an indel at the leftmost place its own bases allow, which is where a
 * left-aligned source (dbSNP VCF) puts it. No reference sequence is used, so an indel that a source
 * placed elsewhere in a repeat longer than the bases the record shows cannot be matched; `find`
 * does try every placement the query's own bases allow (REF=ATT ALT=AT is tried as "T deleted at
 * pos+1" and "T deleted at pos+2").
 *
 * Matching: an entry matches a query allele when their minimal positions are equal and
 *   - the entry has alleles: the minimal (REF, ALT) pair is equal (case-insensitive);
 *   - the entry has only a span (BED): the minimal REF length equals the span length, which keeps
 *     an insertion from matching the SNV at the next base and a 2-base deletion from matching a
 *     1-base one (a 1-base deletion and an SNV at the same base cannot be told apart without alleles);
 *   - the entry has neither (unparseable source alleles): any allele at that position.
 * Symbolic or missing ALTs (`<DEL>`, `*`, `.`, breakends) never match.
 */

const EMPTY: readonly number[] = Object.freeze([]);

/** Allele-field value of an entry with no alleles and no known length. */
const NO_SPAN = -1;
/** Allele-field values below this encode a span: refLen = SPAN_BASE - value. */
const SPAN_BASE = -2;
const MAX_POS = 0x7fffffff;
const MAX_RS = 0xffffffff;

const MAGIC = 'GASSNPT1';
const FORMAT_VERSION = 1;

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** '' for the empty allele, upper case; null for symbolic/missing alleles, throws on garbage. */
function cleanAllele(a: string, what: string): string | null {
  if (a === '-' || a === '') return '';
  const first = a.charCodeAt(0);
  const last = a.charCodeAt(a.length - 1);
  if (!isLetter(first) || !isLetter(last)) {
    if (first === 60 /* < */ || first === 42 /* * */ || a === '.' || a.includes('[') || a.includes(']')) return null;
    throw new RangeError(`${what} ${JSON.stringify(a)} is not a nucleotide allele`);
  }
  for (let i = 1; i < a.length - 1; i++) {
    if (!isLetter(a.charCodeAt(i))) throw new RangeError(`${what} ${JSON.stringify(a)} is not a nucleotide allele`);
  }
  return a.toUpperCase();
}

class ChromBuilder {
  pos = new Int32Array(1024);
  rs = new Uint32Array(1024);
  allele = new Int32Array(1024);
  n = 0;

  push(pos: number, rs: number, allele: number): void {
    if (this.n === this.pos.length) {
      const cap = this.n * 2;
      const p = new Int32Array(cap);
      p.set(this.pos);
      const r = new Uint32Array(cap);
      r.set(this.rs);
      const a = new Int32Array(cap);
      a.set(this.allele);
      this.pos = p;
      this.rs = r;
      this.allele = a;
    }
    this.pos[this.n] = pos;
    this.rs[this.n] = rs;
    this.allele[this.n] = allele;
    this.n++;
  }
}

export class SnpTableBuilder {
  private readonly chroms = new Map<string, ChromBuilder>();
  private lastRaw = '';
  private last: ChromBuilder | null = null;
  private readonly pairIndex = new Map<string, number>();
  private readonly pairRef: string[] = [];
  private readonly pairAlt: string[] = [];
  private built = false;

  /**
   * Adds one source record. `pos` is the 1-based position of the first REF base (VCF convention);
   * REF and ALTs may be empty or `-` (Ensembl), in which case `pos` is the base after the insertion
   * point. Without ALTs the record becomes a span: REF's length from `pos`, or position only when REF
   * is absent too. Symbolic ALTs are left out. Returns how many entries were added (0 when every ALT
   * was symbolic or equal to REF).
   */
  add(chrom: string, pos: number, rsId: number, ref?: string, alts?: readonly string[]): number {
    this.checkOpen();
    checkPos(pos);
    checkRs(rsId);
    const cb = this.chrom(chrom);
    if (ref === undefined) {
      cb.push(pos, rsId, NO_SPAN);
      return 1;
    }
    const r = cleanAllele(ref, 'REF');
    if (r === null) throw new RangeError(`REF ${JSON.stringify(ref)} is not a nucleotide allele`);
    if (alts === undefined || alts.length === 0) {
      cb.push(pos, rsId, SPAN_BASE - r.length);
      return 1;
    }
    let added = 0;
    for (const altRaw of alts) {
      const a = cleanAllele(altRaw, 'ALT');
      if (a === null || a === r) continue;
      let rl = r.length;
      let al = a.length;
      while (rl > 0 && al > 0 && r.charCodeAt(rl - 1) === a.charCodeAt(al - 1)) {
        rl--;
        al--;
      }
      let p = 0;
      while (p < rl && p < al && r.charCodeAt(p) === a.charCodeAt(p)) p++;
      const npos = pos + p;
      checkPos(npos);
      cb.push(npos, rsId, this.pair(r.slice(p, rl), a.slice(p, al)));
      added++;
    }
    return added;
  }

  /**
   * Adds an entry without alleles covering `refLen` reference bases from `start` (1-based, first
   * affected base). `refLen` 0 is an insertion between `start - 1` and `start`; undefined matches any
   * allele at `start`.
   */
  addSpan(chrom: string, start: number, rsId: number, refLen?: number): void {
    this.checkOpen();
    checkPos(start);
    checkRs(rsId);
    if (refLen !== undefined && (!Number.isInteger(refLen) || refLen < 0 || refLen > MAX_POS)) {
      throw new RangeError(`span length ${refLen} is not a length`);
    }
    this.chrom(chrom).push(start, rsId, refLen === undefined ? NO_SPAN : SPAN_BASE - refLen);
  }

  build(): SnpTable {
    this.checkOpen();
    this.built = true;
    const names = [...this.chroms.keys()].sort(compareChromNames);
    const chroms: ChromData[] = [];
    for (const name of names) {
      const cb = this.chroms.get(name)!;
      chroms.push(sortAndCollapse(name, cb));
      this.chroms.delete(name); // lets the growth buffers go before the next chromosome is sorted
    }
    const { offsets, refLens, pool } = encodePairs(this.pairRef, this.pairAlt);
    return new SnpTable(chroms, offsets, refLens, pool);
  }

  private checkOpen(): void {
    if (this.built) throw new Error('SnpTableBuilder: build() was already called');
  }

  private chrom(raw: string): ChromBuilder {
    if (raw === this.lastRaw && this.last !== null) return this.last;
    const name = canonicalChrom(raw);
    if (name === '') throw new RangeError('empty chromosome name');
    let cb = this.chroms.get(name);
    if (cb === undefined) {
      cb = new ChromBuilder();
      this.chroms.set(name, cb);
    }
    this.lastRaw = raw;
    this.last = cb;
    return cb;
  }

  private pair(ref: string, alt: string): number {
    const key = ref + '/' + alt;
    let i = this.pairIndex.get(key);
    if (i === undefined) {
      i = this.pairRef.length;
      this.pairRef.push(ref);
      this.pairAlt.push(alt);
      this.pairIndex.set(key, i);
    }
    return i;
  }
}

/**
 * A well-formed entry the table cannot hold (its arrays are 32-bit): the loaders count and report
 * these instead of stopping the build, since a source's other entries are still good.
 */
export class TableLimitError extends RangeError {}

function checkPos(pos: number): void {
  if (Number.isInteger(pos) && pos > MAX_POS) throw new TableLimitError(`position ${pos} is above ${MAX_POS}, the largest the table holds`);
  if (!Number.isInteger(pos) || pos < 1) throw new RangeError(`position ${pos} is not in 1..${MAX_POS}`);
}

function checkRs(rs: number): void {
  if (Number.isInteger(rs) && rs > MAX_RS) throw new TableLimitError(`rs number ${rs} is above ${MAX_RS}, the largest the table holds`);
  if (!Number.isInteger(rs) || rs < 1) throw new RangeError(`rs number ${rs} is not in 1..${MAX_RS}`);
}

/** Numbered chromosomes in numeric order, then the rest alphabetically (X, Y, MT, contigs). */
export function compareChromNames(a: string, b: string): number {
  const na = /^\d+$/.test(a) ? Number(a) : Infinity;
  const nb = /^\d+$/.test(b) ? Number(b) : Infinity;
  if (na !== nb) return na < nb ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

interface ChromData {
  readonly name: string;
  readonly pos: Int32Array;
  readonly rs: Uint32Array;
  /** >= 0: index of a (REF, ALT) pair; NO_SPAN; or SPAN_BASE - refLen. */
  readonly allele: Int32Array;
}

function sortAndCollapse(name: string, cb: ChromBuilder): ChromData {
  const { n } = cb;
  const pos = cb.pos.subarray(0, n);
  const rs = cb.rs.subarray(0, n);
  const al = cb.allele.subarray(0, n);
  const cmp = (i: number, j: number): number => pos[i]! - pos[j]! || rs[i]! - rs[j]! || al[i]! - al[j]!;
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) if (cmp(i - 1, i) > 0) sorted = false;
  let order: Uint32Array | null = null;
  if (!sorted) {
    order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort(cmp);
  }
  // Entries of one (pos, rs) are adjacent with span-only ones (negative) first: a span-only entry is
  // dropped when the same rs at the same place also has alleles, since the alleles say more.
  const outPos = new Int32Array(n);
  const outRs = new Uint32Array(n);
  const outAl = new Int32Array(n);
  let m = 0;
  for (let k = 0; k < n; k++) {
    const i = order === null ? k : order[k]!;
    const p = pos[i]!;
    const r = rs[i]!;
    const a = al[i]!;
    if (m > 0 && outPos[m - 1] === p && outRs[m - 1] === r) {
      const prev = outAl[m - 1]!;
      if (prev === a) continue;
      if (prev < 0 && a >= 0) {
        // Earlier span-only entries of this (pos, rs) may be several; remove all of them.
        while (m > 0 && outPos[m - 1] === p && outRs[m - 1] === r && outAl[m - 1]! < 0) m--;
      } else if (a < 0 && prev >= 0) {
        continue;
      }
    }
    outPos[m] = p;
    outRs[m] = r;
    outAl[m] = a;
    m++;
  }
  return { name, pos: outPos.slice(0, m), rs: outRs.slice(0, m), allele: outAl.slice(0, m) };
}

function encodePairs(refs: readonly string[], alts: readonly string[]): { offsets: Uint32Array; refLens: Uint32Array; pool: Uint8Array } {
  const offsets = new Uint32Array(refs.length + 1);
  const refLens = new Uint32Array(refs.length);
  let total = 0;
  for (let i = 0; i < refs.length; i++) {
    offsets[i] = total;
    refLens[i] = refs[i]!.length;
    total += refs[i]!.length + alts[i]!.length;
  }
  offsets[refs.length] = total;
  const pool = Buffer.allocUnsafe(total);
  for (let i = 0; i < refs.length; i++) {
    const o = offsets[i]!;
    pool.write(refs[i]!, o, 'latin1');
    pool.write(alts[i]!, o + refLens[i]!, 'latin1');
  }
  return { offsets, refLens, pool };
}

function lowerBound(a: Int32Array, x: number, lo = 0, hi = a.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * lowerBound for sorted queries: from `hint` (the previous answer) it gallops forward, so a sorted
 * VCF costs a step or two per lookup instead of a search over the whole chromosome.
 */
function lowerBoundFrom(a: Int32Array, x: number, hint: number): number {
  if (hint > a.length || (hint > 0 && a[hint - 1]! >= x)) return lowerBound(a, x);
  let lo = hint;
  let hi = hint;
  let step = 1;
  while (hi < a.length && a[hi]! < x) {
    lo = hi + 1;
    hi = lo + step;
    step *= 2;
  }
  return lowerBound(a, x, lo, Math.min(hi, a.length));
}

/** Chromosome spellings seen by `find`, remembered so canonicalChrom is not re-run per variant. */
const MAX_ALIAS_CACHE = 4096;

export class SnpTable {
  /** Distinct (chromosome, position, rsID) loci. */
  readonly count: number;
  /** Stored entries: one per locus and allele pair (a multi-allelic rs has one per ALT). */
  readonly entries: number;
  private readonly byName: Map<string, ChromData>;
  private readonly aliasCache = new Map<string, ChromData | null>();
  private lastName = '';
  private last: ChromData | null = null;
  /** Where the last lookup landed in its chromosome's positions. */
  private cursor = 0;

  /** @internal use SnpTableBuilder or SnpTable.deserialize */
  constructor(
    private readonly chroms: readonly ChromData[],
    private readonly pairOffsets: Uint32Array,
    private readonly pairRefLens: Uint32Array,
    private readonly pool: Uint8Array,
  ) {
    this.byName = new Map(chroms.map((c) => [c.name, c]));
    let count = 0;
    let entries = 0;
    for (const c of chroms) {
      entries += c.pos.length;
      for (let i = 0; i < c.pos.length; i++) {
        if (i === 0 || c.pos[i] !== c.pos[i - 1] || c.rs[i] !== c.rs[i - 1]) count++;
      }
    }
    this.count = count;
    this.entries = entries;
  }

  /** Canonical names (no `chr`, `MT`) in karyotype order. */
  chromosomes(): string[] {
    return this.chroms.map((c) => c.name);
  }

  /**
   * rs numbers (ascending, distinct) whose entries match the variant allele `chrom:pos ref>alt`
   * (VCF convention; any chromosome spelling). See the matching rule at the top of this file. The
   * returned array is shared and frozen when empty.
   */
  find(chrom: string, pos: number, ref: string, alt: string): readonly number[] {
    const c = chrom === this.lastName ? this.last : this.chromData(chrom);
    if (c === null) return EMPTY;
    const rl = ref.length;
    const al = alt.length;
    if (rl === 0 || al === 0) return EMPTY;
    const a0 = alt.charCodeAt(0);
    if (!isLetter(a0) || !isLetter(alt.charCodeAt(al - 1)) || !isLetter(ref.charCodeAt(0))) return EMPTY;
    // Letters only from here on, so `| 0x20` folds case without false equalities.
    let s = 0;
    while (s < rl && s < al && (ref.charCodeAt(rl - 1 - s) | 0x20) === (alt.charCodeAt(al - 1 - s) | 0x20)) s++;
    const rEnd = rl - s;
    const aEnd = al - s;
    let p = 0;
    while (p < rEnd && p < aEnd && (ref.charCodeAt(p) | 0x20) === (alt.charCodeAt(p) | 0x20)) p++;
    const refLen = rEnd - p;
    const altLen = aEnd - p;
    if (refLen === 0 && altLen === 0) return EMPTY;
    // A pure indel may slide right over bases the record itself shows on both sides.
    let shifts = 0;
    if (s > 0 && (refLen === 0 || altLen === 0)) {
      const lim = Math.min(rl, al);
      let full = p;
      while (full < lim && (ref.charCodeAt(full) | 0x20) === (alt.charCodeAt(full) | 0x20)) full++;
      shifts = Math.min(full - p, s);
    }
    let out: number[] | null = null;
    for (let j = 0; j <= shifts; j++) out = this.collect(c, pos + p + j, ref, p + j, refLen, alt, p + j, altLen, out);
    return out ?? EMPTY;
  }

  /**
   * Up to `limit` single-base entries with alleles, as VCF POS, REF and ALT, spread over the
   * first chromosome that has such entries, so that lookups jump as well as step (for warming up).
   */
  examples(limit: number): Array<{ chrom: string; pos: number; ref: string; alt: string }> {
    const snv = (a: number): boolean => a >= 0 && this.pairRefLens[a] === 1 && this.pairOffsets[a + 1]! - this.pairOffsets[a]! === 2;
    for (const c of this.chroms) {
      // Sampled, not scanned: a whole-genome table has millions of entries.
      const out: Array<{ chrom: string; pos: number; ref: string; alt: string }> = [];
      for (const step of [Math.max(1, Math.floor(c.pos.length / (limit * 16))), 1]) {
        for (let i = 0; i < c.pos.length && out.length < limit && (step > 1 || i < limit * 64); i += step) {
          const a = c.allele[i]!;
          if (!snv(a) || (out.length > 0 && out[out.length - 1]!.pos === c.pos[i])) continue;
          const o = this.pairOffsets[a]!;
          out.push({ chrom: c.name, pos: c.pos[i]!, ref: String.fromCharCode(this.pool[o]!), alt: String.fromCharCode(this.pool[o + 1]!) });
        }
        if (out.length > 0) return out;
      }
    }
    return [];
  }

  /** Bytes for `deserialize`: little-endian typed arrays behind a small JSON header. */
  serialize(): Buffer {
    const header = Buffer.from(
      JSON.stringify({
        chroms: this.chroms.map((c) => ({ name: c.name, n: c.pos.length })),
        pairs: this.pairRefLens.length,
        poolBytes: this.pool.length,
      }),
      'utf8',
    );
    const headerPadded = (header.length + 7) & ~7;
    const entryBytes = this.chroms.reduce((t, c) => t + c.pos.length * 12, 0);
    const pairBytes = (this.pairRefLens.length * 2 + 1) * 4;
    const total = 16 + headerPadded + entryBytes + pairBytes + this.pool.length;
    const buf = Buffer.alloc(total);
    buf.write(MAGIC, 0, 'latin1');
    buf.writeUInt32LE(FORMAT_VERSION, 8);
    buf.writeUInt32LE(header.length, 12);
    header.copy(buf, 16);
    let off = 16 + headerPadded;
    const put = (a: Int32Array | Uint32Array | Uint8Array): void => {
      const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      if (endianness() === 'LE' || a instanceof Uint8Array) buf.set(bytes, off);
      else for (let i = 0; i < a.length; i++) buf.writeUInt32LE(a[i]! >>> 0, off + i * 4);
      off += a.byteLength;
    };
    for (const c of this.chroms) {
      put(c.pos);
      put(c.rs);
      put(c.allele);
    }
    put(this.pairOffsets);
    put(this.pairRefLens);
    put(this.pool);
    return buf;
  }

  /**
   * Reads `serialize` output. Arrays are views on `buf` when it is 4-byte aligned (no copy), so
   * `buf` must not be modified afterwards. Structure is checked so a truncated or foreign file fails
   * here rather than answering wrongly.
   */
  static deserialize(buf: Buffer): SnpTable {
    const bad = (why: string): Error => new Error(`not a serialized SnpTable: ${why}`);
    if (buf.length < 16 || buf.toString('latin1', 0, 8) !== MAGIC) throw bad('bad magic');
    const version = buf.readUInt32LE(8);
    if (version !== FORMAT_VERSION) throw bad(`format version ${version}, expected ${FORMAT_VERSION}`);
    const headerLen = buf.readUInt32LE(12);
    if (16 + headerLen > buf.length) throw bad('truncated header');
    let header: { chroms: { name: string; n: number }[]; pairs: number; poolBytes: number };
    try {
      header = JSON.parse(buf.toString('utf8', 16, 16 + headerLen)) as typeof header;
    } catch {
      throw bad('header is not JSON');
    }
    if (!Array.isArray(header.chroms) || !Number.isInteger(header.pairs) || !Number.isInteger(header.poolBytes)) throw bad('header fields');
    let off = 16 + ((headerLen + 7) & ~7);
    const le = endianness() === 'LE';
    const take = <T extends Int32Array | Uint32Array>(
      Ctor: { new (b: ArrayBuffer, o: number, n: number): T; new (n: number): T },
      n: number,
    ): T => {
      if (!Number.isInteger(n) || n < 0 || off + n * 4 > buf.length) throw bad('truncated data');
      let a: T;
      if (le && (buf.byteOffset + off) % 4 === 0) a = new Ctor(buf.buffer as ArrayBuffer, buf.byteOffset + off, n);
      else {
        a = new Ctor(n);
        for (let i = 0; i < n; i++) a[i] = a instanceof Int32Array ? buf.readInt32LE(off + i * 4) : buf.readUInt32LE(off + i * 4);
      }
      off += n * 4;
      return a;
    };
    const chroms: ChromData[] = [];
    for (const h of header.chroms) {
      if (typeof h.name !== 'string') throw bad('chromosome name');
      chroms.push({ name: h.name, pos: take(Int32Array, h.n), rs: take(Uint32Array, h.n), allele: take(Int32Array, h.n) });
    }
    const pairOffsets = take(Uint32Array, header.pairs + 1);
    const pairRefLens = take(Uint32Array, header.pairs);
    if (off + header.poolBytes !== buf.length) throw bad('size does not match header');
    const pool = buf.subarray(off, off + header.poolBytes);
    for (let i = 0; i < header.pairs; i++) {
      if (pairOffsets[i]! > pairOffsets[i + 1]! || pairRefLens[i]! > pairOffsets[i + 1]! - pairOffsets[i]!) throw bad(`allele pair ${i}`);
    }
    if (pairOffsets[header.pairs] !== header.poolBytes) throw bad('allele pool size');
    for (const c of chroms) {
      for (let i = 0; i < c.pos.length; i++) {
        if (c.allele[i]! >= header.pairs) throw bad(`${c.name}: allele index out of range`);
        if (i > 0 && c.pos[i]! < c.pos[i - 1]!) throw bad(`${c.name}: positions not sorted`);
      }
    }
    return new SnpTable(chroms, pairOffsets, pairRefLens, pool);
  }

  private chromData(raw: string): ChromData | null {
    let c = this.aliasCache.get(raw);
    if (c === undefined) {
      c = this.byName.get(canonicalChrom(raw)) ?? null;
      if (this.aliasCache.size >= MAX_ALIAS_CACHE) this.aliasCache.clear();
      this.aliasCache.set(raw, c);
    }
    this.lastName = raw;
    this.last = c;
    return c;
  }

  private collect(
    c: ChromData,
    npos: number,
    ref: string,
    rStart: number,
    refLen: number,
    alt: string,
    aStart: number,
    altLen: number,
    out: number[] | null,
  ): number[] | null {
    const { pos, rs, allele } = c;
    const first = lowerBoundFrom(pos, npos, this.cursor);
    this.cursor = first;
    for (let i = first; i < pos.length && pos[i] === npos; i++) {
      const a = allele[i]!;
      let hit: boolean;
      if (a === NO_SPAN) hit = true;
      else if (a < 0) hit = SPAN_BASE - a === refLen;
      else {
        const o = this.pairOffsets[a]!;
        const prl = this.pairRefLens[a]!;
        hit = prl === refLen && this.pairOffsets[a + 1]! - o - prl === altLen;
        const pool = this.pool;
        for (let k = 0; hit && k < refLen; k++) hit = pool[o + k] === (ref.charCodeAt(rStart + k) & ~0x20);
        for (let k = 0; hit && k < altLen; k++) hit = pool[o + prl + k] === (alt.charCodeAt(aStart + k) & ~0x20);
      }
      if (!hit) continue;
      const r = rs[i]!;
      if (out === null) out = [r];
      else if (!out.includes(r)) {
        out.push(r);
        if (out[out.length - 2]! > r) out.sort((x, y) => x - y);
      }
    }
    return out;
  }
}
