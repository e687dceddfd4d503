import { createHash, createHmac } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import t from 'tap';
import type { Test } from 'tap';
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

async function postForm(
  post: { url: string; fields: Record<string, string> },
  body: Buffer | string,
  filename = 'sample.vcf',
): Promise<Response> {
  const form = new FormData();
  for (const [k, v] of Object.entries(post.fields)) form.append(k, v);
  // S3 ignores every field after the file, so it goes last.
  form.append('file', new Blob([body]), filename);
  return fetch(post.url, { method: 'POST', body: form });
}

// One s3rver for the whole file: starting servers per test costs more than the tests on 2 cores.
const s3: S3ServerHandle = await startS3Server();
const client: S3Client = createS3Client({
  endpoint: s3.endpoint,
  region: s3.region,
  forcePathStyle: true,
  accessKeyId: s3.accessKeyId,
  secretAccessKey: s3.secretAccessKey,
  checksumWhenRequired: true,
});
const extraClients: S3Client[] = [];
t.teardown(async () => {
  client.destroy();
  for (const c of extraClients) c.destroy();
  await s3.stop();
});
const store = new S3BlobStore({ client, buckets: s3.buckets });
const du: DirectUploads = store.directUploads;
t.ok(du, 'an S3 store has directUploads');

function s3Client(opts: { checksumWhenRequired: boolean }): S3Client {
  const c = new S3Client({
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    ...(opts.checksumWhenRequired
      ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const }
      : {}),
  });
  extraClients.push(c);
  return c;
}

// Signs as if two hours ago. S3DirectUploads takes no clock (it passes the presigner no
// signingDate), and the AWS code reads the global Date: the part presigner stamps `new Date()`,
// createPresignedPost `Date.now()` plus the client's systemClockOffset. So Date is swapped, through
// t.intercept, for one whose clock runs two hours behind, and only while signing: s3rver shares
// this process and must judge expiry by the real clock.
async function signedTwoHoursAgo<T>(t: Test, sign: () => Promise<T>): Promise<T> {
  const RealDate = Date;
  const now = (): number => RealDate.now() - 2 * 3600_000;
  const twoHoursAgo = new Proxy(RealDate, {
    construct: (target, args: unknown[], newTarget): Date => Reflect.construct(target, args.length > 0 ? args : [now()], newTarget) as Date,
    apply: () => new RealDate(now()).toString(),
    get: (target, prop, receiver): unknown => (prop === 'now' ? now : (Reflect.get(target, prop, receiver) as unknown)),
  });
  const intercepted = t.intercept(globalThis, 'Date', { value: twoHoursAgo, writable: true, configurable: true });
  try {
    return await sign();
  } finally {
    intercepted.restore();
  }
}

// An InvalidUploadArgumentError about `argument` that says what is wrong with it.
async function rejectsArgument(t: Test, attempt: Promise<unknown>, argument: string, what = argument): Promise<void> {
  const err = await t.rejects(attempt, InvalidUploadArgumentError, what);
  if (!(err instanceof InvalidUploadArgumentError)) return;
  t.equal(err.argument, argument, `${what}: names the argument`);
  t.match(err.message, /must|repeats/, `${what}: says what is wrong`);
}

