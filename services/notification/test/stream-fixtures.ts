// What the notification tests that erase events carrying a link's token share: the messages
// GAS_EVENTS still holds, the sequences deleted from it, and the files of the NATS store that hold
// some bytes (a deleted secret must be overwritten there, not only marked deleted).
import type { JetStreamManager } from '@nats-io/jetstream';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { streamNames } from '@gas/messaging';
import type { GasStack } from '@gas/testing';

const EVENTS = streamNames.events;

export function eventStreamFixtures({ stack, jsm }: { stack: GasStack; jsm: JetStreamManager }) {
  /** Every message GAS_EVENTS still holds, oldest first. */
  async function storedEvents(): Promise<Array<{ seq: number; subject: string; data: Buffer }>> {
    const { first_seq, last_seq } = (await jsm.streams.info(EVENTS)).state;
    const out = [];
    for (let seq = first_seq; seq <= last_seq; seq++) {
      const m = await jsm.streams.getMessage(EVENTS, { seq }).catch(() => null);
      if (m) out.push({ seq: m.seq, subject: m.subject, data: Buffer.from(m.data) });
    }
    return out;
  }

  /** The files of the NATS store (streams, KV buckets) that hold `bytes`. */
  async function storeFilesHolding(bytes: Buffer): Promise<string[]> {
    const found: string[] = [];
    const dir = join(stack.nats.storeDir, 'jetstream');
    for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (!e.isFile()) continue;
      const file = join(e.parentPath, e.name);
      if ((await readFile(file).catch(() => Buffer.alloc(0))).includes(bytes)) found.push(file);
    }
    return found;
  }

  return {
    storedEvents,
    storeFilesHolding,

    deletedSeqs: async (): Promise<number[]> => (await jsm.streams.info(EVENTS, { deleted_details: true })).state.deleted ?? [],

    lastSeq: async (): Promise<number> => (await jsm.streams.info(EVENTS)).state.last_seq,

    /** Whether the stream answers nothing for `seq` (the client answers null; older ones throw). */
    gone: (seq: number): Promise<boolean> =>
      jsm.streams.getMessage(EVENTS, { seq }).then(
        (m) => m === null,
        () => true,
      ),

    /**
     * Where a link's secret could still be once its event is deleted: the sequences of the messages
     * on its subject or holding it, and the NATS store files holding it (waited for up to 10 s, as
     * the erase reaches the files a moment after the delete is answered). Both empty: it is gone.
     */
    secretLeft: async (subject: string, secret: Buffer): Promise<{ events: number[]; files: string[] }> => ({
      events: (await storedEvents()).filter((m) => m.subject === subject || m.data.includes(secret)).map((m) => m.seq),
      files: await stack.eventually(
        () => storeFilesHolding(secret),
        (f) => f.length === 0,
        10_000,
      ),
    }),
  };
}
