import { Readable } from 'node:stream';
import t from 'tap';
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { startS3Server } from '@gas/testing';
import type { S3ServerHandle } from '@gas/testing';
import { BlobNotFoundError, createS3Client, S3BlobStore } from '../src/index.ts';
import type { BlobArea } from '../src/index.ts';
import { blobStoreContract } from './blob-store-contract.ts';
import { textOf } from './generated-body.ts';

function clientFor(s3: S3ServerHandle): S3Client {
  return createS3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    checksumWhenRequired: true,
  });
}

async function listKeys(client: S3Client, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const out = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    keys.push(...(out.Contents ?? []).map((o) => o.Key ?? ''));
    token = out.NextContinuationToken;
  } while (token);
  return keys;
}

// One s3rver for the whole file: starting servers per test costs more than the tests on 2 cores.
const s3: S3ServerHandle = await startS3Server();
const client: S3Client = clientFor(s3);
t.teardown(async () => {
  client.destroy();
  await s3.stop();
});

blobStoreContract(t, 's3 (s3rver)', async () => ({
  store: new S3BlobStore({ client, buckets: s3.buckets, archiveStorageClass: 'GLACIER' }),
  listAll: (area: BlobArea) => listKeys(client, s3.buckets[area]),
  brokenStore: () => new S3BlobStore({ client, buckets: { ...s3.buckets, results: 'no-such-bucket' } }),
  // s3rver names STANDARD where AWS names no class; either way the object is hot again.
  expectedStorageClass: { archiveDefault: 'GLACIER', explicitGlacier: 'GLACIER', backFromArchive: 'STANDARD' },
}));

