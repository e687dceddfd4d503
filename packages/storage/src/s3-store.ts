import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import type { CopyObjectCommandInput, HeadObjectCommandOutput, S3Client, StorageClass } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { assertArea, assertValidKey } from './blob-key.ts';
import { BLOB_AREAS } from './blob-store.ts';
import type { BlobArea, BlobInfo, BlobStore, ColdRestore, DirectUploads, PutOptions } from './blob-store.ts';
import { BlobNotFoundError, InvalidBlobKeyError } from './errors.ts';
import { limitBody } from './limited-body.ts';
import { isColdStorageClass, S3ColdRestore } from './s3-cold-restore.ts';
import { S3DirectUploads } from './s3-direct-uploads.ts';
import { isS3NotFound } from './s3-errors.ts';
import { copyObjectMultipart, MAX_SINGLE_COPY_BYTES } from './s3-multipart-copy.ts';

export interface S3BlobStoreOptions {
  client: S3Client;
  buckets: Record<BlobArea, string>;
  /**
   * Storage class for objects moved or copied into the archive area (GLACIER, DEEP_ARCHIVE, GLACIER_IR);
   * default none. GLACIER and DEEP_ARCHIVE objects must be restored before they can be read, so with
   * those the store has `coldRestore`.
   */
  archiveStorageClass?: string;
  /** Days AWS keeps the temporary copy a restore makes (RestoreObject's Days); default 1, since it is copied out at once. */
  restoreDays?: number;
  /** Multipart part size for put (lib-storage default 5 MiB). Memory per upload is about partSize × queueSize. */
  partSize?: number;
  /** Parts uploaded in parallel per put (lib-storage default 4). */
  queueSize?: number;
  /** Objects larger than this are moved with a multipart copy; S3 refuses single copies above 5 GiB. */
  multipartCopyThreshold?: number;
}

function encodeCopySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/** Blobs as objects in one bucket per area (AWS S3 or an S3-compatible store). */
export class S3BlobStore implements BlobStore {
  readonly kind = 's3' as const;
  readonly #client: S3Client;
  readonly #buckets: Record<BlobArea, string>;
  readonly #archiveStorageClass: string | undefined;
  readonly #partSize: number | undefined;
  readonly #queueSize: number | undefined;
  readonly #multipartCopyThreshold: number;
  readonly directUploads: DirectUploads;
  readonly coldRestore?: ColdRestore;

