// The BGZF writer and the tabix index built beside it: any gzip reader and the engine read the
// file back, and htslib (tabix, bcftools) answers region queries with our index exactly as with the
// index it builds itself.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import { seededRandom, sharedDataPath } from '@gas/testing';
import { BGZF_BLOCK_DATA, BGZF_EOF, BgzfWriter, bgzfSync } from '../src/bgzf-writer.ts';
import { indexedBgzfWriter, reg2bin, TabixIndexBuilder } from '../src/tabix-index.ts';
import { annotateVcf } from '../src/index.ts';

const TABIX = '/usr/bin/tabix';
const BCFTOOLS = '/usr/bin/bcftools';
const haveHtslib = existsSync(TABIX) && existsSync(BCFTOOLS);
const noHtslib = haveHtslib ? false : `${TABIX} or ${BCFTOOLS} is not installed (Debian packages tabix and bcftools)`;

/** Writes `text` through the indexing writer in pieces of `step` bytes; the file and its index. */
async function write(text: Buffer, step = 100_000): Promise<{ file: Buffer; tbi: Buffer | null; indexer: TabixIndexBuilder }> {
  const { writer, indexer } = indexedBgzfWriter();
  const out: Buffer[] = [];
  const pieces = (function* () {
    for (let at = 0; at < text.length; at += step) yield text.subarray(at, at + step);
  })();
  await pipeline(
    Readable.from(pieces),
    writer,
    new Writable({
      write(c: Buffer, _e, cb) {
        out.push(c);
        cb();
      },
    }),
  );
  return { file: Buffer.concat(out), tbi: indexer.finish(), indexer };
}

/** BGZF blocks: [offset, BSIZE + 1, ISIZE]. */
function blocks(file: Buffer): Array<[number, number, number]> {
  const list: Array<[number, number, number]> = [];
  for (let at = 0; at < file.length;) {
    t.equal(file.subarray(at + 12, at + 14).toString(), 'BC');
    const size = file.readUInt16LE(at + 16) + 1;
    list.push([at, size, file.readUInt32LE(at + size - 4)]);
    at += size;
  }
  return list;
}

const HEADER = '##fileformat=VCFv4.2\n##contig=<ID=1>\n##contig=<ID=2>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n';

t.test('the BGZF writer: full blocks of 65,280 bytes, the EOF block, any gzip reader reads it back', async (t) => {
  const rnd = seededRandom(7);
  // Incompressible bytes too: a block must still fit BSIZE.
  const text = Buffer.concat([
    Buffer.from('x'.repeat(200_000)),
    Buffer.from(Array.from({ length: 150_000 }, () => Math.floor(rnd() * 256))),
  ]);
  const { file } = await write(text, 7_777);
  t.ok(gunzipSync(file).equals(text), 'gunzip gives the text back');
  const list = blocks(file);
  t.strictSame(
    list.map((b) => b[2]),
    [BGZF_BLOCK_DATA, BGZF_BLOCK_DATA, BGZF_BLOCK_DATA, BGZF_BLOCK_DATA, BGZF_BLOCK_DATA, text.length - 5 * BGZF_BLOCK_DATA, 0],
  );
  t.ok(file.subarray(-28).equals(BGZF_EOF), 'ends with the EOF block');
  t.ok(gunzipSync(bgzfSync(text, { blockBytes: 1000 })).equals(text), 'bgzfSync with small blocks');
  const empty = Buffer.concat(
    await (async () => {
      const out: Buffer[] = [];
      const w = new BgzfWriter();
      w.on('data', (c: Buffer) => out.push(c));
      w.end();
      await new Promise((r) => w.on('end', r));
      return out;
    })(),
  );
  t.ok(empty.equals(BGZF_EOF), 'no input: the EOF block alone');
});

