// A service's captured output keeps its newest part, bounded, whatever the size of each write.
import t from 'tap';
import { OutputBuffer } from '../src/output-buffer.ts';

t.test('under the bound everything is kept, in order, with no marker', async (t) => {
  const out = new OutputBuffer(100);
  out.append('one\n');
  out.append(Buffer.from('two\n'));
  t.equal(out.text(), 'one\ntwo\n');
  t.equal(out.tail(1), 'two');
});

t.test('past the bound the oldest output goes, the newest stays, and the text says so', async (t) => {
  const out = new OutputBuffer(50);
  for (let i = 0; i < 10_000; i++) out.append(`line ${i}\n`);
  const text = out.text();
  t.match(text, /^\[earlier output dropped\]\n/);
  t.ok(text.endsWith('line 9999\n'));
  t.ok(text.length - '[earlier output dropped]\n'.length <= 50, 'at most the bound is kept');
  t.equal(out.tail(2), 'line 9998\nline 9999');
  t.notMatch(out.tail(100), /dropped/, 'the tail is output only');
});

t.test('one write larger than the bound keeps its end', async (t) => {
  const out = new OutputBuffer(10);
  out.append('a'.repeat(30) + 'END\n');
  t.equal(out.text(), `[earlier output dropped]\n${'a'.repeat(6)}END\n`);
});
