// A published FASTA is plain gzip (UCSC hg19.fa.gz/hg38.fa.gz, Ensembl *.fa.gz), which FastaReader
// refuses: plain gzip cannot be read at random positions. It is decompressed here to a plain `.fa`
// and its samtools-style `.fai` written in the same pass, so no samtools or bgzip is needed and
// FastaReader reads bases with one pread each. The cost is disk: ~3.1 GB per human genome instead of
// ~0.9 GB. (`bgzip -i` plus `samtools faidx` gives a smaller file that build-db --fasta also reads.)
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { FaiBuilder } from '../fasta/index.ts';
import type { FaiEntry } from '../fasta/index.ts';

export interface PreparedFasta {
  file: string;
  bytes: number;
  sequences: number;
}

export function faiLine(e: FaiEntry): string {
  return `${e.name}\t${e.length}\t${e.offset}\t${e.lineBases}\t${e.lineWidth}\n`;
}

/** Writes `dest` (plain FASTA) and `dest.fai` from a gzip'd (or BGZF) FASTA. */
export async function prepareFasta(src: string, dest: string): Promise<PreparedFasta> {
  const fai = new FaiBuilder(src);
  let bytes = 0;
  const index = new Transform({
    transform(chunk: Buffer, _enc, done) {
      try {
        fai.push(chunk);
      } catch (err) {
        done(err as Error);
        return;
      }
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  const tmp = `${dest}.partial`;
  try {
    await pipeline(createReadStream(src), createGunzip({ chunkSize: 1 << 20 }), index, createWriteStream(tmp));
    const entries = fai.finish();
    if (entries.length === 0) throw new Error(`${src}: no FASTA records`);
    await writeFile(`${dest}.fai.partial`, entries.map(faiLine).join(''));
    // The index first: a `.fa` that exists always has its `.fai` beside it.
    await rename(`${dest}.fai.partial`, `${dest}.fai`);
    await rename(tmp, dest);
    return { file: dest, bytes, sequences: entries.length };
  } catch (err) {
    await rm(tmp, { force: true });
    await rm(`${dest}.fai.partial`, { force: true });
    throw err;
  }
}
