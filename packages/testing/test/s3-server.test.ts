import { Readable } from 'node:stream';
import t from 'tap';
import { GetObjectCommand, ListBucketsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startS3Server } from '../src/index.ts';
import type { S3ServerHandle } from '../src/index.ts';

function clientFor(s3: S3ServerHandle): S3Client {
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

t.test('startS3Server', async (t) => {
  const s3: S3ServerHandle = await startS3Server();
  const client: S3Client = clientFor(s3);
  t.teardown(async () => {
    client.destroy();
    await s3.stop();
  });

  t.test('creates the default buckets', async (t) => {
    t.strictSame(s3.buckets, { inputs: 'gas-inputs', results: 'gas-results', archive: 'gas-archive' });
    const out = await client.send(new ListBucketsCommand({}));
    t.strictSame(out.Buckets?.map((b) => b.Name).sort(), ['gas-archive', 'gas-inputs', 'gas-results']);
  });

  t.test('stores and returns a streamed object byte for byte', async (t) => {
    const body = Buffer.from('##fileformat=VCFv4.2\n'.repeat(5_000));
    await client.send(
      new PutObjectCommand({ Bucket: s3.buckets.inputs, Key: 'u1/j1/in.vcf', Body: Readable.from([body]), ContentLength: body.length }),
    );
    const got = await client.send(new GetObjectCommand({ Bucket: s3.buckets.inputs, Key: 'u1/j1/in.vcf' }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    t.equal(bytes.length, body.length);
    t.ok(bytes.equals(body));
  });

  t.test('takes custom bucket names and removes its data dir on stop', async (t) => {
    const buckets = { inputs: 'a-in', results: 'a-out', archive: 'a-cold' };
    const other = await startS3Server({ buckets });
    const c = clientFor(other);
    try {
      const out = await c.send(new ListBucketsCommand({}));
      t.strictSame(out.Buckets?.map((b) => b.Name).sort(), ['a-cold', 'a-in', 'a-out']);
    } finally {
      c.destroy();
      await other.stop();
    }
    await t.rejects(fetch(other.endpoint));
  });
});
