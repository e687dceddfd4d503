interface S3ErrorShape {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** True for "no such object"; a missing bucket is a misconfiguration and is not hidden as one. */
export function isS3NotFound(err: unknown): boolean {
  const e = err as S3ErrorShape | undefined;
  if (!e) return false;
  const name = e.name ?? e.Code;
  if (name === 'NoSuchBucket') return false;
  return name === 'NoSuchKey' || name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

/** The S3 error code: the SDK names errors after it, and keeps it in Code for ones it has no class for. */
export function s3ErrorCode(err: unknown): string | undefined {
  const e = err as S3ErrorShape | undefined;
  return e?.Code ?? e?.name;
}

export function s3HttpStatus(err: unknown): number | undefined {
  return (err as S3ErrorShape | undefined)?.$metadata?.httpStatusCode;
}
