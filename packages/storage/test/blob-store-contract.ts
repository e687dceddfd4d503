import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { BlobNotFoundError, BlobTooLargeError, InvalidBlobKeyError } from '../src/index.ts';
import type { BlobArea, BlobStore } from '../src/index.ts';
import { generatedBody, sha256OfStream, textOf } from './generated-body.ts';

export interface ContractHarness {
  store: BlobStore;
  /** Everything stored in an area, including anything a failed put might have left (temp files). */
  listAll(area: BlobArea): Promise<string[]>;
  /** A store of the same kind whose check() must fail. */
  brokenStore(): BlobStore;
  /** What stat reports after move(…, 'archive') without an explicit class, and after one with 'GLACIER'. */
  expectedStorageClass: { archiveDefault: string | undefined; explicitGlacier: string | undefined };
  teardown(): Promise<void>;
}

const MiB = 1024 * 1024;
// Above the S3 adapter's 5 MiB part size, so the S3 run goes through a real multipart upload.
const BIG = 12 * MiB;

const text = (s: string): Readable => Readable.from([Buffer.from(s)]);

let counter = 0;
// Each case gets its own user prefix, so "nothing remains" checks see only that case's keys.
const uniqueKey = (name = 'data.vcf'): { user: string; key: string } => {
  const user = `u${++counter}`;
  return { user, key: `${user}/job1/${name}` };
};

