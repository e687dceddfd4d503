/*
 * Direct uploads (S3 only). A browser can send a VCF straight to the bucket instead of through the
 * gateway: the gateway asks `store.directUploads` (absent on the filesystem store) for a presigned
 * POST (small files) or a multipart upload with one presigned PUT URL per part (big files), hands
 * those to the browser, and once the browser reports back it checks the object itself: `stat` for
 * the size, `directUploads.head` for the first bytes. That check is not optional: the POST policy
 * carries a content-length-range, but s3rver (the tests' S3) ignores policies entirely, and a
 * multipart upload has no size limit at all, since every part URL takes up to 5 GiB. Only a size
 * seen after the upload is one to trust.
 *
 * A browser on another origin than the bucket needs a CORS rule on the bucket (AWS: PutBucketCors),
 * with ETag exposed so the browser can read each part's ETag and pass it back for completion:
 *
 *   { "CORSRules": [{
 *       "AllowedOrigins": ["https://gas.example.org"],
 *       "AllowedMethods": ["POST", "PUT"],
 *       "AllowedHeaders": ["*"],
 *       "ExposeHeaders": ["ETag"],
 *       "MaxAgeSeconds": 3600 }] }
 *
 * The test s3rver has no CORS rule: the tests upload with fetch from Node, where CORS does not apply.
 * s3rver also checks no SigV4 signature, no part ETag and no 5 MiB part minimum (AWS checks all
 * three); it does refuse expired presigned URLs, though not expired POST policies.
 *
 * Uploads that are started and never completed keep their parts (billed, invisible) until aborted;
 * on AWS add a lifecycle rule with AbortIncompleteMultipartUpload (DaysAfterInitiation: 1) as the
 * backstop for browsers that vanish. Treat abortMultipart as best effort: s3rver does not implement
 * it at all and answers 405 MethodNotAllowed.
 */
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
  /** Present only where a browser can upload straight to the store (S3); see the top of this file. */
  readonly directUploads?: DirectUploads;
}

export interface PresignedPost {
  /** Where the browser POSTs the form (the bucket's URL). */
  url: string;
  /** Form fields to send as they are, before the `file` field (S3 ignores fields after it). */
  fields: Record<string, string>;
}

/**
 * Presigned access for browser uploads. Arguments are checked before anything is signed
 * (InvalidUploadArgumentError, InvalidBlobKeyError); errors from S3 itself (NoSuchUpload,
 * InvalidPart, EntityTooSmall, ...) propagate with their S3 names.
 */
export interface DirectUploads {
  /**
   * A browser form POST straight to the bucket. The policy pins the exact key, limits the size to
   * 1..maxBytes (content-length-range), pins the content type (to `contentType`, or to none at
   * all: S3 refuses form fields the policy does not list) and expires after expiresInSeconds.
   */
  presignPost(
    area: BlobArea,
    key: string,
    opts: { maxBytes: number; expiresInSeconds: number; contentType?: string },
  ): Promise<PresignedPost>;
  /** Multipart upload for big files: start, presign each part's PUT, complete, abort. */
  startMultipart(area: BlobArea, key: string, opts?: { contentType?: string }): Promise<{ uploadId: string }>;
  /**
   * A URL the browser PUTs one part's bytes to; the response's ETag header is what complete needs.
   * Every part but the last must be at least 5 MiB on AWS (s3rver does not check).
   */
  presignPart(area: BlobArea, key: string, uploadId: string, partNumber: number, expiresInSeconds: number): Promise<string>;
  /** Parts may come in any order; they are sorted by part number. */
  completeMultipart(area: BlobArea, key: string, uploadId: string, parts: Array<{ partNumber: number; etag: string }>): Promise<void>;
  /** An upload that is already gone (aborted or completed) is fine. */
  abortMultipart(area: BlobArea, key: string, uploadId: string): Promise<void>;
  /**
   * The first `bytes` of an object (fewer if it is shorter), to check what was uploaded without
   * reading it all. Rejects with BlobNotFoundError if absent.
   */
  head(area: BlobArea, key: string, bytes: number): Promise<Buffer>;
}
