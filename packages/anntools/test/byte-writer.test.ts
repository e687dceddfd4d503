// ByteWriter copies input ranges four bytes at a time and fixed texts with one set(): every length,
// offset and growth must still give back exactly the bytes written.
import t from 'tap';
import { ByteWriter } from '../src/byte-writer.ts';

const source = Buffer.from(Array.from({ length: 300 }, (_, i) => String.fromCharCode(33 + (i % 90))).join(''), 'latin1');

t.test('ranges of every length and offset, around the four-byte steps, come out byte for byte', async (t) => {
  const view = new DataView(source.buffer, source.byteOffset, source.byteLength);
  const w = new ByteWriter(8); // tiny, so most writes grow it
  const expected: Buffer[] = [];
  for (let start = 0; start < 9; start++) {
    for (const length of [0, 1, 2, 3, 4, 5, 7, 8, 9, 31, 64, 129, 250]) {
      if (start + length > source.length) continue;
      w.bytes(source, view, start, start + length);
      expected.push(source.subarray(start, start + length));
      w.byte(124);
      expected.push(Buffer.from('|'));
    }
  }
  t.strictSame(w.take(), Buffer.concat(expected));
});

t.test('a range read from a view over part of a larger buffer stays inside that part', async (t) => {
  const big = Buffer.from('xxxxABCDEFGHIJyyyy', 'latin1');
  const part = new Uint8Array(big.buffer, big.byteOffset + 4, 10);
  const view = new DataView(big.buffer, big.byteOffset + 4, 10);
  const w = new ByteWriter(4);
  w.bytes(part, view, 1, 10);
  t.equal(w.take().toString('latin1'), 'BCDEFGHIJ');
});

t.test('integers, strings and encoded texts; take() hands over the bytes and starts again empty', async (t) => {
  const w = new ByteWriter(16);
  const key = Buffer.from(';GAS_RSID=', 'latin1');
  for (const n of [0, 7, 9, 10, 99, 100, 12345, 2_147_483_647, 9_007_199_254_740_991]) {
    w.int(n);
    w.copy(key);
  }
  w.str('rs');
  const first = w.take();
  const ints = ['0', '7', '9', '10', '99', '100', '12345', '2147483647', '9007199254740991'];
  t.equal(first.toString('latin1'), ints.map((n) => `${n};GAS_RSID=`).join('') + 'rs');
  t.equal(first.byteOffset, 0, 'the output owns its memory from the start, so it can be transferred');
  w.str('next');
  t.equal(w.size, 4);
  t.equal(w.take().toString('latin1'), 'next');
  t.equal(first.toString('latin1').slice(-2), 'rs', 'a taken buffer is not overwritten by later writes');
});

t.test('memory given back is reused by take() and by growth, and only once', async (t) => {
  const w = new ByteWriter(64);
  w.str('a'.repeat(40));
  const first = w.take();
  w.str('b'.repeat(10));
  const second = w.take();
  w.recycle(first.buffer as ArrayBuffer);
  w.recycle(second.buffer as ArrayBuffer);
  // The writer's own buffer is fresh; the next one comes from what was given back.
  w.str('c');
  t.equal(w.take().toString('latin1'), 'c');
  w.str('d');
  const reused = w.take();
  t.ok(reused.buffer === first.buffer || reused.buffer === second.buffer, 'a given-back buffer');
  t.equal(reused.toString('latin1'), 'd');
  // Growing past 64 bytes takes a given-back buffer of the size needed when there is one.
  const big = new ArrayBuffer(1024);
  w.recycle(big);
  w.str('e'.repeat(100));
  const grown = w.take();
  t.equal(grown.buffer, big);
  t.equal(grown.toString('latin1'), 'e'.repeat(100));
  const buffers = new Set<ArrayBufferLike>();
  for (let i = 0; i < 12; i++) {
    w.str('f');
    buffers.add(w.take().buffer);
  }
  t.equal(buffers.size, 12, 'no buffer handed out twice');
});
