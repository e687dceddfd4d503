// The engine's chunked pipeline: BGZF blocks inflated in groups, lines that span blocks and chunks,
// worker threads giving the same bytes as this thread, and errors numbered in the whole file.
import t from 'tap';
import { createWriteStream, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { bgzf as bgzfWithIndex, seededRandom, sharedDataPath, testReferenceDir } from '@gas/testing';
import { ChunkAnnotator } from '../src/chunk-annotator.ts';
import { classifyRegion } from '../src/annotation/region.ts';
import type { ChunkResult } from '../src/chunk-annotator.ts';

const bgzf = (data: Buffer, blockBytes?: number): Buffer => bgzfWithIndex(data, blockBytes).file;
import { annotateVcf, AnnotationPool, InputCapError, parseReferenceFile, readReferenceBytes, VcfFormatError } from '../src/index.ts';
import type { AnnotateOptions, LoadedReference } from '../src/index.ts';
import { Mismatches, sameBytes } from './mismatches.ts';

async function run(input: Buffer, opts: Partial<AnnotateOptions> = {}) {
  const vcfOut = new PassThrough();
  const tsvOut = new PassThrough();
  const vcf: Buffer[] = [];
  const tsv: Buffer[] = [];
  vcfOut.on('data', (c: Buffer) => vcf.push(c));
  tsvOut.on('data', (c: Buffer) => tsv.push(c));
  // Small reads, as a network stream gives them, so blocks and lines straddle reads.
  const source = Readable.from(
    (function* () {
      for (let at = 0; at < input.length; at += 50_000) yield input.subarray(at, at + 50_000);
    })(),
  );
  const summary = await annotateVcf({ input: source, vcfOut, tsvOut, ...opts });
  return { summary: { ...summary, runtimeSeconds: 0 }, vcf: Buffer.concat(vcf), tsv: Buffer.concat(tsv) };
}

const nistGz = readFileSync(sharedDataPath('vcf/grch37/NIST_NA12878_v2.19_complex_1ormoreindels.vcf.gz'));
const nist = gunzipSync(nistGz);

const referenceFile = join(await testReferenceDir(), 'GRCh37.gasref');
const referenceBytes = await readReferenceBytes(referenceFile);
const grch37: LoadedReference = parseReferenceFile(referenceBytes, referenceFile);
const references: Array<{ path: string; bytes: Buffer }> = [{ path: referenceFile, bytes: referenceBytes }];
const pool: AnnotationPool = await AnnotationPool.start({ references, workers: 2 });
t.teardown(() => pool.close());

t.test('the shared BGZF VCF (184,632 records) gives the same bytes as its plain text, in this thread and with two workers', async (t) => {
  t.equal(nistGz.subarray(12, 14).toString(), 'BC', 'the shared file is BGZF');
  const plain = await run(nist, { reference: grch37 });
  t.equal(plain.summary.records, 184_632);
  t.ok(plain.vcf.length > nist.length);
  const fromBgzf = await run(nistGz, { reference: grch37 });
  const withWorkers = await run(nistGz, { reference: grch37, pool });
  const gzip = await run(gzipSync(nist), { reference: grch37, pool });
  for (const [label, other] of [
    ['BGZF', fromBgzf],
    ['BGZF, two workers', withWorkers],
    ['gzip, two workers', gzip],
  ] as const) {
    t.strictSame(other.summary, plain.summary, `${label}: summary`);
    sameBytes(t, other.vcf, plain.vcf, `${label}: VCF`);
    sameBytes(t, other.tsv, plain.tsv, `${label}: TSV`);
  }
  // Every record came out once, in input order.
  const positions = (b: Buffer) =>
    b
      .toString('latin1')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split('\t', 2).join(':'));
  t.strictSame(positions(withWorkers.vcf), positions(nist), 'every record once, in input order');
});

