// Property-based fuzzing (fast-check, seeded): whatever bytes arrive (random ones, valid VCFs with
// bytes flipped, inserted, dropped or cut off, plain, gzip- or BGZF-wrapped, with or without a
// byte-order mark, damaged after compression too, read in pieces of any size), the engine answers
// with a summary or a VcfFormatError that names its line (and for damaged compression the byte
// offset), with and without a reference; the upload sniff answers null or a reason, never throws.
// Never another exception, never a hang, and the heap does not grow with the runs.
import t from 'tap';
import fc from 'fast-check';
import { PassThrough, Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { annotateVcf, bgzfSync, TranscriptIndex, VcfFormatError, whyNotVcf } from '../src/index.ts';
import type { Reference, Transcript } from '../src/index.ts';

const SEED = 20261207;
/** Runs per property (the sniff gets four times as many): about 8 s for the whole file on a 2-core machine. */
const RUNS = 1500;
/** One input's run may not take longer than this (a hang fails the run instead of the whole test). */
const RUN_TIMEOUT_MS = 5000;

const GENE: Transcript = {
  id: 'NM_1',
  gene: 'G1',
  chrom: '1',
  strand: '+',
  start: 100,
  end: 2000,
  cdsStart: 200,
  cdsEnd: 1800,
  exonStarts: [100, 900],
  exonEnds: [500, 2000],
  biotype: 'protein_coding',
};
const reference: Reference = { build: 'fuzz', transcripts: new TranscriptIndex([GENE]) };

const VALID = Buffer.from(
  [
    '##fileformat=VCFv4.2',
    '##contig=<ID=1,length=249250621>',
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">',
    '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1',
    '1\t150\trs1\tA\tG\t50\tPASS\tDP=10\tGT\t0/1',
    '1\t950\t.\tAC\tA,ACC\t.\t.\t.\tGT\t1/2',
    '1\t1000\t.\tN\t<DEL>\t.\t.\tEND=1200\tGT\t0/1',
    'chr1\t5000\t.\tG\tT\t.\tq10\tDP=3;X\tGT\t./.',
    '',
  ].join('\n'),
);
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

type Mutation = { op: 'flip' | 'insert' | 'delete' | 'cut'; at: number; byte: number };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('flip', 'insert', 'delete', 'cut'),
  at: fc.nat(),
  byte: fc.integer({ min: 0, max: 255 }),
});

function mutate(bytes: Buffer, mutations: Mutation[]): Buffer {
  let b = Buffer.from(bytes);
  for (const m of mutations) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    if (m.op === 'flip') b[at] = m.byte;
    else if (m.op === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from([m.byte]), b.subarray(at)]);
    else if (m.op === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
    else b = b.subarray(0, at);
  }
  return b;
}

/** The inputs: random bytes, and the valid VCF mutated, wrapped, then perhaps damaged in its compressed form. */
const input: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 3000 }).map((a) => Buffer.from(a)),
  fc
    .record({
      text: fc.array(mutation, { maxLength: 4 }).map((ms) => mutate(VALID, ms)),
      repeat: fc.integer({ min: 1, max: 40 }),
      bom: fc.boolean(),
      wrap: fc.constantFrom('plain', 'gzip', 'bgzf'),
      blockBytes: fc.integer({ min: 1, max: 2000 }),
      after: fc.array(mutation, { maxLength: 2 }),
    })
    .map(({ text, repeat, bom, wrap, blockBytes, after }) => {
      // Repeating the records crosses chunk, block and read boundaries.
      const body = Buffer.concat([text, ...Array.from({ length: repeat - 1 }, () => VALID.subarray(VALID.indexOf('1\t150')))]);
      const withBom = bom ? Buffer.concat([BOM, body]) : body;
      const wrapped = wrap === 'gzip' ? gzipSync(withBom) : wrap === 'bgzf' ? bgzfSync(withBom, { blockBytes }) : withBom;
      return mutate(wrapped, after);
    }),
);

/** Reads of random sizes, as a network gives them. */
function source(bytes: Buffer, sizes: number[]): Readable {
  return Readable.from(
    (function* () {
      let k = 0;
      for (let at = 0; at < bytes.length;) {
        const n = sizes.length ? sizes[k++ % sizes.length]! : bytes.length;
        yield bytes.subarray(at, at + n);
        at += n;
      }
    })(),
  );
}

type Outcome = { ok: true } | { ok: false; error: unknown };

