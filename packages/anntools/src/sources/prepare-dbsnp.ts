// NCBI's dbSNP VCF as build-db --dbsnp can use it. Three things stand in the way of the file as
// published: its name (GCF_000001405.40.gz) does not say VCF; its chromosomes are RefSeq accessions
// (NC_000001.11), which would never meet a VCF's `1` or `chr1`; and all of it (~1.1 billion rsIDs,
// 12 bytes each in the SnpTable) would not fit the 4 GiB a .gasref section can hold. So the records
// are rewritten: primary chromosomes renamed to 1-22/X/Y/MT, other contigs dropped, only
// CHROM POS ID REF ALT kept (the loader reads nothing else from dbSNP), and with the `common` subset
// only records marked COMMON (a 1000 Genomes population frequency of at least 1%).
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { canonicalChrom } from '../chrom-alias.ts';
import type { BuildName } from '../reference-presets.ts';
import { otherBuildOf, refSeqChromosomes } from './refseq-accessions.ts';

export type DbSnpSubset = 'common' | 'all';
export const DBSNP_SUBSETS: readonly DbSnpSubset[] = ['common', 'all'];

export interface PreparedDbSnp {
  file: string;
  subset: DbSnpSubset;
  /** Records written. */
  records: number;
  /** ALT alleles written: the number of SnpTable entries they make, give or take duplicates. */
  alleles: number;
  /** Records left out: other contigs, or not COMMON with that subset. */
  dropped: number;
  /** Distinct contigs left out (alt loci, patches, unplaced scaffolds). */
  droppedContigs: number;
}

const TAB = 9;
const NL = 10;
const HASH = 35;
const TAIL = Buffer.from('\t.\t.\t.\n');
/** Header lines worth carrying over: they say which dbSNP build and assembly this is. */
const KEPT_META = ['##fileformat=', '##fileDate=', '##source=', '##dbSNP_BUILD_ID=', '##reference='];
const PRIMARY = new Set([...Array.from({ length: 22 }, (_, i) => String(i + 1)), 'X', 'Y', 'MT']);

/** The output file name for a build and subset; it ends in .vcf.gz so the loader knows the format. */
export function preparedDbSnpName(build: BuildName, subset: DbSnpSubset): string {
  return `dbsnp.${build}.${subset}.vcf.gz`;
}

/**
 * Whether INFO bytes [from, to) mark the record common: the flag `COMMON` (dbSNP's GCF VCFs) or
 * `COMMON=1` (the integer of the older 00-All.vcf builds, where `COMMON=0` means not common).
 */
export function isCommon(buf: Buffer, from: number, to: number): boolean {
  // A view bounded to this INFO, so a miss does not scan the rest of the chunk.
  const info = buf.subarray(from, to);
  for (let at = info.indexOf('COMMON', 0, 'latin1'); at >= 0; at = info.indexOf('COMMON', at + 6, 'latin1')) {
    if (at > 0 && info[at - 1] !== 59 /* ; */) continue;
    const end = at + 6;
    if (end === info.length || info[end] === 59) return true;
    if (info[end] === 61 /* = */) return !(info[end + 1] === 48 /* 0 */ && (end + 2 === info.length || info[end + 2] === 59));
  }
  return false;
}

