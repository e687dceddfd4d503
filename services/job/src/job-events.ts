import type { JetStreamClient } from '@nats-io/jetstream';
import { create, timestampFromDate, JobEventSchema, JobEventKind } from '@gas/proto';
import type { Job } from '@gas/proto';
import { publishProto, subjects } from '@gas/messaging';

const eventKindName: Record<JobEventKind, 'completed' | 'failed' | 'archived' | 'restored' | 'deleted' | undefined> = {
  [JobEventKind.UNSPECIFIED]: undefined,
  [JobEventKind.COMPLETED]: 'completed',
  [JobEventKind.FAILED]: 'failed',
  [JobEventKind.ARCHIVED]: 'archived',
  [JobEventKind.RESTORED]: 'restored',
  [JobEventKind.DELETED]: 'deleted',
};

/**
 * Publishes a job event on gas.events.job.<kind>. The event id is fixed per transition
 * (`<jobId>.<kind><suffix>`), so a retried call republishes the same event and JetStream's
 * duplicate window drops the copy.
 */
export async function publishJobEvent(js: JetStreamClient, kind: JobEventKind, job: Job, at: Date, suffix = ''): Promise<void> {
  const name = eventKindName[kind]!;
  const eventId = `${job.jobId}.${name}${suffix}`;
  await publishProto(
    js,
    subjects.jobEvent(name),
    JobEventSchema,
    create(JobEventSchema, { eventId, kind, job, occurredAt: timestampFromDate(at) }),
    eventId,
  );
}
