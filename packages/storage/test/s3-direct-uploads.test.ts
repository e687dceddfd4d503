import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it, mock } from 'node:test';
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { startS3Server } from '@gas/testing';
import type { S3ServerHandle } from '@gas/testing';
import {
  BlobNotFoundError,
  createS3Client,
  DIRECT_UPLOAD_LIMITS,
  FileBlobStore,
  InvalidBlobKeyError,
  InvalidUploadArgumentError,
  S3BlobStore,
} from '../src/index.ts';
import type { BlobArea, BlobStore, DirectUploads } from '../src/index.ts';
import { sha256OfStream, textOf } from './generated-body.ts';

const MiB = 1024 * 1024;

const VCF = '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n1\t10177\trs367896724\tA\tAC\t.\tPASS\t.\n';

// Every 4-byte word is its own offset (from `start`), so a dropped, doubled or swapped part shows.
function patterned(size: number, start = 0): Buffer {
  const buf = Buffer.alloc(size);
  for (let i = 0; i + 4 <= size; i += 4) buf.writeUInt32LE((start + i) >>> 0, i);
  return buf;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface PostPolicy {
  expiration: string;
  conditions: unknown[];
}

const decodePolicy = (fields: Record<string, string>): PostPolicy =>
  JSON.parse(Buffer.from(fields.Policy ?? '', 'base64').toString('utf8')) as PostPolicy;

async function postForm(post: { url: string; fields: Record<string, string> }, body: Buffer | string, filename = 'sample.vcf'): Promise<Response> {
  const form = new FormData();
  for (const [k, v] of Object.entries(post.fields)) form.append(k, v);
  // S3 ignores every field after the file, so it goes last.
  form.append('file', new Blob([body]), filename);
  return fetch(post.url, { method: 'POST', body: form });
}

// One s3rver for the whole file: starting servers per test costs more than the tests on 2 cores.
let s3: S3ServerHandle;
let client: S3Client;
let store: S3BlobStore;
let du: DirectUploads;
const extraClients: S3Client[] = [];

function s3Client(opts: { checksumWhenRequired: boolean }): S3Client {
  const c = new S3Client({
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    ...(opts.checksumWhenRequired ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const } : {}),
  });
  extraClients.push(c);
  return c;
}

// Signs as if two hours ago. The presigner takes the time from Date, not from the client's
// systemClockOffset, and s3rver shares this process: the clock is turned back only while signing.
async function signedTwoHoursAgo<T>(sign: () => Promise<T>): Promise<T> {
  mock.timers.enable({ apis: ['Date'], now: Date.now() - 2 * 3600_000 });
  try {
    return await sign();
  } finally {
    mock.timers.reset();
  }
}

before(async () => {
  s3 = await startS3Server();
  client = createS3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    checksumWhenRequired: true,
  });
  store = new S3BlobStore({ client, buckets: s3.buckets });
  assert.ok(store.directUploads);
  du = store.directUploads;
});
after(async () => {
  client?.destroy();
  for (const c of extraClients) c.destroy();
  await s3?.stop();
});

