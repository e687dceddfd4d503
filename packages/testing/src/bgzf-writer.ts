import { bgzfBlock, BGZF_EOF } from '@gas/anntools';
import { deflateRawSync } from 'node:zlib';

/**
 * BGZF the way bgzip writes it (the engine's own block writer): gzip members of at most
 * `blockSize` input bytes with the BC extra field, an empty EOF block, and the `.gzi` index of the
 * block starts. Tests use small blocks so that reads cross many of them.
 */
export function bgzf(data: Buffer, blockSize = 65280): { file: Buffer; gzi: Buffer } {
  const blocks: Buffer[] = [];
  const starts: Array<[number, number]> = [];
  let coff = 0;
  for (let u = 0; u < data.length; u += blockSize) {
    if (u > 0) starts.push([coff, u]);
    const chunk = data.subarray(u, u + blockSize);
    const b = bgzfBlock(chunk, deflateRawSync(chunk));
    blocks.push(b);
    coff += b.length;
  }
  blocks.push(BGZF_EOF);
  const gzi = Buffer.alloc(8 + starts.length * 16);
  gzi.writeBigUInt64LE(BigInt(starts.length), 0);
  starts.forEach(([c, u], i) => {
    gzi.writeBigUInt64LE(BigInt(c), 8 + i * 16);
    gzi.writeBigUInt64LE(BigInt(u), 16 + i * 16);
  });
  return { file: Buffer.concat(blocks), gzi };
}
