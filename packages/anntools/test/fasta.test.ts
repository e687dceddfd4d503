import t from 'tap';
import type { Test } from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { gunzipSync, gzipSync } from 'node:zlib';
import { FastaReader } from '../src/fasta/index.ts';
import { seededRandom } from '../../testing/src/seeded-random.ts';
import { bgzf } from '../../testing/src/bgzf-writer.ts';
import { Mismatches } from './mismatches.ts';

/*
 * Paths are resolved here rather than through @gas/testing: that package imports the whole
 * engine (@gas/anntools) for the stack harness, and a unit test of the reader should load only it.
 * Same rule as sharedDataPath: GAS_SHARED_DATA, else ../shared/data beside the repository.
 */
function sharedDataPath(relative: string): string {
  const repo = process.env['GAS_REPO_ROOT'] ?? resolve(fileURLToPath(import.meta.url), '../../../..');
  const dir = process.env['GAS_SHARED_DATA'] ?? resolve(repo, '..', 'shared', 'data');
  const path = join(dir, relative);
  if (!existsSync(path)) throw new Error(`shared test data not found: ${path} (see ${join(dir, 'PROVENANCE.md')})`);
  return path;
}

interface SharedFasta {
  file: string;
  /** Name as spelled in the file, and the other spelling that must find it. */
  name: string;
  alias: string;
  /** 0-based half-open window of real (non-N) sequence, per PROVENANCE.md. */
  window: [number, number];
}

const SHARED: SharedFasta[] = [
  { file: 'reference/grch37/hs37d5_chr20_1_1000000.fa.gz', name: '20', alias: 'chr20', window: [0, 1_000_000] },
  { file: 'reference/grch37/ucsc.hg19.chr20.unittest.fasta.gz', name: 'chr20', alias: '20', window: [9_995_000, 11_095_000] },
  { file: 'reference/grch38/grch38.chr20_and_21_10M.fa.gz', name: 'chr20', alias: '20', window: [0, 10_000_000] },
];

/**
 * The expected sequences, read without the .fai or the .gzi: the whole file is inflated (gunzip
 * reads the concatenated BGZF members) and split on '>' and newlines. The biggest file is ~64 MB
 * inflated, small enough to hold while one test runs.
 */
function readWholeFasta(path: string): Map<string, string> {
  const text = gunzipSync(readFileSync(path)).toString('latin1');
  const out = new Map<string, string>();
  for (const rec of text.split('>').slice(1)) {
    const nl = rec.indexOf('\n');
    const name = rec.slice(0, nl).split(/\s/)[0]!;
    out.set(name, rec.slice(nl + 1).replace(/\r?\n/g, ''));
  }
  return out;
}

interface FaiLine {
  name: string;
  length: number;
  offset: number;
  lineBases: number;
  lineWidth: number;
}

function readFaiFile(path: string): FaiLine[] {
  return readFileSync(path, 'latin1')
    .trim()
    .split('\n')
    .map((l) => {
      const [name, length, offset, lineBases, lineWidth] = l.split('\t');
      return { name: name!, length: Number(length), offset: Number(offset), lineBases: Number(lineBases), lineWidth: Number(lineWidth) };
    });
}

/** Uncompressed block starts from a .gzi (the implicit first block left out). */
function readGziStarts(path: string): number[] {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  return Array.from({ length: n }, (_, i) => Number(buf.readBigUInt64LE(16 + i * 16)));
}

/** Sequence positions whose bytes straddle a BGZF block start (either the base or the newline before it). */
function blockBoundaryPositions(fai: FaiLine, gzi: number[], window: [number, number]): { onBase: number[]; onNewline: number[] } {
  const onBase: number[] = [];
  const onNewline: number[] = [];
  for (const u of gzi) {
    const rel = u - fai.offset;
    if (rel < 0) continue;
    const line = Math.floor(rel / fai.lineWidth);
    const col = rel % fai.lineWidth;
    const pos = line * fai.lineBases + Math.min(col, fai.lineBases);
    if (pos < window[0] + 10 || pos > window[1] - 10 || pos >= fai.length - 10) continue;
    (col < fai.lineBases ? onBase : onNewline).push(pos);
  }
  return { onBase, onNewline };
}