t.test('the writer copies its input: the caller may reuse a buffer once its write has completed', async (t) => {
  const w = new BgzfWriter();
  const out: Buffer[] = [];
  w.on('data', (c: Buffer) => out.push(c));
  const buf = Buffer.alloc(1000);
  const expected: Buffer[] = [];
  for (let i = 0; i < 100; i++) {
    buf.fill(65 + (i % 26));
    expected.push(Buffer.from(buf));
    await new Promise<void>((r) => w.write(buf, () => r()));
  }
  w.end();
  await new Promise((r) => w.on('end', r));
  t.ok(gunzipSync(Buffer.concat(out)).equals(Buffer.concat(expected)));
});

t.test('reg2bin follows the SAM specification', async (t) => {
  t.equal(reg2bin(0, 1), 4681);
  t.equal(reg2bin(16383, 16385), 585);
  t.equal(reg2bin(0, 2 ** 29), 0);
  t.equal(reg2bin(1 << 26, (1 << 26) + 1), 4681 + (1 << 12));
});

t.test('files that cannot be indexed: no index, and the reason', async (t) => {
  const cases: Array<[string, RegExp]> = [
    [HEADER + '1\t200\t.\tA\tG\t.\t.\t.\n1\t100\t.\tA\tG\t.\t.\t.\n', /1:100 comes after 1:200: the file is not sorted/],
    [HEADER + '1\t1\t.\tA\tG\t.\t.\t.\n2\t1\t.\tA\tG\t.\t.\t.\n1\t5\t.\tA\tG\t.\t.\t.\n', /the records of 1 are not together/],
    [HEADER + '1\t600000000\t.\tA\tG\t.\t.\t.\n', /beyond what a \.tbi index holds/],
    [HEADER + '1\tx\t.\tA\tG\t.\t.\t.\n', /POS is not a number/],
    [HEADER + '1\t5\n', /fewer than five columns/],
  ];
  for (const [text, reason] of cases) {
    const { tbi, indexer, file } = await write(Buffer.from(text));
    t.equal(tbi, null);
    t.match(indexer.unindexable, reason);
    t.equal(gunzipSync(file).toString(), text, 'the file is written all the same');
  }
});

t.test('htslib answers region queries with our index exactly as with its own', { skip: noHtslib }, async (t) => {
  const dir = t.testdir();
  // Records of varied lengths and spans, END= in INFO, lines across block boundaries, three chromosomes.
  const rnd = seededRandom(11);
  const info = ['END,Number=1,Type=Integer', 'SVEND,Number=1,Type=Integer', 'SVTYPE,Number=1,Type=String', 'X,Number=1,Type=String'];
  const meta = info.map((i) => `##INFO=<ID=${i},Description="a field">\n`).join('') + '##contig=<ID=X>\n#CHROM';
  const lines: string[] = [HEADER.replace('#CHROM', meta).trimEnd()];
  for (const chrom of ['1', '2', 'X']) {
    let pos = 1;
    for (let i = 0; i < 4000; i++) {
      pos += Math.floor(rnd() * (rnd() < 0.01 ? 400_000 : 3000));
      const ref = 'ACGT'.repeat(1 + Math.floor(rnd() * 3)).slice(0, 1 + Math.floor(rnd() * 10));
      const field =
        rnd() < 0.05
          ? `SVTYPE=DEL;END=${pos + Math.floor(rnd() * 100_000)}`
          : rnd() < 0.05
            ? `SVEND=5;X=${'y'.repeat(Math.floor(rnd() * 300))}`
            : '.';
      lines.push(`${chrom}\t${pos}\t.\t${ref}\tA\t.\tPASS\t${field}`);
    }
  }
  const text = Buffer.from(lines.join('\n') + '\n');
  const { file, tbi, indexer } = await write(text, 33_333);
  t.ok(tbi, `indexed: ${String(indexer.unindexable)}`);
  writeFileSync(join(dir, 'ours.vcf.gz'), file);
  writeFileSync(join(dir, 'ours.vcf.gz.tbi'), tbi!);
  writeFileSync(join(dir, 'theirs.vcf.gz'), file);
  execFileSync(TABIX, ['-p', 'vcf', join(dir, 'theirs.vcf.gz')]);
  const query = (name: string, region: string) => execFileSync(TABIX, [join(dir, name), region], { maxBuffer: 64 << 20 }).toString();
  let rows = 0;
  for (let i = 0; i < 60; i++) {
    const chrom = ['1', '2', 'X'][i % 3]!;
    const from = 1 + Math.floor(rnd() * 8_000_000);
    const region = `${chrom}:${from}-${from + Math.floor(rnd() * (i % 2 ? 5_000 : 2_000_000))}`;
    const ours = query('ours.vcf.gz', region);
    t.equal(ours, query('theirs.vcf.gz', region), region);
    rows += ours.split('\n').length - 1;
  }
  t.ok(rows > 1000, `the queries returned rows (${rows})`);
  t.equal(
    execFileSync(BCFTOOLS, ['view', '-H', join(dir, 'ours.vcf.gz')], { maxBuffer: 64 << 20 })
      .toString()
      .split('\n').length - 1,
    12_000,
  );
  t.equal(
    execFileSync(BCFTOOLS, ['view', '-H', '-r', '2:1-500000', join(dir, 'ours.vcf.gz')]).toString(),
    execFileSync(BCFTOOLS, ['view', '-H', '-r', '2:1-500000', join(dir, 'theirs.vcf.gz')]).toString(),
    'bcftools view -r uses the index the same way',
  );
});

