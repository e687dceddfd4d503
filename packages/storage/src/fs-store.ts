import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, link, mkdir, open, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertArea, assertValidKey } from './blob-key.ts';
import { BLOB_AREAS } from './blob-store.ts';
import type { BlobArea, BlobInfo, BlobStore, ColdRestore, ColdRestoreStatus, PutOptions, RestoreTicket } from './blob-store.ts';
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

export interface FileBlobStoreOptions {
  root: string;
  /**
   * When above 0, archived blobs act cold: the store has `coldRestore`, and a restore takes this
   * long before status() says ready (the local stack's stand-in for a Glacier restore). Default 0.
   */
  restoreDelayMs?: number;
  /** The clock restores are timed by; for tests. */
  now?: () => Date;
}

// Outside every area folder, so no blob key can name it; the leading dot keeps it out of listings.
const RESTORES_DIR = '.restores';

/** Keeps blobs as files under root/<area>/<key>; the local default. */
export class FileBlobStore implements BlobStore {
  readonly kind = 'filesystem' as const;
  readonly #root: string;
  readonly #restores: FileColdRestore | undefined;
  readonly coldRestore?: ColdRestore;

  constructor(opts: FileBlobStoreOptions) {
    if (!opts.root) throw new Error('FileBlobStore needs a root directory');
    this.#root = resolve(opts.root);
    const delayMs = opts.restoreDelayMs ?? 0;
    if (!Number.isFinite(delayMs) || delayMs < 0) {
      throw new Error('FileBlobStore restoreDelayMs must be a number of milliseconds, 0 or more');
    }
    const statArchived = (key: string): Promise<BlobInfo | null> => this.stat('archive', key);
    const now = opts.now ?? (() => new Date());
    this.#restores = delayMs > 0 ? new FileColdRestore(join(this.#root, RESTORES_DIR), delayMs, now, statArchived) : undefined;
    if (this.#restores) this.coldRestore = this.#restores;
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
    const tmp = tempPathFor(path);
    const fh = await this.#openExclusive(tmp);
    const limited = limitBody(body, opts.maxBytes);
    try {
      // The stream owns the handle from here and closes it when it finishes or fails.
      await pipeline(limited.stream, fh.createWriteStream());
      await syncFile(tmp);
      await rename(tmp, path);
      if (area === 'archive') await this.#forgetRestore(key);
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
    // First, so a marker never outlives its blob, even when the blob is already gone.
    if (area === 'archive') await this.#forgetRestore(key);
    try {
      await unlink(path);
    } catch (err) {
      // A key naming a folder holds no blob, so it counts as absent too.
      if (ABSENT.has(errno(err) ?? '') || errno(err) === 'EISDIR') return;
      throw err;
    }
    await this.#prune(area, path);
  }

  async list(area: BlobArea, prefix: string): Promise<string[]> {
    if (!prefix.endsWith('/')) throw new InvalidBlobKeyError(prefix, 'a prefix to list must end in /');
    const keys: string[] = [];
    const walk = async (dir: string, under: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (ABSENT.has(errno(err) ?? '')) return;
        throw err;
      }
      for (const e of entries) {
        // A put or copy under way writes to a dot-named temp file first.
        if (e.isFile() && !e.name.endsWith('.partial')) keys.push(under + e.name);
        else if (e.isDirectory()) await walk(join(dir, e.name), `${under}${e.name}/`);
      }
    };
    await walk(this.#path(area, prefix.slice(0, -1)), prefix);
    return keys;
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
    if (from === 'archive' || to === 'archive') await this.#forgetRestore(key);
  }

  async copy(from: BlobArea, to: BlobArea, key: string, _opts?: { storageClass?: string }): Promise<void> {
    const src = this.#path(from, key);
    const dst = this.#path(to, key);
    let source: FileHandle;
    try {
      source = await open(src, 'r');
    } catch (err) {
      if (ABSENT.has(errno(err) ?? '')) throw new BlobNotFoundError(from, key, { cause: err });
      throw err;
    }
    try {
      if (!(await source.stat()).isFile()) throw new BlobNotFoundError(from, key);
      if (src === dst) return;
      // Through a temp file and a rename, as put does: readers see the old blob or the whole new one.
      const tmp = tempPathFor(dst);
      const out = await this.#openExclusive(tmp);
      try {
        // The streams own the handles from here and close them when they finish or fail.
        await pipeline(source.createReadStream(), out.createWriteStream());
        await syncFile(tmp);
        await rename(tmp, dst);
      } catch (err) {
        await rm(tmp, { force: true });
        await this.#prune(to, tmp);
        throw err;
      }
    } finally {
      // Closing a handle its stream already closed is harmless; one never streamed must be closed here.
      await source.close().catch(() => undefined);
    }
    if (to === 'archive') await this.#forgetRestore(key);
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
    await pruneEmptyFolders(this.#areaDir(area), path);
  }

  /** A blob that arrives in or leaves the archive is cold again: an old restore says nothing about it. */
  async #forgetRestore(key: string): Promise<void> {
    await this.#restores?.forget(key);
  }
}

// Same folder as the target so the final rename is atomic; readers never see a partial blob.
// The name is cut so a long key segment cannot push it past the 255-byte file name limit.
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path).slice(0, 40)}.${randomBytes(6).toString('hex')}.partial`);
}

/** Removes folders left empty above path, up to (not including) base. */
async function pruneEmptyFolders(base: string, path: string): Promise<void> {
  for (let dir = dirname(path); dir.startsWith(base + sep); dir = dirname(dir)) {
    try {
      await rmdir(dir);
    } catch {
      return;
    }
  }
}

/**
 * A restore that takes restoreDelayMs, so the local stack goes through the same cold → restoring →
 * ready steps as Glacier. Each request leaves a marker, root/.restores/<key> holding
 * {"readyAt": iso}, so a restore outlives the process that asked for it. The markers mirror the
 * archive area's own layout: any keys that can sit in the archive together can have markers together.
 */
class FileColdRestore implements ColdRestore {
  readonly tier = 'filesystem';
  readonly #dir: string;
  readonly #delayMs: number;
  readonly #now: () => Date;
  readonly #statArchived: (key: string) => Promise<BlobInfo | null>;

  constructor(dir: string, delayMs: number, now: () => Date, statArchived: (key: string) => Promise<BlobInfo | null>) {
    this.#dir = dir;
    this.#delayMs = delayMs;
    this.#now = now;
    this.#statArchived = statArchived;
  }

  #markerPath(key: string): string {
    // Every caller has had the key checked first (by the store's #path, or statArchived).
    return join(this.#dir, ...key.split('/'));
  }

  async request(key: string): Promise<RestoreTicket> {
    await this.#mustExist(key);
    const marker = this.#markerPath(key);
    const earlier = await this.#readyAt(marker);
    if (earlier) return { retrieval: 'delay', expectedReadyAt: earlier };

    const readyAt = new Date(this.#now().getTime() + this.#delayMs);
    // Written whole to a temp file, then linked into place: link refuses an existing marker, so
    // of two requests at once the first one's time stands, as does an earlier one's.
    const tmp = tempPathFor(marker);
    try {
      // forget() prunes empty marker folders, and may take the one just made: retried, as put does.
      for (let attempt = 1; ; attempt++) {
        try {
          await mkdir(dirname(marker), { recursive: true });
          await writeFile(tmp, JSON.stringify({ readyAt: readyAt.toISOString() }), { flag: 'wx', flush: true });
          break;
        } catch (err) {
          if (errno(err) !== 'ENOENT' || attempt >= RACE_RETRIES) throw err;
        }
      }
      await link(tmp, marker);
    } catch (err) {
      if (errno(err) !== 'EEXIST') throw err;
      const first = await this.#readyAt(marker);
      if (first) return { retrieval: 'delay', expectedReadyAt: first };
      throw err;
    } finally {
      await rm(tmp, { force: true });
    }
    return { retrieval: 'delay', expectedReadyAt: readyAt };
  }

  async status(key: string): Promise<ColdRestoreStatus> {
    await this.#mustExist(key);
    const readyAt = await this.#readyAt(this.#markerPath(key));
    if (!readyAt) return 'cold';
    return this.#now().getTime() < readyAt.getTime() ? 'restoring' : 'ready';
  }

  async forget(key: string): Promise<void> {
    const marker = this.#markerPath(key);
    try {
      await unlink(marker);
    } catch (err) {
      if (ABSENT.has(errno(err) ?? '') || errno(err) === 'EISDIR') return;
      throw err;
    }
    await pruneEmptyFolders(this.#dir, marker);
  }

  async #mustExist(key: string): Promise<void> {
    if (!(await this.#statArchived(key))) throw new BlobNotFoundError('archive', key);
  }

  async #readyAt(marker: string): Promise<Date | null> {
    let text: string;
    try {
      text = await readFile(marker, 'utf8');
    } catch (err) {
      if (ABSENT.has(errno(err) ?? '') || errno(err) === 'EISDIR') return null;
      throw err;
    }
    const readyAt = new Date((JSON.parse(text) as { readyAt?: string }).readyAt ?? '');
    if (Number.isNaN(readyAt.getTime())) throw new Error(`restore marker ${marker} holds no readyAt time`);
    return readyAt;
  }
}