t.test('output memory reused once written to files gives the same files, in this thread and with workers', async (t) => {
  const dir = t.testdir();
  const expected = await run(nistGz, { reference: grch37 });
  for (const withPool of [false, true]) {
    const vcfPath = join(dir, `out-${withPool}.vcf`);
    const tsvPath = join(dir, `out-${withPool}.tsv`);
    const vcfOut = createWriteStream(vcfPath);
    const tsvOut = createWriteStream(tsvPath);
    await annotateVcf({
      input: Readable.from([nistGz]),
      vcfOut,
      tsvOut,
      reference: grch37,
      pool: withPool ? pool : undefined,
      reuseOutputBuffers: true,
    });
    vcfOut.end();
    tsvOut.end();
    await Promise.all([finished(vcfOut), finished(tsvOut)]);
    sameBytes(t, await readFile(vcfPath), expected.vcf, `VCF, ${withPool ? 'with workers' : 'this thread'}`);
    sameBytes(t, await readFile(tsvPath), expected.tsv, `TSV, ${withPool ? 'with workers' : 'this thread'}`);
  }
});

t.test('a pool used at once, before its worker is ready, gives the same bytes; a worker that cannot start fails the run', async (t) => {
  const expected = await run(nistGz, { reference: grch37 });
  const spawned = AnnotationPool.spawn({ references, workers: 1 });
  try {
    const out = await run(nistGz, { reference: grch37, pool: spawned });
    sameBytes(t, out.vcf, expected.vcf, 'VCF');
    sameBytes(t, out.tsv, expected.tsv, 'TSV');
  } finally {
    await spawned.close();
  }
  const broken = AnnotationPool.spawn({ references: [{ path: 'broken.gasref', bytes: Buffer.from('not a reference file') }], workers: 1 });
  try {
    await t.rejects(run(nistGz, { reference: grch37, pool: broken }), 'a worker that cannot start fails the run');
  } finally {
    await broken.close();
  }
});

t.test('lines that span BGZF blocks and chunks arrive whole; small blocks and CRLF too', async (t) => {
  const header = '##fileformat=VCFv4.2\r\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\r\n';
  const lines: string[] = [];
  for (let i = 0; i < 60_000; i++) lines.push(`20\t${10_000_000 + i * 7}\trs${i}\tA\tG\t.\tPASS\tDP=${i}\tGT\t0/1`);
  const text = Buffer.from(header + lines.join('\r\n') + '\r\n');
  const out = await run(bgzf(text, 1000), { reference: grch37, pool });
  const body = out.vcf
    .toString('latin1')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));
  t.equal(body.length, 60_000);
  const whole = new Mismatches(t, 'every line arrives whole, with its own columns');
  body.forEach((l, i) => whole.ok(l.startsWith(`${lines[i]!.slice(0, lines[i]!.indexOf('\tGT'))};GAS_REGION=`), l));
  whole.done();
  t.ok(
    body.every((l) => l.endsWith('\tGT\t0/1')),
    'every line ends with its sample columns',
  );
});

t.test('an error in a late chunk names its line in the whole file, with workers too', async (t) => {
  const lines = ['##fileformat=VCFv4.2', '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO'];
  for (let i = 0; i < 200_000; i++) lines.push(`1\t${1000 + i}\t.\tC\tT\t.\t.\t.`);
  lines[150_001] = '1\t151001\t.\tC\tQ\t.\t.\t.';
  const input = bgzf(Buffer.from(lines.join('\n') + '\n'));
  for (const opts of [{ reference: grch37 }, { reference: grch37, pool }]) {
    const label = 'pool' in opts ? 'with workers' : 'this thread';
    const err = await t.rejects(run(input, opts), VcfFormatError, label);
    if (!(err instanceof VcfFormatError)) continue;
    t.equal(err.line, 150_002, label);
    t.equal(err.field, 'ALT', label);
  }
});

t.test('a too-long line after several chunks is refused with its line number', async (t) => {
  const lines = ['##fileformat=VCFv4.2', '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO'];
  for (let i = 0; i < 100_000; i++) lines.push(`1\t${1000 + i}\t.\tC\tT\t.\t.\t.`);
  lines.push(`1\t5\t.\tC\tT\t.\t.\t${'X'.repeat(3_000_000)}`);
  const err = await t.rejects(run(Buffer.from(lines.join('\n') + '\n'), { limits: { maxLineBytes: 2_000_000 } }), VcfFormatError);
  t.match(String(err), /^VcfFormatError: line 100003: line: longer than 2000000 bytes/);
});

