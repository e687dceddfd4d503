import t from 'tap';
import type { S3Client } from '@aws-sdk/client-s3';
import { S3BlobStore } from '../src/index.ts';
import { copyObjectMultipart } from '../src/s3-multipart-copy.ts';

// s3rver ignores x-amz-copy-source on UploadPart, so the large-object copy path is checked at the
// adapter boundary against a recording client instead.
interface Sent {
  command: string;
  input: Record<string, unknown>;
}

function fakeClient(respond: (s: Sent) => unknown): { client: S3Client; sent: Sent[] } {
  const sent: Sent[] = [];
  const client = {
    async send(cmd: { constructor: { name: string }; input: Record<string, unknown> }) {
      const s = { command: cmd.constructor.name, input: cmd.input };
      sent.push(s);
      await new Promise((r) => setImmediate(r));
      return respond(s);
    },
  } as unknown as S3Client;
  return { client, sent };
}

const ok = (s: Sent): unknown => {
  switch (s.command) {
    case 'HeadObjectCommand':
      return { ContentLength: 25, ContentType: 'text/plain', ETag: '"etag-1"', Metadata: { a: 'b' } };
    case 'CreateMultipartUploadCommand':
      return { UploadId: 'up-1' };
    case 'UploadPartCopyCommand':
      return { CopyPartResult: { ETag: `"p${String(s.input['PartNumber'])}"` } };
    default:
      return {};
  }
};

t.test('copyObjectMultipart', async (t) => {
  t.test('copies in ranges and completes with the parts in order', async (t) => {
    const { client, sent } = fakeClient(ok);
    const head = { ContentLength: 25, ContentType: 'text/plain', ETag: '"etag-1"', Metadata: { a: 'b' }, $metadata: {} };
    await copyObjectMultipart(client, { Bucket: 'dst', Key: 'u/j/k', CopySource: 'src/u/j/k', StorageClass: 'GLACIER' }, 25, head, 10);
    const create = sent.find((s) => s.command === 'CreateMultipartUploadCommand');
    t.strictSame(
      { StorageClass: create?.input['StorageClass'], ContentType: create?.input['ContentType'], Metadata: create?.input['Metadata'] },
      { StorageClass: 'GLACIER', ContentType: 'text/plain', Metadata: { a: 'b' } },
    );
    const parts = sent.filter((s) => s.command === 'UploadPartCopyCommand').map((s) => s.input);
    t.strictSame(parts.map((p) => [p['PartNumber'], p['CopySourceRange'], p['CopySourceIfMatch'], p['CopySource']]).sort(), [
      [1, 'bytes=0-9', '"etag-1"', 'src/u/j/k'],
      [2, 'bytes=10-19', '"etag-1"', 'src/u/j/k'],
      [3, 'bytes=20-24', '"etag-1"', 'src/u/j/k'],
    ]);
    const complete = sent.at(-1);
    t.equal(complete?.command, 'CompleteMultipartUploadCommand');
    t.strictSame(complete?.input['MultipartUpload'], {
      Parts: [
        { PartNumber: 1, ETag: '"p1"' },
        { PartNumber: 2, ETag: '"p2"' },
        { PartNumber: 3, ETag: '"p3"' },
      ],
    });
  });

  t.test('aborts the upload after every part settled when one fails', async (t) => {
    const { client, sent } = fakeClient((s) => {
      if (s.command === 'UploadPartCopyCommand' && s.input['PartNumber'] === 2)
        throw Object.assign(new Error('slow down'), { name: 'SlowDown' });
      return ok(s);
    });
    const head = { ContentLength: 100, $metadata: {} };
    await t.rejects(copyObjectMultipart(client, { Bucket: 'dst', Key: 'k', CopySource: 'src/k' }, 100, head, 10), /slow down/);
    t.equal(sent.at(-1)?.command, 'AbortMultipartUploadCommand');
    t.strictSame(sent.at(-1)?.input, { Bucket: 'dst', Key: 'k', UploadId: 'up-1' });
    t.equal(sent.filter((s) => s.command === 'CompleteMultipartUploadCommand').length, 0);
    t.ok(sent.filter((s) => s.command === 'UploadPartCopyCommand').length < 10, 'stopped copying after a failure');
  });
});

t.test('S3BlobStore.move and copy of a large object', async (t) => {
  t.test('uses a multipart copy above the threshold, then deletes the source', async (t) => {
    const { client, sent } = fakeClient(ok);
    const store = new S3BlobStore({
      client,
      buckets: { inputs: 'in', results: 'out', archive: 'cold' },
      archiveStorageClass: 'DEEP_ARCHIVE',
      multipartCopyThreshold: 20,
    });
    await store.move('results', 'archive', 'u/j/big.vcf');
    const commands = sent.map((s) => s.command);
    t.equal(commands[0], 'HeadObjectCommand');
    t.equal(commands[1], 'CreateMultipartUploadCommand');
    t.equal(sent[1]?.input['StorageClass'], 'DEEP_ARCHIVE');
    t.equal(sent[1]?.input['Bucket'], 'cold');
    t.notOk(commands.includes('CopyObjectCommand'));
    t.strictSame(sent.at(-1), { command: 'DeleteObjectCommand', input: { Bucket: 'out', Key: 'u/j/big.vcf' } });
  });

  t.test('uses a single CopyObject at or below the threshold', async (t) => {
    const { client, sent } = fakeClient(ok);
    const store = new S3BlobStore({ client, buckets: { inputs: 'in', results: 'out', archive: 'cold' }, multipartCopyThreshold: 25 });
    await store.move('inputs', 'results', 'u/j/x');
    t.strictSame(
      sent.map((s) => s.command),
      ['HeadObjectCommand', 'CopyObjectCommand', 'DeleteObjectCommand'],
    );
    t.equal(sent[1]?.input['MetadataDirective'], undefined);
    t.equal(sent[1]?.input['CopySource'], 'in/u/j/x');
  });

  t.test('copy uses a multipart copy above the threshold and never deletes the source', async (t) => {
    const { client, sent } = fakeClient(ok);
    const store = new S3BlobStore({
      client,
      buckets: { inputs: 'in', results: 'out', archive: 'cold' },
      archiveStorageClass: 'GLACIER',
      multipartCopyThreshold: 20,
    });
    await store.copy('archive', 'results', 'u/j/big.vcf');
    const create = sent.find((s) => s.command === 'CreateMultipartUploadCommand');
    t.strictSame(
      { Bucket: create?.input['Bucket'], StorageClass: create?.input['StorageClass'] },
      { Bucket: 'out', StorageClass: 'STANDARD' },
      'brought back hot',
    );
    t.ok(sent.every((s) => s.command !== 'DeleteObjectCommand'));
    t.equal(sent.at(-1)?.command, 'CompleteMultipartUploadCommand');
  });

  t.test('keeps the source when the copy fails', async (t) => {
    const { client, sent } = fakeClient((s) => {
      if (s.command === 'CopyObjectCommand')
        throw Object.assign(new Error('InvalidObjectState'), { name: 'InvalidObjectState', $metadata: { httpStatusCode: 403 } });
      return ok(s);
    });
    const store = new S3BlobStore({ client, buckets: { inputs: 'in', results: 'out', archive: 'cold' } });
    await t.rejects(store.move('archive', 'results', 'u/j/x'), /InvalidObjectState/);
    t.notOk(
      sent.some((s) => s.command === 'DeleteObjectCommand'),
      'the source was not deleted',
    );
  });
});