for (const shared of SHARED) {
  t.test(`${shared.file}: fetches match an independent full read`, async (t) => {
    const path = sharedDataPath(shared.file);
    const fai = readFaiFile(`${path}.fai`);
    const whole = readWholeFasta(path);
    const reader = FastaReader.open(path);
    try {
      t.strictSame(
        reader.names(),
        fai.map((f) => f.name),
      );
      for (const f of fai) {
        const ref = whole.get(f.name);
        if (!t.ok(ref, `${f.name} parsed from the file`) || ref === undefined) continue;
        t.equal(ref.length, f.length, `${f.name}: .fai length agrees with the sequence`);
        t.equal(reader.length(f.name), f.length);
        const check = (start: number, end: number, label: string) =>
          t.equal(
            reader.fetch(f.name, start, end),
            ref.slice(Math.max(0, start), Math.min(f.length, end)).toUpperCase(),
            `${f.name}:${start}-${end} (${label})`,
          );
        check(0, 1, 'first base');
        check(0, 100, 'start of the sequence');
        check(f.length - 1, f.length, 'last base');
        check(f.length - 150, f.length, 'end of the sequence');
        check(f.length - 5, f.length + 100, 'clipped at the end');
        check(-10, 5, 'clipped at the start');
        t.equal(reader.fetch(f.name, f.length + 10, f.length + 20), '', 'entirely past the end');
        t.equal(reader.fetch(f.name, 500, 500), '', 'empty range');
      }

      const main = fai.find((f) => f.name === shared.name)!;
      const ref = whole.get(shared.name)!;
      // The windows open on telomere Ns; start at the first real base so every check sees sequence.
      const w0 = shared.window[0] + ref.slice(shared.window[0], shared.window[1]).search(/[ACGTacgt]/);
      const w1 = shared.window[1];
      const check = (start: number, end: number, label: string) =>
        t.equal(reader.fetch(shared.name, start, end), ref.slice(start, end).toUpperCase(), `${shared.name}:${start}-${end} (${label})`);

      t.ok(/[ACGTacgt]{1000}/.test(ref.slice(w0, w0 + 50_000)), 'the window holds real sequence');
      // Line ends: the last bases of a line with the first of the next, and exactly one full line.
      const lineStart = (Math.ceil(w0 / main.lineBases) + 100) * main.lineBases;
      check(lineStart - 3, lineStart + 3, 'across a line end');
      check(lineStart - 1, lineStart + 1, 'last base of a line and first of the next');
      check(lineStart, lineStart + main.lineBases, 'one whole line');
      check(lineStart - 1, lineStart + 2 * main.lineBases + 1, 'two line ends');

      const { onBase, onNewline } = blockBoundaryPositions(main, readGziStarts(`${path}.gzi`), [w0, w1]);
      t.ok(onBase.length > 0, 'a block boundary falls on a base inside the window');
      for (const pos of [...onBase.slice(0, 3), ...onNewline.slice(0, 2)]) {
        check(pos - 7, pos + 7, 'across a BGZF block boundary');
        check(pos - 1, pos + 1, 'last base of one block and first of the next');
        check(pos, pos + 1, 'first base of a block');
      }

      const rnd = seededRandom(20);
      for (let i = 0; i < 200; i++) {
        const len = 1 + Math.floor(rnd() * 700);
        const start = w0 + Math.floor(rnd() * (w1 - w0 - len));
        check(start, start + len, 'random range');
      }
      check(w0 + 12_345, w0 + 12_345 + 300_000, 'several blocks in one fetch');

      const once = reader.fetch(shared.alias, w0 + 777, w0 + 1_777);
      t.equal(once, ref.slice(w0 + 777, w0 + 1_777).toUpperCase(), `alias ${shared.alias} finds ${shared.name}`);
      t.equal(reader.fetch(shared.alias, w0 + 777, w0 + 1_777), once, 'the same range again (from the cache)');
      t.equal(reader.has(shared.alias), true);
      t.equal(reader.length(shared.alias), main.length);
    } finally {
      reader.close();
    }
  });
}

