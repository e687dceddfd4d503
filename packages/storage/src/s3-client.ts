import { S3Client } from '@aws-sdk/client-s3';

export interface S3ClientOptions {
  endpoint?: string;
  region: string;
  forcePathStyle?: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
  /**
   * Only compute and validate checksums when an operation requires them. S3-compatible stores
   * that predate the SDK's default checksums (s3rver) otherwise store streamed bodies with the
   * aws-chunked framing inside them. Leave off for AWS.
   */
  checksumWhenRequired?: boolean;
}

export function createS3Client(opts: S3ClientOptions): S3Client {
  if (Boolean(opts.accessKeyId) !== Boolean(opts.secretAccessKey)) {
    throw new Error('createS3Client: give both accessKeyId and secretAccessKey, or neither to use the default credential chain');
  }
  return new S3Client({
    region: opts.region,
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.forcePathStyle !== undefined ? { forcePathStyle: opts.forcePathStyle } : {}),
    ...(opts.accessKeyId && opts.secretAccessKey
      ? { credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey } }
      : {}),
    ...(opts.checksumWhenRequired
      ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const }
      : {}),
  });
}
