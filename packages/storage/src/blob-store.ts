import type { Readable } from 'node:stream';

export type BlobArea = 'inputs' | 'results' | 'archive';

export const BLOB_AREAS: readonly BlobArea[] = Object.freeze(['inputs', 'results', 'archive']);

export interface BlobInfo {
  size: number;
  /** As the store reports it; S3 omits it for STANDARD, the filesystem has none. */
  storageClass?: string;
}

export interface PutOptions {
  contentType?: string;
  /** Abort with BlobTooLargeError once more bytes than this arrive. */
  maxBytes?: number;
}

/**
 * Where job inputs, results and archived results live. Bodies stream both ways; a failed put
 * leaves nothing at the key. put never destroys the body it is given: on failure it stops reading,
 * so a caller can still answer the client (an HTTP 413, say) before closing the stream.
 */
export interface BlobStore {
  readonly kind: 'filesystem' | 's3';
  put(area: BlobArea, key: string, body: Readable, opts?: PutOptions): Promise<{ size: number }>;
  /** Rejects with BlobNotFoundError if absent. */
  get(area: BlobArea, key: string): Promise<Readable>;
  stat(area: BlobArea, key: string): Promise<BlobInfo | null>;
  /** Absent is fine. */
  delete(area: BlobArea, key: string): Promise<void>;
  /** Rejects with BlobNotFoundError if the source is absent; overwrites the destination. */
  move(from: BlobArea, to: BlobArea, key: string, opts?: { storageClass?: string }): Promise<void>;
  /** Readiness probe: throws if the store is unusable. */
  check(): Promise<void>;
}
