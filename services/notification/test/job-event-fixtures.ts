// What the notification tests that delete jobs and accounts share: jobs finished through the job
// service's RPCs (as the gateway and the annotator do), a wait until the notification service has
// handled every event published so far, and the stored job event with a given id (to publish it
// again, as a redelivery).
import type { JetStreamManager } from '@nats-io/jetstream';
import { randomUUID } from 'node:crypto';
import { streamNames } from '@gas/messaging';
import { fromBinary, GenomeBuild, JobEventSchema, JobService, NotificationService } from '@gas/proto';
import type { JobEvent, ServiceClient, WatchNoticesResponse } from '@gas/proto';
import type { GasStack } from '@gas/testing';
import { noticeId } from '../src/notice-id.ts';

const EVENTS = streamNames.events;

/** A fresh ULID (the notice id's shape is the job id's). */
export const ulid = () => noticeId(randomUUID(), new Date());

export function jobEventFixtures({ stack, jsm, jobs }: { stack: GasStack; jsm: JetStreamManager; jobs: ServiceClient<typeof JobService> }) {
  const fixtures = {
    /** A job of the user's, created, claimed and completed as the gateway and the annotator would. */
    completedJob: async (userId: string, inputName: string): Promise<string> => {
      const jobId = ulid();
      await jobs.createJob({
        userId,
        jobId,
        genomeBuild: GenomeBuild.GRCH37,
        inputName,
        inputSize: 10n,
        inputKey: `${userId}/${jobId}/${inputName}`,
      });
      await jobs.claimJob({ userId, jobId, attempt: 1, annotatorId: 'test' });
      const resultKeys = { vcf: `${userId}/${jobId}/a.annot.vcf.gz`, tsv: `${userId}/${jobId}/a.annot.tsv.gz` };
      await jobs.completeJob({ userId, jobId, attempt: 1, resultKeys, resultSize: 5n });
      return jobId;
    },

    /** Until the notification service has handled (and acked) every event published so far. */
    eventsHandled: async (): Promise<void> => {
      await stack.eventually(
        () => jsm.consumers.info(EVENTS, 'notification'),
        (c) => c.num_pending === 0 && c.num_ack_pending === 0,
        30_000,
      );
    },

    /** The job event GAS_EVENTS holds with this event id. */
    storedJobEvent: async (eventId: string): Promise<{ subject: string; event: JobEvent }> => {
      const { first_seq, last_seq } = (await jsm.streams.info(EVENTS)).state;
      for (let seq = first_seq; seq <= last_seq; seq++) {
        const m = await jsm.streams.getMessage(EVENTS, { seq }).catch(() => null);
        if (!m?.subject.startsWith('gas.events.job.')) continue;
        const event = fromBinary(JobEventSchema, m.data);
        if (event.eventId === eventId) return { subject: m.subject, event };
      }
      throw new Error(`no event ${eventId} in GAS_EVENTS`);
    },

    /**
     * A browser's live stream of the user's notices, as the gateway opens it: `seen` collects what
     * it sends. Resolves once it is open, known by a probe job's notice reaching it.
     */
    openNoticeWatch: async (notices: ServiceClient<typeof NotificationService>, userId: string) => {
      const ac = new AbortController();
      const seen: WatchNoticesResponse[] = [];
      const watching = (async () => {
        for await (const r of notices.watchNotices({ userId }, { signal: ac.signal, deadlineMs: 60_000 })) seen.push(r);
      })().catch(() => undefined);
      const probe = await fixtures.completedJob(userId, 'probe.vcf');
      await stack.eventually(
        async () => seen,
        (x) => x.some((r) => r.notice?.jobId === probe),
        30_000,
      );
      return {
        seen,
        /** Closes the stream; resolves once it has ended. */
        close: async () => {
          ac.abort();
          await watching;
        },
      };
    },
  };
  return fixtures;
}
