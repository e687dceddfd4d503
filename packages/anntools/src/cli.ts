#!/usr/bin/env node
// gas-annotate annotate <input.vcf[.gz]> [--out-dir DIR]: writes <name>.annot.vcf and <name>.count.log.
import { createReadStream, createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { finished } from 'node:stream/promises';
import { annotateVcf, formatCountLog } from './count-engine.ts';
import { VcfFormatError } from './vcf-error.ts';

async function main(argv: string[]): Promise<number> {
  const [cmd, input, ...rest] = argv;
  if (cmd !== 'annotate' || !input) {
    process.stderr.write('usage: gas-annotate annotate <input.vcf[.gz]> [--out-dir DIR]\n');
    return 2;
  }
  const outDir = rest[0] === '--out-dir' && rest[1] ? rest[1] : '.';
  const name = basename(input).replace(/\.vcf(\.gz)?$/, '');
  const out = createWriteStream(join(outDir, `${name}.annot.vcf`));
  const started = performance.now();
  try {
    const counts = await annotateVcf({ input: createReadStream(input), vcfOut: out });
    out.end();
    await finished(out);
    await writeFile(join(outDir, `${name}.count.log`), formatCountLog(basename(input), counts, (performance.now() - started) / 1000));
    process.stdout.write(`${counts.records} records, ${counts.alleles} alleles\n`);
    return 0;
  } catch (err) {
    out.destroy();
    process.stderr.write(`gas-annotate: ${input}: ${err instanceof VcfFormatError ? err.message : String(err)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
