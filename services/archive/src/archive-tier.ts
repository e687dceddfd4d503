// The archive tier as the archive service uses it: the BlobStore's `archive` area, which is an S3
// cold storage class (restored before it can be read), an archive bucket or folder (readable at once),
// or a folder with a simulated restore delay (the local stack). Every step is idempotent, because a
// step may run again after a crash or a redelivery.
import type { BlobArea, BlobStore } from '@gas/storage';
import { BlobNotFoundError } from '@gas/storage';

export type Keys = Record<string, string>;

export class ArchiveTier {
  /** For logs and the `tier` label: the storage class, 'filesystem', or 's3'. */
  readonly name: string;

  constructor(
    private readonly store: BlobStore,
    /**
     * True when the results and archive areas are the same place (one S3 bucket for both): a copy
     * between them changes the storage class in place, and there is no second copy to delete.
     */
    private readonly inPlace: boolean,
    name?: string,
  ) {
    this.name = store.coldRestore?.tier ?? name ?? store.kind;
  }

  /** Copies each result into the archive area. A result already gone from the hot area must be in the archive. */
  async copyIn(keys: Keys): Promise<void> {
    for (const key of Object.values(keys)) await this.copyAgain('results', 'archive', key);
  }

  /** Deletes the hot copies once the archive copies are recorded. */
  async dropHot(keys: Keys): Promise<void> {
    if (this.inPlace) return;
    for (const key of Object.values(keys)) await this.store.delete('results', key);
  }

  /** Asks for every archived result to be made readable; resolves with when the last one is expected. */
  async requestRestore(keys: Keys, now: Date): Promise<Date> {
    const cold = this.store.coldRestore;
    if (!cold) return now;
    let latest = now;
    for (const key of Object.values(keys)) {
      const ticket = await cold.request(key);
      if (ticket.expectedReadyAt > latest) latest = ticket.expectedReadyAt;
    }
    return latest;
  }

  /**
   * True when every archived result can be copied back now. A result whose restored copy lapsed
   * (or whose request was lost) is asked for again.
   */
  async restored(keys: Keys): Promise<boolean> {
    const cold = this.store.coldRestore;
    if (!cold) return true;
    let ready = true;
    for (const key of Object.values(keys)) {
      const state = await cold.status(key);
      if (state === 'cold') await cold.request(key);
      if (state !== 'ready') ready = false;
    }
    return ready;
  }

  /** Copies each archived result back to its result key, hot. A result no longer archived must be hot already. */
  async copyBack(keys: Keys): Promise<void> {
    for (const key of Object.values(keys)) await this.copyAgain('archive', 'results', key);
  }

  /** Deletes the archive copies once the results are recorded back. */
  async dropCold(keys: Keys): Promise<void> {
    if (this.inPlace) return;
    for (const key of Object.values(keys)) await this.store.delete('archive', key);
  }

  /** A copy that may run again after a crash: a source already gone is fine if the copy is there. */
  private async copyAgain(from: BlobArea, to: BlobArea, key: string): Promise<void> {
    try {
      await this.store.copy(from, to, key);
    } catch (err) {
      if (!(err instanceof BlobNotFoundError) || !(await this.store.stat(to, key))) throw err;
    }
  }
}
