// Whether any annotator can take jobs right now. Annotators announce themselves on core NATS (no
// stream, nothing stored), so a killed annotator simply goes quiet and is counted gone after a few
// missed heartbeats; one that shuts down says so and is counted gone at once. The gateway listens,
// for its readiness and for the notice on its pages that jobs are waiting for an annotator.
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { AnnotatorHeartbeatSchema, create, fromBinary, toBinary } from '@gas/proto';
import type { AnnotatorHeartbeat } from '@gas/proto';
import { subjects } from './subjects.ts';

/** Missed heartbeats after which a silent annotator counts as gone. */
const MISSED_HEARTBEATS = 3;

export interface AnnotatorAnnouncer {
  /** How many jobs it is running now, sent with the next heartbeat. */
  setBusy(busy: number): void;
  /** Says goodbye (listeners count it gone at once) and stops announcing. */
  leave(): void;
}

/** Announces one annotator every `intervalMs`, and at once when a listener asks who is there. */
export function announceAnnotator(
  nc: NatsConnection,
  opts: { annotatorId: string; slots: number; intervalMs: number },
): AnnotatorAnnouncer {
  let busy = 0;
  let left = false;
  const send = (leaving: boolean) => {
    if (nc.isClosed()) return;
    const beat = create(AnnotatorHeartbeatSchema, {
      annotatorId: opts.annotatorId,
      slots: opts.slots,
      busy,
      leaving,
      intervalMs: opts.intervalMs,
    });
    nc.publish(subjects.annotatorPresence, toBinary(AnnotatorHeartbeatSchema, beat));
  };
  const pings = nc.subscribe(subjects.annotatorPresencePing, {
    callback: () => {
      if (!left) send(false);
    },
  });
  const timer = setInterval(() => send(false), opts.intervalMs);
  timer.unref();
  send(false);
  // After a NATS restart listeners may have lost track: say so at once rather than an interval later.
  void (async () => {
    for await (const s of nc.status()) {
      if (left) break;
      if (s.type === 'reconnect') send(false);
    }
  })().catch(() => undefined);
  return {
    setBusy(n) {
      busy = n;
    },
    leave() {
      if (left) return;
      left = true;
      clearInterval(timer);
      pings.unsubscribe();
      send(true);
    },
  };
}

export interface AnnotatorView {
  annotatorId: string;
  slots: number;
  busy: number;
}

export interface AnnotatorWatch {
  /** The annotators heard from recently, by id. */
  available(): AnnotatorView[];
  stop(): void;
}

/**
 * Keeps the set of live annotators and calls `onChange` with it whenever an annotator appears or
 * goes. Asks everyone to announce themselves at start and after every reconnect, so a gateway
 * knows within a round trip instead of one heartbeat interval.
 */
export function watchAnnotators(
  nc: NatsConnection,
  opts: { onChange?: (available: AnnotatorView[]) => void; now?: () => number } = {},
): AnnotatorWatch {
  const now = opts.now ?? Date.now;
  const seen = new Map<string, { view: AnnotatorView; expiresAt: number }>();
  const list = () => [...seen.values()].map((s) => s.view);
  const changed = () => opts.onChange?.(list());

  const expire = () => {
    const t = now();
    let gone = false;
    for (const [id, s] of seen) {
      if (s.expiresAt <= t) {
        seen.delete(id);
        gone = true;
      }
    }
    if (gone) changed();
  };
  const heard = (beat: AnnotatorHeartbeat) => {
    const known = seen.has(beat.annotatorId);
    if (beat.leaving) {
      if (seen.delete(beat.annotatorId)) changed();
      return;
    }
    const interval = Math.max(100, beat.intervalMs || 5000);
    seen.set(beat.annotatorId, {
      view: { annotatorId: beat.annotatorId, slots: beat.slots, busy: beat.busy },
      expiresAt: now() + interval * MISSED_HEARTBEATS,
    });
    if (!known) changed();
  };

  const sub: Subscription = nc.subscribe(subjects.annotatorPresence, {
    callback: (err, msg) => {
      if (err) return;
      try {
        heard(fromBinary(AnnotatorHeartbeatSchema, msg.data));
      } catch {
        // Not a heartbeat: nothing to learn from it.
      }
    },
  });
  const ping = () => {
    if (!nc.isClosed()) nc.publish(subjects.annotatorPresencePing);
  };
  // The subscription must reach the server before the ping, or the first answers are missed.
  void nc.flush().then(ping, () => undefined);
  // Often enough that a gone annotator is noticed within a quarter second of its last missed beat.
  const sweep = setInterval(expire, 250);
  sweep.unref();
  let stopped = false;
  void (async () => {
    for await (const s of nc.status()) {
      if (stopped) break;
      if (s.type === 'reconnect') ping();
    }
  })().catch(() => undefined);

  return {
    available() {
      expire();
      return list();
    },
    stop() {
      stopped = true;
      clearInterval(sweep);
      sub.unsubscribe();
    },
  };
}
