import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, open, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertArea, assertValidKey } from './blob-key.ts';
import { BLOB_AREAS } from './blob-store.ts';
import type { BlobArea, BlobInfo, BlobStore, PutOptions } from './blob-store.ts';
import { BlobNotFoundError, InvalidBlobKeyError } from './errors.ts';
import { limitBody } from './limited-body.ts';

// delete() prunes empty parent folders, so a concurrent put or move can lose the folder it just
// made; such races are retried a few times rather than locked against.
const RACE_RETRIES = 5;

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

const ABSENT = new Set(['ENOENT', 'ENOTDIR']);

// Without it a crash shortly after the rename can leave an empty or short file at the key.
async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Keeps blobs as files under root/<area>/<key>; the local default. */
export class FileBlobStore implements BlobStore {
  readonly kind = 'filesystem' as const;
  readonly #root: string;

  constructor(opts: { root: string }) {
    if (!opts.root) throw new Error('FileBlobStore needs a root directory');
    this.#root = resolve(opts.root);
  }

  #areaDir(area: BlobArea): string {
    assertArea(area);
    return join(this.#root, area);
  }

  #path(area: BlobArea, key: string): string {
    const areaDir = this.#areaDir(area);
    assertValidKey(key);
    const path = resolve(areaDir, ...key.split('/'));
    if (!path.startsWith(areaDir + sep)) throw new InvalidBlobKeyError(key, 'resolves outside its area');
    return path;
  }

  async #openExclusive(path: string): Promise<FileHandle> {
    for (let attempt = 1; ; attempt++) {
      try {
        await mkdir(dirname(path), { recursive: true });
        return await open(path, 'wx');
      } catch (err) {
        if (errno(err) !== 'ENOENT' || attempt >= RACE_RETRIES) throw err;
      }
    }
  }

  async put(area: BlobArea, key: string, body: Readable, opts: PutOptions = {}): Promise<{ size: number }> {
    const path = this.#path(area, key);
    // Same folder as the target so the final rename is atomic; readers never see a partial blob.
    // The name is cut so a long key segment cannot push it past the 255-byte file name limit.
    const tmp = join(dirname(path), `.${basename(path).slice(0, 40)}.${randomBytes(6).toString('hex')}.partial`);
    const fh = await this.#openExclusive(tmp);
    const limited = limitBody(body, opts.maxBytes);
    try {
      // The stream owns the handle from here and closes it when it finishes or fails.
      await pipeline(limited.stream, fh.createWriteStream());
      await syncFile(tmp);
      await rename(tmp, path);
      return { size: limited.bytes };
    } catch (err) {
      limited.detach();
      await rm(tmp, { force: true });
      await this.#prune(area, tmp);
      throw limited.failure ?? err;
    } finally {
      limited.detach();
    }
  }

  async get(area: BlobArea, key: string): Promise<Readable> {
    const path = this.#path(area, key);
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      if (ABSENT.has(errno(err) ?? '')) throw new BlobNotFoundError(area, key, { cause: err });
      throw err;
    }
    const info = await fh.stat().catch(async (err: unknown) => {
      await fh.close();
      throw err;
    });
    if (!info.isFile()) {
      await fh.close();
      throw new BlobNotFoundError(area, key);
    }
    return fh.createReadStream();
  }

  async stat(area: BlobArea, key: string): Promise<BlobInfo | null> {
    const path = this.#path(area, key);
    try {
      const info = await stat(path);
      return info.isFile() ? { size: info.size } : null;
    } catch (err) {
      if (ABSENT.has(errno(err) ?? '')) return null;
      throw err;
    }
  }

  async delete(area: BlobArea, key: string): Promise<void> {
    const path = this.#path(area, key);
    try {
      await unlink(path);
    } catch (err) {
      // A key naming a folder holds no blob, so it counts as absent too.
      if (ABSENT.has(errno(err) ?? '') || errno(err) === 'EISDIR') return;
      throw err;
    }
    await this.#prune(area, path);
  }

  async move(from: BlobArea, to: BlobArea, key: string, _opts?: { storageClass?: string }): Promise<void> {
    const src = this.#path(from, key);
    const dst = this.#path(to, key);
    if (src === dst) {
      if (!(await this.stat(from, key))) throw new BlobNotFoundError(from, key);
      return;
    }
    // Storage classes do not exist here: the archive area is just another folder.
    for (let attempt = 1; ; attempt++) {
      const info = await this.stat(from, key);
      if (!info) throw new BlobNotFoundError(from, key);
      try {
        await mkdir(dirname(dst), { recursive: true });
        await rename(src, dst);
        break;
      } catch (err) {
        if (errno(err) !== 'ENOENT' || attempt >= RACE_RETRIES) throw err;
      }
    }
    await this.#prune(from, src);
  }

  async check(): Promise<void> {
    for (const area of BLOB_AREAS) {
      const dir = this.#areaDir(area);
      await mkdir(dir, { recursive: true });
      await access(dir, constants.R_OK | constants.W_OK);
    }
  }

  /** Removes folders left empty above path, up to (not including) the area folder. */
  async #prune(area: BlobArea, path: string): Promise<void> {
    const areaDir = this.#areaDir(area);
    for (let dir = dirname(path); dir.startsWith(areaDir + sep); dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        return;
      }
    }
  }
}
