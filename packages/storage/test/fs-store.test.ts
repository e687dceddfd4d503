import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import t from 'tap';
import { BlobNotFoundError, FileBlobStore } from '../src/index.ts';
import type { BlobArea, ColdRestore } from '../src/index.ts';
import { blobStoreContract } from './blob-store-contract.ts';
import { generatedBody, sha256OfStream, textOf } from './generated-body.ts';

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
    expectedStorageClass: { archiveDefault: undefined, explicitGlacier: undefined, backFromArchive: undefined },
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

  t.test('readers of a copy see the old blob or the whole new one', async (t) => {
    const root = join(dir, 'copy-readers');
    const store = new FileBlobStore({ root });
    const body = generatedBody(8 * 1024 * 1024);
    await store.put('archive', 'u1/j1/big', body.stream);
    await store.put('results', 'u1/j1/big', Readable.from(['old']));
    let copying = true;
    const copied = store.copy('archive', 'results', 'u1/j1/big').finally(() => (copying = false));
    const seen = new Set<string>();
    while (copying) {
      const got = await sha256OfStream(await store.get('results', 'u1/j1/big'));
      seen.add(got.bytes === 3 ? 'old' : got.digest === body.digest() ? 'whole copy' : `partial: ${got.bytes} bytes`);
    }
    await copied;
    seen.add((await sha256OfStream(await store.get('results', 'u1/j1/big'))).digest === body.digest() ? 'whole copy' : 'wrong');
    t.strictSame(
      [...seen].filter((s) => s !== 'old'),
      ['whole copy'],
    );
    t.strictSame(await listFiles(join(root, 'results')), ['u1/j1/big'], 'no temp file left');
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

t.test('FileBlobStore restore delay', async (t) => {
  const dir = t.testdir();
  const KEY = 'u1/j1/result.vcf';
  let clock = new Date('2025-03-01T12:00:00.000Z');
  const now = (): Date => clock;
  const at = (iso: string): Date => new Date(iso);
  const coldOf = (store: FileBlobStore): ColdRestore => {
    if (!store.coldRestore) throw new Error('expected the store to have coldRestore');
    return store.coldRestore;
  };

  async function archived(root: string, key = KEY): Promise<FileBlobStore> {
    const store = new FileBlobStore({ root, restoreDelayMs: 90_000, now });
    await store.put('results', key, Readable.from(['annotated']));
    await store.move('results', 'archive', key);
    return store;
  }

  t.test('is there only with a delay above 0', async (t) => {
    t.equal(new FileBlobStore({ root: join(dir, 'none') }).coldRestore, undefined);
    t.equal(new FileBlobStore({ root: join(dir, 'none'), restoreDelayMs: 0 }).coldRestore, undefined);
    t.equal(new FileBlobStore({ root: join(dir, 'some'), restoreDelayMs: 1 }).coldRestore?.tier, 'filesystem');
    t.throws(() => new FileBlobStore({ root: join(dir, 'bad'), restoreDelayMs: -1 }), /restoreDelayMs/);
  });

  t.test('goes cold → restoring → ready by the clock, and asking again keeps the first time', async (t) => {
    clock = at('2025-03-01T12:00:00.000Z');
    const store = await archived(join(dir, 'steps'));
    const cold = coldOf(store);
    t.equal(await cold.status(KEY), 'cold');
    t.strictSame(await cold.request(KEY), { retrieval: 'delay', expectedReadyAt: at('2025-03-01T12:01:30.000Z') });
    t.equal(await cold.status(KEY), 'restoring');
    clock = at('2025-03-01T12:01:00.000Z');
    t.strictSame(await cold.request(KEY), { retrieval: 'delay', expectedReadyAt: at('2025-03-01T12:01:30.000Z') });
    t.equal(await cold.status(KEY), 'restoring');
    clock = at('2025-03-01T12:01:30.000Z');
    t.equal(await cold.status(KEY), 'ready');
    t.strictSame(await cold.request(KEY), { retrieval: 'delay', expectedReadyAt: at('2025-03-01T12:01:30.000Z') });
    await store.copy('archive', 'results', KEY);
    t.equal(await textOf(await store.get('results', KEY)), 'annotated');
  });

  t.test('keeps its markers outside the areas, where a new store on the same root finds them', async (t) => {
    clock = at('2025-03-01T12:00:00.000Z');
    const root = join(dir, 'restart');
    await coldOf(await archived(root)).request(KEY);
    t.strictSame(JSON.parse(await readFile(join(root, '.restores', 'u1', 'j1', 'result.vcf'), 'utf8')), {
      readyAt: '2025-03-01T12:01:30.000Z',
    });
    t.strictSame(await listFiles(join(root, 'archive')), [KEY]);
    t.strictSame(await listFiles(join(root, '.restores')), [KEY], 'no temp file left');

    const restarted = new FileBlobStore({ root, restoreDelayMs: 90_000, now });
    t.equal(await coldOf(restarted).status(KEY), 'restoring');
    clock = at('2025-03-01T13:00:00.000Z');
    t.equal(await coldOf(restarted).status(KEY), 'ready');
  });

  t.test('forgets a restore when the blob leaves the archive or is replaced there', async (t) => {
    clock = at('2025-03-01T12:00:00.000Z');
    const root = join(dir, 'forget');
    const store = await archived(root);
    const cold = coldOf(store);
    await cold.request(KEY);
    await store.delete('archive', KEY);
    t.notOk(existsSync(join(root, '.restores', 'u1')), 'marker and its emptied folders gone');

    await store.put('archive', KEY, Readable.from(['again']));
    await cold.request(KEY);
    await store.put('results', KEY, Readable.from(['newer']));
    await store.copy('results', 'archive', KEY);
    t.equal(await cold.status(KEY), 'cold', 'a blob copied in is cold again');

    await cold.request(KEY);
    await store.move('archive', 'results', KEY);
    t.strictSame(await listFiles(join(root, '.restores')), [], 'a blob moved out takes its marker along');
  });

  t.test('rejects a missing blob with BlobNotFoundError', async (t) => {
    const cold = coldOf(new FileBlobStore({ root: join(dir, 'missing'), restoreDelayMs: 1000, now }));
    t.hasStrict(await t.rejects(cold.request(KEY), BlobNotFoundError), { area: 'archive', key: KEY });
    t.hasStrict(await t.rejects(cold.status(KEY), BlobNotFoundError), { area: 'archive', key: KEY });
    await t.rejects(cold.status('../escape'), /invalid blob key/);
  });

  t.test('gives concurrent requests the same time', async (t) => {
    clock = at('2025-03-01T12:00:00.000Z');
    const store = await archived(join(dir, 'concurrent'));
    let tick = 0;
    const moving = new FileBlobStore({
      root: join(dir, 'concurrent'),
      restoreDelayMs: 90_000,
      now: () => new Date(clock.getTime() + 1000 * tick++),
    });
    const tickets = await Promise.all(Array.from({ length: 6 }, () => coldOf(moving).request(KEY)));
    t.equal(new Set(tickets.map((x) => x.expectedReadyAt.getTime())).size, 1);
    t.equal(await coldOf(store).status(KEY), 'restoring');
  });
});
