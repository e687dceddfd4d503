/* global __VU, __ITER */
// One job's life as a scale tester measures it: submit, poll until COMPLETED or FAILED, and record
// how long it took from the client's side and, from the job's own timestamps, how long it queued
// and ran. The queue wait is what grows during a burst until the annotators scale out.
import { check, sleep } from 'k6';
import { Rate, Trend } from 'k6/metrics';
import { getJob, submitJob } from './api.js';
import { GENOME_BUILD, VCF_NAME } from './config.js';

/** From the start of the upload to the poll that saw COMPLETED (includes up to one poll interval). */
export const submitToCompleted = new Trend('job_submit_to_completed', true);
/** created_at → started_at, from the job record: time in the queue. */
export const queueWait = new Trend('job_queue_wait', true);
/** started_at → finished_at, from the job record: the annotator's work. */
export const runTime = new Trend('job_run_time', true);
/** The job's place in the queue when first seen PENDING (1 = next): the queue depth a user sees. */
export const queuePosition = new Trend('job_queue_position');
/** 1 for a job that completed, 0 for one that failed, timed out or could not be submitted. */
export const jobsCompleted = new Rate('jobs_completed');

function addSpan(trend, from, to) {
  const span = Date.parse(to) - Date.parse(from);
  if (Number.isFinite(span)) trend.add(span);
}

/**
 * Submits the VCF (`vcf()` gives it: lib/config.js, loadVcf) and waits for the job. `runId` keeps idempotency keys unique across runs; within
 * one job's retries the key stays the same, so a retried upload never makes a second job.
 */
export function submitAndWait(auth, vcf, p, runId) {
  const key = `loadtest-${runId}-vu${__VU}-it${__ITER}-${Math.random().toString(36).slice(2, 8)}`;
  const started = Date.now();
  const res = submitJob(auth, vcf(), { fileName: VCF_NAME, build: GENOME_BUILD, idempotencyKey: key });
  // 200 is the same job again: a retried upload whose first answer was lost.
  if (!check(res, { 'job submitted (201)': (r) => r.status === 201 || r.status === 200 })) {
    jobsCompleted.add(false);
    return null;
  }
  const id = res.json('id');
  check(res, {
    'new job has an id and is PENDING': (r) => /^[0-9A-Z]{26}$/.test(id) && (r.status === 200 || r.json('status') === 'PENDING'),
  });
  let delay = p.pollMin;
  let positionSeen = false;
  for (;;) {
    sleep(delay * (0.8 + Math.random() * 0.4));
    const r = getJob(auth, id);
    if (r.status !== 200) {
      check(r, { 'job readable (200)': () => false });
      jobsCompleted.add(false);
      return null;
    }
    const job = r.json();
    if (job.status === 'PENDING' && !positionSeen && job.queue_position !== null) {
      queuePosition.add(job.queue_position);
      positionSeen = true;
    }
    if (job.status === 'COMPLETED' || job.status === 'FAILED') {
      const done = check(job, {
        'job COMPLETED': (j) => j.status === 'COMPLETED',
        'completed job has counts and a result link': (j) =>
          j.status !== 'COMPLETED' || (j.counts?.records > 0 && Boolean(j.links?.result)),
      });
      if (job.status === 'COMPLETED') {
        submitToCompleted.add(Date.now() - started);
        addSpan(queueWait, job.created_at, job.started_at);
        addSpan(runTime, job.started_at, job.finished_at);
      } else {
        console.warn(`job ${id} FAILED: ${job.failure_reason}`);
      }
      jobsCompleted.add(done);
      return job;
    }
    if (Date.now() - started > p.jobTimeout * 1000) {
      check(job, { 'job finished within JOB_TIMEOUT_SECONDS': () => false });
      jobsCompleted.add(false);
      return null;
    }
    delay = Math.min(p.pollMax, delay * 1.5);
  }
}
