import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable } from 'node:stream';
import type { BlobArea, DirectUploads, PresignedPost } from './blob-store.ts';
import { BlobNotFoundError, InvalidUploadArgumentError } from './errors.ts';
import { isS3NotFound } from './s3-errors.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** S3's limits (and GAS's own for expiry and head), for callers that plan part sizes. */
export const DIRECT_UPLOAD_LIMITS = Object.freeze({
  /** S3 part numbers run 1..10000. */
  maxPartNumber: 10_000,
  /** Every part but the last, on AWS. */
  minPartBytes: 5 * MiB,
  maxPartBytes: 5 * GiB,
  /** S3 refuses a single POST upload above 5 GiB; bigger files go multipart. */
  maxPostBytes: 5 * GiB,
  /** Presigned links are handed to browsers: short-lived, so a leaked one is soon worthless. */
  maxExpiresInSeconds: 3600,
  /** head is for sniffing a format; 1 MiB holds many BGZF blocks (at most 64 KiB each). */
  maxHeadBytes: 1 * MiB,
});

type Locate = (area: BlobArea, key: string) => { Bucket: string; Key: string };

function integerIn(op: string, name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidUploadArgumentError(op, name, `must be an integer from ${min} to ${max} (got ${String(value)})`);
  }
}

// Printable ASCII only: it becomes an HTTP header and a policy condition.
const CONTENT_TYPE = /^[\x21-\x7e][\x20-\x7e]{0,254}$/;

function checkContentType(op: string, contentType: string | undefined): void {
  if (contentType === undefined) return;
  if (typeof contentType !== 'string' || !CONTENT_TYPE.test(contentType)) {
    throw new InvalidUploadArgumentError(
      op,
      'contentType',
      `must be 1 to 255 printable ASCII characters (got ${JSON.stringify(contentType)})`,
    );
  }
}

function checkUploadId(op: string, uploadId: string): void {
  if (typeof uploadId !== 'string' || uploadId.length === 0 || uploadId.length > 1024 || /[\p{Cc}\s]/u.test(uploadId)) {
    throw new InvalidUploadArgumentError(
      op,
      'uploadId',
      `must be a non-empty string without spaces or control characters (got ${JSON.stringify(uploadId)})`,
    );
  }
}

function errorName(err: unknown): string | undefined {
  const e = err as { name?: string; Code?: string } | undefined;
  return e?.name ?? e?.Code;
}

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/**
 * With the SDK's default checksum setting (WHEN_SUPPORTED) a presigned UploadPart URL carries
 * x-amz-checksum-crc32 of the empty body it was signed without, and S3 then refuses the browser's
 * real bytes as a checksum mismatch. The headers are dropped after the checksum middleware (build
 * step, normal priority) adds them and before the presigner hoists headers into the query.
 */
function withoutRequestChecksum(command: UploadPartCommand): UploadPartCommand {
  command.middlewareStack.add(
    (next) => async (args) => {
      const headers = (args.request as { headers?: Record<string, string> } | undefined)?.headers;
      if (headers) {
        for (const name of Object.keys(headers)) {
          if (/^x-amz-(checksum-|sdk-checksum-algorithm$)/i.test(name)) delete headers[name];
        }
      }
      return next(args);
    },
    { step: 'build', priority: 'low', name: 'gasPresignWithoutChecksum', override: true },
  );
  return command;
}

/** The DirectUploads of an S3BlobStore; keys and areas go through the store's own checks. */
export class S3DirectUploads implements DirectUploads {
  readonly #client: S3Client;
  readonly #locate: Locate;

  constructor(client: S3Client, locate: Locate) {
    this.#client = client;
    this.#locate = locate;
  }

