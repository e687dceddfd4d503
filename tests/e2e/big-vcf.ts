import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { sharedDataPath } from '@gas/testing';

/**
 * A large valid VCF made of free_1.vcf's real records repeated, so a job runs long enough to be
 * interrupted. Returns the number of data records written.
 */
export async function writeBigVcf(path: string, minRecords: number): Promise<number> {
  const lines = (await readFile(sharedDataPath('vcf/gas_anntools/free_1.vcf'), 'utf8')).split('\n');
  const header = lines.filter((l) => l.startsWith('#'));
  const data = lines.filter((l) => l && !l.startsWith('#'));
  const block = data.join('\n') + '\n';
  const out = createWriteStream(path);
  out.write(header.join('\n') + '\n');
  let n = 0;
  while (n < minRecords) {
    if (!out.write(block)) await once(out, 'drain');
    n += data.length;
  }
  out.end();
  await finished(out);
  return n;
}
