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
