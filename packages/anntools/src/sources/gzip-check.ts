// Decompressing a gzip file end to end checks every member's CRC-32 and length: the integrity check
// for files whose publisher gives no checksum (UCSC table dumps) or only a 16-bit one (Ensembl).
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** Resolves to the decompressed size; rejects with the file name when the stream is damaged. */
export async function checkGzip(path: string): Promise<number> {
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      done();
    },
  });
  try {
    await pipeline(createReadStream(path), createGunzip(), sink);
  } catch (err) {
    throw new Error(`${path}: damaged gzip stream (${(err as Error).message})`, { cause: err });
  }
  return bytes;
}
