// Records at a position their chromosome does not have (POS 0, or past its length in the job's
// build or in the input's own ##contig line) are not annotated: GAS_SKIP=outside_chromosome in the
// VCF and the TSV, the count log's "Not annotated" line, and a warning naming the first one. Ti/Tv
// counts only SNVs whose two bases are A, C, G or T. On the real GRCh37 and GRCh38 references, in
// this thread and with a worker thread (as `--threads 2`), in one chunk and in several.
import t from 'tap';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { promisify } from 'node:util';
import { testReferenceDir } from '@gas/testing';
import {
  annotateVcf,
  AnnotationPool,
  formatCountLog,
  parseReferenceFile,
  PRIMARY_LENGTHS,
  readReferenceBytes,
  TSV_COLUMNS,
} from '../src/index.ts';
import type { AnnotationPool as Pool, LoadedReference } from '../src/index.ts';
import { sameBytes } from './mismatches.ts';

const dir = await testReferenceDir();
const files = { GRCh37: join(dir, 'GRCh37.gasref'), GRCh38: join(dir, 'GRCh38.gasref') };
const bytes = { GRCh37: await readReferenceBytes(files.GRCh37), GRCh38: await readReferenceBytes(files.GRCh38) };
const refs: Record<'GRCh37' | 'GRCh38', LoadedReference> = {
  GRCh37: parseReferenceFile(bytes.GRCh37, files.GRCh37),
  GRCh38: parseReferenceFile(bytes.GRCh38, files.GRCh38),
};
// One worker beside this thread: what `--threads 2` runs.
const pool = await AnnotationPool.start({
  references: [
    { path: files.GRCh37, bytes: bytes.GRCh37 },
    { path: files.GRCh38, bytes: bytes.GRCh38 },
  ],
  workers: 1,
});
t.teardown(() => pool.close());

async function run(text: string, reference: LoadedReference, withPool?: Pool) {
  const vcfOut = new PassThrough();
  const tsvOut = new PassThrough();
  const vcf: Buffer[] = [];
  const tsv: Buffer[] = [];
  vcfOut.on('data', (c: Buffer) => vcf.push(c));
  tsvOut.on('data', (c: Buffer) => tsv.push(c));
  // Read in pieces, as from a file, so that a large input comes in chunks of about 192 KB.
  const input = Buffer.from(text, 'latin1');
  const pieces = Readable.from(
    (function* () {
      for (let at = 0; at < input.length; at += 65_536) yield input.subarray(at, at + 65_536);
    })(),
  );
  // Progress is reported at the end of every chunk (and once at the end of the run).
  let progress = 0;
  const summary = await annotateVcf({
    input: pieces,
    vcfOut,
    tsvOut,
    reference,
    pool: withPool,
    progressEvery: 1,
    onProgress: () => progress++,
  });
  summary.runtimeSeconds = 0;
  return { summary, vcf: Buffer.concat(vcf), tsv: Buffer.concat(tsv), chunks: progress - 1 };
}

const records = (vcf: Buffer) =>
  vcf
    .toString('latin1')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'));
const info = (line: string) => line.split('\t')[7]!;
const skip = (line: string) => /(?:^|;)GAS_SKIP=([^;]*)/.exec(info(line))?.[1] ?? null;
const warning = (s: { warnings?: Array<{ code: string; message: string }> }) => s.warnings?.find((w) => w.code === 'outside_chromosome');
const countLogLine = (s: Parameters<typeof formatCountLog>[1], label: string) =>
  formatCountLog('in.vcf', s)
    .split('\n')
    .find((l) => l.startsWith(label));

const HEAD = '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO';

