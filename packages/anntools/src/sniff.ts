import { gunzipSync } from 'node:zlib';

/**
 * Decides from the first bytes whether an upload is a VCF, so a wrong file is refused before it is
 * stored. Returns null when it looks like one, or the reason it does not.
 */
export function whyNotVcf(head: Buffer): string | null {
  let text: string;
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    try {
      text = gunzipSync(head, { finishFlush: 2 /* Z_SYNC_FLUSH: a truncated head is fine */ }).subarray(0, 64).toString('utf8');
    } catch {
      return 'the file is gzip-compressed but could not be decompressed';
    }
  } else {
    text = head.subarray(0, 64).toString('utf8');
  }
  if (text.length === 0) return 'the file is empty';
  if (!text.startsWith('##fileformat=VCF')) {
    return 'a VCF file must start with "##fileformat=VCFv4.x"; this file does not';
  }
  return null;
}
