/**
 * What a child process printed, bounded so a chatty service in a long test cannot grow the test
 * process without limit; the newest output is what explains a failure, so the oldest goes.
 * Chunks are kept as they come and whole old ones dropped, so an append costs the same however
 * much was written before: trimming one string per append copied megabytes for every log line,
 * which made the harness, not the service, the bottleneck of a load test.
 */
export class OutputBuffer {
  #chunks: string[] = [];
  #first = 0;
  #chars = 0;
  #dropped = false;
  readonly #maxChars: number;

  constructor(maxChars = 4 * 1024 * 1024) {
    this.#maxChars = maxChars;
  }

  append(chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    this.#chunks.push(text);
    this.#chars += text.length;
    while (this.#chars - this.#chunks[this.#first]!.length >= this.#maxChars) {
      this.#chars -= this.#chunks[this.#first]!.length;
      this.#first++;
      this.#dropped = true;
    }
    // Compact now and then, so dropped chunks do not pile up in the array.
    if (this.#first > 1024 && this.#first * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#first);
      this.#first = 0;
    }
  }

  text(): string {
    const all = this.#chunks.slice(this.#first).join('');
    const text = all.length > this.#maxChars ? all.slice(all.length - this.#maxChars) : all;
    return this.#dropped || text !== all ? `[earlier output dropped]\n${text}` : text;
  }

  tail(lines: number): string {
    const all = this.text()
      .replace(/^\[earlier output dropped\]\n/, '')
      .replace(/\n$/, '')
      .split('\n');
    return all.slice(-lines).join('\n');
  }
}
