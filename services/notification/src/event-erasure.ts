// What a user deletes leaves GAS_EVENTS. Each job and account event carries what it is about (an
// account event the whole record, address and name; a job event the job, its file name and all),
// and the stream keeps them for GAS_EVENTS_MAX_AGE_DAYS. When the notification service handles a
// job.deleted or an account.deleted, it files an erasure request for the job or the user; a pass
// every NOTIFICATION_ERASE_INTERVAL_MS then erases (overwrites, not only marks deleted) every event
// of it that every durable consumer of the stream has acknowledged. The archive service must still
// see job.deleted and account.deleted to delete the files, so nothing is erased ahead of any
// durable consumer's ack floor. A request starts reading at the job's or the account's creation
// (nothing of it is older), and keeps the sequence its passes have read up to, so a pass reads only
// what is new. A job's request ends once the passes are past its job.deleted; an account's lives as
// long as the stream keeps events, so a late event of the user (a plan change from billing handled
// after the deletion) is erased too, and when it ends everything from before it has aged out.
import { DeliverPolicy, JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { JetStreamClient, JetStreamManager, JsMsg } from '@gas/messaging';
import { decodeProto, isRevisionConflict, streamNames } from '@gas/messaging';
import { AccountEventSchema, JobEventSchema } from '@gas/proto';
import type { Counter, Logger } from '@gas/runtime';

const EVENTS = streamNames.events;
const FETCH_BATCH = 256;
const DAY_MS = 86_400_000;
// The stream stamps messages with the NATS server's clock, creation times come from the job
// service's: reading from a little before the creation keeps clock skew from hiding an event.
const CLOCK_SKEW_MS = 5 * 60_000;
// Both become parts of a KV key: a dot or a wildcard there would reach other requests.
const KEY_PART = /^[A-Za-z0-9_-]{1,64}$/;

/** What is deleted: a user's account (key `<userId>`) or one job (key `<userId>.<jobId>`). */
export type Erasure = { userId: string; jobId?: string };

interface ErasureRequest {
  requestedAt: string;
  /** No event of it is older than this: the job's or the account's creation. */
  since: string;
  /** Every event up to this stream sequence has been read by a pass (0: none yet). */
  readTo: number;
  /** A job's request ends once the passes have read this far: its job.deleted. */
  until?: number;
}

type Filed = ErasureRequest & Erasure & { key: string; revision: number };

const keyOf = (e: Erasure) => (e.jobId ? `${e.userId}.${e.jobId}` : e.userId);

/** The erasure requests, in a KV bucket keyed by user id (an account) or user id and job id (a job). */
export class ErasureRequests {
  constructor(private readonly kv: KV) {}

  /**
   * Files a request; a redelivered deletion finds it filed and changes nothing. `since`: when the
   * job or the account was created; `until`, for a job: the sequence of its job.deleted. False for
   * ids that cannot be a key (no event the services publish has those).
   */
  async request(e: Erasure, o: { since?: Date; until?: number; now?: Date } = {}): Promise<boolean> {
    if (!KEY_PART.test(e.userId) || (e.jobId !== undefined && !KEY_PART.test(e.jobId))) return false;
    const now = o.now ?? new Date();
    const value: ErasureRequest = {
      requestedAt: now.toISOString(),
      since: new Date((o.since ?? new Date(0)).getTime() - CLOCK_SKEW_MS).toISOString(),
      readTo: 0,
      ...(o.until ? { until: o.until } : {}),
    };
    try {
      await this.kv.create(keyOf(e), JSON.stringify(value));
    } catch (err) {
      if (!isRevisionConflict(err)) throw err;
    }
    return true;
  }

  async all(): Promise<Filed[]> {
    const out: Filed[] = [];
    for await (const key of await this.kv.keys()) {
      const entry = await this.kv.get(key);
      if (!entry || entry.operation !== 'PUT') continue;
      const [userId, jobId] = key.split('.');
      out.push({ ...entry.json<ErasureRequest>(), userId: userId!, ...(jobId ? { jobId } : {}), key, revision: entry.revision });
    }
    return out;
  }

  /** Moves the request's mark; false when another replica's pass moved it first. */
  async advance(r: Filed, readTo: number): Promise<boolean> {
    const { requestedAt, since, until } = r;
    try {
      await this.kv.update(r.key, JSON.stringify({ requestedAt, since, readTo, ...(until ? { until } : {}) }), r.revision);
      return true;
    } catch (err) {
      if (isRevisionConflict(err)) return false;
      throw err;
    }
  }

  async end(r: Filed): Promise<void> {
    try {
      await this.kv.purge(r.key, { previousSeq: r.revision });
    } catch (err) {
      if (!isRevisionConflict(err)) throw err;
    }
  }
}

export interface EventEraserDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  requests: ErasureRequests;
  /** How long GAS_EVENTS keeps an event: an account's request lives as long, then everything from before it is gone. */
  eventsMaxAgeDays: number;
  intervalMs: number;
  /** Label `deleted`: `account` or `job`. */
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

  /** One pass: erases the requested events up to the slowest durable consumer's ack floor. Returns how many. */
  async pass(now = new Date()): Promise<number> {
    const { jsm, requests, logger } = this.deps;
    const filed = await requests.all();
    if (filed.length === 0) return 0;
    const { first_seq: first, last_seq: last } = (await jsm.streams.info(EVENTS)).state;
    const floor = await this.ackFloor(last);

    // Where each request starts: after what earlier passes read, or, new, at its creation time.
    const fresh = filed.filter((r) => r.readTo === 0);
    const freshStart = fresh.length ? await this.firstSeqSince(new Date(Math.min(...fresh.map((r) => Date.parse(r.since))))) : first;
    const startOf = (r: Filed) => (r.readTo === 0 ? freshStart : r.readTo + 1);
    const from = Math.max(first, Math.min(...filed.map(startOf)));

    const accounts = new Map(filed.filter((r) => !r.jobId).map((r) => [r.userId, r]));
    const jobs = new Map(filed.filter((r) => r.jobId).map((r) => [r.key, r]));
    const erasedOf = new Map<string, number>();
    if (from <= floor) {
      await this.read(from, floor, async (msg) => {
        const owner = ownerOf(msg);
        if (!owner) return;
        const r = accounts.get(owner.userId) ?? (owner.jobId ? jobs.get(`${owner.userId}.${owner.jobId}`) : undefined);
        if (!r || msg.seq < startOf(r)) return;
        if (await this.erase(msg.seq, r.jobId ? 'job' : 'account')) erasedOf.set(r.key, (erasedOf.get(r.key) ?? 0) + 1);
      });
    }

    let total = 0;
    for (const r of filed) {
      const erased = erasedOf.get(r.key) ?? 0;
      total += erased;
      const ended = r.until ? floor >= r.until : now.getTime() - Date.parse(r.requestedAt) > this.deps.eventsMaxAgeDays * DAY_MS;
      if (ended) await requests.end(r);
      else if (floor > r.readTo) await requests.advance(r, floor);
      if (erased > 0 || ended)
        logger.info({ userId: r.userId, jobId: r.jobId, erased, readTo: floor, ended }, 'events of a deletion erased from GAS_EVENTS');
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

  /** The sequence of the first event stored at or after `time`; past the last when there is none. */
  private async firstSeqSince(time: Date): Promise<number> {
    const consumer = await this.deps.js.consumers.get(EVENTS, {
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: time.toISOString(),
    });
    try {
      const msg = await consumer.next({ expires: 2000 });
      return msg ? msg.seq : (await this.deps.jsm.streams.info(EVENTS)).state.last_seq + 1;
    } finally {
      await consumer.delete().catch(() => undefined);
    }
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
  private async erase(seq: number, deleted: 'account' | 'job'): Promise<boolean> {
    try {
      await this.deps.jsm.streams.deleteMessage(EVENTS, seq, true);
      this.deps.erased.inc({ deleted });
      return true;
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound) return false;
      throw err;
    }
  }
}

/** Whose event this is (and which job's); null for a message that is neither a job nor an account event, or cannot be read. */
function ownerOf(msg: JsMsg): Erasure | null {
  try {
    if (msg.subject.startsWith('gas.events.job.')) {
      const job = decodeProto(JobEventSchema, msg.data).job;
      return job?.userId ? { userId: job.userId, jobId: job.jobId } : null;
    }
    if (msg.subject.startsWith('gas.events.account.')) {
      const userId = decodeProto(AccountEventSchema, msg.data).account?.userId;
      return userId ? { userId } : null;
    }
  } catch {
    // A message no handler could read either: nobody's to erase.
  }
  return null;
}
