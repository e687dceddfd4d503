// What the readers accept and where they stop: a UTF-8 byte-order mark dropped in plain, gzip and
// BGZF input (split across reads too), caps on decompressed bytes and on records that name the line
// where they were passed, and the upload sniff on the same inputs.
import t from 'tap';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { bgzf } from '@gas/testing';
import { annotateVcf, InputCapError, readLines, VcfFormatError, whyNotVcf } from '../src/index.ts';
import type { AnnotateOptions } from '../src/index.ts';
import { recordsWithin } from '../src/engine.ts';

const HEADER = '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n';
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const records = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `1\t${from + i}\t.\tA\tG\t.\t.\t.\n`).join('');

/** Reads of `step` bytes, so a BOM or a gzip header can be split between them. */
function source(bytes: Buffer, step = bytes.length): Readable {
  return Readable.from(
    (function* () {
      for (let at = 0; at < bytes.length; at += step) yield bytes.subarray(at, at + step);
    })(),
  );
}

async function run(bytes: Buffer, step?: number, opts: Partial<AnnotateOptions> = {}) {
  const vcfOut = new PassThrough();
  const out: Buffer[] = [];
  vcfOut.on('data', (c: Buffer) => out.push(c));
  const summary = await annotateVcf({ input: source(bytes, step), vcfOut, ...opts });
  return { summary, vcf: Buffer.concat(out).toString('utf8') };
}

const text = Buffer.from(HEADER + records(3000));
const withBom = Buffer.concat([BOM, text]);
const inputs: Array<[string, Buffer]> = [
  ['plain', withBom],
  ['gzip', gzipSync(withBom)],
  ['BGZF', bgzf(withBom, 1000).file],
  // The mark in the decompressed stream, split from the rest by the block boundary.
  ['BGZF, the mark alone in the first block', Buffer.concat([bgzf(BOM).file.subarray(0, -28), bgzf(text, 700).file])],
];

t.test('a UTF-8 byte-order mark at the start is dropped: plain, gzip and BGZF, read whole or a byte at a time', async (t) => {
  const expected = await run(text);
  t.equal(expected.summary.records, 3000);
  for (const [label, bytes] of inputs) {
    for (const step of [bytes.length, 1, 2, 7]) {
      const got = await run(bytes, step);
      t.equal(got.summary.records, 3000, `${label}, reads of ${step}: every record`);
      t.equal(got.vcf, expected.vcf, `${label}, reads of ${step}: the same output, without the mark`);
    }
    t.equal(whyNotVcf(bytes.subarray(0, 4096)), null, `${label}: the sniff accepts it`);
  }
  // Only at the start: a mark later in the file is part of its line.
  const inside = Buffer.concat([Buffer.from(HEADER), BOM, Buffer.from(records(1))]);
  t.match((await run(inside)).vcf, /\n\uFEFF1\t1\t/);
  // The readers of reference sources drop it too.
  const lines: string[] = [];
  for await (const [line] of readLines(source(Buffer.concat([BOM, Buffer.from('a\nb\n')]), 1))) lines.push(line);
  t.strictSame(lines, ['a', 'b']);
});

t.test('a file shorter than a byte-order mark, or only the mark, is refused as empty or not a VCF', async (t) => {
  for (const bytes of [Buffer.from('#'), BOM.subarray(0, 2), BOM]) {
    const err = await t.rejects(run(bytes), VcfFormatError);
    t.equal((err as VcfFormatError).line, 1);
  }
  t.equal(whyNotVcf(BOM), 'the file is empty');
  t.equal(whyNotVcf(Buffer.from('##fileformat=VCFv4.2\n')), null);
  t.equal(whyNotVcf(Buffer.from('##filefo')), null, 'a head cut short is judged on what it has');
  t.match(
    whyNotVcf(Buffer.from('##filefo'), { complete: true }),
    /must start with "##fileformat=VCFv4\.x"/,
    'but not a whole file that short',
  );
});

