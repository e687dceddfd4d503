import { BLOB_AREAS } from './blob-store.ts';
import type { BlobArea } from './blob-store.ts';
import { InvalidBlobKeyError } from './errors.ts';
import { sanitizeName } from './sanitize-name.ts';

const ID = /^[A-Za-z0-9_-]{1,64}$/;
// S3's limit; the filesystem store keeps the same rule so keys work on both.
const MAX_KEY_BYTES = 1024;

export function blobKey(userId: string, jobId: string, name: string): string {
  if (!ID.test(userId)) throw new InvalidBlobKeyError(String(userId), 'user id must match [A-Za-z0-9_-]{1,64}');
  if (!ID.test(jobId)) throw new InvalidBlobKeyError(String(jobId), 'job id must match [A-Za-z0-9_-]{1,64}');
  return `${userId}/${jobId}/${sanitizeName(name)}`;
}

export function assertValidKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidBlobKeyError(String(key), 'empty');
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new InvalidBlobKeyError(key, `longer than ${MAX_KEY_BYTES} bytes`);
  if (key.includes('\\')) throw new InvalidBlobKeyError(key, 'contains a backslash');
  if (/\p{Cc}/u.test(key)) throw new InvalidBlobKeyError(key, 'contains a control character');
  if (key.startsWith('/')) throw new InvalidBlobKeyError(key, 'absolute');
  for (const segment of key.split('/')) {
    if (segment === '') throw new InvalidBlobKeyError(key, 'empty path segment');
    if (segment === '.' || segment === '..') throw new InvalidBlobKeyError(key, `"${segment}" segment`);
  }
}

export function assertArea(area: BlobArea): void {
  if (!BLOB_AREAS.includes(area)) throw new InvalidBlobKeyError(String(area), `unknown blob area (expected ${BLOB_AREAS.join(', ')})`);
}
