import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
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

describe('startS3Server', () => {
  let s3: S3ServerHandle;
  let client: S3Client;
  before(async () => {
    s3 = await startS3Server();
    client = clientFor(s3);
  });
  after(async () => {
    client?.destroy();
    await s3?.stop();
  });

  it('creates the default buckets', async () => {
    assert.deepEqual(s3.buckets, { inputs: 'gas-inputs', results: 'gas-results', archive: 'gas-archive' });
    const out = await client.send(new ListBucketsCommand({}));
    assert.deepEqual(out.Buckets?.map((b) => b.Name).sort(), ['gas-archive', 'gas-inputs', 'gas-results']);
  });

  it('stores and returns a streamed object byte for byte', async () => {
    const body = Buffer.from('##fileformat=VCFv4.2\n'.repeat(5_000));
    await client.send(
      new PutObjectCommand({ Bucket: s3.buckets.inputs, Key: 'u1/j1/in.vcf', Body: Readable.from([body]), ContentLength: body.length }),
    );
    const got = await client.send(new GetObjectCommand({ Bucket: s3.buckets.inputs, Key: 'u1/j1/in.vcf' }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    assert.equal(bytes.length, body.length);
    assert.ok(bytes.equals(body));
  });

  it('takes custom bucket names and removes its data dir on stop', async () => {
    const buckets = { inputs: 'a-in', results: 'a-out', archive: 'a-cold' };
    const other = await startS3Server({ buckets });
    const c = clientFor(other);
    try {
      const out = await c.send(new ListBucketsCommand({}));
      assert.deepEqual(out.Buckets?.map((b) => b.Name).sort(), ['a-cold', 'a-in', 'a-out']);
    } finally {
      c.destroy();
      await other.stop();
    }
    await assert.rejects(fetch(other.endpoint));
  });
});
