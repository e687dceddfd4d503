import { Readable } from 'node:stream';

/**
 * Reads the first `bytes` of a stream (fewer if it ends first) and returns them with a stream that
 * replays them followed by the rest, so the upload can be checked before a byte is stored.
 */
export async function peekStream(source: Readable, bytes: number): Promise<{ head: Buffer; body: Readable }> {
  const chunks: Buffer[] = [];
  let have = 0;
  const it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let ended = false;
  while (have < bytes) {
    const n = await it.next();
    if (n.done) {
      ended = true;
      break;
    }
    chunks.push(n.value);
    have += n.value.length;
  }
  const head = Buffer.concat(chunks);
  async function* replay(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (ended) return;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield n.value;
    }
  }
  return { head: head.subarray(0, bytes), body: Readable.from(replay(), { objectMode: false }) };
}