for (const build of ['GRCh37', 'GRCh38'] as const) {
  const chr20 = PRIMARY_LENGTHS[build]['20']!;
  const chr22 = PRIMARY_LENGTHS[build]['22']!;
  t.test(`${build}: each case by hand, in the VCF, the TSV, the count log and the warning`, async (t) => {
    t.equal(chr20, build === 'GRCh37' ? 63_025_520 : 64_444_167);
    // Lines 1-4 are the header; the records start on line 5.
    const header = ['##fileformat=VCFv4.2', '##contig=<ID=chrUn_small,length=1000>', '##contig=<ID=chr22,length=20000000>', HEAD];
    const body: Array<[string, string | null]> = [
      [`chr20\t${chr20 + 1}\t.\tA\tG`, 'outside_chromosome'], // line 5: one base past the end
      [`chr20\t${chr20}\t.\tA\tG`, null], // the last base
      ['chr20\t0\t.\tN\tG', 'outside_chromosome'], // POS 0: a telomere, not a base
      ['chr20\t0\t.\tN\t.[chr13:123457[', 'breakend'], // a breakend at the telomere, as VCF 4.3 5.4.8 writes it
      [`chr20\t${chr20 + 1}\t.\tN\t]chr13:123456].`, 'breakend'], // and at the other one
      [`chr20\t${chr20 + 1}\t.\tA\tG,<DEL>`, 'outside_chromosome,symbolic_allele'], // line 10
      [`20\t${chr20 + 1}\t.\tA\tC`, 'outside_chromosome'], // spelled without chr
      ['chrUn_small\t1000\t.\tA\tG', null], // the last base the header declares
      ['chrUn_small\t1001\t.\tA\tG', 'outside_chromosome'], // past it
      ['chr22\t20000001\t.\tC\tT', 'outside_chromosome'], // past a header length shorter than the build's
      ['chr22\t20000000\t.\tC\tT', null], // line 15
      ['chrUn_gl000220\t999999999\t.\tA\tC', null], // a contig of unknown length: not checked
      // hg19's chrM has 16,571 bases, GRCh38's and b37's MT (rCRS) 16,569.
      ['chrM\t16571\t.\tA\tG', build === 'GRCh37' ? null : 'outside_chromosome'],
      ['MT\t16570\t.\tA\tG', 'outside_chromosome'],
    ];
    t.ok(chr22 > 20_000_000, 'the header declares chr22 shorter than the build has it');
    const text = [...header, ...body.map(([r]) => `${r}\t50\tPASS\t.`)].join('\n') + '\n';
    const { summary, vcf, tsv } = await run(text, refs[build]);

    const out = records(vcf);
    t.equal(out.length, body.length);
    body.forEach(([r, why], i) => {
      const line = out[i]!;
      t.equal(skip(line), why, `line ${i + 5} ${r}: GAS_SKIP`);
      if (why === null) {
        t.match(info(line), /^GAS_REGION=[a-z]/, `line ${i + 5}: annotated`);
        t.match(info(line), /;CSQ=/);
      } else {
        t.match(info(line), /^GAS_REGION=\.(,\.)*;GAS_GENE=/, `line ${i + 5}: no region`);
        t.notMatch(info(line), /CSQ=/, 'no CSQ entry');
      }
    });

    // The TSV: one row per ALT, the reason in SKIP_REASON and nothing else filled in.
    const rows = tsv.toString('latin1').trimEnd().split('\n');
    t.equal(rows[0], TSV_COLUMNS.join('\t'));
    const reasons = rows.slice(1).map((r) => r.split('\t'));
    const skipAt = TSV_COLUMNS.indexOf('SKIP_REASON');
    const regionAt = TSV_COLUMNS.indexOf('REGION');
    t.strictSame(
      reasons.map((r) => r[skipAt]),
      body.flatMap(([, why]) => (why ?? '').split(',')),
    );
    const first = reasons[0]!;
    t.strictSame(first.slice(0, 6), ['chr20', String(chr20 + 1), '.', 'A', 'G', '1']);
    t.strictSame(first.slice(regionAt, skipAt), Array(skipAt - regionAt).fill(''), 'no region, genes, rsID or consequence');

    const outside = build === 'GRCh37' ? 7 : 8;
    t.strictSame(summary.skipped, { outside_chromosome: outside, breakend: 2, symbolic_allele: 1 });
    t.equal(
      countLogLine(summary, 'Not annotated'),
      `Not annotated ${outside + 3} (outside_chromosome: ${outside}, breakend: 2, symbolic_allele: 1)`,
    );
    t.equal(summary.annotatedAlleles, body.length + 1 - outside - 3);
    t.strictSame(warning(summary), {
      code: 'outside_chromosome',
      message:
        `${outside} records lie outside their chromosome and were not annotated (GAS_SKIP=outside_chromosome): the first is on ` +
        `line 5, chr20:${chr20 + 1}, but chr20 is ${chr20.toLocaleString('en')} bp in ${build}. A file called against another ` +
        'genome build, or a damaged file, is the usual cause.',
    });

    // One chunk handed to the worker thread gives the same.
    const threaded = await run(text, refs[build], pool);
    t.equal(threaded.chunks, 1, 'one chunk');
    sameBytes(t, threaded.vcf, vcf, 'VCF with a worker');
    sameBytes(t, threaded.tsv, tsv, 'TSV with a worker');
    t.strictSame(threaded.summary, summary, 'summary with a worker');
  });
}