t.test('damaged compressed input fails with a clear reason, the byte offset and the last complete line', async (t) => {
  const text = Buffer.from(
    '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n' + '1\t10\t.\tA\tG\t.\t.\t.\n'.repeat(20_000),
  );
  const lineAt = (bytes: number) => text.subarray(0, bytes).toString('latin1').split('\n').length;
  const good = bgzf(text, 4000);
  // Block starts: BSIZE + 1 at byte 16 of each block.
  const starts = [0];
  while (starts.at(-1)! < good.length) starts.push(starts.at(-1)! + good.readUInt16LE(starts.at(-1)! + 16) + 1);
  const cutIn = starts.findIndex((s) => s > good.length - 5000) - 1;
  let err = await t.rejects(run(good.subarray(0, good.length - 5000)), VcfFormatError);
  // Every whole line in the blocks before the truncated one was read: the error is at the next.
  const linesBefore = lineAt(cutIn * 4000) - 1;
  t.equal((err as VcfFormatError).line, linesBefore + 1);
  t.equal(
    (err as VcfFormatError).reason,
    `the compressed input ends in the middle of the BGZF block at byte offset ${starts[cutIn]} (truncated file?); the last complete line is ${linesBefore}`,
  );
  // A byte of the tenth block's compressed data (its 18-byte header comes first).
  const flipped = Buffer.from(good);
  flipped[starts[10]! + 20] = flipped[starts[10]! + 20]! ^ 0xff;
  err = await t.rejects(run(flipped), VcfFormatError);
  t.match(
    (err as VcfFormatError).reason,
    new RegExp(
      `^the BGZF block at byte offset ${starts[10]} of the compressed file is damaged \\(.+\\); the last complete line is ${lineAt(40_000) - 1}$`,
    ),
  );
  t.equal((err as VcfFormatError).line, lineAt(40_000));
  const gz = gzipSync(text);
  err = await t.rejects(run(gz.subarray(0, gz.length - 100)), VcfFormatError);
  t.match(
    (err as VcfFormatError).message,
    new RegExp(
      `^line \\d+: input: the gzip input ends early, at byte offset ${gz.length - 100} \\(truncated file\\?\\); the last complete line is \\d+$`,
    ),
  );
  // The bytes cut off held the last ~2,000 lines (back-references to the ones before).
  t.ok((err as VcfFormatError).line > 17_000, 'the lines before the end were read');
  // A damaged checksum at the end of a gzip stream: located to the 16 KiB slice zlib stopped in,
  // after every line before it.
  const badCrc = Buffer.from(gz);
  badCrc[gz.length - 6] = badCrc[gz.length - 6]! ^ 0xff;
  err = await t.rejects(run(badCrc), VcfFormatError);
  const m = /^the gzip data is damaged between byte offsets (\d+) and (\d+) of the compressed file \(incorrect data check\)/.exec(
    (err as VcfFormatError).reason,
  );
  t.ok(m, (err as VcfFormatError).message);
  if (m) t.ok(Number(m[1]) <= gz.length - 6 && Number(m[2]) === gz.length - 1 && Number(m[2]) - Number(m[1]) < 16_384, `${m[1]}..${m[2]}`);
  t.equal((err as VcfFormatError).line, 20_003, 'every line was read before the check failed');
});

t.test('a gzip bomb stops at the decompressed-size limit', async (t) => {
  const bomb = gzipSync(Buffer.concat([Buffer.from('##fileformat=VCFv4.2\n##x='), Buffer.alloc(50_000_000, 65)]));
  const err = await t.rejects(run(bomb, { limits: { maxDecompressedBytes: 10_000_000 } }), InputCapError);
  t.match(String(err), /^InputCapError: line 2: input: more than 10000000 bytes after decompression$/);
  t.equal((err as InputCapError).cap, 'decompressedBytes');
});