t.test('soft-masked (lowercase) bases come back uppercase', async (t) => {
  const path = sharedDataPath('reference/grch37/ucsc.hg19.chr20.unittest.fasta.gz');
  const ref = readWholeFasta(path).get('chr20')!;
  const masked = ref.slice(10_000_000).search(/[ACGT]{5}[acgt]{30}/);
  t.ok(masked >= 0, 'the hg19 window has soft-masked runs');
  const start = 10_000_000 + masked;
  const reader = FastaReader.open(path);
  try {
    const raw = ref.slice(start, start + 40);
    t.match(raw, /[acgt]/);
    t.match(raw, /^[ACGTN]{5}/, 'the range starts on unmasked bases');
    t.equal(reader.fetch('chr20', start, start + 40), raw.toUpperCase());
    t.match(reader.fetch('chr20', start, start + 40), /^[ACGTN]+$/);
  } finally {
    reader.close();
  }
});

t.test('unknown chromosome: length undefined, fetch names it and the known ones', async (t) => {
  const reader = FastaReader.open(sharedDataPath('reference/grch38/grch38.chr20_and_21_10M.fa.gz'));
  try {
    t.equal(reader.has('chr22'), false);
    t.equal(reader.length('chr22'), undefined);
    t.equal(reader.has('21'), true, '21 finds chr21');
    const err = t.throws(() => reader.fetch('chr22', 0, 10), Error);
    if (err instanceof Error) {
      t.match(err.message, /chr22/);
      t.match(err.message, /chr20, chr21/);
    }
    t.throws(() => reader.fetch('chr21', 0.5, 10), RangeError);
    reader.close();
    t.throws(() => reader.fetch('chr21', 0, 10), /closed/);
  } finally {
    reader.close();
  }
});

t.test('a large fetch cycles the block cache and stays correct', async (t) => {
  const path = sharedDataPath('reference/grch38/grch38.chr20_and_21_10M.fa.gz');
  const ref = readWholeFasta(path).get('chr20')!;
  const reader = FastaReader.open(path, { cacheBlocks: 4 });
  try {
    // ~5 MB spans about 80 blocks: far more than the 4 kept, so early blocks are evicted and re-read.
    t.equal(reader.fetch('chr20', 1_000_003, 6_000_011), ref.slice(1_000_003, 6_000_011).toUpperCase());
    t.equal(reader.fetch('chr20', 1_000_003, 1_000_503), ref.slice(1_000_003, 1_000_503).toUpperCase());
    t.equal(reader.fetch('chr20', 9_999_000, 10_000_000), ref.slice(9_999_000).toUpperCase());
  } finally {
    reader.close();
  }
});

t.test('100,000 random 3-base fetches in the GRCh38 chr20 window (timing)', async (t) => {
  const path = sharedDataPath('reference/grch38/grch38.chr20_and_21_10M.fa.gz');
  const N = 100_000;
  // chr20:60,001-10,000,000 is real sequence (the first 60 kb are the telomere Ns): ~153 BGZF blocks.
  const [w0, w1] = [60_000, 10_000_000];
  const starts = new Int32Array(N);
  const rnd = seededRandom(7);
  for (let i = 0; i < N; i++) starts[i] = w0 + Math.floor(rnd() * (w1 - w0 - 3));
  const sorted = Int32Array.from(starts).sort();
  const ref = readWholeFasta(path).get('chr20')!;
  const run = (positions: Int32Array, label: string) => {
    const reader = FastaReader.open(path);
    const got = new Array<string>(N);
    try {
      const t0 = performance.now();
      for (let i = 0; i < N; i++) got[i] = reader.fetch('chr20', positions[i]!, positions[i]! + 3);
      const ms = performance.now() - t0;
      t.comment(
        `${N} ${label} 3-base fetches over chr20:60,001-10,000,000: ${ms.toFixed(0)} ms (${((ms * 1000) / N).toFixed(1)} µs each, 64-block cache)`,
      );
    } finally {
      reader.close();
    }
    const fetches = new Mismatches(t, `${label}: every fetch gives the bases of an independent full read`);
    for (let i = 0; i < N; i++) {
      const want = ref.slice(positions[i], positions[i]! + 3).toUpperCase();
      fetches.same(got[i], want, `${label} fetch ${i} at ${positions[i]}`);
    }
    fetches.done();
  };
  run(starts, 'uniformly random');
  // Same positions in genome order, as a sorted VCF asks for them.
  run(sorted, 'sorted');
});

