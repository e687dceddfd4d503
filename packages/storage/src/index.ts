export type {
  BlobArea,
  BlobInfo,
  BlobStore,
  ColdRestore,
  ColdRestoreStatus,
  DirectUploads,
  PresignedPost,
  PutOptions,
  RestoreTicket,
} from './blob-store.ts';
export { BLOB_AREAS } from './blob-store.ts';
export { BlobNotFoundError, BlobTooLargeError, InvalidBlobKeyError, InvalidUploadArgumentError } from './errors.ts';
export { sanitizeName } from './sanitize-name.ts';
export { blobKey } from './blob-key.ts';
export { FileBlobStore } from './fs-store.ts';
export type { FileBlobStoreOptions } from './fs-store.ts';
export { S3BlobStore } from './s3-store.ts';
export type { S3BlobStoreOptions } from './s3-store.ts';
export { DIRECT_UPLOAD_LIMITS } from './s3-direct-uploads.ts';
export { createS3Client } from './s3-client.ts';
export type { S3ClientOptions } from './s3-client.ts';
export { blobStoreConfigSpec, createBlobStore } from './blob-store-config.ts';
export type { BlobStoreConfig, BlobStoreExtras } from './blob-store-config.ts';