t.test('VCF 3.3 (the GAS premium_3 sample): every record and sample passes through; I/D indels are not guessed', async (t) => {
  const file = readFileSync(sharedDataPath('vcf/gas_anntools/premium_3.vcf'));
  const out = await run(file, { reference: grch37 });
  t.equal(out.summary.records, 3_431);
  const inLines = file.toString('latin1').trimEnd().split('\n');
  const outLines = out.vcf.toString('latin1').trimEnd().split('\n');
  t.equal(outLines[0], '##fileformat=VCFv3.3');
  const data = (ls: string[]) => ls.filter((l) => !l.startsWith('#'));
  const inData = data(inLines);
  const outData = data(outLines);
  t.equal(outData.length, inData.length, 'one output record per input record');
  const kept = new Mismatches(t, 'every record keeps its columns and gets GAS_REGION');
  outData.forEach((l, i) => {
    const o = l.split('\t');
    const orig = inData[i]!.split('\t');
    kept.same([...o.slice(0, 7), ...o.slice(8)], [...orig.slice(0, 7), ...orig.slice(8)], `record ${i + 1}`); // QUAL -1, FILTER 0, 107 samples
    kept.ok(/GAS_REGION=/.test(o[7]!), `record ${i + 1}: GAS_REGION in ${o[7]}`);
  });
  kept.done();
  const v33 = '##fileformat=VCFv3.3\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n1\t1105468\t.\tG\tD2,IAC,A\t-1\t0\tDP=4\n';
  const indels = await run(Buffer.from(v33), { reference: grch37 });
  const info = indels.vcf.toString().trimEnd().split('\n').at(-1)!.split('\t')[7]!;
  t.match(info, /GAS_SKIP=vcf33_indel,vcf33_indel,\./);
  t.strictSame(indels.summary.skipped, { vcf33_indel: 2 });
  // The same alleles in a 4.x file are errors: D2 is not an allele there.
  await t.rejects(run(Buffer.from(v33.replace('VCFv3.3', 'VCFv4.2'))), /line 3: ALT: "D2"/);
});

t.test('a worker that dies fails only the run whose chunks it held, and the pool replaces it', async (t) => {
  const expected = await run(nistGz, { reference: grch37 });
  const one = await AnnotationPool.start({ references, workers: 1 });
  try {
    // The worker is stopped once it has sent back its first result for this run, so the run is
    // under way with chunks in the worker (this was a 100 ms sleep).
    const worker = one.runningWorkers()[0]!;
    const firstResult = new Promise<void>((resolve) => {
      const onMessage = (m: { type?: string }): void => {
        if (m.type !== 'result') return;
        worker.off('message', onMessage);
        resolve();
      };
      worker.on('message', onMessage);
    });
    const running = run(nistGz, { reference: grch37, pool: one });
    // If the run ends before the worker answers at all, there is nothing left to stop.
    await Promise.race([
      firstResult,
      running.then(
        () => undefined,
        () => undefined,
      ),
    ]);
    await worker.terminate();
    // The run either finishes (its chunks were done here or already back) or fails naming the worker.
    await running.then(
      (r) => t.strictSame(r.summary, expected.summary, 'the run finished with the same summary'),
      (err: Error) => t.match(err.message, /annotation worker exited/, 'the run failed naming the worker'),
    );
    await one.replacementsStarted();
    t.equal(one.restarts, 1);
    t.equal(one.runningWorkers().length, 1);
    const again = await run(nistGz, { reference: grch37, pool: one });
    t.strictSame(again.summary, expected.summary);
    sameBytes(t, again.vcf, expected.vcf, 'VCF of a run on the replaced worker');
  } finally {
    await one.close();
  }
});

t.test('a chunk for a build the workers do not hold fails that run with the reason; the worker stays up', async (t) => {
  const other: LoadedReference = { ...grch37, build: 'GRCh38-not-loaded' };
  await t.rejects(run(nistGz, { reference: other, pool }), /no reference for GRCh38-not-loaded in this worker/);
  t.equal(pool.restarts, 0);
  const ok = await run(nist.subarray(0, nist.indexOf(10, 200_000) + 1), { reference: grch37, pool });
  t.ok(ok.summary.records > 1000);
});

