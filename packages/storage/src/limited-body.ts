import type { Readable } from 'node:stream';
import { Transform, finished } from 'node:stream';
import { BlobTooLargeError } from './errors.ts';

export interface LimitedBody {
  /** The bytes of the body, failing with BlobTooLargeError past the limit or with the body's own error. */
  readonly stream: Readable;
  readonly bytes: number;
  /** Why the stream failed, if it was the body or the limit (rather than the store). */
  readonly failure: Error | undefined;
  /** Stops reading from the body without destroying it. */
  detach(): void;
}

/**
 * Counts and limits the bytes flowing from a caller's body into a store. The body is piped, not
 * pipelined: pipeline() would destroy it on failure, and the caller may still need it (to answer
 * an HTTP 413 on the same connection, for instance).
 */
export function limitBody(body: Readable, maxBytes: number | undefined): LimitedBody {
  let bytes = 0;
  let failure: Error | undefined;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      if (maxBytes !== undefined && bytes > maxBytes) {
        failure ??= new BlobTooLargeError(maxBytes);
        callback(failure);
        return;
      }
      callback(null, chunk);
    },
  });
  // finished() also reports a body that closes without ending (a client that hung up), and one
  // that had already failed before we were called.
  const stopWatching = finished(body, { writable: false }, (err) => {
    if (err) {
      failure ??= err;
      counter.destroy(err);
    }
  });
  body.pipe(counter);
  return {
    stream: counter,
    get bytes() {
      return bytes;
    },
    get failure() {
      return failure;
    },
    detach() {
      stopWatching();
      body.unpipe(counter);
    },
  };
}