async function keysUnder(area: BlobArea, prefix: string): Promise<string[]> {
  const out = await client.send(new ListObjectsV2Command({ Bucket: s3.buckets[area], Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key ?? '');
}

t.test('S3 direct uploads: presigned POST', async (t) => {
  t.test('a form POST with fetch stores the file at the key; stat, get and head see it', async (t) => {
    const key = 'p1/j1/sample.vcf';
    const post = await du.presignPost('inputs', key, { maxBytes: 10_000, expiresInSeconds: 60, contentType: 'text/x-vcf' });
    t.equal(post.url, `${s3.endpoint}/${s3.buckets.inputs}`);
    t.equal(post.fields.key, key);

    const res = await postForm(post, VCF);
    t.equal(res.status, 204, await res.text());

    t.equal((await store.stat('inputs', key))?.size, Buffer.byteLength(VCF));
    t.equal(await textOf(await store.get('inputs', key)), VCF);
    t.equal((await du.head('inputs', key, 16)).toString('utf8'), '##fileformat=VCF');
    const head = await client.send(new HeadObjectCommand({ Bucket: s3.buckets.inputs, Key: key }));
    t.equal(head.ContentType, 'text/x-vcf');
  });

  t.test('the policy pins content-length-range [1, maxBytes], the exact key, the bucket, the content type and the expiry', async (t) => {
    const key = 'p2/j1/in.vcf.gz';
    const before = Date.now();
    const post = await du.presignPost('inputs', key, { maxBytes: 1234, expiresInSeconds: 300, contentType: 'application/gzip' });
    const policy = decodePolicy(post.fields);

    t.strictSame(
      policy.conditions.filter((c) => Array.isArray(c)),
      [['content-length-range', 1, 1234]],
    );
    t.ok(
      policy.conditions.some((c) => JSON.stringify(c) === JSON.stringify({ key })),
      'exact key condition',
    );
    t.notMatch(JSON.stringify(policy.conditions), /starts-with/, 'no prefix conditions');
    t.ok(policy.conditions.some((c) => JSON.stringify(c) === JSON.stringify({ bucket: s3.buckets.inputs })));
    t.ok(policy.conditions.some((c) => JSON.stringify(c) === JSON.stringify({ 'Content-Type': 'application/gzip' })));
    t.equal(post.fields['Content-Type'], 'application/gzip');

    const expires = Date.parse(policy.expiration);
    // The policy's expiration has whole seconds, and the SDK's clock may sit up to a second behind
    // this one: it corrects itself by the S3 server's Date header (whole seconds) after a response
    // it finds skewed, as the expiry tests here cause.
    t.ok(expires >= before + 300_000 - 2000 && expires <= Date.now() + 300_000, `expiration ${policy.expiration}`);

    // s3rver does not verify signatures, so the SigV4 POST signature is recomputed here: AWS
    // signs the base64 policy with the key derived from secret, date, region and "s3".
    const [accessKeyId, date, region, service] = (post.fields['X-Amz-Credential'] ?? '').split('/');
    t.equal(accessKeyId, s3.accessKeyId);
    t.equal(post.fields['X-Amz-Algorithm'], 'AWS4-HMAC-SHA256');
    const hmac = (k: string | Buffer, data: string): Buffer => createHmac('sha256', k).update(data).digest();
    const signingKey = hmac(hmac(hmac(hmac(`AWS4${s3.secretAccessKey}`, date ?? ''), region ?? ''), service ?? ''), 'aws4_request');
    t.equal(post.fields['X-Amz-Signature'], hmac(signingKey, post.fields.Policy ?? '').toString('hex'));
  });

  t.test('without a content type the policy lists none, so S3 refuses a Content-Type field', async (t) => {
    const post = await du.presignPost('inputs', 'p3/j1/x.vcf', { maxBytes: 10, expiresInSeconds: 60 });
    t.equal(post.fields['Content-Type'], undefined);
    t.notMatch(JSON.stringify(decodePolicy(post.fields).conditions), /content-type/i);
  });

  t.test(
    'an expired policy: s3rver checks no POST policy (expiry, size, key, signature), so only the expiration written into the policy is asserted',
    async (t) => {
      const post = await signedTwoHoursAgo(t, () => du.presignPost('inputs', 'p4/j1/x.vcf', { maxBytes: 10, expiresInSeconds: 60 }));
      const expires = Date.parse(decodePolicy(post.fields).expiration);
      t.ok(expires < Date.now() - 3600_000, `expiration ${decodePolicy(post.fields).expiration} should be in the past`);
    },
  );
});

t.test('S3 direct uploads: multipart', async (t) => {
  t.test('two parts PUT through presigned URLs and completed with their ETags make one object of the right size and bytes', async (t) => {
    const key = 'm1/j1/big.vcf';
    const part1 = patterned(5 * MiB + 12);
    const part2 = patterned(100_003, part1.length);
    const whole = Buffer.concat([part1, part2]);

    const { uploadId } = await du.startMultipart('inputs', key, { contentType: 'text/x-vcf' });
    const etags: Array<{ partNumber: number; etag: string }> = [];
    // Browsers finish parts in any order; the second goes first here, and complete gets them reversed.
    for (const [partNumber, body] of [
      [2, part2],
      [1, part1],
    ] as const) {
      const url = await du.presignPart('inputs', key, uploadId, partNumber, 60);
      const res = await fetch(url, { method: 'PUT', body });
      t.equal(res.status, 200, await res.text());
      const etag = res.headers.get('etag');
      t.ok(etag, 'part upload answers with an ETag');
      etags.push({ partNumber, etag: etag ?? '' });
    }
    t.equal(await store.stat('inputs', key), null, 'nothing at the key before complete');
    await du.completeMultipart('inputs', key, uploadId, etags);

    t.equal((await store.stat('inputs', key))?.size, whole.length);
    const got = await sha256OfStream(await store.get('inputs', key));
    t.equal(got.bytes, whole.length);
    t.equal(got.digest, sha256(whole));
    t.strictSame(await du.head('inputs', key, 64), whole.subarray(0, 64));
    const head = await client.send(new HeadObjectCommand({ Bucket: s3.buckets.inputs, Key: key }));
    t.equal(head.ContentType, 'text/x-vcf');
  });

  t.test('part URLs carry no request checksum even with the SDK default (AWS would refuse the part as a checksum mismatch)', async (t) => {
    const aws = new S3BlobStore({ client: s3Client({ checksumWhenRequired: false }), buckets: s3.buckets });
    const key = 'm2/j1/x.vcf';
    const { uploadId } = await aws.directUploads.startMultipart('inputs', key);
    const url = await aws.directUploads.presignPart('inputs', key, uploadId, 3, 60);
    const query = new URL(url).searchParams;
    t.strictSame(
      [...query.keys()].filter((k) => /checksum/i.test(k)),
      [],
    );
    t.equal(query.get('partNumber'), '3');
    t.equal(query.get('uploadId'), uploadId);
    t.equal(query.get('X-Amz-Expires'), '60');
    const res = await fetch(url, { method: 'PUT', body: 'x' });
    t.equal(res.status, 200, await res.text());
  });

  t.test('an expired part URL is refused (s3rver does check presigned-URL expiry)', async (t) => {
    const key = 'm3/j1/x.vcf';
    const { uploadId } = await du.startMultipart('inputs', key);
    const url = await signedTwoHoursAgo(t, () => du.presignPart('inputs', key, uploadId, 1, 60));
    const res = await fetch(url, { method: 'PUT', body: 'late' });
    t.equal(res.status, 403);
    t.match(await res.text(), /Request has expired/);
  });

  t.test(
    'abort: s3rver does not implement AbortMultipartUpload (405 MethodNotAllowed), and the parts never become an object',
    async (t) => {
      const key = 'm4/j1/x.vcf';
      const { uploadId } = await du.startMultipart('inputs', key);
      const res = await fetch(await du.presignPart('inputs', key, uploadId, 1, 60), { method: 'PUT', body: 'partial' });
      t.equal(res.status, 200);
      const err = await t.rejects(du.abortMultipart('inputs', key, uploadId));
      t.equal((err as Error).name, 'MethodNotAllowed');
      t.equal(await store.stat('inputs', key), null);
      t.strictSame(await keysUnder('inputs', 'm4/'), []);
    },
  );
});

// s3rver cannot answer an abort at all and ignores the order of completed parts, so for these the
// store's answers are scripted and the requests the adapter sends are looked at directly.
t.test('S3 direct uploads: requests to a scripted store', async (t) => {
  interface Seen {
    method: string;
    path: string;
    uploadId: string;
    body: string;
  }
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
          seen.push({
            method: req.method,
            path: req.path,
            uploadId: String(req.query?.uploadId),
            body: typeof req.body === 'string' ? req.body : '',
          });
          const { status, xml } = answer();
          return {
            response: { statusCode: status, headers: { 'content-type': 'application/xml' }, body: Readable.from([Buffer.from(xml)]) },
          };
        },
      } as never,
    });
    extraClients.push(scripted);
    return { store: new S3BlobStore({ client: scripted, buckets: s3.buckets }), seen };
  }
  const s3Error = (code: string): string =>
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>scripted</Message></Error>`;

  t.test('abort treats an upload that is already gone (NoSuchUpload) as done, and other failures as failures', async (t) => {
    let answer = { status: 404, xml: s3Error('NoSuchUpload') };
    const { store: scripted, seen } = scriptedStore(() => answer);
    await scripted.directUploads.abortMultipart('inputs', 'a/b/c.vcf', 'up-1');
    t.strictSame(
      seen.map((r) => `${r.method} ${r.path} ${r.uploadId}`),
      [`DELETE /${s3.buckets.inputs}/a/b/c.vcf up-1`],
    );
    answer = { status: 403, xml: s3Error('AccessDenied') };
    const err = await t.rejects(scripted.directUploads.abortMultipart('inputs', 'a/b/c.vcf', 'up-1'));
    t.equal((err as Error).name, 'AccessDenied');
  });

  t.test('complete sends each part with its ETag, in part-number order whatever order they came in', async (t) => {
    const ok = `<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult><Key>a/b/c.vcf</Key><ETag>"x-3"</ETag></CompleteMultipartUploadResult>`;
    const { store: scripted, seen } = scriptedStore(() => ({ status: 200, xml: ok }));
    await scripted.directUploads.completeMultipart('inputs', 'a/b/c.vcf', 'up-2', [
      { partNumber: 3, etag: '"c"' },
      { partNumber: 1, etag: '"a"' },
      { partNumber: 2, etag: '"b"' },
    ]);
    t.equal(seen.length, 1);
    t.equal(seen[0]?.uploadId, 'up-2');
    const unescape = (x: string): string => x.replace(/&quot;/g, '"').replace(/&amp;/g, '&');
    const listed = [...(seen[0]?.body ?? '').matchAll(/<Part>(.*?)<\/Part>/g)].map((m) => ({
      n: Number(/<PartNumber>(\d+)<\/PartNumber>/.exec(m[1] ?? '')?.[1]),
      etag: unescape(/<ETag>(.*?)<\/ETag>/.exec(m[1] ?? '')?.[1] ?? ''),
    }));
    t.strictSame(listed, [
      { n: 1, etag: '"a"' },
      { n: 2, etag: '"b"' },
      { n: 3, etag: '"c"' },
    ]);
  });
});

t.test('S3 direct uploads: head', async (t) => {
  t.test('gives the whole object when it is shorter than asked, nothing for an empty one, BlobNotFoundError when absent', async (t) => {
    await store.put('inputs', 'h1/j1/short.vcf', Readable.from([Buffer.from('##fileformat')]));
    t.equal((await du.head('inputs', 'h1/j1/short.vcf', 1024)).toString('utf8'), '##fileformat');
    t.equal((await du.head('inputs', 'h1/j1/short.vcf', 1)).toString('utf8'), '#');
    await store.put('inputs', 'h1/j1/empty.vcf', Readable.from([]));
    t.equal((await du.head('inputs', 'h1/j1/empty.vcf', 16)).length, 0);
    await t.rejects(du.head('inputs', 'h1/j1/absent.vcf', 16), BlobNotFoundError);
  });
});

t.test('S3 direct uploads: arguments', async (t) => {
  t.test('refuses part numbers, expiries, sizes, content types and upload ids out of range before signing', async (t) => {
    for (const n of [0, 10_001, 1.5, Number.NaN, -1]) {
      await rejectsArgument(t, du.presignPart('inputs', 'a/b/c', 'up', n, 60), 'partNumber', `partNumber ${n}`);
    }
    for (const s of [0, 3601, 0.5, Number.POSITIVE_INFINITY]) {
      await rejectsArgument(t, du.presignPart('inputs', 'a/b/c', 'up', 1, s), 'expiresInSeconds', `part expiry ${s}`);
      await rejectsArgument(
        t,
        du.presignPost('inputs', 'a/b/c', { maxBytes: 10, expiresInSeconds: s }),
        'expiresInSeconds',
        `post expiry ${s}`,
      );
    }
    for (const m of [0, -1, 1.5, DIRECT_UPLOAD_LIMITS.maxPostBytes + 1]) {
      await rejectsArgument(t, du.presignPost('inputs', 'a/b/c', { maxBytes: m, expiresInSeconds: 60 }), 'maxBytes', `maxBytes ${m}`);
    }
    await rejectsArgument(t, du.presignPost('inputs', 'a/b/c', undefined as never), 'opts');
    await rejectsArgument(
      t,
      du.presignPost('inputs', 'a/b/c', { maxBytes: 10, expiresInSeconds: 60, contentType: 'text/plain\r\nx-amz-acl: public-read' }),
      'contentType',
    );
    await rejectsArgument(t, du.startMultipart('inputs', 'a/b/c', { contentType: '' }), 'contentType');
    await rejectsArgument(t, du.presignPart('inputs', 'a/b/c', '', 1, 60), 'uploadId');
    await rejectsArgument(t, du.abortMultipart('inputs', 'a/b/c', 'a b'), 'uploadId');
    await rejectsArgument(t, du.head('inputs', 'a/b/c', 0), 'bytes');
    await rejectsArgument(t, du.head('inputs', 'a/b/c', DIRECT_UPLOAD_LIMITS.maxHeadBytes + 1), 'bytes');
  });

  t.test('refuses empty, repeated or malformed part lists', async (t) => {
    await rejectsArgument(t, du.completeMultipart('inputs', 'a/b/c', 'up', []), 'parts');
    await rejectsArgument(t, du.completeMultipart('inputs', 'a/b/c', 'up', [{ partNumber: 0, etag: '"e"' }]), 'parts[0].partNumber');
    await rejectsArgument(
      t,
      du.completeMultipart('inputs', 'a/b/c', 'up', [
        { partNumber: 1, etag: '"e"' },
        { partNumber: 1, etag: '"f"' },
      ]),
      'parts[1].partNumber',
    );
    await rejectsArgument(t, du.completeMultipart('inputs', 'a/b/c', 'up', [{ partNumber: 1, etag: '' }]), 'parts[0].etag');
  });

  t.test('keys and areas go through the store checks, and ${filename} cannot widen a POST policy to a prefix', async (t) => {
    await t.rejects(du.presignPost('inputs', 'a/../b', { maxBytes: 10, expiresInSeconds: 60 }), InvalidBlobKeyError);
    await t.rejects(du.presignPart('inputs', '/abs', 'up', 1, 60), InvalidBlobKeyError);
    await t.rejects(du.startMultipart('nowhere' as BlobArea, 'a/b/c'), InvalidBlobKeyError);
    await t.rejects(du.head('inputs', '', 1), InvalidBlobKeyError);
    await rejectsArgument(t, du.presignPost('inputs', 'a/b/${filename}', { maxBytes: 10, expiresInSeconds: 60 }), 'key');
  });
});

t.test('direct uploads are S3 only', async (t) => {
  t.test('the filesystem store has no directUploads', async (t) => {
    // Typed as the port, the way callers see a store.
    const fsStore: BlobStore = new FileBlobStore({ root: join(tmpdir(), 'gas-never-created') });
    t.equal(fsStore.directUploads, undefined);
    t.notOk('directUploads' in fsStore);
  });
});
