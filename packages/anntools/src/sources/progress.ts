// Progress lines for long downloads: one line every few seconds (not a redrawn bar), so that a log
// file or CI output stays readable.

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

export class ProgressReporter {
  private done = 0;
  private readonly started = Date.now();
  private lastReport = Date.now();

  constructor(
    private readonly name: string,
    /** Bytes already on disk when a download resumes: counted as done, not in the rate. */
    private readonly startAt: number,
    private readonly total: number | undefined,
    private readonly say: (message: string) => void,
    private readonly intervalMs = 5000,
  ) {}

  add(n: number): void {
    this.done += n;
    const now = Date.now();
    if (now - this.lastReport >= this.intervalMs) {
      this.lastReport = now;
      this.say(this.line(now));
    }
  }

  private line(now: number): string {
    const have = this.startAt + this.done;
    const rate = this.done / Math.max(0.001, (now - this.started) / 1000);
    const of = this.total === undefined ? '' : ` of ${formatBytes(this.total)} (${Math.floor((100 * have) / this.total)}%)`;
    return `${this.name}: ${formatBytes(have)}${of}, ${formatBytes(rate)}/s`;
  }
}