t.test('S3BlobStore specifics', async (t) => {
  t.test('stores bodies without aws-chunked framing and keeps the content type through an archive move', async (t) => {
    const store = new S3BlobStore({ client, buckets: s3.buckets, archiveStorageClass: 'DEEP_ARCHIVE' });
    await store.put('results', 'u1/j1/out.tsv', Readable.from(['a\tb\n']), { contentType: 'text/tab-separated-values' });
    await store.move('results', 'archive', 'u1/j1/out.tsv');
    const head = await client.send(new HeadObjectCommand({ Bucket: s3.buckets.archive, Key: 'u1/j1/out.tsv' }));
    t.equal(head.StorageClass, 'DEEP_ARCHIVE');
    t.equal(head.ContentType, 'text/tab-separated-values');
    t.equal(head.ContentLength, 4);
    t.equal(await textOf(await store.get('archive', 'u1/j1/out.tsv')), 'a\tb\n');
  });

  t.test('a move without an archive storage class keeps the default class', async (t) => {
    const store = new S3BlobStore({ client, buckets: s3.buckets });
    await store.put('inputs', 'u2/j1/in.vcf', Readable.from(['x']));
    await store.move('inputs', 'archive', 'u2/j1/in.vcf');
    t.equal((await store.stat('archive', 'u2/j1/in.vcf'))?.storageClass, undefined);
  });

  t.test('never deletes the only copy when two areas share a bucket', async (t) => {
    const shared = { inputs: s3.buckets.inputs, results: s3.buckets.inputs, archive: s3.buckets.archive };
    const store = new S3BlobStore({ client, buckets: shared });
    await store.put('inputs', 'u3/j1/same', Readable.from(['keep me']));
    await store.move('inputs', 'results', 'u3/j1/same');
    t.equal(await textOf(await store.get('results', 'u3/j1/same')), 'keep me');
    await store.move('inputs', 'results', 'u3/j1/same', { storageClass: 'STANDARD_IA' });
    t.equal((await store.stat('results', 'u3/j1/same'))?.storageClass, 'STANDARD_IA');
    t.equal(await textOf(await store.get('inputs', 'u3/j1/same')), 'keep me');
    await t.rejects(store.move('inputs', 'results', 'u3/j1/absent'), BlobNotFoundError);
  });

  t.test('copies in place when two areas share a bucket: a class change, or nothing at all', async (t) => {
    // Its own client, so the commands this test sends can be counted.
    const counting = clientFor(s3);
    t.teardown(() => counting.destroy());
    const sent: string[] = [];
    counting.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push(context.commandName ?? '');
        return next(args);
      },
      { step: 'initialize', name: 'countCommands' },
    );
    const shared = { inputs: s3.buckets.inputs, results: s3.buckets.results, archive: s3.buckets.results };
    const store = new S3BlobStore({ client: counting, buckets: shared, archiveStorageClass: 'GLACIER' });
    const key = 'u5/j1/shared.vcf';
    await store.put('results', key, Readable.from(['one object']), { contentType: 'text/plain' });

    sent.length = 0;
    await store.copy('results', 'archive', key);
    t.strictSame(sent, ['HeadObjectCommand', 'CopyObjectCommand']);
    t.equal((await store.stat('results', key))?.storageClass, 'GLACIER', 'the one object is now cold');

    sent.length = 0;
    await store.copy('results', 'archive', key);
    t.strictSame(sent, ['HeadObjectCommand'], 'already GLACIER: nothing to copy');

    await store.copy('archive', 'results', key);
    const head = await client.send(new HeadObjectCommand({ Bucket: s3.buckets.results, Key: key }));
    t.equal(head.StorageClass, 'STANDARD', 'brought back hot in place');
    t.equal(head.ContentType, 'text/plain');
    t.equal(await textOf(await store.get('archive', key)), 'one object');

    sent.length = 0;
    await store.move('archive', 'results', key);
    t.strictSame(sent, ['HeadObjectCommand'], 'hot already, and never deleted: it is the only copy');
    t.equal(await textOf(await store.get('results', key)), 'one object');
    await t.rejects(store.copy('archive', 'results', 'u5/j1/absent'), BlobNotFoundError);
  });

  t.test('copies out of the archive without an archive class as a plain copy', async (t) => {
    const store = new S3BlobStore({ client, buckets: s3.buckets });
    await store.put('archive', 'u6/j1/x', Readable.from(['plain']), { contentType: 'text/x-plain' });
    await store.copy('archive', 'results', 'u6/j1/x');
    const head = await client.send(new HeadObjectCommand({ Bucket: s3.buckets.results, Key: 'u6/j1/x' }));
    t.equal(head.ContentType, 'text/x-plain');
    t.equal(await textOf(await store.get('archive', 'u6/j1/x')), 'plain');
  });

  t.test('handles keys that need URL encoding in CopySource', async (t) => {
    const store = new S3BlobStore({ client, buckets: s3.buckets });
    // Not '+': s3rver decodes CopySource with decodeURI, which leaves %2B alone (AWS does not).
    const key = 'u4/j1/name with spaces é.vcf';
    await store.put('results', key, Readable.from(['enc']));
    await store.move('results', 'archive', key);
    t.equal(await textOf(await store.get('archive', key)), 'enc');
    t.equal(await store.stat('results', key), null);
  });

  t.test('does not hide a missing bucket as a missing blob', async (t) => {
    const store = new S3BlobStore({ client, buckets: { ...s3.buckets, inputs: 'absent-bucket' } });
    await t.rejects(store.check(), /S3 bucket absent-bucket is not usable \(HTTP 404\)/);
    const err = await t.rejects(store.get('inputs', 'u1/j1/x'));
    t.equal((err as Error).name, 'NoSuchBucket');
  });

  t.test('requires a bucket for every area', async (t) => {
    t.throws(() => new S3BlobStore({ client, buckets: { inputs: 'a', results: 'b' } as Record<BlobArea, string> }), /archive area/);
  });
});

t.test('createS3Client', async (t) => {
  t.test('sets WHEN_REQUIRED checksums only when asked', async (t) => {
    const on = createS3Client({ region: 'us-east-1', checksumWhenRequired: true });
    const off = createS3Client({ region: 'us-east-1' });
    try {
      t.equal(await on.config.requestChecksumCalculation(), 'WHEN_REQUIRED');
      t.equal(await on.config.responseChecksumValidation(), 'WHEN_REQUIRED');
      t.equal(await off.config.requestChecksumCalculation(), 'WHEN_SUPPORTED');
    } finally {
      on.destroy();
      off.destroy();
    }
  });

  t.test('passes endpoint, path style and static credentials', async (t) => {
    const c = createS3Client({
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:9',
      forcePathStyle: true,
      accessKeyId: 'AK',
      secretAccessKey: 'SK',
    });
    try {
      t.equal(await c.config.region(), 'eu-west-1');
      t.equal(c.config.forcePathStyle, true);
      t.equal((await c.config.credentials()).accessKeyId, 'AK');
    } finally {
      c.destroy();
    }
  });

  t.test('refuses half a credential pair', async (t) => {
    t.throws(() => createS3Client({ region: 'us-east-1', accessKeyId: 'AK' }), /both accessKeyId and secretAccessKey/);
  });
});
