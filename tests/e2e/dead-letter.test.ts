// A job that keeps failing for a retryable reason is retried with backoff and, on its last allowed
// delivery, ends FAILED with the reason: the dead letter is visible to the user, not lost.
import t from 'tap';
import { mkdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { startGasStack, sharedDataPath } from '@gas/testing';
import type { GasStack } from '@gas/testing';

const stack: GasStack = await startGasStack({ store: 'filesystem', services: ['job', 'notification', 'archive', 'gateway'] });
t.teardown(() => stack.stop());

t.test('a job that fails on every delivery ends FAILED with "gave up after N attempts"', async (t) => {
  const user = stack.users[0]!;
  const res = await stack.submit(user, sharedDataPath('vcf/gas_anntools/free_1.vcf'), { genomeBuild: 'GRCh37' });
  const { id } = (await res.json()) as { id: string };
  // The stored input becomes a symlink to itself: opening it fails with ELOOP, an I/O error the
  // annotator treats as retryable (unlike a missing file or a malformed VCF).
  const input = join(stack.stateDir, 'blobs', 'inputs', user.userId, id, 'free_1.vcf');
  await rm(input);
  await symlink(input, input);
  await stack.startService('annotator', { ANNOTATOR_MAX_DELIVER: '3' });
  const job = await stack.waitForJob(user, id, (j) => j.status === 'FAILED' || j.status === 'COMPLETED', 60_000);
  t.equal(job.status, 'FAILED');
  t.match(job.failure_reason ?? '', /^gave up after 3 attempts: .*ELOOP/);
  t.match(await stack.metrics('annotator'), /gas_annotator_messages_total\{[^}]*outcome="error"[^}]*\} 2/);
  // The failure event reached the notification service like any other.
  const failedEvents = /gas_notification_emails_total\{[^}]*kind="job_failed"[^}]*outcome="sent"[^}]*\} 1/;
  const notification = await stack.eventually(
    () => stack.metrics('notification'),
    (m) => failedEvents.test(m),
  );
  t.match(notification, failedEvents);
});

t.test('a job for a build with no reference data fails with a message that says so', async (t) => {
  const user = stack.users[1]!;
  const empty = join(stack.stateDir, 'no-reference');
  await mkdir(empty, { recursive: true });
  await stack.services.annotator!.stop();
  await stack.startService('annotator', { ANNOTATOR_REFERENCE_DIR: empty });
  const res = await stack.submit(user, sharedDataPath('vcf/gas_anntools/free_1.vcf'), { genomeBuild: 'GRCh38' });
  const { id } = (await res.json()) as { id: string };
  const job = await stack.waitForJob(user, id, (j) => j.status === 'FAILED' || j.status === 'COMPLETED');
  t.equal(job.status, 'FAILED');
  t.match(
    job.failure_reason ?? '',
    /^no reference data for GRCh38 on this annotator \(expected .*GRCh38\.gasref; build it with "gas-annotate build-db"\)$/,
  );
});
