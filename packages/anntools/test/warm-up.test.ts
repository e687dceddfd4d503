// The warm-up records (warm-up.ts) must reach every branch the annotator has, or V8 still meets
// them for the first time in the real input; and warming up must not change any output.
import t from 'tap';
import { join } from 'node:path';
import { testReferenceDir } from '@gas/testing';
import { ChunkAnnotator } from '../src/chunk-annotator.ts';
import { warmUp, warmUpRecords } from '../src/warm-up.ts';
import { parseReferenceFile, readReferenceBytes } from '../src/index.ts';
import type { LoadedReference } from '../src/index.ts';

const file = join(await testReferenceDir(), 'GRCh37.gasref');
const grch37: LoadedReference = parseReferenceFile(await readReferenceBytes(file), file);

t.test('the made-up records are valid VCF and take every kind of region, allele and rsID path', async (t) => {
  const records = warmUpRecords(grch37);
  const annotator = new ChunkAnnotator({ reference: grch37, tsv: true, csq: true, maxLineBytes: 1 << 20, vcf33: false });
  const result = annotator.annotate(records);
  t.equal(result.error, undefined);
  const c = result.counts;
  t.ok(c.records > 300, `${c.records} records`);
  for (const region of ['exonic', 'splicing', 'intronic', 'UTR5', 'UTR3', 'upstream', 'downstream', 'intergenic']) {
    t.ok((c.regions[region] ?? 0) > 0, `no ${region} record (${JSON.stringify(c.regions)})`);
  }
  t.ok(
    Object.keys(c.regions).some((r) => r.includes(';')),
    'no record with two classes of one rank',
  );
  t.ok(c.indels > 0 && c.snvs > 0 && c.other > 0, `indels ${c.indels}, SNVs ${c.snvs}, other ${c.other}`);
  for (const why of ['symbolic_allele', 'overlapping_deletion', 'missing_allele', 'reference_allele']) {
    t.ok((c.skipped[why] ?? 0) > 0, `no ${why} record`);
  }
  t.ok(c.rsidAlleles > 0, 'no rsID hit');
  const text = Buffer.concat(result.vcf).toString('latin1');
  t.match(text, /\tGT:DP\t0\/1:12\n/, 'a record with sample columns');
  t.match(text, /^\S+\t\d+\t\.\tA\tC,G\t/m, 'a multi-allelic record');
});

t.test('warming up changes no result: the same chunk gives the same bytes before and after', async (t) => {
  // A reference object of its own, so this test sees it before any warm-up (which is per
  // reference and thread).
  const fresh: LoadedReference = { ...grch37 };
  const records = warmUpRecords(fresh);
  const annotate = () =>
    new ChunkAnnotator({ reference: fresh, tsv: true, csq: true, maxLineBytes: 1 << 20, vcf33: false }).annotate(records);
  const before = annotate();
  warmUp(fresh, true, true);
  const after = annotate();
  t.strictSame(Buffer.concat(after.vcf), Buffer.concat(before.vcf));
  t.strictSame(Buffer.concat(after.tsv!), Buffer.concat(before.tsv!));
  t.strictSame(after.counts, before.counts);
});
