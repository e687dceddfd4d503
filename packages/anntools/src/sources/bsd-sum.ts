// The BSD `sum` checksum (`sum -r` in GNU coreutils, the default of `sum`), which is what Ensembl
// publishes in its CHECKSUMS files: a 16-bit checksum rotated right one bit before each byte is added,
// and the size in 1 KiB blocks, rounded up.
import { createReadStream } from 'node:fs';

export interface BsdSumValue {
  checksum: number;
  blocks: number;
}

export class BsdSum {
  private sum = 0;
  private bytes = 0;

  update(buf: Uint8Array): void {
    let s = this.sum;
    for (let i = 0; i < buf.length; i++) {
      s = ((s >>> 1) | ((s & 1) << 15)) + buf[i]!;
      s &= 0xffff;
    }
    this.sum = s;
    this.bytes += buf.length;
  }

  value(): BsdSumValue {
    return { checksum: this.sum, blocks: Math.ceil(this.bytes / 1024) };
  }
}

/** As `sum -r` prints it: the checksum zero-padded to 5 digits, then the blocks. */
export function formatBsdSum(v: BsdSumValue): string {
  return `${String(v.checksum).padStart(5, '0')} ${v.blocks}`;
}

export async function bsdSumFile(path: string): Promise<BsdSumValue> {
  const s = new BsdSum();
  for await (const chunk of createReadStream(path)) s.update(chunk as Buffer);
  return s.value();
}
