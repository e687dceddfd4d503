// A deleted account's events leave GAS_EVENTS. Each job and account event carries what it is about
// (an account event the whole record, address and name; a job event the job, file name and all),
// and the stream keeps them for GAS_EVENTS_MAX_AGE_DAYS. When the notification service handles
// account.deleted it files an erasure request for the user; a pass every
// NOTIFICATION_ERASE_INTERVAL_MS then erases (overwrites, not only marks deleted) every event of
// that user that every durable consumer of the stream has acknowledged. The archive service must
// still see the user's job.deleted and account.deleted events to delete their files, so nothing is
// erased ahead of any durable consumer's ack floor. Each request keeps the sequence its passes have
// read up to, so a pass reads only what is new, and it lives for as long as the stream keeps events:
// a late event of the user (an annotator finishing a job the deletion raced) is erased too, and once
// the request ends everything from before it has aged out of the stream anyway.
import { DeliverPolicy, JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { JetStreamClient, JetStreamManager, JsMsg } from '@gas/messaging';
import { decodeProto, isRevisionConflict, streamNames } from '@gas/messaging';
import { AccountEventSchema, JobEventSchema } from '@gas/proto';
import type { Counter, Logger } from '@gas/runtime';
import { USER_ID } from './notice-store.ts';

const EVENTS = streamNames.events;
const FETCH_BATCH = 256;
const DAY_MS = 86_400_000;

interface ErasureRequest {
  requestedAt: string;
  /** Every event up to this stream sequence has been read by a pass (0: none yet). */
  readTo: number;
}

/** The erasure requests, one per deleted user, in a KV bucket keyed by user id. */
export class ErasureRequests {
  constructor(private readonly kv: KV) {}

  /** Files a request for the user; a redelivered account.deleted finds it filed and changes nothing. */
  async request(userId: string, now = new Date()): Promise<void> {
    if (!USER_ID.test(userId)) throw new Error('erasure request for an invalid user id');
    const value: ErasureRequest = { requestedAt: now.toISOString(), readTo: 0 };
    try {
      await this.kv.create(userId, JSON.stringify(value));
    } catch (err) {
      if (!isRevisionConflict(err)) throw err;
    }
  }

  async all(): Promise<Map<string, ErasureRequest & { revision: number }>> {
    const out = new Map<string, ErasureRequest & { revision: number }>();
    for await (const userId of await this.kv.keys()) {
      const e = await this.kv.get(userId);
      if (!e || e.operation !== 'PUT') continue;
      out.set(userId, { ...e.json<ErasureRequest>(), revision: e.revision });
    }
    return out;
  }

  /** Moves the request's mark; false when another replica's pass moved it first. */
  async advance(userId: string, r: ErasureRequest & { revision: number }, readTo: number): Promise<boolean> {
    try {
      await this.kv.update(userId, JSON.stringify({ requestedAt: r.requestedAt, readTo }), r.revision);
      return true;
    } catch (err) {
      if (isRevisionConflict(err)) return false;
      throw err;
    }
  }

  async end(userId: string, revision: number): Promise<void> {
    try {
      await this.kv.purge(userId, { previousSeq: revision });
    } catch (err) {
      if (!isRevisionConflict(err)) throw err;
    }
  }
}

export interface EventEraserDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  requests: ErasureRequests;
  /** How long GAS_EVENTS keeps an event: a request lives as long, then everything from before it is gone. */
  eventsMaxAgeDays: number;
  intervalMs: number;
  erased: Counter<string>;
  logger: Logger;
}

export class EventEraser {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(private readonly deps: EventEraserDeps) {}

  start(): void {
    const tick = () => {
      this.running = this.pass()
        .catch((err: unknown) => this.deps.logger.warn({ err }, 'event erasure pass failed; the next pass tries again'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.deps.intervalMs);
        });
    };
    this.timer = setTimeout(tick, this.deps.intervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass: erases the requested users' events up to the slowest durable consumer's ack floor. Returns how many. */
  async pass(now = new Date()): Promise<number> {
    const { jsm, requests, logger } = this.deps;
    const pending = await requests.all();
    if (pending.size === 0) return 0;
    const { first_seq: first, last_seq: last } = (await jsm.streams.info(EVENTS)).state;
    const floor = await this.ackFloor(last);
    let from = Number.POSITIVE_INFINITY;
    for (const r of pending.values()) from = Math.min(from, r.readTo + 1);
    from = Math.max(from, first);

    const erasedOf = new Map<string, number>();
    if (from <= floor) {
      await this.read(from, floor, async (msg) => {
        const userId = userOf(msg);
        const r = userId === null ? undefined : pending.get(userId);
        if (!r || msg.seq <= r.readTo) return;
        if (await this.erase(msg.seq)) erasedOf.set(userId!, (erasedOf.get(userId!) ?? 0) + 1);
      });
    }

    let total = 0;
    for (const [userId, r] of pending) {
      const erased = erasedOf.get(userId) ?? 0;
      total += erased;
      const ended = now.getTime() - Date.parse(r.requestedAt) > this.deps.eventsMaxAgeDays * DAY_MS;
      if (ended) await requests.end(userId, r.revision);
      else if (floor > r.readTo) await requests.advance(userId, r, floor);
      if (erased > 0 || ended) logger.info({ userId, erased, readTo: floor, ended }, 'events of a deleted account erased from GAS_EVENTS');
    }
    return total;
  }

  /** The lowest ack floor of the stream's durable consumers: every event at or below it has been handled by all of them. */
  private async ackFloor(last: number): Promise<number> {
    let floor = last;
    for await (const c of this.deps.jsm.consumers.list(EVENTS)) {
      if (c.config.durable_name) floor = Math.min(floor, c.ack_floor.stream_seq);
    }
    return floor;
  }

  /** Reads the stream from `from` to `to` with an ordered consumer, which keeps no state on the server once done. */
  private async read(from: number, to: number, each: (msg: JsMsg) => Promise<void>): Promise<void> {
    const consumer = await this.deps.js.consumers.get(EVENTS, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from });
    try {
      for (;;) {
        let seen = 0;
        let done = false;
        for await (const msg of await consumer.fetch({ max_messages: FETCH_BATCH, expires: 2000 })) {
          seen++;
          if (msg.seq > to) {
            done = true;
            break;
          }
          await each(msg);
          if (msg.seq === to || msg.info.pending === 0) done = true;
        }
        if (done || seen === 0) return;
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
  }

  /** Erases one message; false when it was gone already (another replica's pass, or the stream's age limit). */
  private async erase(seq: number): Promise<boolean> {
    try {
      await this.deps.jsm.streams.deleteMessage(EVENTS, seq, true);
      this.deps.erased.inc();
      return true;
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound) return false;
      throw err;
    }
  }
}

/** Whose event this is; null for a message that is neither a job nor an account event, or cannot be read. */
function userOf(msg: JsMsg): string | null {
  try {
    if (msg.subject.startsWith('gas.events.job.')) return decodeProto(JobEventSchema, msg.data).job?.userId || null;
    if (msg.subject.startsWith('gas.events.account.')) return decodeProto(AccountEventSchema, msg.data).account?.userId || null;
  } catch {
    // A message no handler could read either: not this user's to erase.
  }
  return null;
}
