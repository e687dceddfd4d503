// A publisher's checksum for one file, and its verification in the same pass that writes the bytes.
// SHA-256 is computed alongside every time: SOURCES.json and the .gasref manifest record files by it.
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { BsdSum, formatBsdSum } from './bsd-sum.ts';

export type ExpectedChecksum =
  | { algorithm: 'md5'; hex: string; /** The list it came from. */ from: string }
  | { algorithm: 'bsd-sum'; checksum: number; blocks: number; from: string };

export function formatExpected(e: ExpectedChecksum): string {
  return e.algorithm === 'md5' ? `md5 ${e.hex}` : `BSD sum ${formatBsdSum(e)} (checksum, 1 KiB blocks)`;
}

export interface ChecksumResult {
  bytes: number;
  sha256: string;
  /** The publisher's algorithm over the bytes, formatted like formatExpected; absent without one. */
  actual?: string;
  /** True when there was nothing to compare with. */
  ok: boolean;
}

export class ChecksumVerifier {
  private readonly sha256 = createHash('sha256');
  private readonly md5: Hash | undefined;
  private readonly bsd: BsdSum | undefined;
  private bytes = 0;

  constructor(private readonly expected: ExpectedChecksum | undefined) {
    if (expected?.algorithm === 'md5') this.md5 = createHash('md5');
    if (expected?.algorithm === 'bsd-sum') this.bsd = new BsdSum();
  }

  update(chunk: Uint8Array): void {
    this.sha256.update(chunk);
    this.md5?.update(chunk);
    this.bsd?.update(chunk);
    this.bytes += chunk.length;
  }

  result(): ChecksumResult {
    const sha256 = this.sha256.digest('hex');
    const e = this.expected;
    if (!e) return { bytes: this.bytes, sha256, ok: true };
    if (e.algorithm === 'md5') {
      const hex = this.md5!.digest('hex');
      return { bytes: this.bytes, sha256, actual: `md5 ${hex}`, ok: hex === e.hex.toLowerCase() };
    }
    const v = this.bsd!.value();
    return {
      bytes: this.bytes,
      sha256,
      actual: `BSD sum ${formatBsdSum(v)} (checksum, 1 KiB blocks)`,
      ok: v.checksum === e.checksum && v.blocks === e.blocks,
    };
  }
}

/** Feeds a file (or its first `limit` bytes) to a verifier. */
export async function feedFile(verifier: ChecksumVerifier, path: string, limit?: number): Promise<void> {
  if (limit === 0) return;
  const opts = limit === undefined ? {} : { end: limit - 1 };
  for await (const chunk of createReadStream(path, opts)) verifier.update(chunk as Buffer);
}

export async function checksumFile(path: string, expected: ExpectedChecksum | undefined): Promise<ChecksumResult> {
  const v = new ChecksumVerifier(expected);
  await feedFile(v, path);
  return v.result();
}
