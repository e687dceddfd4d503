import { setTimeout as sleep } from 'node:timers/promises';
import { JetStreamApiError } from '@nats-io/jetstream';
import type { Consumer, ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { Counter, Gauge, Histogram } from '@gas/runtime';
import type { Logger, Registry } from '@gas/runtime';

export type Outcome = { kind: 'ack' } | { kind: 'nak'; delayMs: number } | { kind: 'term'; reason: string };

export interface HandlerContext {
  /** Aborted when the loop is stopping and the grace period is over: give up and return or throw. */
  signal: AbortSignal;
  /** 1 on the first delivery. */
  deliveryCount: number;
  /** The consumer's max_deliver (-1 for unlimited): lets a handler record a dead-letter outcome on the last try. */
  maxDeliver: number;
}

export type Handler = (msg: JsMsg, ctx: HandlerContext) => Promise<Outcome>;

export interface ConsumeLoopOptions {
  js: JetStreamClient;
  stream: string;
  consumer: string;
  /** Upper bound on messages held unacknowledged by this loop at any moment. */
  maxInFlight: number;
  /** How often working() is sent while a handler runs; keep it well below the consumer's ack_wait. */
  heartbeatMs: number;
  logger: Logger;
  registry?: Registry;
  /** e.g. 'gas_annotator' gives gas_annotator_messages_total and friends. */
  metricsPrefix: string;
  handler: Handler;
}

type MessageOutcome = 'ack' | 'nak' | 'term' | 'error' | 'released';

interface InFlight {
  msg: JsMsg;
  controller: AbortController;
  done: Promise<void>;
  /** Set when the loop gave the message back; the handler's late outcome must then be ignored. */
  released: boolean;
  heartbeat: NodeJS.Timeout;
}

// Pull requests expire quickly so an idle loop notices stop() and reconnects promptly; 1 s is the
// client's minimum.
const FETCH_EXPIRES_MS = 2000;
const ABORT_SETTLE_MS = 2000;
const MAX_RETRY_DELAY_MS = 60_000;

/** Waits for `p` or `ms`, whichever comes first, without leaving a timer behind. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

export function retryDelayMs(deliveryCount: number): number {
  return Math.min(1000 * 2 ** Math.max(0, deliveryCount - 1), MAX_RETRY_DELAY_MS);
}

function metric<T>(registry: Registry | undefined, name: string, create: (registers: Registry[]) => T): T {
  // Several loops (e.g. archive and archive-timer) share one prefix and registry; they share the metric.
  const existing = registry?.getSingleMetric(name);
  return (existing as T | undefined) ?? create(registry ? [registry] : []);
}

function isOutcome(v: unknown): v is Outcome {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return o.kind === 'ack' || (o.kind === 'nak' && typeof o.delayMs === 'number') || (o.kind === 'term' && typeof o.reason === 'string');
}

export class ConsumeLoop {
  private readonly opts: ConsumeLoopOptions;
  private readonly log: Logger;
  private readonly messages: Counter<'consumer' | 'outcome'>;
  private readonly inflightGauge: Gauge<'consumer'>;
  private readonly handlerSeconds: Histogram<'consumer'>;
  private readonly inFlight = new Set<InFlight>();
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  private loopDone: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  private readonly stopSignal = new AbortController();
  private currentFetch: ConsumerMessages | undefined;
  private wake: (() => void) | undefined;
  private maxDeliver = -1;

  constructor(opts: ConsumeLoopOptions) {
    if (!Number.isInteger(opts.maxInFlight) || opts.maxInFlight < 1)
      throw new Error(`maxInFlight must be a positive integer, got ${opts.maxInFlight}`);
    if (!(opts.heartbeatMs > 0)) throw new Error(`heartbeatMs must be positive, got ${opts.heartbeatMs}`);
    this.opts = opts;
    this.log = opts.logger.child({ stream: opts.stream, consumer: opts.consumer });
    const p = opts.metricsPrefix;
    this.messages = metric(
      opts.registry,
      `${p}_messages_total`,
      (registers) =>
        new Counter({ name: `${p}_messages_total`, help: 'Messages handled, by outcome', labelNames: ['consumer', 'outcome'], registers }),
    );
    this.inflightGauge = metric(
      opts.registry,
      `${p}_inflight_messages`,
      (registers) =>
        new Gauge({ name: `${p}_inflight_messages`, help: 'Messages currently held by handlers', labelNames: ['consumer'], registers }),
    );
    this.handlerSeconds = metric(
      opts.registry,
      `${p}_handler_seconds`,
      (registers) =>
        new Histogram({
          name: `${p}_handler_seconds`,
          help: 'Handler run time',
          labelNames: ['consumer'],
          buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
          registers,
        }),
    );
    // Loops on the same consumer in one process share the series, so it moves by inc/dec, never set.
    this.inflightGauge.inc({ consumer: opts.consumer }, 0);
  }

  /** Messages currently held by this loop. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  start(): void {
    if (this.state !== 'new') throw new Error(`ConsumeLoop for ${this.opts.consumer} cannot start: it is ${this.state}`);
    this.state = 'running';
    this.loopDone = this.pullLoop().catch((err: unknown) => this.log.error({ err }, 'pull loop crashed'));
  }

  /**
   * Stops pulling, lets handlers finish for up to graceMs, then aborts them and gives every message
   * whose handler has not finished back to the server (nak without delay) so another replica takes it
   * now rather than after ack_wait. Resolves when this loop holds no message. Acks and naks are
   * buffered publishes: drain the connection afterwards (nc.drain(), not close()) so they are sent.
   */
  stop(opts: { graceMs: number }): Promise<void> {
    this.stopping ??= this.doStop(opts.graceMs);
    return this.stopping;
  }

  private async doStop(graceMs: number): Promise<void> {
    if (this.state === 'new') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    this.log.info({ inFlight: this.inFlight.size, graceMs }, 'consume loop stopping');
    this.stopSignal.abort();
    this.wake?.();
    void this.currentFetch?.close();

    if (this.inFlight.size > 0) await this.settled(graceMs);
    if (this.inFlight.size > 0) {
      this.log.warn({ inFlight: this.inFlight.size }, 'grace period over; aborting handlers');
      for (const entry of this.inFlight) entry.controller.abort(new Error('consume loop stopping'));
      await this.settled(ABORT_SETTLE_MS);
    }
    for (const entry of [...this.inFlight]) this.release(entry, 'handler did not finish before stop');

    // The pull loop only waits on a NATS request here; its late results are released on arrival.
    await within(this.loopDone, ABORT_SETTLE_MS);
    this.state = 'stopped';
    this.log.info('consume loop stopped');
  }

  private async settled(timeoutMs: number): Promise<void> {
    await within(Promise.allSettled([...this.inFlight].map((e) => e.done)), timeoutMs);
  }

  private async pullLoop(): Promise<void> {
    let consumer: Consumer | undefined;
    let failures = 0;
    while (this.state === 'running') {
      if (this.inFlight.size >= this.opts.maxInFlight) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      try {
        if (!consumer) {
          consumer = await this.opts.js.consumers.get(this.opts.stream, this.opts.consumer);
          this.maxDeliver = (await consumer.info(true)).config.max_deliver ?? -1;
        }
        const want = this.opts.maxInFlight - this.inFlight.size;
        const batch = await consumer.fetch({ max_messages: want, expires: FETCH_EXPIRES_MS });
        this.currentFetch = batch;
        if (this.state !== 'running') void batch.close();
        let received = 0;
        for await (const msg of batch) {
          if (failures > 0) failures = this.recovered(failures);
          // After a reconnect the client re-issues the whole pull, so the server may send more than
          // asked; our own count keeps the in-flight bound, and extras go straight back.
          if (this.state !== 'running' || received >= want) {
            this.releaseUnstarted(msg);
            continue;
          }
          received++;
          this.dispatch(msg);
          if (received >= want) void batch.close();
        }
        if (failures > 0) failures = this.recovered(failures);
      } catch (err) {
        if (this.state !== 'running') break;
        failures++;
        // The handle stays valid across disconnects (the client re-pulls on reconnect); fetching a new
        // one means an API request that, sent while disconnected, only fails after its timeout. Only
        // an API error (consumer or stream gone) or repeated failures justify looking it up again.
        if (err instanceof JetStreamApiError || failures >= 3) consumer = undefined;
        const delay = Math.min(250 * 2 ** (failures - 1), 5000);
        this.log.warn({ err, failures, retryInMs: delay }, 'pull failed; retrying');
        await sleep(delay, undefined, { signal: this.stopSignal.signal }).catch(() => {});
      } finally {
        this.currentFetch = undefined;
      }
    }
  }

  private recovered(failures: number): number {
    this.log.info({ failures }, 'pulling again');
    return 0;
  }

  private dispatch(msg: JsMsg): void {
    const { consumer } = this.opts;
    const controller = new AbortController();
    const deliveryCount = msg.info.deliveryCount;
    const log = this.log.child({ seq: msg.seq, subject: msg.subject, deliveryCount });
    const entry: InFlight = {
      msg,
      controller,
      released: false,
      done: Promise.resolve(),
      heartbeat: setInterval(() => {
        if (!entry.released) this.safely(log, 'working', () => msg.working());
      }, this.opts.heartbeatMs),
    };
    this.inFlight.add(entry);
    this.inflightGauge.inc({ consumer });
    const stopTimer = this.handlerSeconds.startTimer({ consumer });

    entry.done = (async () => {
      let outcome: unknown;
      let error: unknown;
      let threw = false;
      try {
        outcome = await this.opts.handler(msg, { signal: controller.signal, deliveryCount, maxDeliver: this.maxDeliver });
      } catch (err) {
        threw = true;
        error = err;
      }
      clearInterval(entry.heartbeat);
      stopTimer();
      if (entry.released) {
        log.warn({ err: error }, 'handler finished after its message was released; outcome ignored');
        return;
      }
      if (!threw && !isOutcome(outcome)) {
        threw = true;
        error = new Error(`handler returned an invalid outcome: ${JSON.stringify(outcome)}`);
      }
      if (threw) this.settleError(entry, log, error, deliveryCount);
      else await this.settleOutcome(msg, log, outcome as Outcome, deliveryCount);
      // The slot frees only once the server has the ack, so it never holds more than maxInFlight.
      this.leave(entry);
    })();
  }

  private async settleOutcome(msg: JsMsg, log: Logger, outcome: Outcome, deliveryCount: number): Promise<void> {
    switch (outcome.kind) {
      case 'ack':
        try {
          await msg.ackAck({ timeout: 5000 });
        } catch (err) {
          // Not confirmed (NATS away): the server redelivers after ack_wait and handlers are idempotent.
          log.warn({ err }, 'ack not confirmed');
        }
        break;
      case 'nak':
        if (this.maxDeliver > 0 && deliveryCount >= this.maxDeliver) {
          log.warn(
            { delayMs: outcome.delayMs, maxDeliver: this.maxDeliver },
            'nak on the last allowed delivery; the server will not redeliver it',
          );
        }
        this.safely(log, 'nak', () => msg.nak(Math.max(0, Math.round(outcome.delayMs))));
        break;
      case 'term':
        log.warn({ reason: outcome.reason }, 'message terminated');
        // No reason on the wire: servers before 2.11 only recognise a bare +TERM.
        this.safely(log, 'term', () => msg.term());
        break;
    }
    this.count(outcome.kind);
  }

  private settleError(entry: InFlight, log: Logger, err: unknown, deliveryCount: number): void {
    if (entry.controller.signal.aborted) {
      // Aborted by stop(): the work was not done, so hand it to another replica right away.
      log.info({ err }, 'handler aborted by stop; message released');
      this.safely(log, 'nak', () => entry.msg.nak(0));
      this.count('released');
      return;
    }
    if (this.maxDeliver > 0 && deliveryCount >= this.maxDeliver) {
      // Redelivery is over; a work-queue message left unacked would sit in the stream forever.
      log.error({ err, maxDeliver: this.maxDeliver }, 'handler failed on the last allowed delivery; message terminated');
      this.safely(log, 'term', () => entry.msg.term());
    } else {
      const delayMs = retryDelayMs(deliveryCount);
      log.error({ err, retryInMs: delayMs }, 'handler failed; will retry');
      this.safely(log, 'nak', () => entry.msg.nak(delayMs));
    }
    this.count('error');
  }

  private release(entry: InFlight, why: string): void {
    entry.released = true;
    clearInterval(entry.heartbeat);
    this.leave(entry);
    this.log.warn({ seq: entry.msg.seq, subject: entry.msg.subject, why }, 'message released for redelivery');
    this.safely(this.log, 'nak', () => entry.msg.nak(0));
    this.count('released');
  }

  private leave(entry: InFlight): void {
    if (!this.inFlight.delete(entry)) return;
    this.inflightGauge.dec({ consumer: this.opts.consumer });
    this.wake?.();
  }

  private releaseUnstarted(msg: JsMsg): void {
    this.log.debug({ seq: msg.seq }, 'message arrived after stop or beyond the in-flight bound; released');
    this.safely(this.log, 'nak', () => msg.nak(0));
    this.count('released');
  }

  private count(outcome: MessageOutcome): void {
    this.messages.inc({ consumer: this.opts.consumer, outcome });
  }

  // ack/nak/working are fire-and-forget publishes; on a closed connection they throw, and the
  // server will redeliver after ack_wait anyway.
  private safely(log: Logger, what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      log.warn({ err }, `${what} could not be sent`);
    }
  }
}
