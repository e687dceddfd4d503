// One archive replica for `pnpm bench:archive` (bench/archive-timers.ts starts it as a child process):
//
//   node --import tsx bench/archive-replica.ts <nats url> <replica name>
//
// The real ConsumeLoop on GAS_ARCHIVE / archive-timer with the service's defaults (16 in flight,
// heartbeat a third of the 60 s ack wait), and the timer path of the real handler: decode the
// ArchiveDue, nak it with holdMs(dueAt, now, 3600 s) while it is not due. A due timer does not
// archive anything (no job service, no blob copies): it reports the firing on a core NATS subject
// and is acked, so the benchmark measures the timer path alone.
//
// On SIGTERM it stops the loop, drains the connection and writes its counts as one JSON line on stdout.
import { cpuUsage } from 'node:process';
import { pathToFileURL } from 'node:url';
import {
  ConsumeLoop,
  PoisonMessageError,
  connectNats,
  consumerSpecs,
  decodeProto,
  jetstream,
  streamNames,
} from '../packages/messaging/src/index.ts';
import type { Handler, Outcome } from '../packages/messaging/src/index.ts';
import { createLogger } from '../packages/runtime/src/index.ts';
import { ArchiveDueSchema, timestampDate } from '../packages/proto/src/index.ts';
import { holdMs } from '../services/archive/src/archive-policy.ts';
import { timerSubjects } from '../services/archive/src/archive-timers.ts';

/** Where a replica reports each due timer: `Firing` as JSON. */
export const FIRED_SUBJECT = 'bench.archive.fired';
/** Where a replica says it has started its loop: its name. */
export const READY_SUBJECT = 'bench.archive.ready';

export interface Firing {
  jobId: string;
  /** Epoch ms. */
  dueAt: number;
  /** Epoch ms, when the handler saw the timer due. */
  firedAt: number;
  replica: string;
  /** The delivery that found it due (1 = the first). */
  deliveryCount: number;
}

export interface ReplicaCounts {
  replica: string;
  deliveries: number;
  naks: number;
  fired: number;
  terms: number;
  cpuSeconds: number;
}

// The archive service's defaults: ARCHIVE_CONCURRENCY, ARCHIVE_ACK_WAIT_MS / 3, ARCHIVE_TIMER_STEP_SECONDS.
const MAX_IN_FLIGHT = 16;
const HEARTBEAT_MS = 20_000;
const TIMER_STEP_MS = 3600 * 1000;
const STOP_GRACE_MS = 2000;

async function main(): Promise<void> {
  const [url, replica] = process.argv.slice(2).filter((a) => a !== '--');
  if (!url || !replica) {
    process.stderr.write('usage: node --import tsx bench/archive-replica.ts <nats url> <replica name>\n');
    process.exit(2);
  }
  const logger = createLogger({ service: `bench-archive-${replica}`, level: 'warn', destination: process.stderr });
  const nc = await connectNats({ servers: url, name: `bench-archive-${replica}`, logger });
  const counts: ReplicaCounts = { replica, deliveries: 0, naks: 0, fired: 0, terms: 0, cpuSeconds: 0 };

  const handler: Handler = async (msg, ctx): Promise<Outcome> => {
    counts.deliveries++;
    if (msg.subject !== timerSubjects.archive) {
      counts.terms++;
      return { kind: 'term', reason: `unexpected subject ${msg.subject}` };
    }
    try {
      const timer = decodeProto(ArchiveDueSchema, msg.data);
      const dueAt = timer.dueAt ? timestampDate(timer.dueAt) : new Date(0);
      const wait = holdMs(dueAt, new Date(), TIMER_STEP_MS);
      if (wait > 0) {
        counts.naks++;
        return { kind: 'nak', delayMs: wait };
      }
      // Stand-in for the archive work. Published before the ack on the same connection, so a
      // redelivery after a lost ack shows up as a second firing.
      const firing: Firing = { jobId: timer.jobId, dueAt: dueAt.getTime(), firedAt: Date.now(), replica, deliveryCount: ctx.deliveryCount };
      nc.publish(FIRED_SUBJECT, JSON.stringify(firing));
      counts.fired++;
      return { kind: 'ack' };
    } catch (err) {
      if (!(err instanceof PoisonMessageError)) throw err;
      counts.terms++;
      return { kind: 'term', reason: err.message };
    }
  };

  const loop = new ConsumeLoop({
    js: jetstream(nc),
    stream: streamNames.archive,
    consumer: consumerSpecs.archiveTimer().durable_name,
    maxInFlight: MAX_IN_FLIGHT,
    heartbeatMs: HEARTBEAT_MS,
    logger,
    metricsPrefix: 'gas_archive',
    handler,
  });
  loop.start();
  nc.publish(READY_SUBJECT, replica);

  let stopping = false;
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      await loop.stop({ graceMs: STOP_GRACE_MS });
      await nc.drain();
      const cpu = cpuUsage();
      counts.cpuSeconds = (cpu.user + cpu.system) / 1e6;
      process.stdout.write(JSON.stringify(counts) + '\n');
      process.exit(0);
    })();
  });
}

// bench/archive-timers.ts imports the subjects and types above without starting a replica.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
