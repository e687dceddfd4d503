import { ulid } from 'ulid';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { Logger, Registry } from '@gas/runtime';
import { Counter } from '@gas/runtime';
import {
  create,
  rpcErrors,
  timestampDate,
  timestampFromDate,
  GenomeBuild,
  JobSchema,
  JobStatus,
  JobService,
  JobRequestedSchema,
  JobEventKind,
  ResultState,
} from '@gas/proto';
import type { Job, ServiceImpl } from '@gas/proto';
import { publishProto, streamNames, subjects } from '@gas/messaging';
import type { JobStore } from './job-store.ts';
import type { IdempotencyStore } from './idempotency-store.ts';
import type { DeleteJob } from './job-deletion.ts';
import { publishJobEvent } from './job-events.ts';
import { JOB_ID, USER_ID } from './ids.ts';
import * as t from './job-transitions.ts';
import { queuePosition, queuePositions } from './queue-position.ts';

/** Job ids one GetQueuePositions call may ask about (a page of the jobs list is at most 100). */
const MAX_QUEUE_POSITIONS = 100;
import { readQueueStats } from './queue-stats.ts';

export interface JobServiceDeps {
  jobs: JobStore;
  idempotency: IdempotencyStore;
  js: JetStreamClient;
  jsm: JetStreamManager;
  logger: Logger;
  registry: Registry;
  annotatorConsumer: string;
  /** The deletion DeleteAccount shares (job-deletion.ts), made once for the registry's counter. */
  deleteJob: DeleteJob;
  now?: () => Date;
  /** How old an idempotency claim without a job must be before another call may take it over. */
  staleClaimMs?: number;
  /**
   * Aborted when the service starts to shut down: open WatchJobs streams end then, so watchers
   * reconnect to another replica at once instead of holding the shutdown for its whole grace period.
   */
  stopping?: AbortSignal;
}

function checkIds(userId: string, jobId?: string): void {
  if (!USER_ID.test(userId)) throw rpcErrors.invalidArgument('user_id must be 1-64 characters of A-Z a-z 0-9 _ -');
  if (jobId !== undefined && !JOB_ID.test(jobId)) throw rpcErrors.invalidArgument('job_id must be a ULID');
}