t.test('the region text written once per run of variants equals the text written variant by variant', async (t) => {
  // Every base around the start of a chr20 gene: intergenic gap, upstream, UTR, exons, splice
  // sites, introns. Sorted, runs share one annotation and their text is copied; shuffled, almost
  // every record is written afresh. Both must give the same lines.
  const gene = grch37.transcripts.flanking('20', 30_000_000).right!;
  const lines: string[] = [];
  for (let pos = gene.start - 4000; pos < gene.start + 4000; pos++) {
    lines.push(`20\t${pos}\t.\tN\t${pos % 97 === 0 ? 'A,T' : 'A'}\t.\tPASS\t${pos % 2 ? '.' : 'DP=3'}\tGT\t0/1`);
  }
  const rand = seededRandom(3);
  const shuffled = lines
    .map((l) => [rand(), l] as const)
    .sort((a, b) => a[0] - b[0])
    .map(([, l]) => l);
  const annotate = (input: string[]): ChunkResult =>
    new ChunkAnnotator({ reference: grch37, tsv: true, csq: true, maxLineBytes: 1 << 20, vcf33: false }).annotate(
      Buffer.from(input.join('\n') + '\n'),
    );
  const byPosition = (pieces: Uint8Array[]): string[] =>
    Buffer.concat(pieces)
      .toString()
      .split('\n')
      .filter((l) => l !== '')
      .sort((a, b) => Number(a.split('\t')[1]) - Number(b.split('\t')[1]) || a.localeCompare(b));
  const sorted = annotate(lines);
  const fresh = annotate(shuffled);
  t.strictSame(byPosition(sorted.vcf), byPosition(fresh.vcf), 'VCF lines');
  t.strictSame(byPosition(sorted.tsv!), byPosition(fresh.tsv!), 'TSV lines');
  // And both say what classifyRegion says, in the format docs/annotation.md gives.
  const flank = (f?: { gene: string; distance: number }): string => (f ? `${f.gene}(dist:${f.distance})` : 'NONE');
  const regions = new Set<string>();
  const said = new Mismatches(t, 'every line says what classifyRegion says');
  for (const line of byPosition(sorted.vcf)) {
    const [, pos, , , alt] = line.split('\t');
    if (alt!.includes(',')) continue;
    const r = classifyRegion(grch37.transcripts, '20', Number(pos) - 1, Number(pos));
    const intergenic = r.region === 'intergenic';
    const genes = intergenic ? `${r.left?.gene ?? 'NONE'}&${r.right?.gene ?? 'NONE'}` : r.genes.join('&');
    const detail = intergenic
      ? `${flank(r.left)}&${flank(r.right)}`
      : r.hits
          .map(
            (h) =>
              `${h.transcript.id}:${h.transcript.strand}:${h.exon !== undefined ? `exon${h.exon}` : h.intron !== undefined ? `intron${h.intron}` : `dist:${h.distance}`}`,
          )
          .join('&');
    said.ok(
      line.includes(`GAS_REGION=${r.classes.join('&')};GAS_GENE=${genes};GAS_DETAIL=${detail};`),
      `${line} vs ${r.region} ${genes} ${detail}`,
    );
    regions.add(r.region);
  }
  said.done();
  for (const r of ['intergenic', 'upstream', 'ncRNA_exonic', 'ncRNA_intronic']) t.ok(regions.has(r), `${r} in ${[...regions].join(' ')}`);
});

t.test("a chunk's output comes in pieces cut between lines, the same bytes as in one piece", async (t) => {
  const chunk = nist.subarray(nist.indexOf('\n#CHROM') + 1);
  const body = chunk.subarray(chunk.indexOf('\n') + 1, 400_000);
  const lines = body.subarray(0, body.lastIndexOf('\n') + 1);
  const options = { reference: grch37, tsv: true, csq: true, maxLineBytes: 1 << 20, vcf33: false };
  const whole = new ChunkAnnotator({ ...options, pieceBytes: 1 << 30 }).annotate(lines);
  t.equal(whole.vcf.length, 1, 'one piece');
  const cut = new ChunkAnnotator({ ...options, pieceBytes: 50_000 }).annotate(lines);
  t.ok(cut.vcf.length > 5, `${cut.vcf.length} VCF pieces`);
  t.ok(cut.tsv!.length > 1, `${cut.tsv!.length} TSV pieces`);
  for (const p of [...cut.vcf, ...cut.tsv!]) t.equal(p[p.length - 1], 10, 'each piece ends a line');
  sameBytes(t, Buffer.concat(cut.vcf), Buffer.concat(whole.vcf), 'VCF');
  sameBytes(t, Buffer.concat(cut.tsv!), Buffer.concat(whole.tsv!), 'TSV');
  t.strictSame(cut.counts, whole.counts);
});
