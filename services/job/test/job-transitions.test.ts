import t from 'tap';
import type { Test } from 'tap';
import { create, timestampDate, JobSchema, JobStatus, JobWarningSchema, ResultState, Status } from '@gas/proto';
import * as jt from '../src/job-transitions.ts';

const now = new Date('2026-01-01T00:00:00Z');
const pending = () => create(JobSchema, { jobId: '01J0000000000000000000000A', userId: 'u1', status: JobStatus.PENDING });
const refused = (t: Test, fn: () => unknown, code: Status) => t.throws(fn, { name: 'RpcError', code }, `refused with ${Status[code]}`);

t.test('claim moves PENDING to RUNNING with the attempt and owner', async (t) => {
  const j = jt.claim(pending(), 1, 'a', now);
  t.equal(j.status, JobStatus.RUNNING);
  t.equal(j.attempt, 1);
  t.equal(j.annotatorId, 'a');
  t.ok(j.startedAt);
});

t.test('a retried claim by the same delivery is a no-op; a stale or equal attempt by another is refused', async (t) => {
  const running = jt.claim(pending(), 2, 'a', now);
  t.equal(jt.claim(running, 2, 'a', now), running);
  refused(t, () => jt.claim(running, 2, 'b', now), Status.FAILED_PRECONDITION);
  refused(t, () => jt.claim(running, 1, 'b', now), Status.FAILED_PRECONDITION);
});

t.test('a later delivery takes over a RUNNING job and the earlier attempt can no longer complete it', async (t) => {
  const first = jt.claim(pending(), 1, 'a', now);
  const second = jt.claim(first, 2, 'b', now);
  t.equal(second.attempt, 2);
  refused(t, () => jt.complete(second, 1, { resultKeys: {}, resultSize: 0n }, now), Status.FAILED_PRECONDITION);
  const done = jt.complete(second, 2, { resultKeys: { vcf: 'k' }, resultSize: 10n, counts: { records: 5n } }, now)!;
  t.equal(done.status, JobStatus.COMPLETED);
  t.equal(done.resultState, ResultState.AVAILABLE);
  t.equal(done.counts?.records, 5n);
});

t.test('completing twice with the same attempt changes nothing; finished jobs cannot be claimed', async (t) => {
  const done = jt.complete(jt.claim(pending(), 1, 'a', now), 1, { resultKeys: {}, resultSize: 0n }, now)!;
  t.equal(jt.complete(done, 1, { resultKeys: {}, resultSize: 0n }, now), null);
  refused(t, () => jt.claim(done, 2, 'b', now), Status.FAILED_PRECONDITION);
  refused(t, () => jt.fail(done, 0, 'x', now), Status.FAILED_PRECONDITION);
});

t.test('fail records the reason; attempt 0 (dead letter) fails whatever attempt holds the job', async (t) => {
  const running = jt.claim(pending(), 3, 'a', now);
  refused(t, () => jt.fail(running, 2, 'boom', now), Status.FAILED_PRECONDITION);
  const failed = jt.fail(running, 0, 'gave up', now)!;
  t.equal(failed.status, JobStatus.FAILED);
  t.equal(failed.failureReason, 'gave up');
  t.equal(jt.fail(failed, 0, 'again', now), null);
  t.equal(jt.fail(pending(), 0, 'bad input', now)!.status, JobStatus.FAILED);
});

t.test('result states: AVAILABLE → ARCHIVED → RESTORING → AVAILABLE, and nothing else', async (t) => {
  const done = jt.complete(jt.claim(pending(), 1, 'a', now), 1, { resultKeys: { vcf: 'r', summary: 's' }, resultSize: 1n }, now)!;
  refused(t, () => jt.markRestoring(done, undefined, now), Status.FAILED_PRECONDITION);
  refused(t, () => jt.markArchived(done, {}, now), Status.INVALID_ARGUMENT);
  refused(t, () => jt.markArchived(done, { tsv: 'a' }, now), Status.INVALID_ARGUMENT);
  const archived = jt.markArchived(done, { vcf: 'a' }, now)!;
  t.equal(archived.resultState, ResultState.ARCHIVED);
  t.strictSame(archived.archiveKeys, { vcf: 'a' });
  t.strictSame(archived.resultKeys, { vcf: 'r', summary: 's' }, 'result keys stay: restored results come back there');
  t.ok(archived.archivedAt);
  t.equal(jt.markArchived(archived, { vcf: 'a' }, now), null);
  const expected = new Date(now.getTime() + 60_000);
  const restoring = jt.markRestoring(archived, expected, now)!;
  t.equal(restoring.resultState, ResultState.RESTORING);
  t.equal(timestampDate(restoring.restoreExpectedAt!).getTime(), expected.getTime());
  t.equal(jt.markRestoring(restoring, new Date(0), now), null, 'a retried call keeps the first expected time');
  const restored = jt.markRestored(restoring, now)!;
  t.equal(restored.resultState, ResultState.AVAILABLE);
  t.strictSame(restored.archiveKeys, {});
  t.equal(restored.restoreExpectedAt, undefined);
  t.ok(restored.restoredAt);
  t.equal(jt.markRestored(restored, now), null);
  refused(t, () => jt.markRestored(done, now), Status.FAILED_PRECONDITION);
  refused(t, () => jt.markRestored(archived, now), Status.FAILED_PRECONDITION);
  refused(t, () => jt.markArchived(pending(), { vcf: 'a' }, now), Status.FAILED_PRECONDITION);
});

t.test('progress only from the attempt that owns the job', async (t) => {
  const running = jt.claim(pending(), 1, 'a', now);
  t.equal(jt.progress(running, 1, 10n, 100n, now).progressDone, 10n);
  refused(t, () => jt.progress(running, 2, 10n, 100n, now), Status.FAILED_PRECONDITION);
});

t.test("completion replaces the upload's warnings of the codes the annotator reports and keeps the others", async (t) => {
  const w = (code: string, message: string) => create(JobWarningSchema, { code, message });
  const uploaded = create(JobSchema, {
    ...pending(),
    warnings: [w('build_mismatch', 'from the upload'), w('other_check', 'kept')],
  });
  const done = jt.complete(
    jt.claim(uploaded, 1, 'a', now),
    1,
    { resultKeys: {}, resultSize: 0n, warnings: [w('build_mismatch', 'from the annotator'), w('uncovered_chromosomes', '62% …')] },
    now,
  )!;
  t.strictSame(
    done.warnings.map((x) => [x.code, x.message]),
    [
      ['other_check', 'kept'],
      ['build_mismatch', 'from the annotator'],
      ['uncovered_chromosomes', '62% …'],
    ],
  );
  const quiet = jt.complete(jt.claim(uploaded, 1, 'a', now), 1, { resultKeys: {}, resultSize: 0n }, now)!;
  t.equal(quiet.warnings.length, 2, 'an annotator without warnings leaves the upload’s');
});

t.test('warnings are bounded in number and length, whoever sends them', async (t) => {
  const many = Array.from({ length: 50 }, (_, i) => create(JobWarningSchema, { code: `c${i}`.repeat(40), message: 'x'.repeat(5000) }));
  const kept = jt.boundedWarnings(many);
  t.equal(kept.length, 10);
  t.equal(kept[0]!.code.length, 64);
  t.equal(kept[0]!.message.length, 1000);
});