async function keysUnder(area: BlobArea, prefix: string): Promise<string[]> {
  const out = await client.send(new ListObjectsV2Command({ Bucket: s3.buckets[area], Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key ?? '');
}

describe('S3 direct uploads: presigned POST', () => {
  it('a form POST with fetch stores the file at the key; stat, get and head see it', async () => {
    const key = 'p1/j1/sample.vcf';
    const post = await du.presignPost('inputs', key, { maxBytes: 10_000, expiresInSeconds: 60, contentType: 'text/x-vcf' });
    assert.equal(post.url, `${s3.endpoint}/${s3.buckets.inputs}`);
    assert.equal(post.fields.key, key);

    const res = await postForm(post, VCF);
    assert.equal(res.status, 204, await res.text());

    assert.equal((await store.stat('inputs', key))?.size, Buffer.byteLength(VCF));
    assert.equal(await textOf(await store.get('inputs', key)), VCF);
    assert.equal((await du.head('inputs', key, 16)).toString('utf8'), '##fileformat=VCF');
    const head = await client.send(new HeadObjectCommand({ Bucket: s3.buckets.inputs, Key: key }));
    assert.equal(head.ContentType, 'text/x-vcf');
  });

  it('the policy pins content-length-range [1, maxBytes], the exact key, the bucket, the content type and the expiry', async () => {
    const key = 'p2/j1/in.vcf.gz';
    const before = Date.now();
    const post = await du.presignPost('inputs', key, { maxBytes: 1234, expiresInSeconds: 300, contentType: 'application/gzip' });
    const policy = decodePolicy(post.fields);

    assert.deepEqual(policy.conditions.filter((c) => Array.isArray(c)), [['content-length-range', 1, 1234]]);
    assert.ok(policy.conditions.some((c) => JSON.stringify(c) === JSON.stringify({ key })), 'exact key condition');
    assert.ok(!JSON.stringify(policy.conditions).includes('starts-with'), 'no prefix conditions');
    assert.ok(policy.conditions.some((c) => JSON.stringify(c) === JSON.stringify({ bucket: s3.buckets.inputs })));
    assert.ok(policy.conditions.some((c) => JSON.stringify(c) === JSON.stringify({ 'Content-Type': 'application/gzip' })));
    assert.equal(post.fields['Content-Type'], 'application/gzip');

    const expires = Date.parse(policy.expiration);
    // The policy's expiration has whole seconds.
    assert.ok(expires >= before + 300_000 - 1000 && expires <= Date.now() + 300_000, `expiration ${policy.expiration}`);

    // s3rver does not verify signatures, so the SigV4 POST signature is recomputed here: AWS
    // signs the base64 policy with the key derived from secret, date, region and "s3".
    const [accessKeyId, date, region, service] = (post.fields['X-Amz-Credential'] ?? '').split('/');
    assert.equal(accessKeyId, s3.accessKeyId);
    assert.equal(post.fields['X-Amz-Algorithm'], 'AWS4-HMAC-SHA256');
    const hmac = (k: string | Buffer, data: string): Buffer => createHmac('sha256', k).update(data).digest();
    const signingKey = hmac(hmac(hmac(hmac(`AWS4${s3.secretAccessKey}`, date ?? ''), region ?? ''), service ?? ''), 'aws4_request');
    assert.equal(post.fields['X-Amz-Signature'], hmac(signingKey, post.fields.Policy ?? '').toString('hex'));
  });

  it('without a content type the policy lists none, so S3 refuses a Content-Type field', async () => {
    const post = await du.presignPost('inputs', 'p3/j1/x.vcf', { maxBytes: 10, expiresInSeconds: 60 });
    assert.equal(post.fields['Content-Type'], undefined);
    assert.ok(!JSON.stringify(decodePolicy(post.fields).conditions).toLowerCase().includes('content-type'));
  });

  it('an expired policy: s3rver checks no POST policy (expiry, size, key, signature), so only the expiration written into the policy is asserted', async () => {
    const post = await signedTwoHoursAgo(() => du.presignPost('inputs', 'p4/j1/x.vcf', { maxBytes: 10, expiresInSeconds: 60 }));
    const expires = Date.parse(decodePolicy(post.fields).expiration);
    assert.ok(expires < Date.now() - 3600_000, `expiration ${decodePolicy(post.fields).expiration} should be in the past`);
  });
});

describe('S3 direct uploads: multipart', () => {
  it('two parts PUT through presigned URLs and completed with their ETags make one object of the right size and bytes', async () => {
    const key = 'm1/j1/big.vcf';
    const part1 = patterned(5 * MiB + 12);
    const part2 = patterned(100_003, part1.length);
    const whole = Buffer.concat([part1, part2]);

    const { uploadId } = await du.startMultipart('inputs', key, { contentType: 'text/x-vcf' });
    const etags: Array<{ partNumber: number; etag: string }> = [];
    // Browsers finish parts in any order; the second goes first here, and complete gets them reversed.
    for (const [partNumber, body] of [[2, part2], [1, part1]] as const) {
      const url = await du.presignPart('inputs', key, uploadId, partNumber, 60);
      const res = await fetch(url, { method: 'PUT', body });
      assert.equal(res.status, 200, await res.text());
      const etag = res.headers.get('etag');
      assert.ok(etag, 'part upload answers with an ETag');
      etags.push({ partNumber, etag });
    }
    assert.equal(await store.stat('inputs', key), null, 'nothing at the key before complete');
    await du.completeMultipart('inputs', key, uploadId, etags);

    assert.equal((await store.stat('inputs', key))?.size, whole.length);
    const got = await sha256OfStream(await store.get('inputs', key));
    assert.equal(got.bytes, whole.length);
    assert.equal(got.digest, sha256(whole));
    assert.deepEqual(await du.head('inputs', key, 64), whole.subarray(0, 64));
    const head = await client.send(new HeadObjectCommand({ Bucket: s3.buckets.inputs, Key: key }));
    assert.equal(head.ContentType, 'text/x-vcf');
  });

  it('part URLs carry no request checksum even with the SDK default (AWS would refuse the part as a checksum mismatch)', async () => {
    const aws = new S3BlobStore({ client: s3Client({ checksumWhenRequired: false }), buckets: s3.buckets });
    const key = 'm2/j1/x.vcf';
    const { uploadId } = await aws.directUploads.startMultipart('inputs', key);
    const url = await aws.directUploads.presignPart('inputs', key, uploadId, 3, 60);
    const query = new URL(url).searchParams;
    assert.deepEqual([...query.keys()].filter((k) => /checksum/i.test(k)), []);
    assert.equal(query.get('partNumber'), '3');
    assert.equal(query.get('uploadId'), uploadId);
    assert.equal(query.get('X-Amz-Expires'), '60');
    const res = await fetch(url, { method: 'PUT', body: 'x' });
    assert.equal(res.status, 200, await res.text());
  });

  it('an expired part URL is refused (s3rver does check presigned-URL expiry)', async () => {
    const key = 'm3/j1/x.vcf';
    const { uploadId } = await du.startMultipart('inputs', key);
    const url = await signedTwoHoursAgo(() => du.presignPart('inputs', key, uploadId, 1, 60));
    const res = await fetch(url, { method: 'PUT', body: 'late' });
    assert.equal(res.status, 403);
    assert.match(await res.text(), /Request has expired/);
  });

  it('abort: s3rver does not implement AbortMultipartUpload (405 MethodNotAllowed), and the parts never become an object', async () => {
    const key = 'm4/j1/x.vcf';
    const { uploadId } = await du.startMultipart('inputs', key);
    const res = await fetch(await du.presignPart('inputs', key, uploadId, 1, 60), { method: 'PUT', body: 'partial' });
    assert.equal(res.status, 200);
    await assert.rejects(du.abortMultipart('inputs', key, uploadId), (err: Error) => err.name === 'MethodNotAllowed');
    assert.equal(await store.stat('inputs', key), null);
    assert.deepEqual(await keysUnder('inputs', 'm4/'), []);
  });

});

// s3rver cannot answer an abort at all and ignores the order of completed parts, so for these the
// store's answers are scripted and the requests the adapter sends are looked at directly.
describe('S3 direct uploads: requests to a scripted store', () => {
  interface Seen { method: string; path: string; uploadId: string; body: string }
  function scriptedStore(answer: () => { status: number; xml: string }): { store: S3BlobStore; seen: Seen[] } {
    const seen: Seen[] = [];
    const scripted = new S3Client({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      requestHandler: {
        async handle(req: { method: string; path: string; query?: Record<string, unknown>; body?: unknown }) {
          seen.push({ method: req.method, path: req.path, uploadId: String(req.query?.uploadId), body: typeof req.body === 'string' ? req.body : '' });
          const { status, xml } = answer();
          return { response: { statusCode: status, headers: { 'content-type': 'application/xml' }, body: Readable.from([Buffer.from(xml)]) } };
        },
      } as never,
    });
    extraClients.push(scripted);
    return { store: new S3BlobStore({ client: scripted, buckets: s3.buckets }), seen };
  }
  const s3Error = (code: string): string => `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>scripted</Message></Error>`;

  it('abort treats an upload that is already gone (NoSuchUpload) as done, and other failures as failures', async () => {
    let answer = { status: 404, xml: s3Error('NoSuchUpload') };
    const { store: scripted, seen } = scriptedStore(() => answer);
    await scripted.directUploads.abortMultipart('inputs', 'a/b/c.vcf', 'up-1');
    assert.deepEqual(seen.map((r) => `${r.method} ${r.path} ${r.uploadId}`), [`DELETE /${s3.buckets.inputs}/a/b/c.vcf up-1`]);
    answer = { status: 403, xml: s3Error('AccessDenied') };
    await assert.rejects(scripted.directUploads.abortMultipart('inputs', 'a/b/c.vcf', 'up-1'), (err: Error) => err.name === 'AccessDenied');
  });

  it('complete sends each part with its ETag, in part-number order whatever order they came in', async () => {
    const ok = `<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult><Key>a/b/c.vcf</Key><ETag>"x-3"</ETag></CompleteMultipartUploadResult>`;
    const { store: scripted, seen } = scriptedStore(() => ({ status: 200, xml: ok }));
    await scripted.directUploads.completeMultipart('inputs', 'a/b/c.vcf', 'up-2', [
      { partNumber: 3, etag: '"c"' },
      { partNumber: 1, etag: '"a"' },
      { partNumber: 2, etag: '"b"' },
    ]);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.uploadId, 'up-2');
    const unescape = (x: string): string => x.replace(/&quot;/g, '"').replace(/&amp;/g, '&');
    const listed = [...(seen[0]?.body ?? '').matchAll(/<Part>(.*?)<\/Part>/g)].map((m) => ({
      n: Number(/<PartNumber>(\d+)<\/PartNumber>/.exec(m[1] ?? '')?.[1]),
      etag: unescape(/<ETag>(.*?)<\/ETag>/.exec(m[1] ?? '')?.[1] ?? ''),
    }));
    assert.deepEqual(listed, [{ n: 1, etag: '"a"' }, { n: 2, etag: '"b"' }, { n: 3, etag: '"c"' }]);
  });
});

describe('S3 direct uploads: head', () => {
  it('gives the whole object when it is shorter than asked, nothing for an empty one, BlobNotFoundError when absent', async () => {
    await store.put('inputs', 'h1/j1/short.vcf', Readable.from([Buffer.from('##fileformat')]));
    assert.equal((await du.head('inputs', 'h1/j1/short.vcf', 1024)).toString('utf8'), '##fileformat');
    assert.equal((await du.head('inputs', 'h1/j1/short.vcf', 1)).toString('utf8'), '#');
    await store.put('inputs', 'h1/j1/empty.vcf', Readable.from([]));
    assert.equal((await du.head('inputs', 'h1/j1/empty.vcf', 16)).length, 0);
    await assert.rejects(du.head('inputs', 'h1/j1/absent.vcf', 16), BlobNotFoundError);
  });
});

describe('S3 direct uploads: arguments', () => {
  const isArg = (argument: string) => (err: unknown): boolean =>
    err instanceof InvalidUploadArgumentError && err.argument === argument && /must|repeats/.test(err.message);

  it('refuses part numbers, expiries, sizes, content types and upload ids out of range before signing', async () => {
    for (const n of [0, 10_001, 1.5, Number.NaN, -1]) {
      await assert.rejects(du.presignPart('inputs', 'a/b/c', 'up', n, 60), isArg('partNumber'), `partNumber ${n}`);
    }
    for (const s of [0, 3601, 0.5, Number.POSITIVE_INFINITY]) {
      await assert.rejects(du.presignPart('inputs', 'a/b/c', 'up', 1, s), isArg('expiresInSeconds'), `part expiry ${s}`);
      await assert.rejects(du.presignPost('inputs', 'a/b/c', { maxBytes: 10, expiresInSeconds: s }), isArg('expiresInSeconds'), `post expiry ${s}`);
    }
    for (const m of [0, -1, 1.5, DIRECT_UPLOAD_LIMITS.maxPostBytes + 1]) {
      await assert.rejects(du.presignPost('inputs', 'a/b/c', { maxBytes: m, expiresInSeconds: 60 }), isArg('maxBytes'), `maxBytes ${m}`);
    }
    await assert.rejects(du.presignPost('inputs', 'a/b/c', undefined as never), isArg('opts'));
    await assert.rejects(du.presignPost('inputs', 'a/b/c', { maxBytes: 10, expiresInSeconds: 60, contentType: 'text/plain\r\nx-amz-acl: public-read' }), isArg('contentType'));
    await assert.rejects(du.startMultipart('inputs', 'a/b/c', { contentType: '' }), isArg('contentType'));
    await assert.rejects(du.presignPart('inputs', 'a/b/c', '', 1, 60), isArg('uploadId'));
    await assert.rejects(du.abortMultipart('inputs', 'a/b/c', 'a b'), isArg('uploadId'));
    await assert.rejects(du.head('inputs', 'a/b/c', 0), isArg('bytes'));
    await assert.rejects(du.head('inputs', 'a/b/c', DIRECT_UPLOAD_LIMITS.maxHeadBytes + 1), isArg('bytes'));
  });

  it('refuses empty, repeated or malformed part lists', async () => {
    await assert.rejects(du.completeMultipart('inputs', 'a/b/c', 'up', []), isArg('parts'));
    await assert.rejects(du.completeMultipart('inputs', 'a/b/c', 'up', [{ partNumber: 0, etag: '"e"' }]), isArg('parts[0].partNumber'));
    await assert.rejects(
      du.completeMultipart('inputs', 'a/b/c', 'up', [{ partNumber: 1, etag: '"e"' }, { partNumber: 1, etag: '"f"' }]),
      isArg('parts[1].partNumber'),
    );
    await assert.rejects(du.completeMultipart('inputs', 'a/b/c', 'up', [{ partNumber: 1, etag: '' }]), isArg('parts[0].etag'));
  });

  it('keys and areas go through the store checks, and ${filename} cannot widen a POST policy to a prefix', async () => {
    await assert.rejects(du.presignPost('inputs', 'a/../b', { maxBytes: 10, expiresInSeconds: 60 }), InvalidBlobKeyError);
    await assert.rejects(du.presignPart('inputs', '/abs', 'up', 1, 60), InvalidBlobKeyError);
    await assert.rejects(du.startMultipart('nowhere' as BlobArea, 'a/b/c'), InvalidBlobKeyError);
    await assert.rejects(du.head('inputs', '', 1), InvalidBlobKeyError);
    await assert.rejects(du.presignPost('inputs', 'a/b/${filename}', { maxBytes: 10, expiresInSeconds: 60 }), isArg('key'));
  });
});

describe('direct uploads are S3 only', () => {
  it('the filesystem store has no directUploads', () => {
    // Typed as the port, the way callers see a store.
    const fsStore: BlobStore = new FileBlobStore({ root: join(tmpdir(), 'gas-never-created') });
    assert.equal(fsStore.directUploads, undefined);
    assert.ok(!('directUploads' in fsStore));
  });
});
