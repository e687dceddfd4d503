import type { JsMsg } from '@nats-io/jetstream';
import type { Logger, Registry } from '@gas/runtime';
import { Counter } from '@gas/runtime';
import { decodeProto } from '@gas/messaging';
import type { Outcome } from '@gas/messaging';
import { timestampDate, AccountEventSchema, AccountEventKind, JobEventSchema, JobEventKind, JobStatus } from '@gas/proto';
import type { Outbox } from './outbox.ts';

/** Turns job and account events into notices (the outbox for now; email in a later change). */
export function createEventHandler(deps: { outbox: Outbox; logger: Logger; registry: Registry }) {
  const received = new Counter({
    name: 'gas_notification_events_total',
    help: 'Events handled, by subject and whether a notice was written or it was a duplicate',
    labelNames: ['subject', 'result'],
    registers: [deps.registry],
  });
  return async (msg: JsMsg): Promise<Outcome> => {
    let notice: { eventId: string; userId: string; subject: string; text: string; at: string };
    try {
      if (msg.subject.startsWith('gas.events.job.')) {
        const e = decodeProto(JobEventSchema, msg.data);
        const job = e.job!;
        const what =
          e.kind === JobEventKind.FAILED
            ? `failed: ${job.failureReason}`
            : e.kind === JobEventKind.COMPLETED
              ? `is complete (${job.counts?.records ?? 0n} variants)`
              : `results are now ${JobEventKind[e.kind].toLowerCase()}`;
        notice = {
          eventId: e.eventId,
          userId: job.userId,
          subject: `GAS job ${job.jobId} ${JobStatus[job.status].toLowerCase()}`,
          text: `Your annotation job for ${job.inputName} ${what}.`,
          at: e.occurredAt ? timestampDate(e.occurredAt).toISOString() : new Date().toISOString(),
        };
      } else if (msg.subject.startsWith('gas.events.account.')) {
        const e = decodeProto(AccountEventSchema, msg.data);
        notice = {
          eventId: e.eventId,
          userId: e.account!.userId,
          subject: `GAS plan ${AccountEventKind[e.kind].toLowerCase()}`,
          text: `Your GAS plan was ${AccountEventKind[e.kind].toLowerCase()}.`,
          at: e.occurredAt ? timestampDate(e.occurredAt).toISOString() : new Date().toISOString(),
        };
      } else {
        return { kind: 'term', reason: `no notice for subject ${msg.subject}` };
      }
    } catch (err) {
      return { kind: 'term', reason: `undecodable event on ${msg.subject}: ${(err as Error).message}` };
    }
    const written = await deps.outbox.write(notice.eventId, notice);
    received.inc({ subject: msg.subject, result: written ? 'written' : 'duplicate' });
    deps.logger.info({ eventId: notice.eventId, userId: notice.userId, subject: msg.subject, duplicate: !written }, 'event handled');
    return { kind: 'ack' };
  };
}