async function engine(bytes: Buffer, sizes: number[], withReference: boolean): Promise<Outcome> {
  const vcfOut = new PassThrough().resume();
  const tsvOut = new PassThrough().resume();
  let timer: NodeJS.Timeout | undefined;
  const run = annotateVcf({
    input: source(bytes, sizes),
    vcfOut,
    tsvOut,
    reference: withReference ? reference : undefined,
    limits: { maxLineBytes: 4096, maxDecompressedBytes: 1 << 20, maxRecords: 500 },
  });
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${RUN_TIMEOUT_MS} ms (a hang)`)), RUN_TIMEOUT_MS);
  });
  try {
    await Promise.race([run, timeout]);
    return { ok: true };
  } catch (error) {
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
  }
}

/** A located error: a VcfFormatError whose message starts with its line; a damaged compressed input also names the byte offset. */
function located(error: unknown): string | null {
  if (!(error instanceof VcfFormatError)) return `not a VcfFormatError: ${String((error as Error)?.stack ?? error)}`;
  if (!/^line [1-9]\d*: \S/.test(error.message)) return `no line number: ${error.message}`;
  if (/gzip|BGZF/.test(error.reason) && !/byte offsets? \d+/.test(error.reason)) return `no byte offset: ${error.message}`;
  return null;
}

// A full collection on demand, to compare the heap before and after without the garbage in between.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
gc();
const heapBefore = process.memoryUsage().heapUsed;

t.test('the engine answers any input with a summary or a located VcfFormatError, with and without a reference', async (t) => {
  let answered = 0;
  let failed = 0;
  await fc.assert(
    fc.asyncProperty(input, fc.array(fc.integer({ min: 1, max: 700 }), { maxLength: 5 }), fc.boolean(), async (bytes, sizes, withRef) => {
      const outcome = await engine(bytes, sizes, withRef);
      answered++;
      if (outcome.ok) return true;
      failed++;
      const why = located(outcome.error);
      if (why) throw new Error(why);
      return true;
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
  t.equal(answered, RUNS);
  // The mix holds both outcomes: the generator is not all garbage, nor all valid.
  t.ok(failed > RUNS / 10 && failed < RUNS - RUNS / 10, `${RUNS - failed} succeeded, ${failed} were refused with a located error`);
});

t.test('the upload sniff answers null or a reason for any head, whole or cut, and never throws', async (t) => {
  let accepted = 0;
  fc.assert(
    fc.property(input, fc.integer({ min: 0, max: 4096 }), (bytes, cut) => {
      const head = bytes.subarray(0, cut);
      for (const why of [whyNotVcf(head), whyNotVcf(head, { complete: head.length === bytes.length })]) {
        if (why === null) {
          accepted++;
          continue;
        }
        if (typeof why !== 'string' || why.length === 0) throw new Error(`not a reason: ${String(why)}`);
        if (/damaged|ends early/.test(why) && !/byte offset \d+/.test(why)) throw new Error(`no byte offset: ${why}`);
      }
      return true;
    }),
    { seed: SEED, numRuns: RUNS * 4 },
  );
  t.ok(accepted > 0, `some heads look like a VCF (${accepted})`);
});

t.test('a valid VCF in any wrapping and any reads gives the same summary as the plain file', async (t) => {
  const plain = await annotateVcf({ input: Readable.from([VALID]), vcfOut: new PassThrough().resume(), reference });
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('plain', 'gzip', 'bgzf'),
      fc.boolean(),
      fc.integer({ min: 1, max: 300 }),
      fc.array(fc.integer({ min: 1, max: 100 }), { maxLength: 4 }),
      async (wrap, bom, blockBytes, sizes) => {
        const text = bom ? Buffer.concat([BOM, VALID]) : VALID;
        const bytes = wrap === 'gzip' ? gzipSync(text) : wrap === 'bgzf' ? bgzfSync(text, { blockBytes }) : text;
        const s = await annotateVcf({ input: source(bytes, sizes), vcfOut: new PassThrough().resume(), reference });
        return s.records === plain.records && s.alleles === plain.alleles && JSON.stringify(s.regions) === JSON.stringify(plain.regions);
      },
    ),
    { seed: SEED, numRuns: RUNS / 4 },
  );
  t.equal(plain.records, 4);
});

t.test('the heap does not grow with the runs', async (t) => {
  // A last burst of the largest inputs the limits let through, then a collection.
  for (let i = 0; i < 50; i++) await engine(Buffer.alloc(1 << 20, 65), [65536], i % 2 === 0);
  gc();
  await new Promise((r) => setImmediate(r));
  gc();
  const growth = process.memoryUsage().heapUsed - heapBefore;
  t.ok(growth < 64 * 1024 * 1024, `heap grew by ${(growth / 1024 / 1024).toFixed(1)} MiB over every run (limit 64 MiB)`);
});
