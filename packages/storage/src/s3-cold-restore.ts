import { HeadObjectCommand, RestoreObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ColdRestore, ColdRestoreStatus, RestoreTicket } from './blob-store.ts';
import { BlobNotFoundError } from './errors.ts';
import { isS3NotFound, s3ErrorCode, s3HttpStatus } from './s3-errors.ts';

/** The classes whose objects AWS must restore before anyone can read them (GLACIER_IR is read at once). */
const COLD_STORAGE_CLASSES = ['GLACIER', 'DEEP_ARCHIVE'] as const;
export type ColdStorageClass = (typeof COLD_STORAGE_CLASSES)[number];

export function isColdStorageClass(storageClass: string | undefined): storageClass is ColdStorageClass {
  return (COLD_STORAGE_CLASSES as readonly string[]).includes(storageClass ?? '');
}

type Retrieval = 'Expedited' | 'Standard' | 'Bulk';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The upper ends of the restore times AWS documents for each class and retrieval tier. */
function expectedWaitMs(storageClass: ColdStorageClass, retrieval: Retrieval): number {
  if (storageClass === 'DEEP_ARCHIVE') return retrieval === 'Bulk' ? 48 * HOUR : 12 * HOUR;
  return { Expedited: 5 * MINUTE, Standard: 5 * HOUR, Bulk: 12 * HOUR }[retrieval];
}

/**
 * Expedited retrievals run on capacity AWS may not have at the moment (503
 * GlacierExpeditedRetrievalNotAvailable, or InsufficientCapacity where provisioned capacity is used
 * up); Standard always has it. Only ever asked about an Expedited request's error.
 */
function expeditedUnavailable(err: unknown): boolean {
  const code = s3ErrorCode(err) ?? '';
  return (
    code === 'GlacierExpeditedRetrievalNotAvailable' ||
    code.includes('InsufficientCapacity') ||
    (code === 'ServiceUnavailable' && s3HttpStatus(err) === 503)
  );
}

const NOTHING_TO_RESTORE = new Set(['InvalidObjectState', 'ObjectAlreadyInActiveTierError']);

/**
 * Reads HeadObject's Restore (the x-amz-restore header): `ongoing-request="true"` while AWS
 * restores, `ongoing-request="false", expiry-date="…"` once the temporary copy is readable, absent
 * when no restore was asked or the copy has expired.
 */
function restoreStatusOf(restore: string | undefined, storageClass: string | undefined): ColdRestoreStatus {
  if (restore) return /ongoing-request="true"/.test(restore) ? 'restoring' : 'ready';
  return isColdStorageClass(storageClass) ? 'cold' : 'ready';
}

/**
 * Glacier restores (RestoreObject) for the archive area. Expedited first where the class has it
 * (GLACIER; DEEP_ARCHIVE has not), Standard when AWS has no Expedited capacity. A restore makes a
 * temporary readable copy for `restoreDays`; the object itself stays in its class until it is
 * copied out (BlobStore.copy from 'archive' makes it STANDARD).
 */
export class S3ColdRestore implements ColdRestore {
  readonly tier: ColdStorageClass;
  readonly #client: S3Client;
  readonly #restoreDays: number;
  readonly #location: (key: string) => { Bucket: string; Key: string };

  constructor(client: S3Client, tier: ColdStorageClass, restoreDays: number, location: (key: string) => { Bucket: string; Key: string }) {
    this.#client = client;
    this.tier = tier;
    this.#restoreDays = restoreDays;
    this.#location = location;
  }

  async request(key: string): Promise<RestoreTicket> {
    if (this.tier === 'GLACIER') {
      try {
        return await this.#restore(key, 'Expedited');
      } catch (err) {
        if (!expeditedUnavailable(err)) throw err;
      }
    }
    return this.#restore(key, 'Standard');
  }

  async status(key: string): Promise<ColdRestoreStatus> {
    try {
      const head = await this.#client.send(new HeadObjectCommand(this.#location(key)));
      return restoreStatusOf(head.Restore, head.StorageClass);
    } catch (err) {
      if (isS3NotFound(err)) throw new BlobNotFoundError('archive', key, { cause: err });
      throw err;
    }
  }

  async #restore(key: string, retrieval: Retrieval): Promise<RestoreTicket> {
    const location = this.#location(key);
    const askedAt = Date.now();
    try {
      const out = await this.#client.send(
        new RestoreObjectCommand({ ...location, RestoreRequest: { Days: this.#restoreDays, GlacierJobParameters: { Tier: retrieval } } }),
      );
      // 202 starts a restore; 200 means an earlier one is done (and this one only renewed its days).
      const done = out.$metadata.httpStatusCode === 200;
      return { retrieval, expectedReadyAt: new Date(done ? askedAt : askedAt + expectedWaitMs(this.tier, retrieval)) };
    } catch (err) {
      if (isS3NotFound(err)) throw new BlobNotFoundError('archive', key, { cause: err });
      // 409: asked before and still under way. Which tier that was is not told, so the slower one is assumed.
      if (s3ErrorCode(err) === 'RestoreAlreadyInProgress') {
        return { retrieval: 'Standard', expectedReadyAt: new Date(askedAt + expectedWaitMs(this.tier, 'Standard')) };
      }
      // 403 for an object in a class that needs no restore (one already copied back in place, say):
      // readable as it is, which HeadObject confirms rather than the error code being trusted.
      if (NOTHING_TO_RESTORE.has(s3ErrorCode(err) ?? '') && (await this.status(key)) === 'ready') {
        return { retrieval, expectedReadyAt: new Date(askedAt) };
      }
      throw err;
    }
  }
}
