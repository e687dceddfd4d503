import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import t from 'tap';
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

blobStoreContract(t, 'filesystem', async (t) => {
  const dir = t.testdir({ 'a-file': 'not a directory' });
  const root = join(dir, 'blobs');
  return {
    store: new FileBlobStore({ root }),
    listAll: (area: BlobArea) => listFiles(join(root, area)),
    brokenStore: () => new FileBlobStore({ root: join(dir, 'a-file') }),
    expectedStorageClass: { archiveDefault: undefined, explicitGlacier: undefined },
  };
});

t.test('FileBlobStore specifics', async (t) => {
  const dir = t.testdir({ 'a-file': 'not a directory' });

  t.test('lays blobs out as root/<area>/<key>', async (t) => {
    const root = join(dir, 'layout');
    const store = new FileBlobStore({ root });
    await store.put('results', 'u1/j1/out.vcf', Readable.from(['x']));
    t.ok(existsSync(join(root, 'results', 'u1', 'j1', 'out.vcf')));
  });

  t.test('removes folders that delete and move leave empty', async (t) => {
    const root = join(dir, 'prune');
    const store = new FileBlobStore({ root });
    await store.put('inputs', 'u1/j1/a.vcf', Readable.from(['a']));
    await store.put('inputs', 'u1/j2/b.vcf', Readable.from(['b']));
    await store.delete('inputs', 'u1/j1/a.vcf');
    t.strictSame(await readdir(join(root, 'inputs', 'u1')), ['j2']);
    await store.move('inputs', 'archive', 'u1/j2/b.vcf');
    t.strictSame(await readdir(join(root, 'inputs')), []);
  });

  t.test('treats a key that names a folder as absent', async (t) => {
    const store = new FileBlobStore({ root: join(dir, 'folders') });
    await store.put('inputs', 'u1/j1/a.vcf', Readable.from(['a']));
    t.equal(await store.stat('inputs', 'u1/j1'), null);
    await t.rejects(store.get('inputs', 'u1/j1'), BlobNotFoundError);
    await store.delete('inputs', 'u1/j1');
    t.equal(await textOf(await store.get('inputs', 'u1/j1/a.vcf')), 'a');
  });

  t.test('fails check() when the root is a file', async (t) => {
    await t.rejects(new FileBlobStore({ root: join(dir, 'a-file') }).check());
  });

  t.test('creates its area folders in check()', async (t) => {
    const root = join(dir, 'fresh');
    await new FileBlobStore({ root }).check();
    t.strictSame((await readdir(root)).sort(), ['archive', 'inputs', 'results']);
  });

  t.test('serves many concurrent puts to one key without leaving temp files', async (t) => {
    const root = join(dir, 'race');
    const store = new FileBlobStore({ root });
    await Promise.all(Array.from({ length: 8 }, (_, i) => store.put('inputs', 'u1/j1/same.vcf', Readable.from([`v${i}`]))));
    t.match(await textOf(await store.get('inputs', 'u1/j1/same.vcf')), /^v\d$/);
    t.strictSame(await listFiles(join(root, 'inputs')), ['u1/j1/same.vcf']);
  });

  t.test('races delete-pruning against puts into the same folder', async (t) => {
    const root = join(dir, 'prune-race');
    const store = new FileBlobStore({ root });
    for (let round = 0; round < 50; round++) {
      await store.put('inputs', 'u1/j1/a', Readable.from(['a']));
      await Promise.all([store.delete('inputs', 'u1/j1/a'), store.put('inputs', 'u1/j1/b', Readable.from(['b']))]);
      t.equal(await textOf(await store.get('inputs', 'u1/j1/b')), 'b');
      await store.delete('inputs', 'u1/j1/b');
    }
  });
});
