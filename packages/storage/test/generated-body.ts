import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

export interface GeneratedBody {
  stream: Readable;
  /** sha256 of everything emitted so far (the whole body once it has ended). */
  digest(): string;
  emitted(): number;
}

const CHUNK = 64 * 1024;

/**
 * A body produced on demand, so a multi-MB round trip never holds the object in the test either.
 * Every 4-byte word is its own offset, so a reordered, dropped or repeated part changes the hash.
 */
export function generatedBody(totalBytes: number, opts: { failAfter?: number; error?: Error } = {}): GeneratedBody {
  const hash = createHash('sha256');
  let offset = 0;
  const stream = new Readable({
    read() {
      if (opts.failAfter !== undefined && offset >= opts.failAfter) {
        this.destroy(opts.error ?? new Error('body failed mid-way'));
        return;
      }
      if (offset >= totalBytes) {
        this.push(null);
        return;
      }
      const size = Math.min(CHUNK, totalBytes - offset);
      const chunk = Buffer.alloc(size);
      for (let i = 0; i + 4 <= size; i += 4) chunk.writeUInt32LE((offset + i) >>> 0, i);
      hash.update(chunk);
      offset += size;
      this.push(chunk);
    },
  });
  return { stream, digest: () => hash.copy().digest('hex'), emitted: () => offset };
}

export async function sha256OfStream(stream: Readable): Promise<{ digest: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { digest: hash.digest('hex'), bytes };
}

export async function textOf(stream: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8');
}