export function createJobService(deps: JobServiceDeps): ServiceImpl<typeof JobService> {
  const now = deps.now ?? (() => new Date());
  const staleClaimMs = deps.staleClaimMs ?? 10_000;
  // The line each created job gets, without redaction (its wildcard paths walk every object, a
  // tenth of CreateJob's own time): it holds ids and a number only.
  const createdLog = deps.logger.child({}, { redact: [] });
  const transitions = new Counter({
    name: 'gas_job_transitions_total',
    help: 'Job state transitions made, by target state',
    labelNames: ['to'],
    registers: [deps.registry],
  });

  /**
   * Publishes the job's request on the work queue. A released job's request is a new message (its
   * own id), so JetStream's duplicate window does not drop it and its delivery count starts afresh.
   * A request the window calls a copy is one published before (a retried call): it stands if it is
   * still queued, but one already taken off the queue (an annotator dropped it because its job was
   * never written) would leave the job waiting for good, so the job is queued again.
   */
  async function requestAnnotation(job: Job, attemptsBefore = 0): Promise<number> {
    const publish = (msgId: string) =>
      publishProto(
        deps.js,
        subjects.jobRequested,
        JobRequestedSchema,
        create(JobRequestedSchema, {
          jobId: job.jobId,
          userId: job.userId,
          genomeBuild: job.genomeBuild,
          inputKey: job.inputKey,
          inputSize: job.inputSize,
          attemptsBefore,
        }),
        msgId,
      );
    const msgId = attemptsBefore ? `${job.jobId}.after.${attemptsBefore}` : job.jobId;
    const ack = await publish(msgId);
    if (!ack.duplicate || (await deps.jsm.streams.getMessage(streamNames.jobs, { seq: ack.seq }))) return ack.seq;
    return (await publish(`${msgId}.again.${ulid()}`)).seq;
  }

  const publishEvent = (kind: JobEventKind, job: Job, suffix = '') => publishJobEvent(deps.js, kind, job, now(), suffix);

  return {
    async createJob(req) {
      checkIds(req.userId, req.jobId || undefined);
      if (req.genomeBuild === GenomeBuild.UNSPECIFIED || !(req.genomeBuild in GenomeBuild)) {
        throw rpcErrors.invalidArgument('genome_build must be GRCh37 or GRCh38');
      }
      if (!req.inputName) throw rpcErrors.invalidArgument('input_name is required');
      const jobId = req.jobId || ulid();
      if (!req.inputKey.startsWith(`${req.userId}/${jobId}/`)) {
        throw rpcErrors.invalidArgument(`input_key must be under ${req.userId}/${jobId}/`);
      }
      if (req.idempotencyKey) {
        if (req.idempotencyKey.length > 255) throw rpcErrors.invalidArgument('idempotency_key is longer than 255 characters');
        const earlier = await deps.idempotency.claim(req.userId, req.idempotencyKey, jobId);
        if (earlier && earlier.jobId !== jobId) {
          const existing = await deps.jobs.get(req.userId, earlier.jobId);
          if (existing) {
            // The first call may have stored the job but failed to queue it; queueing again is safe
            // because the request is deduplicated on the job id.
            if (existing.job.status === JobStatus.PENDING) await requestAnnotation(existing.job, existing.job.attempt);
            return { job: existing.job, created: false };
          }
          // Claimed but never created: the first call died in between. Once that cannot still be in
          // progress, this call takes the key over instead of leaving it stuck until the TTL.
          if (earlier.ageMs < staleClaimMs || !(await deps.idempotency.reassign(req.userId, req.idempotencyKey, earlier.revision, jobId))) {
            throw rpcErrors.aborted('a job for this idempotency key is still being created; retry in a few seconds');
          }
        }
      }
      const at = timestampFromDate(now());
      const job = create(JobSchema, {
        jobId,
        userId: req.userId,
        status: JobStatus.PENDING,
        genomeBuild: req.genomeBuild,
        inputName: req.inputName,
        inputSize: req.inputSize,
        inputKey: req.inputKey,
        createdAt: at,
        updatedAt: at,
        idempotencyKey: req.idempotencyKey,
        resultState: ResultState.UNSPECIFIED,
        warnings: t.boundedWarnings(req.warnings),
        inputLimits: req.inputLimits,
      });
      // The request goes out first, so the record is written once, with its place in the queue: two
      // writes where writing, publishing and then recording the sequence took three. An annotator
      // that takes the request before the record is there waits for it (annotator job-handler.ts).
      const seq = await requestAnnotation(job);
      const queued = create(JobSchema, { ...job, queueSequence: BigInt(seq) });
      await deps.jobs.create(queued);
      transitions.inc({ to: 'PENDING' });
      createdLog.info({ jobId, userId: req.userId, seq }, 'job created and queued');
      return { job: queued, created: true };
    },

    async getJob(req) {
      checkIds(req.userId, req.jobId);
      const job = await deps.jobs.find(req.userId, req.jobId);
      if (!job) throw rpcErrors.notFound(`job ${req.jobId} not found`);
      return { job };
    },

    async listJobs(req) {
      checkIds(req.userId);
      const size = Math.min(Math.max(req.pageSize || 20, 1), 100);
      if (req.pageToken && !JOB_ID.test(req.pageToken)) throw rpcErrors.invalidArgument('page_token is not valid');
      const { jobs, more } = await deps.jobs.list(
        req.userId,
        req.pageToken,
        size,
        (j) => req.status === JobStatus.UNSPECIFIED || j.status === req.status,
      );
      return { jobs, nextPageToken: more && jobs.length > 0 ? jobs[jobs.length - 1]!.jobId : '' };
    },

    async *watchJobs(req, ctx) {
      checkIds(req.userId);
      const signal = deps.stopping ? AbortSignal.any([ctx.signal, deps.stopping]) : ctx.signal;
      for await (const { job, deleted } of deps.jobs.watch(req.userId, signal)) yield { job, deleted };
    },

    async deleteJob(req) {
      checkIds(req.userId, req.jobId);
      return { job: await deps.deleteJob(req.userId, req.jobId) };
    },

    async claimJob(req) {
      checkIds(req.userId, req.jobId);
      if (req.attempt < 1) throw rpcErrors.invalidArgument('attempt must be ≥ 1');
      let claimed;
      try {
        claimed = await deps.jobs.update(req.userId, req.jobId, (j) => {
          const n = t.claim(j, req.attempt, req.annotatorId, now());
          return n === j ? null : n;
        });
      } catch (err) {
        // A request delivered again after its job finished. If this service died between recording
        // the outcome and publishing its event, the finishing call failed and was never answered,
        // so this is the moment to publish it: same event id, so JetStream drops a copy it has.
        const stored = await deps.jobs.get(req.userId, req.jobId).catch(() => null);
        const status = stored?.job.status;
        if (status === JobStatus.COMPLETED || status === JobStatus.FAILED) {
          await publishEvent(status === JobStatus.COMPLETED ? JobEventKind.COMPLETED : JobEventKind.FAILED, stored!.job);
        }
        throw err;
      }
      const { job, changed } = claimed;
      if (changed) {
        transitions.inc({ to: 'RUNNING' });
        deps.logger.info({ jobId: req.jobId, attempt: req.attempt, annotatorId: req.annotatorId }, 'job claimed');
      }
      return { job };
    },

    async reportProgress(req) {
      checkIds(req.userId, req.jobId);
      const { job } = await deps.jobs.update(req.userId, req.jobId, (j) => t.progress(j, req.attempt, req.done, req.total, now()));
      return { job };
    },

    async completeJob(req) {
      checkIds(req.userId, req.jobId);
      const { job, changed } = await deps.jobs.update(req.userId, req.jobId, (j) =>
        t.complete(
          j,
          req.attempt,
          { resultKeys: req.resultKeys, resultSize: req.resultSize, counts: req.counts, warnings: req.warnings },
          now(),
        ),
      );
      await publishEvent(JobEventKind.COMPLETED, job);
      if (changed) {
        transitions.inc({ to: 'COMPLETED' });
        deps.logger.info({ jobId: req.jobId, attempt: req.attempt }, 'job completed');
      }
      return { job };
    },

    async failJob(req) {
      checkIds(req.userId, req.jobId);
      if (!req.reason) throw rpcErrors.invalidArgument('reason is required');
      const { job, changed } = await deps.jobs.update(req.userId, req.jobId, (j) => t.fail(j, req.attempt, req.reason, now()));
      await publishEvent(JobEventKind.FAILED, job);
      if (changed) {
        transitions.inc({ to: 'FAILED' });
        deps.logger.info({ jobId: req.jobId, attempt: req.attempt, reason: req.reason }, 'job failed');
      }
      return { job };
    },

    async markArchived(req) {
      checkIds(req.userId, req.jobId);
      const { job } = await deps.jobs.update(req.userId, req.jobId, (j) => t.markArchived(j, req.archiveKeys, now()));
      await publishEvent(JobEventKind.ARCHIVED, job, `.${job.archivedAt?.seconds ?? 0}`);
      return { job };
    },

    async markRestoring(req) {
      checkIds(req.userId, req.jobId);
      const { job } = await deps.jobs.update(req.userId, req.jobId, (j) =>
        t.markRestoring(j, req.expectedAt ? timestampDate(req.expectedAt) : undefined, now()),
      );
      return { job };
    },

    async markRestored(req) {
      checkIds(req.userId, req.jobId);
      const { job } = await deps.jobs.update(req.userId, req.jobId, (j) => t.markRestored(j, now()));
      await publishEvent(JobEventKind.RESTORED, job, `.${job.archivedAt?.seconds ?? 0}`);
      return { job };
    },

    async releaseJob(req) {
      checkIds(req.userId, req.jobId);
      if (req.attempt < 1) throw rpcErrors.invalidArgument('attempt must be ≥ 1');
      const { job, changed } = await deps.jobs.update(req.userId, req.jobId, (j) => t.release(j, req.attempt, now()));
      // Published on a retried call too: the first may have recorded the release and died before
      // publishing (the message id makes a second copy a no-op).
      const seq = BigInt(await requestAnnotation(job, req.attempt));
      const { job: queued } = await deps.jobs.update(req.userId, req.jobId, (j) =>
        j.status === JobStatus.PENDING && j.attempt === req.attempt && j.queueSequence !== seq
          ? create(JobSchema, { ...j, queueSequence: seq })
          : null,
      );
      if (changed) {
        transitions.inc({ to: 'PENDING' });
        deps.logger.info({ jobId: req.jobId, attempt: req.attempt, reason: req.reason }, 'job released by its annotator');
      }
      return { job: queued };
    },

    async getQueueStats() {
      const s = await readQueueStats(deps.jsm, deps.annotatorConsumer);
      const ts = (d: Date | undefined) => (d ? timestampFromDate(d) : undefined);
      return {
        depth: BigInt(s.depth),
        waiting: BigInt(s.waiting),
        running: BigInt(s.running),
        oldestWaitingSince: ts(s.oldestWaitingSince),
        consumers: s.consumers.map((c) => ({
          name: c.name,
          pending: BigInt(c.pending),
          ackPending: BigInt(c.ackPending),
          redelivered: BigInt(c.redelivered),
          waitingPulls: BigInt(c.waitingPulls),
          lastActive: ts(c.lastActive),
        })),
        readAt: timestampFromDate(s.readAt),
      };
    },

    async getQueuePosition(req) {
      checkIds(req.userId, req.jobId);
      const { job } = await deps.jobs.mustGet(req.userId, req.jobId);
      if (job.status !== JobStatus.PENDING || job.queueSequence === 0n) {
        const { depth } = await queuePosition(deps.jsm, Number.MAX_SAFE_INTEGER, deps.annotatorConsumer);
        return { position: 0n, queueDepth: BigInt(depth) };
      }
      const { position, depth } = await queuePosition(deps.jsm, Number(job.queueSequence), deps.annotatorConsumer);
      return { position: BigInt(position), queueDepth: BigInt(depth) };
    },

    async getQueuePositions(req) {
      checkIds(req.userId);
      if (req.jobIds.length > MAX_QUEUE_POSITIONS) throw rpcErrors.invalidArgument(`at most ${MAX_QUEUE_POSITIONS} job ids`);
      for (const id of req.jobIds) if (!JOB_ID.test(id)) throw rpcErrors.invalidArgument(`job id ${JSON.stringify(id)} is not valid`);
      // Only the user's own waiting jobs: another user's id gets no answer, as a missing job does not.
      // Asked together, the reads share one catch-up check of the index (JobStore.find).
      const found = await Promise.all([...new Set(req.jobIds)].map((id) => deps.jobs.find(req.userId, id)));
      const waiting = found.filter((j): j is Job => j?.status === JobStatus.PENDING && j.queueSequence > 0n);
      const { positions, depth } = await queuePositions(
        deps.jsm,
        waiting.map((j) => Number(j.queueSequence)),
        deps.annotatorConsumer,
      );
      return {
        positions: Object.fromEntries(waiting.map((j, i) => [j.jobId, BigInt(positions[i]!)])),
        queueDepth: BigInt(depth),
      };
    },
  };
}
