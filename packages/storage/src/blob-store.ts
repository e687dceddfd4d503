/*
 * Copy and move. `copy` leaves the source; `move` is a copy and then a delete of the source (none
 * when the two areas are one S3 bucket: the copy was the whole move). Readers of the destination
 * see the old blob or the whole new one: S3 copies are atomic, the filesystem copies through a temp
 * file and a rename. On S3 the copy gets, in this order: the storage class asked for; the configured
 * archive class when copying into 'archive'; STANDARD when copying out of 'archive' while an archive
 * class is configured (a cold object comes back hot, in place too when the areas share a bucket);
 * else none (the bucket's default). Within one bucket and with no class to change there is nothing
 * to copy, and only the source is checked. Objects above 5 GiB are copied in parts (UploadPartCopy).
 * A GLACIER or DEEP_ARCHIVE object can only be copied once restored (S3 answers 403
 * InvalidObjectState before), and the filesystem has no storage classes at all.
 *
 * Cold restores. `coldRestore` is there when archived blobs cannot be read at once: S3 with
 * archiveStorageClass GLACIER or DEEP_ARCHIVE (GLACIER_IR, or no class, is read at once), and the
 * filesystem store when it has a restoreDelayMs (the local stack's stand-in). The archive service
 * asks `request(key)`, waits until about `expectedReadyAt`, polls `status(key)` until 'ready', then
 * copies the blob out of 'archive' (which makes it STANDARD) and deletes the archived one.
 *   - S3: RestoreObject for restoreDays (default 1) with the Expedited tier (about 5 minutes),
 *     falling back to Standard (about 5 hours) when AWS has no Expedited capacity (503
 *     GlacierExpeditedRetrievalNotAvailable); DEEP_ARCHIVE has no Expedited tier and asks Standard
 *     (about 12 hours) at once. A restore already under way (409 RestoreAlreadyInProgress) counts as
 *     asked. status() reads HeadObject's x-amz-restore header.
 *   - Filesystem: a marker, root/.restores/<key> holding {"readyAt": iso}, that survives restarts;
 *     deleting the archived blob, or replacing it, removes it.
 *
 * S3 permissions the store needs: s3:GetObject (get, stat, and the source of a copy), s3:PutObject
 * (put, the destination of a copy or move, multipart uploads), s3:DeleteObject (delete, move),
 * s3:RestoreObject on the archive bucket (coldRestore), s3:AbortMultipartUpload (a failed put), and
 * s3:ListBucket for check() (HeadBucket) and list().
 *
 * Operator notes. An S3 lifecycle rule (a Transition to GLACIER after N days on the results bucket)
 * is the alternative to the archive service moving objects: S3 does it with no request per object,
 * but for everything the rule's prefix or tag filter matches, premium users' results included, and
 * unknown to the job records. GLACIER objects are billed for at least 90 days and DEEP_ARCHIVE for
 * 180, even when restored and deleted sooner.
 *
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
  /**
   * The keys of the blobs under `prefix` (a folder: `<userId>/<jobId>/`, ending in a slash), in no
   * set order; none when there are none. Uploads still under way are not listed.
   */
  list(area: BlobArea, prefix: string): Promise<string[]>;
  /** Rejects with BlobNotFoundError if the source is absent; overwrites the destination. */
  move(from: BlobArea, to: BlobArea, key: string, opts?: { storageClass?: string }): Promise<void>;
  /**
   * Like move, but the source stays. Readers of the destination see the old blob or the whole new
   * one, never part of it. See the top of this file for the storage class a copy gets.
   */
  copy(from: BlobArea, to: BlobArea, key: string, opts?: { storageClass?: string }): Promise<void>;
  /** Readiness probe: throws if the store is unusable. */
  check(): Promise<void>;
  /** Present only where a browser can upload straight to the store (S3); see the top of this file. */
  readonly directUploads?: DirectUploads;
  /** Present only where archived blobs must be restored before they can be read; see the top of this file. */
  readonly coldRestore?: ColdRestore;
}

export interface RestoreTicket {
  /** How the store was asked to restore: AWS retrieval tier, or 'delay' for the filesystem's simulated wait. */
  retrieval: 'Expedited' | 'Standard' | 'Bulk' | 'delay';
  /** When the store expects the object readable (AWS gives ranges; this is the upper end). */
  expectedReadyAt: Date;
}

export type ColdRestoreStatus = 'cold' | 'restoring' | 'ready';

/** Restores from an archive tier whose blobs cannot be read at once (S3 Glacier Flexible Retrieval, Deep Archive). */
export interface ColdRestore {
  /** Names the tier for logs and metrics: the storage class (GLACIER, DEEP_ARCHIVE) or 'filesystem'. */
  readonly tier: string;
  /**
   * Asks for the archived blob at `key` (archive area) to be made readable. Safe to call again while
   * a restore is under way or done. Rejects with BlobNotFoundError if absent.
   */
  request(key: string): Promise<RestoreTicket>;
  /**
   * 'cold' (no restore asked), 'restoring', or 'ready' (can be copied out of the archive area now).
   * Rejects with BlobNotFoundError if absent.
   */
  status(key: string): Promise<ColdRestoreStatus>;
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
