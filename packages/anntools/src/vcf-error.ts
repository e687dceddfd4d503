/** A problem with the user's VCF, always located: the line number (1-based) and the field. */
export class VcfFormatError extends Error {
  constructor(
    readonly line: number,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`line ${line}: ${field}: ${reason}`);
    this.name = 'VcfFormatError';
  }
}

/** What a cap stopped: the decompressed size of the input, or its number of records. */
export type InputCap = 'decompressedBytes' | 'records';

/**
 * The input passed a cap set for this run (a plan's limits): not malformed, but refused where the
 * cap was passed, before more output is written.
 */
export class InputCapError extends VcfFormatError {
  constructor(
    line: number,
    readonly cap: InputCap,
    readonly limit: number,
  ) {
    super(line, 'input', cap === 'records' ? `more than ${limit} records` : `more than ${limit} bytes after decompression`);
    this.name = 'InputCapError';
  }
}