t.test('the warning says which length was used, and what POS 0 is', async (t) => {
  const one = async (lines: string[], build: 'GRCh37' | 'GRCh38' = 'GRCh37') => {
    const text = ['##fileformat=VCFv4.2', ...lines].join('\n') + '\n';
    const s = (await run(text, refs[build])).summary;
    return { message: warning(s)?.message, codes: s.warnings?.map((w) => w.code) };
  };
  const tail = 'A file called against another genome build, or a damaged file, is the usual cause.';
  t.strictSame(await one([HEAD, 'chr20\t5\t.\tA\tG\t.\t.\t.', 'chr20\t0\t.\tN\tG\t.\t.\t.']), {
    message:
      '1 record lies outside its chromosome and was not annotated (GAS_SKIP=outside_chromosome): it is on line 4, chr20:0, and ' +
      `POS 0 stands for the telomere before the first base, not a base (chr20 is 63,025,520 bp in GRCh37). ${tail}`,
    codes: ['outside_chromosome', 'no_dbsnp_chromosomes'],
  });
  t.strictSame(await one([HEAD, 'chrUn_x\t0\t.\tN\tG\t.\t.\t.']), {
    message:
      '1 record lies outside its chromosome and was not annotated (GAS_SKIP=outside_chromosome): it is on line 3, chrUn_x:0, and ' +
      `POS 0 stands for the telomere before the first base, not a base. ${tail}`,
    codes: ['outside_chromosome', 'uncovered_chromosomes', 'no_dbsnp_chromosomes'],
  });
  // The header's own length, shorter than the build's.
  t.strictSame(
    await one(['##contig=<ID=chr21,length=1500>', HEAD, 'chr21\t1500\t.\tA\tG\t.\t.\t.', 'chr21\t1501\t.\tA\tG\t.\t.\t.'], 'GRCh38'),
    {
      message:
        '1 record lies outside its chromosome and was not annotated (GAS_SKIP=outside_chromosome): it is on line 5, chr21:1501, but ' +
        `chr21 is 1,500 bp by this file's own ##contig header line. ${tail}`,
      codes: ['outside_chromosome'],
    },
  );
  // A GRCh38 header on a GRCh37 job: the shorter, the build's, is the one a position must fit.
  t.strictSame(await one(['##contig=<ID=chr20,length=64444167>', HEAD, 'chr20\t64000000\t.\tA\tG\t.\t.\t.']), {
    message:
      '1 record lies outside its chromosome and was not annotated (GAS_SKIP=outside_chromosome): it is on line 4, chr20:64000000, ' +
      `but chr20 is 63,025,520 bp in GRCh37. ${tail}`,
    codes: ['build_mismatch', 'outside_chromosome', 'no_dbsnp_chromosomes'],
  });
  t.equal((await one([HEAD, 'chr20\t63025520\t.\tA\tG\t.\t.\t.'])).message, undefined, 'no warning when every record fits');
  // A REF that starts on the chromosome but runs past its end; one that ends on the last base fits.
  t.strictSame(await one([HEAD, 'chr20\t63025519\t.\tAC\tA\t.\t.\t.', 'chr20\t63025519\t.\tACG\tA\t.\t.\t.']), {
    message:
      '1 record lies outside its chromosome and was not annotated (GAS_SKIP=outside_chromosome): it is on line 4, chr20:63025519 ' +
      `(its REF runs to 63025521), but chr20 is 63,025,520 bp in GRCh37. ${tail}`,
    codes: ['outside_chromosome', 'no_dbsnp_chromosomes'],
  });
});

t.test('Ti/Tv counts SNVs whose REF and ALT are both A, C, G or T, in either case; N is neither', async (t) => {
  const body = [
    'chr20\t1000001\t.\tN\tG', // neither (was a transversion)
    'chr20\t1000002\t.\tC\tN', // neither (was a transition)
    'chr20\t1000003\t.\tc\tt', // transition
    'chr20\t1000004\t.\tA\tG,N', // transition, neither
    'chr20\t1000005\t.\tAT\tGT', // A>G once reduced: transition
    'chr20\t1000006\t.\tNT\tCT', // N>C once reduced: neither
    'chr20\t1000007\t.\tA\tC', // transversion
    'chr20\t1000008\t.\tg\tt', // transversion
    'chr20\t1000009\t.\tA\tn', // neither
  ];
  for (const build of ['GRCh37', 'GRCh38'] as const) {
    const text = ['##fileformat=VCFv4.2', HEAD, ...body.map((r) => `${r}\t.\t.\t.`)].join('\n') + '\n';
    const { summary } = await run(text, refs[build]);
    t.equal(summary.transitions, 3, `${build}: transitions`);
    t.equal(summary.transversions, 2, `${build}: transversions`);
    t.equal(summary.tiTv, 1.5);
    t.equal(summary.snvs, 8, 'every ALT of one base over a REF of one is still an SNV, N or not');
    t.equal(countLogLine(summary, 'Ti/Tv'), 'Ti/Tv 1.5');
  }
  // IUPAC codes other than N are not VCF bases: the record is refused before anything is counted.
  const bad = (r: string) => run(['##fileformat=VCFv4.2', HEAD, `${r}\t.\t.\t.`].join('\n') + '\n', refs.GRCh37);
  await t.rejects(bad('chr20\t5\t.\tA\tR'), { message: /line 3: ALT: "R" is neither bases/ });
  await t.rejects(bad('chr20\t5\t.\tY\tA'), { message: /line 3: REF: expected bases A, C, G, T or N, got "Y"/ });
});