/** A small FASTA exercising the layouts samtools accepts: uneven last lines, descriptions, no final newline. */
const PLAIN_RECORDS: Array<{ header: string; name: string; seq: string; width: number }> = [
  { header: 'chr1 first record, with a description', name: 'chr1', seq: 'ACGTACGTTTGGCCAANNNNacgtacgtaacc'.repeat(3) + 'GAT', width: 10 },
  { header: 'chrM\tmitochondrion', name: 'chrM', seq: 'GATCACAGGTCTATCACCCTATTAACCACTCACGGGAGCTC', width: 7 },
  { header: 'exact', name: 'exact', seq: 'AAAACCCCGGGGTTTT', width: 4 },
  { header: 'one_line', name: 'one_line', seq: 'TTAGGG', width: 60 },
  { header: 'empty', name: 'empty', seq: '', width: 60 },
  { header: '20', name: '20', seq: 'acgtnACGTNacgtn'.repeat(5) + 'A', width: 13 },
];

function fastaText(records: typeof PLAIN_RECORDS, eol = '\n', finalNewline = false): string {
  const parts: string[] = [];
  for (const r of records) {
    parts.push(`>${r.header}${eol}`);
    for (let i = 0; i < r.seq.length; i += r.width) parts.push(r.seq.slice(i, i + r.width) + eol);
  }
  const text = parts.join('');
  return finalNewline ? text : text.replace(/\r?\n$/, '');
}

function checkEveryRange(t: Test, reader: FastaReader, records: typeof PLAIN_RECORDS, label: string): void {
  const ranges = new Mismatches(t, `${label}: every range of every record`);
  for (const r of records) {
    t.equal(reader.length(r.name), r.seq.length, `${r.name} length`);
    for (let s = -2; s <= r.seq.length + 1; s++) {
      for (let e = s; e <= r.seq.length + 2; e++) {
        const want = r.seq.slice(Math.max(0, s), Math.max(0, Math.min(r.seq.length, e))).toUpperCase();
        ranges.same(reader.fetch(r.name, s, e), want, `${r.name}:${s}-${e}`);
      }
    }
  }
  ranges.done();
}

t.test('plain FASTA without a .fai: the index is built by one scan', async (t) => {
  const dir = t.testdir();
  for (const [label, eol, finalNewline] of [
    ['LF', '\n', false],
    ['LF, final newline', '\n', true],
    ['CRLF', '\r\n', true],
  ] as const) {
    const path = join(dir, `plain-${label.replace(/\W+/g, '_')}.fa`);
    writeFileSync(path, fastaText(PLAIN_RECORDS, eol, finalNewline), 'latin1');
    const reader = FastaReader.open(path);
    try {
      t.equal(existsSync(`${path}.fai`), false, 'nothing written next to the input');
      t.strictSame(
        reader.names(),
        PLAIN_RECORDS.map((r) => r.name),
        label,
      );
      checkEveryRange(t, reader, PLAIN_RECORDS, label);
      t.equal(reader.fetch('MT', 0, 9), 'GATCACAGG', `${label}: MT finds chrM`);
      t.equal(reader.fetch('1', 0, 4), 'ACGT', `${label}: 1 finds chr1`);
      t.equal(reader.fetch('chr20', 0, 5), 'ACGTN', `${label}: chr20 finds 20`);
    } finally {
      reader.close();
    }
  }

  // A .fai on disk is trusted without a scan, so a stale one shows up as a clear error on fetch.
  const path = join(dir, 'indexed.fa');
  writeFileSync(path, fastaText(PLAIN_RECORDS));
  writeFileSync(`${path}.fai`, '20\t76\t999999\t13\t14\n');
  const stale = FastaReader.open(path);
  try {
    t.strictSame(stale.names(), ['20'], 'the .fai on disk wins over a scan');
    t.throws(() => stale.fetch('20', 0, 5), /does not match/);
  } finally {
    stale.close();
  }
});

