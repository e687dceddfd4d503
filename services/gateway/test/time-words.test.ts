// Durations and times as the pages and API details say them.
import t from 'tap';
import { durationWords, relativeWords, utcMinute } from '../src/time-words.ts';

t.test('a retention in words: exact in the largest whole unit, rounded with "about" otherwise', async (t) => {
  const cases: Array<[number, string]> = [
    [1800, '30 minutes'],
    [60, '1 minute'],
    [5400, '90 minutes'],
    [3600, '1 hour'],
    [7200, '2 hours'],
    [86_400, '1 day'],
    [30 * 86_400, '30 days'],
    [129_600, '36 hours'],
    [1, '1 second'],
    [90, '90 seconds'],
    [119, '119 seconds'],
    [121, 'about 2 minutes'],
    [3601, 'about 1 hour'],
    [100_003, 'about 1 day'],
    [0, '0 seconds'],
  ];
  for (const [seconds, words] of cases) t.equal(durationWords(seconds), words, String(seconds));
});

t.test('how far ahead a time is, for "expected back by … (in about 3 minutes)"', async (t) => {
  const now = new Date('2026-12-07T04:59:00Z');
  const ahead = (s: number) => relativeWords(new Date(now.getTime() + s * 1000), now);
  t.equal(ahead(180), 'in about 3 minutes');
  t.equal(ahead(200), 'in about 3 minutes');
  t.equal(ahead(60), 'in about a minute');
  t.equal(ahead(30), 'in less than a minute');
  t.equal(ahead(0), 'any moment now');
  t.equal(ahead(-600), 'any moment now', 'a restore that is late promises nothing more');
  t.equal(ahead(89 * 60), 'in about 89 minutes');
  t.equal(ahead(90 * 60), 'in about 2 hours');
  t.equal(ahead(3600 * 5 + 600), 'in about 5 hours');
  t.equal(ahead(3600 * 12), 'in about 12 hours');
  t.equal(ahead(3600 * 48), 'in about 2 days');
});

t.test('an ISO time as its UTC minute', async (t) => {
  t.equal(utcMinute('2026-12-07T04:31:59.999Z'), '2026-12-07 04:31 UTC');
});