export function blobStoreContract(name: string, setup: () => Promise<ContractHarness>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let h: ContractHarness;
    let store: BlobStore;
    before(async () => {
      h = await setup();
      store = h.store;
    });
    after(async () => {
      await h?.teardown();
    });

    const leftovers = async (area: BlobArea, user: string): Promise<string[]> =>
      (await h.listAll(area)).filter((k) => k.startsWith(`${user}/`));

    it('is ready', async () => {
      await store.check();
    });

    it('round-trips a multi-MB streamed body', async () => {
      const { key } = uniqueKey('big.vcf');
      const body = generatedBody(BIG);
      const put = await store.put('inputs', key, body.stream, { contentType: 'text/plain' });
      assert.equal(put.size, BIG);
      assert.equal(body.emitted(), BIG);
      const got = await sha256OfStream(await store.get('inputs', key));
      assert.equal(got.bytes, BIG);
      assert.equal(got.digest, body.digest());
      assert.equal((await store.stat('inputs', key))?.size, BIG);
    });

    it('round-trips an empty body', async () => {
      const { key } = uniqueKey();
      assert.deepEqual(await store.put('results', key, Readable.from([])), { size: 0 });
      assert.equal(await textOf(await store.get('results', key)), '');
      assert.equal((await store.stat('results', key))?.size, 0);
    });

    it('overwrites an existing blob', async () => {
      const { key } = uniqueKey();
      await store.put('inputs', key, text('first version'));
      await store.put('inputs', key, text('second'));
      assert.equal(await textOf(await store.get('inputs', key)), 'second');
      assert.equal((await store.stat('inputs', key))?.size, 6);
    });

    it('keeps areas apart', async () => {
      const { key } = uniqueKey();
      await store.put('inputs', key, text('in'));
      assert.equal(await store.stat('results', key), null);
      assert.equal(await store.stat('archive', key), null);
    });

    it('stats a missing blob as null', async () => {
      assert.equal(await store.stat('inputs', uniqueKey().key), null);
    });

    it('rejects get of a missing blob with BlobNotFoundError naming area and key', async () => {
      const { key } = uniqueKey();
      await assert.rejects(store.get('results', key), (err: unknown) => {
        assert.ok(err instanceof BlobNotFoundError);
        assert.equal(err.area, 'results');
        assert.equal(err.key, key);
        return true;
      });
    });

    it('deletes, and deleting an absent blob is fine', async () => {
      const { user, key } = uniqueKey();
      await store.put('results', key, text('bye'));
      await store.delete('results', key);
      assert.equal(await store.stat('results', key), null);
      await assert.rejects(store.get('results', key), BlobNotFoundError);
      await store.delete('results', key);
      await store.delete('results', uniqueKey().key);
      assert.deepEqual(await leftovers('results', user), []);
    });

    it('moves between areas', async () => {
      const { user, key } = uniqueKey('out.tsv');
      await store.put('inputs', key, text('moving'));
      await store.move('inputs', 'results', key);
      assert.equal(await store.stat('inputs', key), null);
      assert.equal(await textOf(await store.get('results', key)), 'moving');
      assert.deepEqual(await leftovers('inputs', user), []);
    });

    it('moves into the archive with its storage class, and back', async () => {
      const { key } = uniqueKey('annot.vcf');
      await store.put('results', key, text('cold soon'), { contentType: 'text/plain' });
      await store.move('results', 'archive', key);
      const archived = await store.stat('archive', key);
      assert.equal(archived?.size, 9);
      assert.equal(archived?.storageClass, h.expectedStorageClass.archiveDefault);
      assert.equal(await store.stat('results', key), null);
      await store.move('archive', 'results', key, {});
      assert.equal(await textOf(await store.get('results', key)), 'cold soon');
    });

    it('moves with an explicit storage class', async () => {
      const { key } = uniqueKey();
      await store.put('results', key, text('glacial'));
      await store.move('results', 'archive', key, { storageClass: 'GLACIER' });
      assert.equal((await store.stat('archive', key))?.storageClass, h.expectedStorageClass.explicitGlacier);
      assert.equal(await textOf(await store.get('archive', key)), 'glacial');
    });

    it('rejects moving a missing blob with BlobNotFoundError', async () => {
      const { key } = uniqueKey();
      await assert.rejects(store.move('inputs', 'results', key), (err: unknown) => {
        assert.ok(err instanceof BlobNotFoundError);
        assert.equal(err.area, 'inputs');
        return true;
      });
      assert.equal(await store.stat('results', key), null);
    });

    it('leaves nothing when the body errors mid-way through a multipart-sized upload', async () => {
      const { user, key } = uniqueKey();
      const boom = new Error('client went away');
      const body = generatedBody(BIG, { failAfter: 7 * MiB, error: boom });
      await assert.rejects(store.put('inputs', key, body.stream), (err) => err === boom);
      assert.equal(await store.stat('inputs', key), null);
      assert.deepEqual(await leftovers('inputs', user), []);
    });

    it('leaves nothing when a small body errors', async () => {
      const { user, key } = uniqueKey();
      const body = generatedBody(MiB, { failAfter: 100_000 });
      await assert.rejects(store.put('results', key, body.stream), /body failed mid-way/);
      assert.equal(await store.stat('results', key), null);
      assert.deepEqual(await leftovers('results', user), []);
    });

    it('keeps the previous blob when an overwrite fails', async () => {
      const { key } = uniqueKey();
      await store.put('inputs', key, text('good'));
      await assert.rejects(store.put('inputs', key, generatedBody(MiB, { failAfter: 200_000 }).stream));
      assert.equal(await textOf(await store.get('inputs', key)), 'good');
    });

    it('rejects a body that is already broken', async () => {
      const { user, key } = uniqueKey();
      const body = new Readable({ read() {} });
      body.on('error', () => undefined);
      body.destroy(new Error('already broken'));
      await new Promise((r) => setImmediate(r));
      await assert.rejects(store.put('inputs', key, body), /already broken/);
      assert.deepEqual(await leftovers('inputs', user), []);
    });

    it('aborts at maxBytes with BlobTooLargeError, leaves nothing and does not destroy the body', async () => {
      const { user, key } = uniqueKey();
      const body = generatedBody(9 * MiB);
      await assert.rejects(store.put('inputs', key, body.stream, { maxBytes: 6 * MiB }), (err: unknown) => {
        assert.ok(err instanceof BlobTooLargeError);
        assert.equal(err.limit, 6 * MiB);
        return true;
      });
      assert.ok(body.emitted() < 9 * MiB, 'kept reading the body after the limit');
      assert.equal(body.stream.destroyed, false);
      body.stream.destroy();
      assert.equal(await store.stat('inputs', key), null);
      assert.deepEqual(await leftovers('inputs', user), []);
    });

    it('aborts a small body just over maxBytes and accepts one exactly at it', async () => {
      const { user, key } = uniqueKey();
      await assert.rejects(store.put('inputs', key, generatedBody(1001).stream, { maxBytes: 1000 }), BlobTooLargeError);
      assert.deepEqual(await leftovers('inputs', user), []);
      assert.deepEqual(await store.put('inputs', key, generatedBody(1000).stream, { maxBytes: 1000 }), { size: 1000 });
    });

    it('refuses unsafe keys everywhere without reading the body', async () => {
      const bad = ['', '/abs/x', '../x', 'a/../b', 'a/./b', './a', 'a//b', 'a/', 'a\\b', 'a/\u0000b', 'x'.repeat(1025)];
      for (const key of bad) {
        const body = text('nope');
        await assert.rejects(store.put('inputs', key, body), InvalidBlobKeyError, `put ${JSON.stringify(key)}`);
        assert.equal(body.readableDidRead, false);
        await assert.rejects(store.get('inputs', key), InvalidBlobKeyError);
        await assert.rejects(store.stat('inputs', key), InvalidBlobKeyError);
        await assert.rejects(store.delete('inputs', key), InvalidBlobKeyError);
        await assert.rejects(store.move('inputs', 'results', key), InvalidBlobKeyError);
      }
      await assert.rejects(store.stat('elsewhere' as BlobArea, 'a/b/c'), InvalidBlobKeyError);
    });

    it('fails check() when the store is unusable', async () => {
      await assert.rejects(h.brokenStore().check());
    });
  });
}
