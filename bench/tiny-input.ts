// The start-up input: the header and the first 221 records of the main generated VCF (as many as
// the GIAB file bench:startup uses), BGZF. At this size every tool's time is its start-up: loading
// its program, its gene models and its reference, then writing a few hundred lines.
import { createReadStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { bgzip, paths } from './inputs.ts';
import type { GeneratedInput } from './inputs.ts';

export const TINY_RECORDS = 221;

export async function tinyInput(main: GeneratedInput, records = TINY_RECORDS): Promise<{ path: string; records: number }> {
  const lines: string[] = [];
  let n = 0;
  const rl = createInterface({ input: createReadStream(main.plain), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.startsWith('#')) n++;
    if (n > records) break;
    lines.push(line);
  }
  rl.close();
  await mkdir(paths.inputs, { recursive: true });
  const plain = join(paths.inputs, `${main.name}-head${records}.vcf`);
  await writeFile(plain, lines.join('\n') + '\n');
  const out = `${plain}.gz`;
  await bgzip(plain, out);
  return { path: out, records: Math.min(n, records) };
}
