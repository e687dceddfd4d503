import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { makeTempDir } from '@gas/testing';
import type { TempDir } from '@gas/testing';
import { BlobNotFoundError, FileBlobStore } from '../src/index.ts';
import type { BlobArea } from '../src/index.ts';
import { blobStoreContract } from './blob-store-contract.ts';
import { textOf } from './generated-body.ts';

async function listFiles(dir: string, base = dir): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(p, base)));
    else out.push(relative(base, p));
  }
  return out;
}

blobStoreContract('filesystem', async () => {
  const tmp = await makeTempDir('gas-fs-store-');
  const root = join(tmp.path, 'blobs');
  await writeFile(join(tmp.path, 'a-file'), 'not a directory');
  return {
    store: new FileBlobStore({ root }),
    listAll: (area: BlobArea) => listFiles(join(root, area)),
    brokenStore: () => new FileBlobStore({ root: join(tmp.path, 'a-file') }),
    expectedStorageClass: { archiveDefault: undefined, explicitGlacier: undefined },
    async teardown() {
      await tmp.cleanup();
    },
  };
});

describe('FileBlobStore specifics', () => {
  let tmp: TempDir;
  before(async () => {
    tmp = await makeTempDir('gas-fs-store-x-');
    await writeFile(join(tmp.path, 'a-file'), 'not a directory');
  });
  after(async () => {
    await tmp.cleanup();
  });

  it('lays blobs out as root/<area>/<key>', async () => {
    const root = join(tmp.path, 'layout');
    const store = new FileBlobStore({ root });
    await store.put('results', 'u1/j1/out.vcf', Readable.from(['x']));
    assert.ok(existsSync(join(root, 'results', 'u1', 'j1', 'out.vcf')));
  });

  it('removes folders that delete and move leave empty', async () => {
    const root = join(tmp.path, 'prune');
    const store = new FileBlobStore({ root });
    await store.put('inputs', 'u1/j1/a.vcf', Readable.from(['a']));
    await store.put('inputs', 'u1/j2/b.vcf', Readable.from(['b']));
    await store.delete('inputs', 'u1/j1/a.vcf');
    assert.deepEqual(await readdir(join(root, 'inputs', 'u1')), ['j2']);
    await store.move('inputs', 'archive', 'u1/j2/b.vcf');
    assert.deepEqual(await readdir(join(root, 'inputs')), []);
  });

  it('treats a key that names a folder as absent', async () => {
    const store = new FileBlobStore({ root: join(tmp.path, 'folders') });
    await store.put('inputs', 'u1/j1/a.vcf', Readable.from(['a']));
    assert.equal(await store.stat('inputs', 'u1/j1'), null);
    await assert.rejects(store.get('inputs', 'u1/j1'), BlobNotFoundError);
    await store.delete('inputs', 'u1/j1');
    assert.equal(await textOf(await store.get('inputs', 'u1/j1/a.vcf')), 'a');
  });

  it('fails check() when the root is a file', async () => {
    await assert.rejects(new FileBlobStore({ root: join(tmp.path, 'a-file') }).check());
  });

  it('creates its area folders in check()', async () => {
    const root = join(tmp.path, 'fresh');
    await new FileBlobStore({ root }).check();
    assert.deepEqual((await readdir(root)).sort(), ['archive', 'inputs', 'results']);
  });

  it('serves many concurrent puts to one key without leaving temp files', async () => {
    const root = join(tmp.path, 'race');
    const store = new FileBlobStore({ root });
    await Promise.all(Array.from({ length: 8 }, (_, i) => store.put('inputs', 'u1/j1/same.vcf', Readable.from([`v${i}`]))));
    assert.match(await textOf(await store.get('inputs', 'u1/j1/same.vcf')), /^v\d$/);
    assert.deepEqual(await listFiles(join(root, 'inputs')), ['u1/j1/same.vcf']);
  });

  it('races delete-pruning against puts into the same folder', async () => {
    const root = join(tmp.path, 'prune-race');
    const store = new FileBlobStore({ root });
    for (let round = 0; round < 50; round++) {
      await store.put('inputs', 'u1/j1/a', Readable.from(['a']));
      await Promise.all([store.delete('inputs', 'u1/j1/a'), store.put('inputs', 'u1/j1/b', Readable.from(['b']))]);
      assert.equal(await textOf(await store.get('inputs', 'u1/j1/b')), 'b');
      await store.delete('inputs', 'u1/j1/b');
    }
  });
});
