import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, JobSchema, JobStatus, ResultState, Status, RpcError } from '@gas/proto';
import * as t from '../src/job-transitions.ts';

const now = new Date('2026-01-01T00:00:00Z');
const pending = () => create(JobSchema, { jobId: '01J0000000000000000000000A', userId: 'u1', status: JobStatus.PENDING });
const refused = (fn: () => unknown, code: Status) =>
  assert.throws(fn, (e: unknown) => e instanceof RpcError && e.code === code);

test('claim moves PENDING to RUNNING with the attempt and owner', () => {
  const j = t.claim(pending(), 1, 'a', now);
  assert.equal(j.status, JobStatus.RUNNING);
  assert.equal(j.attempt, 1);
  assert.equal(j.annotatorId, 'a');
  assert.ok(j.startedAt);
});

test('a retried claim by the same delivery is a no-op; a stale or equal attempt by another is refused', () => {
  const running = t.claim(pending(), 2, 'a', now);
  assert.equal(t.claim(running, 2, 'a', now), running);
  refused(() => t.claim(running, 2, 'b', now), Status.FAILED_PRECONDITION);
  refused(() => t.claim(running, 1, 'b', now), Status.FAILED_PRECONDITION);
});

test('a later delivery takes over a RUNNING job and the earlier attempt can no longer complete it', () => {
  const first = t.claim(pending(), 1, 'a', now);
  const second = t.claim(first, 2, 'b', now);
  assert.equal(second.attempt, 2);
  refused(() => t.complete(second, 1, { resultKeys: {}, resultSize: 0n }, now), Status.FAILED_PRECONDITION);
  const done = t.complete(second, 2, { resultKeys: { vcf: 'k' }, resultSize: 10n, counts: { records: 5n } }, now)!;
  assert.equal(done.status, JobStatus.COMPLETED);
  assert.equal(done.resultState, ResultState.AVAILABLE);
  assert.equal(done.counts?.records, 5n);
});

test('completing twice with the same attempt changes nothing; finished jobs cannot be claimed', () => {
  const done = t.complete(t.claim(pending(), 1, 'a', now), 1, { resultKeys: {}, resultSize: 0n }, now)!;
  assert.equal(t.complete(done, 1, { resultKeys: {}, resultSize: 0n }, now), null);
  refused(() => t.claim(done, 2, 'b', now), Status.FAILED_PRECONDITION);
  refused(() => t.fail(done, 0, 'x', now), Status.FAILED_PRECONDITION);
});

test('fail records the reason; attempt 0 (dead letter) fails whatever attempt holds the job', () => {
  const running = t.claim(pending(), 3, 'a', now);
  refused(() => t.fail(running, 2, 'boom', now), Status.FAILED_PRECONDITION);
  const failed = t.fail(running, 0, 'gave up', now)!;
  assert.equal(failed.status, JobStatus.FAILED);
  assert.equal(failed.failureReason, 'gave up');
  assert.equal(t.fail(failed, 0, 'again', now), null);
  assert.equal(t.fail(pending(), 0, 'bad input', now)!.status, JobStatus.FAILED);
});

test('result states: AVAILABLE → ARCHIVED → RESTORING → AVAILABLE, and nothing else', () => {
  const done = t.complete(t.claim(pending(), 1, 'a', now), 1, { resultKeys: { vcf: 'r' }, resultSize: 1n }, now)!;
  refused(() => t.markRestoring(done, now), Status.FAILED_PRECONDITION);
  const archived = t.markArchived(done, { vcf: 'a' }, now)!;
  assert.equal(archived.resultState, ResultState.ARCHIVED);
  assert.equal(archived.resultKeys.vcf, 'a');
  assert.equal(t.markArchived(archived, {}, now), null);
  const restoring = t.markRestoring(archived, now)!;
  assert.equal(restoring.resultState, ResultState.RESTORING);
  const restored = t.markRestored(restoring, { vcf: 'r2' }, now)!;
  assert.equal(restored.resultState, ResultState.AVAILABLE);
  assert.equal(restored.resultKeys.vcf, 'r2');
  assert.equal(t.markRestored(restored, {}, now), null);
  refused(() => t.markRestored(done, {}, now), Status.FAILED_PRECONDITION);
  refused(() => t.markRestored(archived, {}, now), Status.FAILED_PRECONDITION);
  refused(() => t.markArchived(pending(), {}, now), Status.FAILED_PRECONDITION);
});

test('progress only from the attempt that owns the job', () => {
  const running = t.claim(pending(), 1, 'a', now);
  assert.equal(t.progress(running, 1, 10n, 100n, now).progressDone, 10n);
  refused(() => t.progress(running, 2, 10n, 100n, now), Status.FAILED_PRECONDITION);
});