t.test(
  'the engine writes straight into it: the shared 184,632-record VCF, annotated, indexed and queried',
  { skip: noHtslib },
  async (t) => {
    const dir = t.testdir();
    const { writer, indexer } = indexedBgzfWriter();
    const chunks: Buffer[] = [];
    writer.on('data', (c: Buffer) => chunks.push(c));
    const done = new Promise((r) => writer.on('end', r));
    const input = readFileSync(sharedDataPath('vcf/grch37/NIST_NA12878_v2.19_complex_1ormoreindels.vcf.gz'));
    const summary = await annotateVcf({ input: Readable.from([input]), vcfOut: writer, reuseOutputBuffers: true });
    writer.end();
    await done;
    writeFileSync(join(dir, 'out.vcf.gz'), Buffer.concat(chunks));
    writeFileSync(join(dir, 'out.vcf.gz.tbi'), indexer.finish()!);
    t.equal(summary.records, 184_632);
    const all = execFileSync(BCFTOOLS, ['view', '-H', join(dir, 'out.vcf.gz')], { maxBuffer: 256 << 20 }).toString();
    t.equal(all.split('\n').length - 1, 184_632, 'bcftools view -H reads every record');
    const hits = execFileSync(TABIX, [join(dir, 'out.vcf.gz'), '1:1000000-2000000']).toString();
    // The records whose REF overlaps the region, in file order.
    const expected = all.split('\n').filter((l) => {
      const [c, p, , ref] = l.split('\t', 4);
      return c === '1' && Number(p) <= 2_000_000 && Number(p) + ref!.length - 1 >= 1_000_000;
    });
    t.ok(expected.length > 10);
    t.equal(hits, expected.join('\n') + '\n', 'tabix returns exactly the records of the region');
  },
);

t.test('the writer holds back the caller once its output backs up (the engine waits for drain)', async (t) => {
  const w = new BgzfWriter({ inFlight: 1 });
  const sink = new PassThrough({ highWaterMark: 1 });
  w.pipe(sink);
  let wrote = 0;
  for (let i = 0; i < 20 && w.write(Buffer.alloc(BGZF_BLOCK_DATA, 65)); i++) wrote++;
  t.ok(wrote < 20, `write() asks the caller to wait once output backs up (after ${wrote} blocks)`);
  sink.resume();
  w.end();
  await new Promise((r) => sink.on('end', r));
});