t.test('FASTA layouts that cannot be indexed are refused with a reason', async (t) => {
  const dir = t.testdir();
  const cases: Array<[string, RegExp]> = [
    ['>a\nACGT\nAC\nACGT\n', /different lengths/],
    ['>a\nACGT\nACGTA\n', /different lengths/],
    ['>a\nACGT\n\nACGT\n', /blank line/],
    ['ACGT\n>a\nACGT\n', /before the first/],
    ['>a\nAC\n>a\nGT\n', /twice/],
  ];
  for (const [i, [text, why]] of cases.entries()) {
    const path = join(dir, `bad${i}.fa`);
    writeFileSync(path, text);
    t.throws(() => FastaReader.open(path), why, JSON.stringify(text));
  }
  // Trailing blank lines after the last sequence line are harmless.
  const ok = join(dir, 'trailing.fa');
  writeFileSync(ok, '>a\nACGT\nAC\n\n\n>b\nGG\n');
  const reader = FastaReader.open(ok);
  try {
    t.equal(reader.fetch('a', 0, 10), 'ACGTAC');
    t.equal(reader.fetch('b', 0, 10), 'GG');
  } finally {
    reader.close();
  }
});

t.test('plain gzip FASTA is refused with the bgzip / samtools faidx fix', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'plain.fa.gz');
  writeFileSync(path, gzipSync(fastaText(PLAIN_RECORDS)));
  const err = t.throws(() => FastaReader.open(path), Error);
  if (err instanceof Error) {
    t.match(err.message, /plain gzip/);
    t.match(err.message, /bgzip/);
    t.match(err.message, /samtools faidx/);
  }
});

t.test('BGZF with tiny blocks: no indexes (scanned), then with .gzi and .fai', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'tiny.fa.gz');
  const { file, gzi } = bgzf(Buffer.from(fastaText(PLAIN_RECORDS, '\n', true)), 17);
  writeFileSync(path, file);
  t.equal(gunzipSync(file).toString(), fastaText(PLAIN_RECORDS, '\n', true), 'the test writer makes valid gzip');

  const scanned = FastaReader.open(path);
  try {
    checkEveryRange(t, scanned, PLAIN_RECORDS, 'no indexes');
  } finally {
    scanned.close();
  }

  writeFileSync(`${path}.gzi`, gzi);
  const text = fastaText(PLAIN_RECORDS, '\n', true);
  // The .fai as samtools writes it, computed here from the text layout.
  let offset = 0;
  const lines: string[] = [];
  for (const r of PLAIN_RECORDS) {
    offset = text.indexOf(`>${r.header}\n`, offset) + r.header.length + 2;
    const lb = r.seq.length === 0 ? 0 : Math.min(r.width, r.seq.length);
    lines.push(`${r.name}\t${r.seq.length}\t${offset}\t${lb}\t${lb === 0 ? 0 : lb + 1}`);
  }
  writeFileSync(`${path}.fai`, lines.join('\n') + '\n');
  const indexed = FastaReader.open(path, { cacheBlocks: 2 });
  try {
    checkEveryRange(t, indexed, PLAIN_RECORDS, '.gzi and .fai');
  } finally {
    indexed.close();
  }
});
