import t from 'tap';
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

t.test('counts records and alleles of the shared free_1.vcf (multi-allelic per ALT)', async (t) => {
  const out = new PassThrough();
  out.resume();
  const counts = await annotateVcf({ input: createReadStream(sharedDataPath('vcf/gas_anntools/free_1.vcf')), vcfOut: out });
  // 1147 lines − 6 header lines; 30 records carry two ALTs and one carries three.
  t.equal(counts.records, 1141);
  t.equal(counts.alleles, 1173);
  t.equal(counts.snvs + counts.indels + counts.other, counts.alleles);
});

t.test('gzip input gives the same counts as plain', async (t) => {
  const body = HEADER + '1\t10\t.\tA\tG,T\t.\t.\t.\n1\t20\t.\tAC\tA\t.\t.\t.\n';
  const plain = await run(body);
  const gz = await run(gzipSync(body));
  t.strictSame({ ...gz.counts, runtimeSeconds: 0 }, { ...plain.counts, runtimeSeconds: 0 });
  t.equal(plain.counts.records, 2);
  t.equal(plain.counts.alleles, 3);
  t.equal(plain.counts.snvs, 2);
  t.equal(plain.counts.indels, 1);
});

t.test('output keeps original columns and declares the engine in the header', async (t) => {
  const line = '1\t10\trs1\tA\tG\t50\tPASS\tDP=3';
  const { output } = await run(HEADER + line + '\n');
  const lines = output.trimEnd().split('\n');
  t.equal(lines.at(-1), line);
  t.ok(lines.some((l) => l.startsWith('##GAS_engine=')));
  t.ok(lines.indexOf(lines.find((l) => l.startsWith('#CHROM'))!) > lines.findIndex((l) => l.startsWith('##GAS_engine')));
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
  t.test(`malformed input fails with line and field: ${name}`, async (t) => {
    const err = await t.rejects(run(text), VcfFormatError);
    if (!(err instanceof VcfFormatError)) return;
    t.equal(err.line, line);
    t.equal(err.field, field);
    t.match(err.message, new RegExp(`^line ${line}: ${field}: `));
  });
}

t.test('symbolic, missing and star ALTs are accepted and counted as other', async (t) => {
  const { counts } = await run(HEADER + '1\t10\t.\tA\t<DEL>\t.\t.\t.\n1\t11\t.\tA\t*\t.\t.\t.\n1\t12\t.\tA\t.\t.\t.\t.\n');
  t.equal(counts.other, 3);
});

t.test('a line longer than the limit is refused instead of buffered', async (t) => {
  const long = HEADER + '1\t10\t.\tA\tG\t.\t.\t' + 'X'.repeat(5000) + '\n';
  await t.rejects(
    annotateVcf({
      input: Readable.from([Buffer.from(long)]),
      vcfOut: new PassThrough().resume(),
      limits: { maxLineBytes: 1000, maxDecompressedBytes: 1e9 },
    }),
    /line 3: line: longer than 1000 bytes/,
  );
});

t.test('whyNotVcf accepts VCF heads (plain and gzip) and explains other files', async (t) => {
  t.equal(whyNotVcf(Buffer.from(HEADER)), null);
  t.equal(whyNotVcf(gzipSync(HEADER).subarray(0, 30)), null);
  t.match(whyNotVcf(Buffer.from('%PDF-1.4 ...'))!, /must start with "##fileformat=VCF/);
  t.match(whyNotVcf(Buffer.alloc(0))!, /empty/);
});

t.test('the count log keeps the original labels and counts records, not records + 1', async (t) => {
  const { counts } = await run(HEADER + '1\t10\t.\tA\tG,T\t.\t.\t.\n1\t20\t.\tAC\tA\t.\t.\t.\n');
  const text = formatCountLog('x.vcf', counts);
  t.match(text, /^Total: 2$/m);
  t.match(text, /^Alleles: 3$/m);
  t.match(text, /^In dbSNP: 0 \(0\.00%\)$/m);
  t.match(text, /^Variants located:$/m);
});
