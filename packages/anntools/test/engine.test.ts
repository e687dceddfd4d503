import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { Readable, PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { annotateVcf, formatCountLog, whyNotVcf, VcfFormatError } from '../src/index.ts';
import { sharedDataPath } from '@gas/testing';

const HEADER = '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n';

async function run(text: string | Buffer) {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const counts = await annotateVcf({ input: Readable.from([Buffer.from(text)]), vcfOut: out });
  return { counts, output: Buffer.concat(chunks).toString() };
}

test('counts records and alleles of the shared free_1.vcf (multi-allelic per ALT)', async () => {
  const out = new PassThrough();
  out.resume();
  const counts = await annotateVcf({ input: createReadStream(sharedDataPath('vcf/gas_anntools/free_1.vcf')), vcfOut: out });
  // 1147 lines − 6 header lines; 30 records carry two ALTs and one carries three.
  assert.equal(counts.records, 1141);
  assert.equal(counts.alleles, 1173);
  assert.equal(counts.snvs + counts.indels + counts.other, counts.alleles);
});

test('gzip input gives the same counts as plain', async () => {
  const body = HEADER + '1\t10\t.\tA\tG,T\t.\t.\t.\n1\t20\t.\tAC\tA\t.\t.\t.\n';
  const plain = await run(body);
  const gz = await run(gzipSync(body));
  assert.deepEqual({ ...gz.counts, runtimeSeconds: 0 }, { ...plain.counts, runtimeSeconds: 0 });
  assert.equal(plain.counts.records, 2);
  assert.equal(plain.counts.alleles, 3);
  assert.equal(plain.counts.snvs, 2);
  assert.equal(plain.counts.indels, 1);
});

test('output keeps original columns and declares the engine in the header', async () => {
  const line = '1\t10\trs1\tA\tG\t50\tPASS\tDP=3';
  const { output } = await run(HEADER + line + '\n');
  const lines = output.trimEnd().split('\n');
  assert.equal(lines.at(-1), line);
  assert.ok(lines.some((l) => l.startsWith('##GAS_engine=')));
  assert.ok(lines.indexOf(lines.find((l) => l.startsWith('#CHROM'))!) > lines.findIndex((l) => l.startsWith('##GAS_engine')));
});

const bad: Array<[string, string, number, string]> = [
  ['bad POS', HEADER + '1\t10\t.\tA\tG\t.\t.\t.\n1\tabc\t.\tA\tG\t.\t.\t.\n', 4, 'POS'],
  ['too few columns', HEADER + '1\t10\t.\tA\n', 3, 'columns'],
  ['bad REF', HEADER + '1\t10\t.\tAXZ\tG\t.\t.\t.\n', 3, 'REF'],
  ['bad ALT', HEADER + '1\t10\t.\tA\tG,hello\t.\t.\t.\n', 3, 'ALT'],
  ['no fileformat', '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n', 1, 'header'],
  ['data before #CHROM', '##fileformat=VCFv4.1\n1\t10\t.\tA\tG\t.\t.\t.\n', 2, 'header'],
  ['no #CHROM line', '##fileformat=VCFv4.1\n##source=x\n', 3, 'header'],
];
for (const [name, text, line, field] of bad) {
  test(`malformed input fails with line and field: ${name}`, async () => {
    await assert.rejects(run(text), (err: unknown) => {
      assert.ok(err instanceof VcfFormatError, String(err));
      assert.equal(err.line, line);
      assert.equal(err.field, field);
      assert.match(err.message, new RegExp(`^line ${line}: ${field}: `));
      return true;
    });
  });
}

test('symbolic, missing and star ALTs are accepted and counted as other', async () => {
  const { counts } = await run(HEADER + '1\t10\t.\tA\t<DEL>\t.\t.\t.\n1\t11\t.\tA\t*\t.\t.\t.\n1\t12\t.\tA\t.\t.\t.\t.\n');
  assert.equal(counts.other, 3);
});

test('a line longer than the limit is refused instead of buffered', async () => {
  const long = HEADER + '1\t10\t.\tA\tG\t.\t.\t' + 'X'.repeat(5000) + '\n';
  await assert.rejects(
    annotateVcf({ input: Readable.from([Buffer.from(long)]), vcfOut: new PassThrough().resume(), limits: { maxLineBytes: 1000, maxDecompressedBytes: 1e9 } }),
    /line 3: line: longer than 1000 bytes/,
  );
});

test('whyNotVcf accepts VCF heads (plain and gzip) and explains other files', () => {
  assert.equal(whyNotVcf(Buffer.from(HEADER)), null);
  assert.equal(whyNotVcf(gzipSync(HEADER).subarray(0, 30)), null);
  assert.match(whyNotVcf(Buffer.from('%PDF-1.4 ...'))!, /must start with "##fileformat=VCF/);
  assert.match(whyNotVcf(Buffer.alloc(0))!, /empty/);
});

test('the count log keeps the original labels and counts records, not records + 1', async () => {
  const { counts } = await run(HEADER + '1\t10\t.\tA\tG,T\t.\t.\t.\n1\t20\t.\tAC\tA\t.\t.\t.\n');
  const text = formatCountLog('x.vcf', counts);
  assert.match(text, /^Total: 2$/m);
  assert.match(text, /^Alleles: 3$/m);
  assert.match(text, /^In dbSNP: 0 \(0\.00%\)$/m);
  assert.match(text, /^Variants located:$/m);
});
