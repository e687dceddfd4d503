// AWS S3's Glacier restores at the S3 client's HTTP boundary. A real restore takes minutes to days
// and needs AWS, so the tests that use this say "AWS Glacier mocked at the S3 client boundary": the
// SDK builds, signs and sends real requests, and parses responses shaped as the S3 API reference
// documents them (status codes, XML error bodies with Code and Message, the x-amz-restore and
// x-amz-storage-class headers). Only RestoreObject and HeadObject are answered.
import { Readable } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';

/** What the SDK sent, as S3 would read it. */
export interface SentRequest {
  operation: 'RestoreObject' | 'HeadObject';
  bucket: string;
  key: string;
  /** RestoreObject's RestoreRequest: Days and GlacierJobParameters.Tier. */
  days?: number;
  tier?: string;
}

type RestoreState = { kind: 'none' } | { kind: 'ongoing' } | { kind: 'done'; expiry: Date };

interface StoredObject {
  storageClass: string;
  size: number;
  restore: RestoreState;
}

/** An S3 error as AWS answers it: status, and an XML body with the error code. */
export interface S3ErrorAnswer {
  status: number;
  code: string;
  message: string;
}

// The smithy HttpRequest/HttpResponse shapes, as far as this stand-in uses them (the SDK checks
// responses by shape, so plain objects do).
interface HttpRequest {
  method: string;
  hostname: string;
  path: string;
  query?: Record<string, string | string[] | null>;
  body?: string | Uint8Array;
}
interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: Readable;
}

const COLD = new Set(['GLACIER', 'DEEP_ARCHIVE']);
let requestCounter = 0;

function xmlError({ status, code, message }: S3ErrorAnswer, resource: string): HttpResponse {
  const requestId = `STANDIN${++requestCounter}`;
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${message}</Message><Resource>${resource}</Resource>` +
    `<RequestId>${requestId}</RequestId><HostId>stand-in-host-id</HostId></Error>`;
  return {
    statusCode: status,
    headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId, 'x-amz-id-2': 'stand-in-host-id' },
    body: Readable.from([Buffer.from(body)]),
  };
}

function emptyResponse(statusCode: number, headers: Record<string, string> = {}): HttpResponse {
  return { statusCode, headers: { 'x-amz-request-id': `STANDIN${++requestCounter}`, ...headers }, body: Readable.from([]) };
}

export class AwsGlacierStandIn {
  readonly sent: SentRequest[] = [];
  /**
   * Refusals for the next Expedited restores, one each, in order (a 503
   * GlacierExpeditedRetrievalNotAvailable when AWS has no Expedited capacity, say).
   */
  readonly expeditedRefusals: S3ErrorAnswer[] = [];
  readonly #objects = new Map<string, StoredObject>();

  /** An object as an archive transition or copy would leave it: in its class, no restore asked. */
  store(bucket: string, key: string, storageClass: string, size = 3): void {
    this.#objects.set(`${bucket}/${key}`, { storageClass, size, restore: { kind: 'none' } });
  }

  /** AWS finishing a restore: the temporary copy is readable until expiry. */
  finishRestore(bucket: string, key: string, expiry: Date): void {
    const object = this.#objects.get(`${bucket}/${key}`);
    if (!object) throw new Error(`stand-in: no object ${bucket}/${key}`);
    object.restore = { kind: 'done', expiry };
  }

  /** An S3 client that sends everything here; retries off unless asked, so `sent` shows each request once. */
  client(opts: { maxAttempts?: number } = {}): S3Client {
    return new S3Client({
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDSTANDIN', secretAccessKey: 'stand-in-secret' },
      maxAttempts: opts.maxAttempts ?? 1,
      requestHandler: { handle: async (request: HttpRequest) => ({ response: this.#answer(request) }) },
    });
  }

  #answer(request: HttpRequest): HttpResponse {
    // Virtual-hosted style (bucket.s3.region.amazonaws.com/key) for DNS-safe names, else path style.
    const hosted = /^(.+)\.s3\.[^.]+\.amazonaws\.com$/.exec(request.hostname);
    const segments = request.path.split('/').slice(1).map(decodeURIComponent);
    const bucket = hosted?.[1] ?? segments.shift() ?? '';
    const key = segments.join('/');
    const resource = `/${bucket}/${key}`;
    const object = this.#objects.get(`${bucket}/${key}`);

    if (request.method === 'HEAD') {
      this.sent.push({ operation: 'HeadObject', bucket, key });
      // HEAD answers carry no body, so a missing key is a bare 404.
      if (!object) return emptyResponse(404);
      const headers: Record<string, string> = {
        'content-length': String(object.size),
        'content-type': 'text/plain',
        etag: '"0123456789abcdef0123456789abcdef"',
        'last-modified': 'Wed, 01 Jan 2025 00:00:00 GMT',
      };
      // AWS names no class for STANDARD objects.
      if (object.storageClass !== 'STANDARD') headers['x-amz-storage-class'] = object.storageClass;
      if (object.restore.kind === 'ongoing') headers['x-amz-restore'] = 'ongoing-request="true"';
      if (object.restore.kind === 'done') {
        headers['x-amz-restore'] = `ongoing-request="false", expiry-date="${object.restore.expiry.toUTCString()}"`;
      }
      return emptyResponse(200, headers);
    }

    if (request.method === 'POST' && request.query && 'restore' in request.query) {
      const body = typeof request.body === 'string' ? request.body : Buffer.from(request.body ?? []).toString('utf8');
      const days = /<Days>(\d+)<\/Days>/.exec(body)?.[1];
      const tier = /<Tier>(\w+)<\/Tier>/.exec(body)?.[1];
      this.sent.push({ operation: 'RestoreObject', bucket, key, ...(days ? { days: Number(days) } : {}), ...(tier ? { tier } : {}) });
      if (!object) return xmlError({ status: 404, code: 'NoSuchKey', message: 'The specified key does not exist.' }, resource);
      if (!COLD.has(object.storageClass)) {
        return xmlError(
          { status: 403, code: 'InvalidObjectState', message: "Restore is not allowed for the object's current storage class" },
          resource,
        );
      }
      if (object.restore.kind === 'ongoing') {
        return xmlError({ status: 409, code: 'RestoreAlreadyInProgress', message: 'Object restore is already in progress' }, resource);
      }
      if (tier === 'Expedited') {
        const refusal = this.expeditedRefusals.shift();
        if (refusal) return xmlError(refusal, resource);
      }
      // A finished restore is renewed for the new Days (200); otherwise one starts (202).
      if (object.restore.kind === 'done') return emptyResponse(200);
      object.restore = { kind: 'ongoing' };
      return emptyResponse(202);
    }

    throw new Error(`stand-in: ${request.method} ${request.path} is not an operation it answers`);
  }
}

export const GLACIER_EXPEDITED_UNAVAILABLE: S3ErrorAnswer = {
  status: 503,
  code: 'GlacierExpeditedRetrievalNotAvailable',
  message: 'Glacier expedited retrievals are currently not available, please try again later',
};
