import { gunzipSync } from 'node:zlib';

/** Z_SYNC_FLUSH: a head cut anywhere (a truncated head of a longer file) decompresses as far as it goes. */
const PARTIAL = { finishFlush: 2 };
/** The UTF-8 encoding of U+FEFF, which some editors put at the start of a text file: dropped, as the engine drops it. */
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const FILEFORMAT = '##fileformat=VCF';

/**
 * The first compressed byte at which zlib refuses the head: the shortest prefix that fails ends
 * there (a prefix that stops before the damage decompresses as far as it goes).
 */
function damagedAt(head: Buffer): number {
  let ok = 0;
  let bad = head.length;
  while (bad - ok > 1) {
    const mid = (ok + bad) >>> 1;
    try {
      gunzipSync(head.subarray(0, mid), PARTIAL);
      ok = mid;
    } catch {
      bad = mid;
    }
  }
  return bad - 1;
}

/**
 * Decides from the first bytes whether an upload is a VCF, so a wrong file is refused before it is
 * stored. Returns null when it looks like one, or the reason it does not. `complete`: the head is
 * the whole file, so a gzip stream that stops early is truncated rather than cut off by the peek.
 */
export function whyNotVcf(head: Buffer, opts: { complete?: boolean } = {}): string | null {
  let text: Buffer;
  const compressed = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  if (compressed) {
    try {
      text = gunzipSync(head, PARTIAL);
    } catch (err) {
      return `the file is gzip-compressed but damaged at byte offset ${damagedAt(head)} (${(err as Error).message})`;
    }
    if (opts.complete) {
      try {
        gunzipSync(head);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'Z_BUF_ERROR') return `the gzip file ends early, at byte offset ${head.length} (truncated file?)`;
        // Damage that gives no output: the trailer's checksum, or bytes after the last member.
        return `the file is gzip-compressed but damaged before byte offset ${head.length} (${(err as Error).message})`;
      }
    }
  } else {
    text = head;
  }
  if (text.subarray(0, BOM.length).equals(BOM)) text = text.subarray(BOM.length);
  if (text.length === 0) {
    if (!compressed) return 'the file is empty';
    // A head too short to give output yet: the engine will judge the whole file.
    return opts.complete ? 'the file is empty once decompressed' : null;
  }
  const start = text.subarray(0, FILEFORMAT.length).toString('latin1');
  // A head that ends before the word is whole is judged on what it has, unless it is the whole file.
  const whole = start.length === FILEFORMAT.length || opts.complete === true;
  if (whole ? start !== FILEFORMAT : !FILEFORMAT.startsWith(start)) {
    return 'a VCF file must start with "##fileformat=VCFv4.x"; this file does not';
  }
  return null;
}