  constructor(opts: S3BlobStoreOptions) {
    for (const area of BLOB_AREAS) {
      if (!opts.buckets?.[area]) throw new Error(`S3BlobStore needs a bucket for the ${area} area`);
    }
    this.#client = opts.client;
    this.#buckets = { ...opts.buckets };
    this.#archiveStorageClass = opts.archiveStorageClass || undefined;
    this.#partSize = opts.partSize;
    this.#queueSize = opts.queueSize;
    this.#multipartCopyThreshold = opts.multipartCopyThreshold ?? MAX_SINGLE_COPY_BYTES;
    this.directUploads = new S3DirectUploads(this.#client, (area, key) => this.#location(area, key));
    const restoreDays = opts.restoreDays ?? 1;
    if (!Number.isInteger(restoreDays) || restoreDays < 1) {
      throw new Error('S3BlobStore restoreDays must be a whole number of days, at least 1');
    }
    if (isColdStorageClass(this.#archiveStorageClass)) {
      this.coldRestore = new S3ColdRestore(this.#client, this.#archiveStorageClass, restoreDays, (key) => this.#location('archive', key));
    }
  }

  #location(area: BlobArea, key: string): { Bucket: string; Key: string } {
    assertArea(area);
    assertValidKey(key);
    return { Bucket: this.#buckets[area], Key: key };
  }

  async put(area: BlobArea, key: string, body: Readable, opts: PutOptions = {}): Promise<{ size: number }> {
    const location = this.#location(area, key);
    const limited = limitBody(body, opts.maxBytes);
    const upload = new Upload({
      client: this.#client,
      params: { ...location, Body: limited.stream, ...(opts.contentType ? { ContentType: opts.contentType } : {}) },
      // Failed multipart uploads must not leave invisible, billable parts behind.
      leavePartsOnError: false,
      ...(this.#partSize ? { partSize: this.#partSize } : {}),
      ...(this.#queueSize ? { queueSize: this.#queueSize } : {}),
    });
    try {
      await upload.done();
      return { size: limited.bytes };
    } catch (err) {
      throw limited.failure ?? err;
    } finally {
      limited.detach();
    }
  }

  async get(area: BlobArea, key: string): Promise<Readable> {
    const location = this.#location(area, key);
    try {
      const out = await this.#client.send(new GetObjectCommand(location));
      if (out.Body instanceof Readable) return out.Body;
      if (!out.Body) return Readable.from([]);
      return Readable.fromWeb(out.Body.transformToWebStream() as Parameters<typeof Readable.fromWeb>[0]);
    } catch (err) {
      if (isS3NotFound(err)) throw new BlobNotFoundError(area, key, { cause: err });
      throw err;
    }
  }

  async #head(area: BlobArea, key: string): Promise<HeadObjectCommandOutput | null> {
    const location = this.#location(area, key);
    try {
      return await this.#client.send(new HeadObjectCommand(location));
    } catch (err) {
      if (isS3NotFound(err)) return null;
      throw err;
    }
  }

  async stat(area: BlobArea, key: string): Promise<BlobInfo | null> {
    const head = await this.#head(area, key);
    if (!head) return null;
    return { size: head.ContentLength ?? 0, ...(head.StorageClass ? { storageClass: head.StorageClass } : {}) };
  }

  async delete(area: BlobArea, key: string): Promise<void> {
    await this.#client.send(new DeleteObjectCommand(this.#location(area, key)));
  }

  async list(area: BlobArea, prefix: string): Promise<string[]> {
    if (!prefix.endsWith('/')) throw new InvalidBlobKeyError(prefix, 'a prefix to list must end in /');
    const { Bucket } = this.#location(area, prefix.slice(0, -1));
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const out = await this.#client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of out.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  async move(from: BlobArea, to: BlobArea, key: string, opts: { storageClass?: string } = {}): Promise<void> {
    const { inPlace } = await this.#copy(from, to, key, opts.storageClass);
    // Two areas may share a bucket; then the copy was the whole move, and a delete would destroy the only copy.
    if (!inPlace) await this.#client.send(new DeleteObjectCommand(this.#location(from, key)));
  }

  async copy(from: BlobArea, to: BlobArea, key: string, opts: { storageClass?: string } = {}): Promise<void> {
    await this.#copy(from, to, key, opts.storageClass);
  }

  /** The class a copy gets: see the top of blob-store.ts. */
  #storageClassFor(from: BlobArea, to: BlobArea, explicit: string | undefined): string | undefined {
    if (explicit) return explicit;
    if (to === 'archive') return this.#archiveStorageClass;
    // Said out loud rather than left to CopyObject's default: an in-place copy (one bucket for both
    // areas) must name the class to change it, and some stores (s3rver) keep the source's class.
    if (from === 'archive' && this.#archiveStorageClass) return 'STANDARD';
    return undefined;
  }

  /** Server-side copy; S3 makes the new object visible whole or not at all. */
  async #copy(from: BlobArea, to: BlobArea, key: string, explicitClass: string | undefined): Promise<{ inPlace: boolean }> {
    const src = this.#location(from, key);
    const dst = this.#location(to, key);
    const storageClass = this.#storageClassFor(from, to, explicitClass);
    const inPlace = src.Bucket === dst.Bucket;

    const head = await this.#head(from, key);
    if (!head) throw new BlobNotFoundError(from, key);
    // HeadObject names no class for STANDARD objects.
    if (inPlace && (!storageClass || storageClass === (head.StorageClass ?? 'STANDARD'))) return { inPlace };

    const params: CopyObjectCommandInput = { ...dst, CopySource: encodeCopySource(src.Bucket, src.Key) };
    if (storageClass) {
      // Some stores (s3rver) keep StorageClass only on a replacing copy, and REPLACE drops what the
      // object carried, so the headers that matter to readers are copied over by hand.
      Object.assign(params, {
        StorageClass: storageClass as StorageClass,
        MetadataDirective: 'REPLACE',
        ContentType: head.ContentType,
        ContentEncoding: head.ContentEncoding,
        ContentDisposition: head.ContentDisposition,
        ContentLanguage: head.ContentLanguage,
        CacheControl: head.CacheControl,
        Metadata: head.Metadata,
      } satisfies Partial<CopyObjectCommandInput>);
    }
    try {
      if ((head.ContentLength ?? 0) > this.#multipartCopyThreshold) {
        await copyObjectMultipart(this.#client, params, head.ContentLength ?? 0, head);
      } else {
        await this.#client.send(new CopyObjectCommand(params));
      }
    } catch (err) {
      if (isS3NotFound(err)) throw new BlobNotFoundError(from, key, { cause: err });
      throw err;
    }
    return { inPlace };
  }

  async check(): Promise<void> {
    for (const bucket of new Set(Object.values(this.#buckets))) {
      try {
        await this.#client.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch (err) {
        const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        throw new Error(`S3 bucket ${bucket} is not usable${status ? ` (HTTP ${status})` : ''}: ${(err as Error).name}`, { cause: err });
      }
    }
  }
}
