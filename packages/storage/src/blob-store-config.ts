// The environment variables that choose and configure a BlobStore, shared by every service that
// reads or writes blobs so they all spell them the same way.
import { ConfigError, field } from '@gas/runtime';
import type { ConfigValues } from '@gas/runtime';
import type { BlobStore } from './blob-store.ts';
import { FileBlobStore } from './fs-store.ts';
import { S3BlobStore } from './s3-store.ts';
import { createS3Client } from './s3-client.ts';

export const blobStoreConfigSpec = {
  blobStore: field.oneOf('BLOB_STORE', ['filesystem', 's3'] as const, { default: 'filesystem' }),
  blobRoot: field.string('BLOB_ROOT', { default: '.gas/blobs' }),
  s3Endpoint: field.optional('S3_ENDPOINT'),
  s3Region: field.string('S3_REGION', { default: 'us-east-1' }),
  s3ForcePathStyle: field.bool('S3_FORCE_PATH_STYLE', { default: false }),
  s3AccessKeyId: field.optional('S3_ACCESS_KEY_ID'),
  s3SecretAccessKey: field.string('S3_SECRET_ACCESS_KEY', { default: '', secret: true }),
  /** s3rver and some other S3-compatible stores need this; AWS does not. */
  s3ChecksumWhenRequired: field.bool('S3_CHECKSUM_WHEN_REQUIRED', { default: false }),
  s3BucketInputs: field.string('S3_BUCKET_INPUTS', { default: 'gas-inputs' }),
  s3BucketResults: field.string('S3_BUCKET_RESULTS', { default: 'gas-results' }),
  s3BucketArchive: field.string('S3_BUCKET_ARCHIVE', { default: 'gas-archive' }),
  /** GLACIER, DEEP_ARCHIVE, GLACIER_IR on AWS; empty for stores without cold classes. */
  s3ArchiveStorageClass: field.string('S3_ARCHIVE_STORAGE_CLASS', { default: '' }),
};

export type BlobStoreConfig = ConfigValues<typeof blobStoreConfigSpec>;

/**
 * Settings only some services need, so they read them from variables of their own (the archive
 * service owns the restore ones) and pass them here.
 */
export interface BlobStoreExtras {
  /** Filesystem store: how long a simulated restore from the archive takes; 0 (default) means none is needed. */
  restoreDelayMs?: number;
  /** S3 store: days AWS keeps a restored copy of a cold object (default 1). */
  restoreDays?: number;
}

export function createBlobStore(c: BlobStoreConfig, extra: BlobStoreExtras = {}): BlobStore {
  if (c.blobStore === 'filesystem') {
    return new FileBlobStore({ root: c.blobRoot, restoreDelayMs: extra.restoreDelayMs });
  }
  if (Boolean(c.s3AccessKeyId) !== Boolean(c.s3SecretAccessKey)) {
    throw new ConfigError(['S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY: set both, or neither to use the default AWS credential chain']);
  }
  const client = createS3Client({
    endpoint: c.s3Endpoint,
    region: c.s3Region,
    forcePathStyle: c.s3ForcePathStyle,
    accessKeyId: c.s3AccessKeyId,
    secretAccessKey: c.s3SecretAccessKey || undefined,
    checksumWhenRequired: c.s3ChecksumWhenRequired,
  });
  return new S3BlobStore({
    client,
    buckets: { inputs: c.s3BucketInputs, results: c.s3BucketResults, archive: c.s3BucketArchive },
    archiveStorageClass: c.s3ArchiveStorageClass || undefined,
    restoreDays: extra.restoreDays,
  });
}
