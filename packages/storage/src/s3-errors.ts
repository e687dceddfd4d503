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
