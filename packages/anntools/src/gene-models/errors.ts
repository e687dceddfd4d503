/**
 * A problem in a gene model file, always located like VcfFormatError: the source (file path), the
 * 1-based line and the field, so an operator building a database can fix the file.
 */
export class GeneModelError extends Error {
  constructor(
    readonly source: string,
    readonly line: number,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${source}: line ${line}: ${field}: ${reason}`);
    this.name = 'GeneModelError';
  }
}

// A declaration, not a per-line closure: under tsx every closure created is also named (__name), which
// showed up as a fifth of the time to load a whole-genome refFlat.
export function failAt(source: string, line: number, field: string, reason: string): never {
  throw new GeneModelError(source, line, field, reason);
}
