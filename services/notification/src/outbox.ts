import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Notices as files named by event id. Creating with `wx` makes a redelivered event a no-op, so a
 * notice is never written twice.
 */
export class Outbox {
  constructor(private readonly dir: string) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  /** Returns false when the notice for this event already exists. */
  async write(eventId: string, notice: object): Promise<boolean> {
    const safe = eventId.replace(/[^A-Za-z0-9._-]/g, '_');
    try {
      await writeFile(join(this.dir, `${safe}.json`), JSON.stringify(notice, null, 2) + '\n', { flag: 'wx' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  }
}
