// Limits as sentences show them: the gateway's words for a plan's caps and the annotator's reason
// when a job passes one must name the same figures the same way.

/** A size in whole binary units where it is one ("1 GiB", "64 GiB"), else in bytes. */
export function formatLimitBytes(n: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const)
    if (n >= size && n % size === 0) return `${n / size} ${unit}`;
  return `${n.toLocaleString('en')} bytes`;
}

/** "5 M", "500 k", "1,200": a count of records for a sentence. */
export function formatLimitCount(n: number): string {
  if (n >= 1_000_000 && n % 100_000 === 0) return `${n / 1_000_000} M`;
  if (n >= 10_000 && n % 1000 === 0) return `${n / 1000} k`;
  return n.toLocaleString('en');
}
