import { Readable } from 'node:stream';
import type { Test } from 'tap';
import { BlobNotFoundError, BlobTooLargeError, InvalidBlobKeyError } from '../src/index.ts';
import type { BlobArea, BlobStore } from '../src/index.ts';
import { generatedBody, sha256OfStream, textOf } from './generated-body.ts';

export interface ContractHarness {
  store: BlobStore;
  /** Everything stored in an area, including anything a failed put might have left (temp files). */
  listAll(area: BlobArea): Promise<string[]>;
  /** A store of the same kind whose check() must fail. */
  brokenStore(): BlobStore;
  /**
   * What stat reports after a move or copy into the archive without an explicit class, after one
   * with 'GLACIER', and after a copy from the archive back out.
   */
  expectedStorageClass: { archiveDefault: string | undefined; explicitGlacier: string | undefined; backFromArchive: string | undefined };
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

/**
 * The cases every BlobStore must pass, as subtests of one `BlobStore contract: <name>` test of `t`.
 * `setup` gets that test, so whatever it makes (a test dir, a client) can be cleaned up by its
 * teardown once the cases have run.
 */
export function blobStoreContract(t: Test, name: string, setup: (t: Test) => Promise<ContractHarness>): void {
  t.test(`BlobStore contract: ${name}`, async (t) => {
    const h = await setup(t);
    const store = h.store;

    const leftovers = async (area: BlobArea, user: string): Promise<string[]> =>
      (await h.listAll(area)).filter((k) => k.startsWith(`${user}/`));

    t.test('is ready', async (t) => {
      await t.resolves(store.check(), 'check() passes');
    });

    t.test('round-trips a multi-MB streamed body', async (t) => {
      const { key } = uniqueKey('big.vcf');
      const body = generatedBody(BIG);
      const put = await store.put('inputs', key, body.stream, { contentType: 'text/plain' });
      t.equal(put.size, BIG);
      t.equal(body.emitted(), BIG);
      const got = await sha256OfStream(await store.get('inputs', key));
      t.equal(got.bytes, BIG);
      t.equal(got.digest, body.digest());
      t.equal((await store.stat('inputs', key))?.size, BIG);
    });

    t.test('round-trips an empty body', async (t) => {
      const { key } = uniqueKey();
      t.strictSame(await store.put('results', key, Readable.from([])), { size: 0 });
      t.equal(await textOf(await store.get('results', key)), '');
      t.equal((await store.stat('results', key))?.size, 0);
    });

    t.test('overwrites an existing blob', async (t) => {
      const { key } = uniqueKey();
      await store.put('inputs', key, text('first version'));
      await store.put('inputs', key, text('second'));
      t.equal(await textOf(await store.get('inputs', key)), 'second');
      t.equal((await store.stat('inputs', key))?.size, 6);
    });

    t.test('keeps areas apart', async (t) => {
      const { key } = uniqueKey();
      await store.put('inputs', key, text('in'));
      t.equal(await store.stat('results', key), null);
      t.equal(await store.stat('archive', key), null);
    });

    t.test('stats a missing blob as null', async (t) => {
      t.equal(await store.stat('inputs', uniqueKey().key), null);
    });

    t.test('rejects get of a missing blob with BlobNotFoundError naming area and key', async (t) => {
      const { key } = uniqueKey();
      const err = await t.rejects(store.get('results', key), BlobNotFoundError);
      t.hasStrict(err, { area: 'results', key });
    });

    t.test('deletes, and deleting an absent blob is fine', async (t) => {
      const { user, key } = uniqueKey();
      await store.put('results', key, text('bye'));
      await store.delete('results', key);
      t.equal(await store.stat('results', key), null);
      await t.rejects(store.get('results', key), BlobNotFoundError);
      await store.delete('results', key);
      await store.delete('results', uniqueKey().key);
      t.strictSame(await leftovers('results', user), []);
    });

    t.test('moves between areas', async (t) => {
      const { user, key } = uniqueKey('out.tsv');
      await store.put('inputs', key, text('moving'));
      await store.move('inputs', 'results', key);
      t.equal(await store.stat('inputs', key), null);
      t.equal(await textOf(await store.get('results', key)), 'moving');
      t.strictSame(await leftovers('inputs', user), []);
    });

    t.test('moves into the archive with its storage class, and back', async (t) => {
      const { key } = uniqueKey('annot.vcf');
      await store.put('results', key, text('cold soon'), { contentType: 'text/plain' });
      await store.move('results', 'archive', key);
      const archived = await store.stat('archive', key);
      t.equal(archived?.size, 9);
      t.equal(archived?.storageClass, h.expectedStorageClass.archiveDefault);
      t.equal(await store.stat('results', key), null);
      await store.move('archive', 'results', key, {});
      t.equal(await textOf(await store.get('results', key)), 'cold soon');
      t.equal((await store.stat('results', key))?.storageClass, h.expectedStorageClass.backFromArchive);
    });

    t.test('moves with an explicit storage class', async (t) => {
      const { key } = uniqueKey();
      await store.put('results', key, text('glacial'));
      await store.move('results', 'archive', key, { storageClass: 'GLACIER' });
      t.equal((await store.stat('archive', key))?.storageClass, h.expectedStorageClass.explicitGlacier);
      t.equal(await textOf(await store.get('archive', key)), 'glacial');
    });

    t.test('rejects moving a missing blob with BlobNotFoundError', async (t) => {
      const { key } = uniqueKey();
      const err = await t.rejects(store.move('inputs', 'results', key), BlobNotFoundError);
      t.hasStrict(err, { area: 'inputs' });
      t.equal(await store.stat('results', key), null);
    });

    t.test('copies between areas and keeps the source', async (t) => {
      const { user, key } = uniqueKey('out.tsv');
      await store.put('inputs', key, text('copied'), { contentType: 'text/plain' });
      await store.copy('inputs', 'results', key);
      t.equal(await textOf(await store.get('inputs', key)), 'copied');
      t.equal(await textOf(await store.get('results', key)), 'copied');
      t.strictSame(await leftovers('results', user), [key], 'no temp files next to the copy');
      t.strictSame(await leftovers('inputs', user), [key]);
    });

    t.test('copies a multi-MB blob whole', async (t) => {
      const { key } = uniqueKey('big.vcf');
      const body = generatedBody(BIG);
      await store.put('results', key, body.stream);
      await store.copy('results', 'archive', key);
      const got = await sha256OfStream(await store.get('archive', key));
      t.strictSame(got, { digest: body.digest(), bytes: BIG });
      t.equal((await store.stat('results', key))?.size, BIG);
    });

    t.test('copy overwrites the destination', async (t) => {
      const { key } = uniqueKey();
      await store.put('results', key, text('old result'));
      await store.put('archive', key, text('new'));
      await store.copy('archive', 'results', key);
      t.equal(await textOf(await store.get('results', key)), 'new');
      t.equal((await store.stat('results', key))?.size, 3);
    });

    t.test('copies into the archive with its storage class, and back out hot', async (t) => {
      const { key } = uniqueKey('annot.vcf');
      await store.put('results', key, text('cold soon'), { contentType: 'text/plain' });
      await store.copy('results', 'archive', key);
      t.equal((await store.stat('archive', key))?.storageClass, h.expectedStorageClass.archiveDefault);
      t.equal((await store.stat('results', key))?.size, 9, 'the source stays');
      await store.delete('results', key);
      await store.copy('archive', 'results', key);
      t.equal((await store.stat('results', key))?.storageClass, h.expectedStorageClass.backFromArchive);
      t.equal(await textOf(await store.get('results', key)), 'cold soon');
      t.equal((await store.stat('archive', key))?.storageClass, h.expectedStorageClass.archiveDefault, 'the archived copy stays');
    });

    t.test('copies with an explicit storage class', async (t) => {
      const { key } = uniqueKey();
      await store.put('results', key, text('glacial'));
      await store.copy('results', 'archive', key, { storageClass: 'GLACIER' });
      t.equal((await store.stat('archive', key))?.storageClass, h.expectedStorageClass.explicitGlacier);
      t.equal(await textOf(await store.get('archive', key)), 'glacial');
    });

    t.test('copy within one area only checks the blob is there', async (t) => {
      const { user, key } = uniqueKey();
      await store.put('inputs', key, text('stay'));
      await store.copy('inputs', 'inputs', key);
      t.equal(await textOf(await store.get('inputs', key)), 'stay');
      t.strictSame(await leftovers('inputs', user), [key]);
      await t.rejects(store.copy('inputs', 'inputs', uniqueKey().key), BlobNotFoundError);
    });

    t.test('rejects copying a missing blob with BlobNotFoundError and leaves the destination alone', async (t) => {
      const { user, key } = uniqueKey();
      await store.put('results', key, text('keep'));
      const err = await t.rejects(store.copy('inputs', 'results', key), BlobNotFoundError);
      t.hasStrict(err, { area: 'inputs', key });
      t.equal(await textOf(await store.get('results', key)), 'keep');
      await t.rejects(store.copy('inputs', 'archive', key), BlobNotFoundError);
      t.equal(await store.stat('archive', key), null);
      t.strictSame(await leftovers('archive', user), []);
    });

    t.test('leaves nothing when the body errors mid-way through a multipart-sized upload', async (t) => {
      const { user, key } = uniqueKey();
      const boom = new Error('client went away');
      const body = generatedBody(BIG, { failAfter: 7 * MiB, error: boom });
      t.equal(await t.rejects(store.put('inputs', key, body.stream)), boom, "rejects with the body's own error");
      t.equal(await store.stat('inputs', key), null);
      t.strictSame(await leftovers('inputs', user), []);
    });

    t.test('leaves nothing when a small body errors', async (t) => {
      const { user, key } = uniqueKey();
      const body = generatedBody(MiB, { failAfter: 100_000 });
      await t.rejects(store.put('results', key, body.stream), /body failed mid-way/);
      t.equal(await store.stat('results', key), null);
      t.strictSame(await leftovers('results', user), []);
    });

    t.test('keeps the previous blob when an overwrite fails', async (t) => {
      const { key } = uniqueKey();
      await store.put('inputs', key, text('good'));
      await t.rejects(store.put('inputs', key, generatedBody(MiB, { failAfter: 200_000 }).stream));
      t.equal(await textOf(await store.get('inputs', key)), 'good');
    });

    t.test('rejects a body that is already broken', async (t) => {
      const { user, key } = uniqueKey();
      const body = new Readable({ read() {} });
      body.on('error', () => undefined);
      body.destroy(new Error('already broken'));
      await new Promise((r) => setImmediate(r));
      await t.rejects(store.put('inputs', key, body), /already broken/);
      t.strictSame(await leftovers('inputs', user), []);
    });

    t.test('aborts at maxBytes with BlobTooLargeError, leaves nothing and does not destroy the body', async (t) => {
      const { user, key } = uniqueKey();
      const body = generatedBody(9 * MiB);
      const err = await t.rejects(store.put('inputs', key, body.stream, { maxBytes: 6 * MiB }), BlobTooLargeError);
      t.hasStrict(err, { limit: 6 * MiB });
      t.ok(body.emitted() < 9 * MiB, 'stopped reading the body at the limit');
      t.equal(body.stream.destroyed, false);
      body.stream.destroy();
      t.equal(await store.stat('inputs', key), null);
      t.strictSame(await leftovers('inputs', user), []);
    });

    t.test('aborts a small body just over maxBytes and accepts one exactly at it', async (t) => {
      const { user, key } = uniqueKey();
      await t.rejects(store.put('inputs', key, generatedBody(1001).stream, { maxBytes: 1000 }), BlobTooLargeError);
      t.strictSame(await leftovers('inputs', user), []);
      t.strictSame(await store.put('inputs', key, generatedBody(1000).stream, { maxBytes: 1000 }), { size: 1000 });
    });

    t.test('refuses unsafe keys everywhere without reading the body', async (t) => {
      const bad = ['', '/abs/x', '../x', 'a/../b', 'a/./b', './a', 'a//b', 'a/', 'a\\b', 'a/\u0000b', 'x'.repeat(1025)];
      for (const key of bad) {
        const body = text('nope');
        await t.rejects(store.put('inputs', key, body), InvalidBlobKeyError, `put ${JSON.stringify(key)}`);
        t.equal(body.readableDidRead, false);
        await t.rejects(store.get('inputs', key), InvalidBlobKeyError);
        await t.rejects(store.stat('inputs', key), InvalidBlobKeyError);
        await t.rejects(store.delete('inputs', key), InvalidBlobKeyError);
        await t.rejects(store.move('inputs', 'results', key), InvalidBlobKeyError);
        await t.rejects(store.copy('inputs', 'results', key), InvalidBlobKeyError);
      }
      await t.rejects(store.stat('elsewhere' as BlobArea, 'a/b/c'), InvalidBlobKeyError);
    });

    t.test('lists the blobs under a folder prefix, nested ones too, and nothing of another folder', async (t) => {
      const { user } = uniqueKey();
      for (const k of [`${user}/job1/a.vcf`, `${user}/job1/sub/b.tsv`, `${user}/job10/c.vcf`]) await store.put('results', k, text(k));
      t.same((await store.list('results', `${user}/job1/`)).sort(), [`${user}/job1/a.vcf`, `${user}/job1/sub/b.tsv`]);
      t.same(await store.list('results', `${user}/nothing/`), [], 'an absent folder lists nothing');
      t.same(await store.list('archive', `${user}/job1/`), [], 'only the area asked');
      await t.rejects(store.list('results', `${user}/job1`), InvalidBlobKeyError, 'a prefix must end in /');
      await t.rejects(store.list('results', '../'), InvalidBlobKeyError);
    });

    t.test('fails check() when the store is unusable', async (t) => {
      await t.rejects(h.brokenStore().check());
    });
  });
}
