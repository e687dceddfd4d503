// Keeps what a child process printed, bounded so a chatty service in a long test cannot grow the
// test process without limit; the newest output is what explains a failure, so the oldest goes.
export class OutputBuffer {
  #text = '';
  #dropped = false;
  readonly #maxChars: number;

  constructor(maxChars = 4 * 1024 * 1024) {
    this.#maxChars = maxChars;
  }

  append(chunk: Buffer | string): void {
    this.#text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    if (this.#text.length > this.#maxChars) {
      this.#text = this.#text.slice(this.#text.length - this.#maxChars);
      this.#dropped = true;
    }
  }

  text(): string {
    return this.#dropped ? `[earlier output dropped]\n${this.#text}` : this.#text;
  }

  tail(lines: number): string {
    const all = this.#text.replace(/\n$/, '').split('\n');
    return all.slice(-lines).join('\n');
  }
}
