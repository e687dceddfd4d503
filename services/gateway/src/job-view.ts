import { timestampDate, GenomeBuild, JobStatus, ResultState } from '@gas/proto';
import type { Job } from '@gas/proto';
import type { Timestamp } from '@bufbuild/protobuf/wkt';
import type { ResultKind } from '@gas/anntools/format';
import { archivedKinds } from './archived-results.ts';

/** Job ids and token ids are ULIDs. */
export const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

const iso = (t?: Timestamp) => (t ? timestampDate(t).toISOString() : null);

export const buildNames: Record<string, GenomeBuild> = { GRCh37: GenomeBuild.GRCH37, GRCh38: GenomeBuild.GRCH38 };
const buildName = (b: GenomeBuild) => Object.entries(buildNames).find(([, v]) => v === b)?.[0] ?? null;

/** The blob key of the job's result of that kind, as the annotator recorded it; undefined when it has none. */
export function resultKey(job: Job, kind: ResultKind): string | undefined {
  return job.resultKeys[kind];
}

/** The JSON API's shape of a job: what a user may see, nothing internal (keys, annotator ids). */
export function jobView(job: Job, extra: { queuePosition?: number } = {}) {
  const c = job.counts;
  return {
    id: job.jobId,
    status: JobStatus[job.status],
    genome_build: buildName(job.genomeBuild),
    input_name: job.inputName,
    input_size: Number(job.inputSize),
    created_at: iso(job.createdAt),
    started_at: iso(job.startedAt),
    finished_at: iso(job.finishedAt),
    updated_at: iso(job.updatedAt),
    attempt: job.attempt,
    failure_reason: job.failureReason || null,
    warnings: job.warnings.map((w) => ({ code: w.code, message: w.message })),
    progress: job.status === JobStatus.RUNNING ? { done: Number(job.progressDone), total: Number(job.progressTotal) } : null,
    queue_position: extra.queuePosition ?? null,
    result_state: job.resultState === ResultState.UNSPECIFIED ? null : ResultState[job.resultState],
    archived_kinds: archivedKinds(job),
    archived_at: iso(job.archivedAt),
    restore_expected_at: job.resultState === ResultState.RESTORING ? iso(job.restoreExpectedAt) : null,
    restored_at: iso(job.restoredAt),
    result_size: Number(job.resultSize),
    counts: c
      ? { records: Number(c.records), alleles: Number(c.alleles), snvs: Number(c.snvs), indels: Number(c.indels), other: Number(c.other) }
      : null,
    links: {
      self: `/api/v1/jobs/${job.jobId}`,
      ...(job.status === JobStatus.COMPLETED
        ? {
            result: `/api/v1/jobs/${job.jobId}/result`,
            log: `/api/v1/jobs/${job.jobId}/log`,
            summary: `/api/v1/jobs/${job.jobId}/summary`,
            ...(resultKey(job, 'tsv') ? { tsv: `/api/v1/jobs/${job.jobId}/tsv` } : {}),
            ...(resultKey(job, 'tbi') ? { tbi: `/api/v1/jobs/${job.jobId}/tbi` } : {}),
          }
        : {}),
    },
  };
}
