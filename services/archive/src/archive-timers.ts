// Publishing the archive service's timers on GAS_ARCHIVE. Each timer's Nats-Msg-Id is fixed by what
// it is for, so a retried publish, or the same event handled twice, sets it once (within the
// stream's duplicate window; past it, a second copy finds the work done and does nothing).
import { create, timestampFromDate, ArchiveDueSchema, RestoreDueSchema } from '@gas/proto';
import type { Account, Job } from '@gas/proto';
import type { Timestamp } from '@bufbuild/protobuf/wkt';
import { publishProto, subjects } from '@gas/messaging';
import type { JetStreamClient } from '@gas/messaging';

export const timerSubjects = { archive: subjects.archiveTimer('due'), restore: subjects.archiveTimer('restore') } as const;

export class ArchiveTimers {
  constructor(private readonly js: JetStreamClient) {}

  /** Moves the job's results to the archive tier at dueAt unless the account's plan changes before. */
  async setArchive(job: Job, dueAt: Date, account: Account | null): Promise<void> {
    const timer = create(ArchiveDueSchema, {
      userId: job.userId,
      jobId: job.jobId,
      dueAt: timestampFromDate(dueAt),
      planChangedAt: account?.planChangedAt,
    });
    await publishProto(this.js, timerSubjects.archive, ArchiveDueSchema, timer, `archive.${job.jobId}`);
  }

  /** Brings an archived job's results back; one restore per archiving of the job. */
  async requestRestore(job: Job, requestedAt: Timestamp | undefined): Promise<void> {
    const restore = create(RestoreDueSchema, {
      userId: job.userId,
      jobId: job.jobId,
      requestedAt: requestedAt ?? timestampFromDate(new Date()),
    });
    await publishProto(this.js, timerSubjects.restore, RestoreDueSchema, restore, `restore.${job.jobId}.${job.archivedAt?.seconds ?? 0}`);
  }
}
