import { crc32, deflateRawSync } from 'node:zlib';

/**
 * BGZF the way bgzip writes it: gzip members of at most `blockSize` input bytes with the BC extra
 * field, an empty EOF block, and the `.gzi` index of the block starts. Tests use small blocks so
 * that reads cross many of them.
 */
export function bgzf(data: Buffer, blockSize = 65280): { file: Buffer; gzi: Buffer } {
  const blocks: Buffer[] = [];
  const starts: Array<[number, number]> = [];
  let coff = 0;
  const member = (chunk: Buffer): Buffer => {
    const cdata = deflateRawSync(chunk);
    const head = Buffer.from([0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 6, 0, 66, 67, 2, 0, 0, 0]);
    head.writeUInt16LE(18 + cdata.length + 8 - 1, 16);
    const tail = Buffer.alloc(8);
    tail.writeUInt32LE(crc32(chunk), 0);
    tail.writeUInt32LE(chunk.length, 4);
    return Buffer.concat([head, cdata, tail]);
  };
  for (let u = 0; u < data.length; u += blockSize) {
    if (u > 0) starts.push([coff, u]);
    const b = member(data.subarray(u, u + blockSize));
    blocks.push(b);
    coff += b.length;
  }
  blocks.push(member(Buffer.alloc(0)));
  const gzi = Buffer.alloc(8 + starts.length * 16);
  gzi.writeBigUInt64LE(BigInt(starts.length), 0);
  starts.forEach(([c, u], i) => {
    gzi.writeBigUInt64LE(BigInt(c), 8 + i * 16);
    gzi.writeBigUInt64LE(BigInt(u), 16 + i * 16);
  });
  return { file: Buffer.concat(blocks), gzi };
}