export async function prepareDbSnp(opts: { src: string; dest: string; build: BuildName; subset: DbSnpSubset }): Promise<PreparedDbSnp> {
  const { src, build, subset } = opts;
  const accessions = refSeqChromosomes(build);
  // Decided once per contig name: the name to write, or null to drop its records.
  const decided = new Map<string, Buffer | null>();
  const stats = { records: 0, alleles: 0, dropped: 0 };
  let lastRaw = Buffer.alloc(0);
  let lastOut: Buffer | null = null;
  let sawColumns = false;
  let sawCommonHeader = false;

  const decide = (raw: string): Buffer | null => {
    const other = otherBuildOf(raw, build);
    if (other) throw new Error(`${src}: chromosome ${raw} belongs to ${other}; this is not a ${build} dbSNP file`);
    const mapped = accessions.get(raw) ?? (PRIMARY.has(canonicalChrom(raw)) ? canonicalChrom(raw) : undefined);
    return mapped === undefined ? null : Buffer.from(mapped, 'latin1');
  };

  const header = (line: string, out: Buffer[]): void => {
    if (line.startsWith('##INFO=<ID=COMMON,')) sawCommonHeader = true;
    if (line.startsWith('#CHROM')) {
      if (subset === 'common' && !sawCommonHeader) {
        throw new Error(`${src}: this dbSNP release has no COMMON flag, so the "common" subset cannot be taken; use --dbsnp-subset all`);
      }
      out.push(
        Buffer.from(
          `##GAS_prepared=${basename(src)} for ${build}: RefSeq accessions renamed to 1-22/X/Y/MT, other contigs dropped, ` +
            `QUAL/FILTER/INFO emptied, subset ${subset}\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n`,
        ),
      );
      sawColumns = true;
    } else if (KEPT_META.some((p) => line.startsWith(p))) out.push(Buffer.from(line + '\n', 'latin1'));
  };

  const record = (buf: Buffer, s: number, e: number, lineNo: number, out: Buffer[]): void => {
    if (!sawColumns) throw new Error(`${src}: line ${lineNo}: a record before the #CHROM header line; not a VCF`);
    const t1 = buf.indexOf(TAB, s);
    if (t1 < 0 || t1 >= e) throw new Error(`${src}: line ${lineNo}: not a VCF record (no tab)`);
    if (!buf.subarray(s, t1).equals(lastRaw)) {
      lastRaw = Buffer.from(buf.subarray(s, t1));
      const raw = lastRaw.toString('latin1');
      if (!decided.has(raw)) decided.set(raw, decide(raw));
      lastOut = decided.get(raw)!;
    }
    if (lastOut === null) {
      stats.dropped++;
      return;
    }
    // Tabs 2-5 end POS, ID, REF and ALT; INFO runs from tab 7 to tab 8 or the end of the line.
    const tabs = [t1];
    for (let k = 1, at = t1; k < 8; k++) {
      at = buf.indexOf(TAB, at + 1);
      if (at < 0 || at >= e) break;
      tabs.push(at);
    }
    if (tabs.length < 7) throw new Error(`${src}: line ${lineNo}: ${tabs.length + 1} columns, a VCF record has at least 8`);
    if (subset === 'common') {
      let infoEnd = tabs[7] ?? e;
      if (buf[infoEnd - 1] === 13) infoEnd--;
      if (!isCommon(buf, tabs[6]! + 1, infoEnd)) {
        stats.dropped++;
        return;
      }
    }
    let alleles = 1;
    for (let i = tabs[3]! + 1; i < tabs[4]!; i++) if (buf[i] === 44 /* , */) alleles++;
    out.push(lastOut, buf.subarray(t1, tabs[4]), TAIL);
    stats.records++;
    stats.alleles += alleles;
  };

  let lineNo = 0;
  async function* rewrite(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    let carry: Buffer | undefined;
    for await (const chunk of source) {
      const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
      const out: Buffer[] = [];
      let s = 0;
      for (let e = buf.indexOf(NL, s); e >= 0; s = e + 1, e = buf.indexOf(NL, s)) {
        lineNo++;
        if (e === s) continue;
        if (buf[s] === HASH) header(buf.toString('latin1', s, buf[e - 1] === 13 ? e - 1 : e), out);
        else record(buf, s, e, lineNo, out);
      }
      // The output pieces point into `buf`, so they are copied out before `buf` is let go.
      if (out.length > 0) yield Buffer.concat(out);
      carry = s < buf.length ? Buffer.from(buf.subarray(s)) : undefined;
    }
    if (carry && carry.length > 0) {
      const out: Buffer[] = [];
      const last = Buffer.concat([carry, Buffer.from('\n')]);
      lineNo++;
      if (last[0] === HASH) header(last.toString('latin1', 0, last.length - 1), out);
      else record(last, 0, last.length - 1, lineNo, out);
      if (out.length > 0) yield Buffer.concat(out);
    }
  }

  const tmp = `${opts.dest}.partial`;
  try {
    // Level 1: the output is an intermediate read once by build-db, so speed beats size here.
    await pipeline(createReadStream(src), createGunzip({ chunkSize: 1 << 20 }), rewrite, createGzip({ level: 1 }), createWriteStream(tmp));
    if (stats.records === 0) throw new Error(`${src}: no records on the primary chromosomes of ${build} were found`);
    await rename(tmp, opts.dest);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const droppedContigs = [...decided.values()].filter((v) => v === null).length;
  return { file: opts.dest, subset, ...stats, droppedContigs };
}