/** Some 40,000 records over about 1.3 MB (several chunks); every 6,000th is past the end of chr20. */
function manyChunks(build: 'GRCh37' | 'GRCh38'): { text: string; outside: number[] } {
  const end = PRIMARY_LENGTHS[build]['20']!;
  const lines = ['##fileformat=VCFv4.2', HEAD];
  const outside: number[] = [];
  for (let i = 0; i < 40_000; i++) {
    if (i % 6000 === 5999) {
      lines.push(`chr20\t${end + 1 + i}\t.\tG\tA\t.\t.\tDP=${i}`);
      outside.push(lines.length);
    } else lines.push(`chr20\t${1_000_000 + i * 37}\t.\t${'ACGT'[i % 4]}\t${'GTAC'[i % 4]}\t.\t.\tDP=${i}`);
  }
  return { text: lines.join('\n') + '\n', outside };
}

t.test(
  'several chunks, in this thread and with a worker: the same output, the counts merged, the first line in the whole file',
  async (t) => {
    for (const build of ['GRCh37', 'GRCh38'] as const) {
      const { text, outside } = manyChunks(build);
      t.ok(text.length > 1_000_000, 'several chunks of about 200 KB');
      t.equal(outside.length, 6);
      const here = await run(text, refs[build]);
      const threaded = await run(text, refs[build], pool);
      sameBytes(t, threaded.vcf, here.vcf, `${build}: VCF`);
      sameBytes(t, threaded.tsv, here.tsv, `${build}: TSV`);
      t.strictSame(threaded.summary, here.summary, `${build}: summary`);
      t.strictSame(here.summary.skipped, { outside_chromosome: 6 });
      const out = records(here.vcf);
      t.strictSame(
        out.flatMap((l, i) => (skip(l) === 'outside_chromosome' ? [i + 3] : [])),
        outside,
        'the records past the end, by line',
      );
      const end = PRIMARY_LENGTHS[build]['20']!;
      t.equal(
        warning(here.summary)?.message,
        `6 records lie outside their chromosome and were not annotated (GAS_SKIP=outside_chromosome): the first is on line ` +
          `${outside[0]!.toLocaleString('en')}, chr20:${end + 6000}, but chr20 is ${end.toLocaleString('en')} bp in ${build}. ` +
          'A file called against another genome build, or a damaged file, is the usual cause.',
      );
    }
  },
);

t.test('gas-annotate --threads 2 writes the same files and the warning', async (t) => {
  const out = t.testdir();
  const { text } = manyChunks('GRCh37');
  const input = join(out, 'many.vcf');
  writeFileSync(input, text, 'latin1');
  const cli = resolve(import.meta.dirname, '../src/cli.ts');
  await promisify(execFile)(process.execPath, [
    '--import',
    'tsx',
    cli,
    'annotate',
    input,
    '--reference',
    files.GRCh37,
    '--threads',
    '2',
    '--out-dir',
    out,
  ]);
  const expected = await run(text, refs.GRCh37);
  sameBytes(t, readFileSync(join(out, 'many.annot.vcf')), expected.vcf, 'VCF');
  sameBytes(t, readFileSync(join(out, 'many.annot.tsv')), expected.tsv, 'TSV');
  const summary = JSON.parse(readFileSync(join(out, 'many.summary.json'), 'utf8')) as typeof expected.summary;
  t.strictSame(summary.warnings, expected.summary.warnings);
  t.match(readFileSync(join(out, 'many.count.log'), 'utf8'), /\nNot annotated 6 \(outside_chromosome: 6\)\n/);
});