t.test('the records cap stops the run at the first record past it, naming its line; blank lines do not count', async (t) => {
  const input = Buffer.from(HEADER + records(10) + '\n\n' + records(100_000, 11));
  const err = await t.rejects(run(input, 4096, { limits: { maxRecords: 50_000 } }), InputCapError);
  const e = err as InputCapError;
  t.equal(e.cap, 'records');
  t.equal(e.limit, 50_000);
  // Two header lines, two blank lines, then record 50,001.
  t.equal(e.line, 2 + 2 + 50_001);
  t.equal(e.message, `line ${2 + 2 + 50_001}: input: more than 50000 records`);
  t.ok(e instanceof VcfFormatError, 'a located input error, like any other');
  const fits = await run(input, 4096, { limits: { maxRecords: 100_010 } });
  t.equal(fits.summary.records, 100_010, 'a file at the cap passes');
  const outBefore = await (async () => {
    const vcfOut = new PassThrough();
    let bytes = 0;
    vcfOut.on('data', (c: Buffer) => (bytes += c.length));
    await annotateVcf({ input: source(input, 65536), vcfOut, limits: { maxRecords: 1000 } }).catch(() => undefined);
    return bytes;
  })();
  t.ok(outBefore < 200_000, `the output stops near the cap (${outBefore} bytes written for 1,000 records)`);
});

t.test('recordsWithin counts non-blank lines and finds the first one past the allowance', async (t) => {
  const chunk = Buffer.from('a\n\r\nb\n\nc\nd');
  t.strictSame(recordsWithin(chunk, 10), { records: 4, at: -1 });
  t.strictSame(recordsWithin(chunk, 2), { records: 2, at: 7 });
  t.strictSame(recordsWithin(chunk, 0), { records: 0, at: 0 });
  t.strictSame(recordsWithin(Buffer.alloc(0), 0), { records: 0, at: -1 });
});

t.test('the decompressed cap names the line it stopped in, for plain, gzip and BGZF input', async (t) => {
  const body = Buffer.from(HEADER + records(50_000));
  const cap = 500_000;
  const expectedLine = body.subarray(0, cap).toString('latin1').split('\n').length;
  for (const [label, bytes] of [
    ['plain', body],
    ['gzip', gzipSync(body)],
    ['BGZF', bgzf(body).file],
  ] as const) {
    const err = await t.rejects(run(bytes, 10_000, { limits: { maxDecompressedBytes: cap } }), InputCapError, label);
    t.equal((err as InputCapError).cap, 'decompressedBytes', label);
    t.equal((err as InputCapError).line, expectedLine, `${label}: the line holding byte ${cap + 1}`);
  }
});

t.test('the sniff names the byte offset of damage in a gzip head, and truncation of a whole file', async (t) => {
  const gz = gzipSync(text);
  t.equal(whyNotVcf(gz.subarray(0, 4096)), null);
  t.equal(whyNotVcf(gz, { complete: true }), null);
  const damaged = Buffer.from(gz);
  damaged[40] = damaged[40]! ^ 0xff;
  t.match(whyNotVcf(damaged.subarray(0, 4096)), /^the file is gzip-compressed but damaged at byte offset \d+ \(/);
  const at = Number(/offset (\d+)/.exec(whyNotVcf(damaged)!)![1]);
  t.ok(at >= 40 && at < 200, `the damage is found near byte 40 (${at})`);
  t.equal(
    whyNotVcf(gz.subarray(0, gz.length - 3), { complete: true }),
    `the gzip file ends early, at byte offset ${gz.length - 3} (truncated file?)`,
  );
  const badCrc = Buffer.from(gz);
  badCrc[gz.length - 6] = badCrc[gz.length - 6]! ^ 0xff;
  const crcAt = Number(
    /^the file is gzip-compressed but damaged at byte offset (\d+) \(incorrect data check\)$/.exec(whyNotVcf(badCrc)!)?.[1],
  );
  t.ok(crcAt >= gz.length - 8 && crcAt < gz.length, `the checksum's bytes (${crcAt})`);
  const trailing = Buffer.concat([gz, Buffer.from('junk after the stream')]);
  t.match(whyNotVcf(trailing, { complete: true }), /^the file is gzip-compressed but damaged/);
  t.equal(whyNotVcf(gzipSync(Buffer.alloc(0)), { complete: true }), 'the file is empty once decompressed');
});
