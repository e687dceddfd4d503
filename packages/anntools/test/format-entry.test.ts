// The light entry `@gas/anntools/format` must stay light: the gateway imports it to sniff uploads
// and name results, and must not load the engine (annotation index, reference files, workers).
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import * as format from '@gas/anntools/format';
import * as barrel from '../src/index.ts';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

// Statements that load a module at run time. `import type` and `export type` are erased by the
// loader and load nothing, so they are left out.
const STATIC_IMPORT = /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;
const DYNAMIC_IMPORT = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
// Worker threads are started from a file named this way (annotation-pool.ts).
const WORKER_URL = /new URL\(\s*['"]([^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g;

/** Every source file (relative to src/) and every outside module that loading `entry` loads. */
function runtimeImports(entry: string): { files: Set<string>; modules: Set<string> } {
  const files = new Set<string>();
  const modules = new Set<string>();
  const visit = (path: string) => {
    const name = relative(SRC, path);
    if (files.has(name)) return;
    files.add(name);
    const text = readFileSync(path, 'utf8');
    for (const re of [STATIC_IMPORT, DYNAMIC_IMPORT, WORKER_URL]) {
      for (const m of text.matchAll(re)) {
        const spec = m[1]!;
        if (spec.startsWith('.')) visit(resolve(dirname(path), spec));
        else modules.add(spec);
      }
    }
  };
  visit(join(SRC, entry));
  return { files, modules };
}

t.test('the import walk sees the engine behind the barrel (so finding none behind format means something)', async (t) => {
  const { files } = runtimeImports('index.ts');
  const heavy = ['engine.ts', 'annotation/transcript-index.ts', 'reference-file.ts', 'annotation-pool.ts'];
  t.strictSame(
    heavy.filter((f) => !files.has(f)),
    [],
    'every one of them found',
  );
});

t.test(
  'format loads only the sniff, the build detection, the limit wording and the result kinds: no engine, reference files or workers',
  async (t) => {
    const { files, modules } = runtimeImports('format.ts');
    t.strictSame([...files].sort(), ['format.ts', 'genome-build.ts', 'limit-text.ts', 'result-kinds.ts', 'sniff.ts']);
    t.strictSame([...modules].sort(), ['node:zlib']);
  },
);

t.test('package.json exports ./format as src/format.ts', async (t) => {
  const pkg = JSON.parse(readFileSync(join(SRC, '..', 'package.json'), 'utf8')) as { exports: Record<string, string> };
  t.equal(pkg.exports['./format'], './src/format.ts');
  t.equal(pkg.exports['.'], './src/index.ts');
});

t.test('the barrel still exports the light pieces, the same objects as format', async (t) => {
  t.equal(barrel.whyNotVcf, format.whyNotVcf);
  t.equal(barrel.TSV_COLUMNS, format.TSV_COLUMNS);
  t.equal(barrel.RESULT_KINDS, format.RESULT_KINDS);
  t.equal(barrel.resultKinds, format.resultKinds);
});

t.test('result kinds: the five files the annotator writes, compressed where they grow with the input', async (t) => {
  t.strictSame(format.resultKinds, ['vcf', 'tbi', 'tsv', 'summary', 'log']);
  t.strictSame(format.RESULT_KINDS, {
    vcf: {
      suffix: '.annot.vcf.gz',
      mediaType: 'application/gzip',
      compressed: true,
      plain: { suffix: '.annot.vcf', mediaType: 'text/x-vcf' },
    },
    tbi: { suffix: '.annot.vcf.gz.tbi', mediaType: 'application/octet-stream', compressed: true },
    tsv: {
      suffix: '.annot.tsv.gz',
      mediaType: 'application/gzip',
      compressed: true,
      plain: { suffix: '.annot.tsv', mediaType: 'text/tab-separated-values' },
    },
    summary: { suffix: '.summary.json', mediaType: 'application/json', compressed: false },
    log: { suffix: '.count.log', mediaType: 'text/plain', compressed: false },
  });
});

t.test('storedResult: compressed results as they are; text, and plain results of older jobs, as UTF-8', async (t) => {
  t.strictSame(format.storedResult('vcf', 'u/j/a.annot.vcf.gz'), { compressed: true, contentType: 'application/gzip' });
  t.strictSame(format.storedResult('vcf', 'u/j/a.annot.vcf'), { compressed: false, contentType: 'text/x-vcf; charset=utf-8' });
  t.strictSame(format.storedResult('tsv', 'u/j/a.annot.tsv'), {
    compressed: false,
    contentType: 'text/tab-separated-values; charset=utf-8',
  });
  t.strictSame(format.storedResult('tbi', 'u/j/a.annot.vcf.gz.tbi'), { compressed: true, contentType: 'application/octet-stream' });
  t.strictSame(format.storedResult('log', 'u/j/a.count.log'), { compressed: false, contentType: 'text/plain; charset=utf-8' });
});

t.test('whyNotVcf through the format entry: a VCF head passes, anything else gets a reason', async (t) => {
  t.equal(format.whyNotVcf(Buffer.from('##fileformat=VCFv4.2\n')), null);
  t.match(format.whyNotVcf(Buffer.from('CHROM\tPOS\n')), /must start with "##fileformat=VCFv4\.x"/);
  t.equal(format.whyNotVcf(Buffer.alloc(0)), 'the file is empty');
});