  async presignPost(
    area: BlobArea,
    key: string,
    opts: { maxBytes: number; expiresInSeconds: number; contentType?: string },
  ): Promise<PresignedPost> {
    const op = 'presignPost';
    const location = this.#locate(area, key);
    // The SDK turns a key ending in ${filename} into a starts-with condition: any key under the
    // prefix would then be allowed.
    if (key.includes('${filename}')) {
      throw new InvalidUploadArgumentError(op, 'key', 'must not contain ${filename}: the policy must pin the exact key');
    }
    if (typeof opts !== 'object' || opts === null)
      throw new InvalidUploadArgumentError(op, 'opts', 'must give maxBytes and expiresInSeconds');
    integerIn(op, 'maxBytes', opts.maxBytes, 1, DIRECT_UPLOAD_LIMITS.maxPostBytes);
    integerIn(op, 'expiresInSeconds', opts.expiresInSeconds, 1, DIRECT_UPLOAD_LIMITS.maxExpiresInSeconds);
    checkContentType(op, opts.contentType);
    // An empty file is never a VCF, so the range starts at 1.
    return createPresignedPost(this.#client, {
      ...location,
      Conditions: [['content-length-range', 1, opts.maxBytes]],
      // Each field becomes an exact-match condition as well.
      Fields: opts.contentType ? { 'Content-Type': opts.contentType } : {},
      Expires: opts.expiresInSeconds,
    });
  }

  async startMultipart(area: BlobArea, key: string, opts: { contentType?: string } = {}): Promise<{ uploadId: string }> {
    const location = this.#locate(area, key);
    checkContentType('startMultipart', opts.contentType);
    const out = await this.#client.send(
      new CreateMultipartUploadCommand({ ...location, ...(opts.contentType ? { ContentType: opts.contentType } : {}) }),
    );
    if (!out.UploadId) throw new Error(`startMultipart: the store returned no UploadId for ${area}/${key}`);
    return { uploadId: out.UploadId };
  }

  async presignPart(area: BlobArea, key: string, uploadId: string, partNumber: number, expiresInSeconds: number): Promise<string> {
    const op = 'presignPart';
    const location = this.#locate(area, key);
    checkUploadId(op, uploadId);
    integerIn(op, 'partNumber', partNumber, 1, DIRECT_UPLOAD_LIMITS.maxPartNumber);
    integerIn(op, 'expiresInSeconds', expiresInSeconds, 1, DIRECT_UPLOAD_LIMITS.maxExpiresInSeconds);
    const command = withoutRequestChecksum(new UploadPartCommand({ ...location, UploadId: uploadId, PartNumber: partNumber }));
    return getSignedUrl(this.#client, command, { expiresIn: expiresInSeconds });
  }

  async completeMultipart(
    area: BlobArea,
    key: string,
    uploadId: string,
    parts: Array<{ partNumber: number; etag: string }>,
  ): Promise<void> {
    const op = 'completeMultipart';
    const location = this.#locate(area, key);
    checkUploadId(op, uploadId);
    if (!Array.isArray(parts) || parts.length === 0 || parts.length > DIRECT_UPLOAD_LIMITS.maxPartNumber) {
      throw new InvalidUploadArgumentError(op, 'parts', `must list 1 to ${DIRECT_UPLOAD_LIMITS.maxPartNumber} parts`);
    }
    const seen = new Set<number>();
    for (const [i, part] of parts.entries()) {
      integerIn(op, `parts[${i}].partNumber`, part?.partNumber, 1, DIRECT_UPLOAD_LIMITS.maxPartNumber);
      if (seen.has(part.partNumber)) throw new InvalidUploadArgumentError(op, `parts[${i}].partNumber`, `repeats part ${part.partNumber}`);
      seen.add(part.partNumber);
      if (typeof part.etag !== 'string' || part.etag.length === 0 || part.etag.length > 1024 || /\p{Cc}/u.test(part.etag)) {
        throw new InvalidUploadArgumentError(op, `parts[${i}].etag`, 'must be the non-empty ETag the part upload answered with');
      }
    }
    // S3 refuses parts listed out of order (InvalidPartOrder); browsers finish them in any order.
    const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    await this.#client.send(
      new CompleteMultipartUploadCommand({
        ...location,
        UploadId: uploadId,
        MultipartUpload: { Parts: sorted.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
      }),
    );
  }

  async abortMultipart(area: BlobArea, key: string, uploadId: string): Promise<void> {
    const location = this.#locate(area, key);
    checkUploadId('abortMultipart', uploadId);
    try {
      await this.#client.send(new AbortMultipartUploadCommand({ ...location, UploadId: uploadId }));
    } catch (err) {
      // Cleanup runs after timeouts and retries, when the upload may already be complete or gone.
      if (errorName(err) === 'NoSuchUpload' || isS3NotFound(err)) return;
      throw err;
    }
  }

  async head(area: BlobArea, key: string, bytes: number): Promise<Buffer> {
    const location = this.#locate(area, key);
    integerIn('head', 'bytes', bytes, 1, DIRECT_UPLOAD_LIMITS.maxHeadBytes);
    // The size first: a ranged GET of an empty object is an error on S3 (416 InvalidRange) and
    // hangs s3rver, which promises one byte and sends none.
    let size: number;
    try {
      size = (await this.#client.send(new HeadObjectCommand(location))).ContentLength ?? 0;
    } catch (err) {
      if (isS3NotFound(err)) throw new BlobNotFoundError(area, key, { cause: err });
      throw err;
    }
    if (size === 0) return Buffer.alloc(0);
    let body: unknown;
    try {
      body = (await this.#client.send(new GetObjectCommand({ ...location, Range: `bytes=0-${Math.min(bytes, size) - 1}` }))).Body;
    } catch (err) {
      if (isS3NotFound(err)) throw new BlobNotFoundError(area, key, { cause: err });
      // Replaced by an empty object since the HEAD.
      if (errorName(err) === 'InvalidRange' || httpStatus(err) === 416) return Buffer.alloc(0);
      throw err;
    }
    if (!body) return Buffer.alloc(0);
    const stream =
      body instanceof Readable
        ? body
        : Readable.fromWeb((body as { transformToWebStream(): unknown }).transformToWebStream() as Parameters<typeof Readable.fromWeb>[0]);
    // A store may send more than the range (s3rver reads "bytes=0-0" as the whole object): stop
    // reading once there is enough.
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of stream) {
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        chunks.push(buf);
        total += buf.length;
        if (total >= bytes) break;
      }
    } finally {
      stream.destroy();
    }
    return Buffer.concat(chunks, total).subarray(0, bytes);
  }
}
