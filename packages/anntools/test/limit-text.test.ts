import t from 'tap';
import { formatLimitBytes, formatLimitCount } from '../src/format.ts';

t.test('limits read as people write them: whole binary units, else exact', async (t) => {
  t.equal(formatLimitBytes(1024 ** 3), '1 GiB');
  t.equal(formatLimitBytes(64 * 1024 ** 3), '64 GiB');
  t.equal(formatLimitBytes(8 * 1024 ** 2), '8 MiB');
  t.equal(formatLimitBytes(150 * 1024), '150 KiB');
  t.equal(formatLimitBytes(1_500_000), '1,500,000 bytes');
  t.equal(formatLimitCount(5_000_000), '5 M');
  t.equal(formatLimitCount(2_500_000), '2.5 M');
  t.equal(formatLimitCount(500_000), '500 k');
  t.equal(formatLimitCount(1200), '1,200');
});
