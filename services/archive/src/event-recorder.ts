import type { JsMsg } from '@nats-io/jetstream';
import type { Logger, Registry } from '@gas/runtime';
import { Counter } from '@gas/runtime';
import { decodeProto } from '@gas/messaging';
import type { Outcome } from '@gas/messaging';
import { AccountEventSchema, JobEventSchema } from '@gas/proto';

/**
 * For now the archive service only records the events it will act on (completions start the
 * retention clock; upgrades restore), which proves its subscription end to end.
 */
export function createEventRecorder(deps: { logger: Logger; registry: Registry }) {
  const seen = new Counter({
    name: 'gas_archive_events_total',
    help: 'Events received, by subject',
    labelNames: ['subject'],
    registers: [deps.registry],
  });
  return async (msg: JsMsg): Promise<Outcome> => {
    try {
      if (msg.subject.startsWith('gas.events.job.')) {
        const e = decodeProto(JobEventSchema, msg.data);
        deps.logger.info({ eventId: e.eventId, jobId: e.job?.jobId, userId: e.job?.userId, subject: msg.subject }, 'job event recorded');
      } else if (msg.subject.startsWith('gas.events.account.')) {
        const e = decodeProto(AccountEventSchema, msg.data);
        deps.logger.info({ eventId: e.eventId, userId: e.account?.userId, subject: msg.subject }, 'account event recorded');
      } else {
        return { kind: 'term', reason: `unexpected subject ${msg.subject}` };
      }
    } catch (err) {
      return { kind: 'term', reason: `undecodable event on ${msg.subject}: ${(err as Error).message}` };
    }
    seen.inc({ subject: msg.subject });
    return { kind: 'ack' };
  };
}
