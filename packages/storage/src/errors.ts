import type { BlobArea } from './blob-store.ts';

export class BlobNotFoundError extends Error {
  override readonly name = 'BlobNotFoundError';
  readonly area: BlobArea;
  readonly key: string;

  constructor(area: BlobArea, key: string, options?: ErrorOptions) {
    super(`blob not found: ${area}/${key}`, options);
    this.area = area;
    this.key = key;
  }
}

export class BlobTooLargeError extends Error {
  override readonly name = 'BlobTooLargeError';
  readonly limit: number;

  constructor(limit: number) {
    super(`blob is larger than the limit of ${limit} bytes`);
    this.limit = limit;
  }
}

export class InvalidBlobKeyError extends Error {
  override readonly name = 'InvalidBlobKeyError';
  readonly key: string;
  readonly reason: string;

  constructor(key: string, reason: string) {
    super(`invalid blob key ${JSON.stringify(key)}: ${reason}`);
    this.key = key;
    this.reason = reason;
  }
}

/** A direct-upload argument out of range: a caller's mistake (or a browser's), never the store's. */
export class InvalidUploadArgumentError extends Error {
  override readonly name = 'InvalidUploadArgumentError';
  readonly argument: string;

  constructor(operation: string, argument: string, reason: string) {
    super(`${operation}: ${argument} ${reason}`);
    this.argument = argument;
  }
}
