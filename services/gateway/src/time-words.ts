// Times and durations as pages and API details say them. Pages show absolute times as <time>
// elements that the page script turns into the reader's time zone; an API detail has no script, so
// it says the UTC minute.

const UNITS: ReadonlyArray<readonly [seconds: number, name: string, one: string]> = [
  [86_400, 'day', 'a day'],
  [3600, 'hour', 'an hour'],
  [60, 'minute', 'a minute'],
];

const count = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

/**
 * A configured length of time in words: exact in the largest unit it is a whole number of
 * (1800 -> "30 minutes", 5400 -> "90 minutes", 86400 -> "1 day"), else rounded in the largest unit
 * it reaches ("about 28 hours"); under two minutes, in seconds.
 */
export function durationWords(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  for (const [size, name] of UNITS) if (s >= size && s % size === 0) return count(s / size, name);
  if (s < 120) return count(s, 'second');
  const [size, name] = UNITS.find(([size]) => s >= size)!;
  return `about ${count(Math.round(s / size), name)}`;
}

/** How far ahead `at` is, for a sentence: "in about 3 minutes", "in about an hour", "any moment now". */
export function relativeWords(at: Date, now: Date): string {
  const s = (at.getTime() - now.getTime()) / 1000;
  if (s <= 0) return 'any moment now';
  if (s < 60) return 'in less than a minute';
  // Each unit until one and a half of the next: 89 minutes, then hours until 36 hours, then days.
  const [size, name, one] = s < 90 * 60 ? UNITS[2]! : s < 36 * 3600 ? UNITS[1]! : UNITS[0]!;
  const n = Math.max(1, Math.round(s / size));
  return `in about ${n === 1 ? one : count(n, name)}`;
}

/** "2 minutes", "1 hour": a wait before something may be asked again, rounded up to what a person reads. */
export function waitWords(ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  if (minutes < 60) return count(minutes, 'minute');
  return count(Math.ceil(minutes / 60), 'hour');
}

/** An ISO time as its UTC minute, "2026-12-07 04:31 UTC". */
export function utcMinute(iso: string): string {
  return `${iso.replace('T', ' ').slice(0, 16)} UTC`;
}
