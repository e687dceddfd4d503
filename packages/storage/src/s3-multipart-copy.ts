import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import type { CompletedPart, CopyObjectCommandInput, HeadObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';

/** S3 refuses CopyObject for sources above 5 GiB. */
export const MAX_SINGLE_COPY_BYTES = 5 * 1024 ** 3;
const MIN_PART_BYTES = 512 * 1024 ** 2;
const MAX_PARTS = 10_000;
const PARALLEL_PARTS = 4;

/**
 * Server-side copy of a large object in ranges (UploadPartCopy). The object never passes through
 * this process. A failure aborts the upload so no parts linger; the source is left untouched.
 */
export async function copyObjectMultipart(
  client: S3Client,
  target: CopyObjectCommandInput,
  size: number,
  head: HeadObjectCommandOutput,
  partBytes = Math.max(MIN_PART_BYTES, Math.ceil(size / MAX_PARTS)),
): Promise<void> {
  const { Bucket, Key, CopySource } = target;
  const created = await client.send(
    new CreateMultipartUploadCommand({
      Bucket,
      Key,
      ...(target.StorageClass ? { StorageClass: target.StorageClass } : {}),
      ContentType: head.ContentType,
      ContentEncoding: head.ContentEncoding,
      ContentDisposition: head.ContentDisposition,
      ContentLanguage: head.ContentLanguage,
      CacheControl: head.CacheControl,
      Metadata: head.Metadata,
    }),
  );
  const UploadId = created.UploadId;
  if (!UploadId) throw new Error(`CreateMultipartUpload for ${Bucket}/${Key} returned no UploadId`);

  const ranges: Array<{ partNumber: number; start: number; end: number }> = [];
  for (let start = 0, partNumber = 1; start < size; start += partBytes, partNumber++) {
    ranges.push({ partNumber, start, end: Math.min(start + partBytes, size) - 1 });
  }
  const parts: CompletedPart[] = [];
  try {
    let next = 0;
    let failed = false;
    const worker = async (): Promise<void> => {
      for (let range = ranges[next++]; range && !failed; range = ranges[next++]) {
        const out = await client.send(
          new UploadPartCopyCommand({
            Bucket,
            Key,
            UploadId,
            PartNumber: range.partNumber,
            CopySource,
            CopySourceRange: `bytes=${range.start}-${range.end}`,
            // A source replaced mid-copy would otherwise yield a blob stitched from two versions.
            ...(head.ETag ? { CopySourceIfMatch: head.ETag } : {}),
          }),
        );
        if (!out.CopyPartResult?.ETag) throw new Error(`UploadPartCopy part ${range.partNumber} of ${Bucket}/${Key} returned no ETag`);
        parts.push({ PartNumber: range.partNumber, ETag: out.CopyPartResult.ETag });
      }
    };
    // Let every in-flight part settle before aborting, or a late part could outlive the abort.
    const settled = await Promise.allSettled(
      Array.from({ length: Math.min(PARALLEL_PARTS, ranges.length) }, () =>
        worker().catch((err: unknown) => {
          failed = true;
          throw err;
        }),
      ),
    );
    const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (rejected) throw rejected.reason;
    parts.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    await client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } }));
  } catch (err) {
    await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => undefined);
    throw err;
  }
}
