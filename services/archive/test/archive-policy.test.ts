import t from 'tap';
import { create, timestampFromDate, AccountSchema, ArchiveDueSchema, JobSchema, JobStatus, Plan, ResultState } from '@gas/proto';
import type { Account, Job } from '@gas/proto';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { archivableKeys, archiveDueAt, dueAction, holdMs, restoreCheckMs } from '../src/archive-policy.ts';

const finished = new Date('2026-12-01T10:00:00Z');
const minutes = (n: number) => n * 60_000;
const at = (ms: number) => timestampFromDate(new Date(finished.getTime() + ms));

function completed(patch: MessageInitShape<typeof JobSchema> = {}): Job {
  return create(JobSchema, {
    jobId: '01J0000000000000000000000A',
    userId: 'u1',
    status: JobStatus.COMPLETED,
    resultState: ResultState.AVAILABLE,
    finishedAt: timestampFromDate(finished),
    resultKeys: { vcf: 'u1/j/a.vcf.gz', tsv: 'u1/j/a.tsv.gz', summary: 'u1/j/summary.json', log: 'u1/j/a.log' },
    ...patch,
  });
}
const account = (plan: Plan, changedMs?: number): Account =>
  create(AccountSchema, { userId: 'u1', plan, ...(changedMs === undefined ? {} : { planChangedAt: at(changedMs) }) });

t.test('only the result files move; the summary and logs stay hot for the job page', async (t) => {
  t.strictSame(archivableKeys(completed()), { vcf: 'u1/j/a.vcf.gz', tsv: 'u1/j/a.tsv.gz' });
  t.strictSame(archivableKeys(completed({ resultKeys: { vcf: 'v', tbi: 'i', countlog: 'c' } })), { vcf: 'v', tbi: 'i' });
});

t.test('a free user’s results are due a retention window after the job finished', async (t) => {
  t.equal(archiveDueAt(completed(), account(Plan.FREE), minutes(30))?.toISOString(), '2026-12-01T10:30:00.000Z');
  t.equal(archiveDueAt(completed(), null, minutes(30))?.getTime(), finished.getTime() + minutes(30), 'no account record: free');
  t.ok(archiveDueAt(completed(), account(Plan.FREE, -minutes(5)), minutes(30)), 'downgraded before the job finished');
});

t.test('results that stay hot: premium, completed while premium, failed, or nothing to move', async (t) => {
  t.equal(archiveDueAt(completed(), account(Plan.PREMIUM), minutes(30)), null);
  t.equal(
    archiveDueAt(completed(), account(Plan.FREE, minutes(1)), minutes(30)),
    null,
    'downgraded after it finished: completed while premium',
  );
  t.equal(archiveDueAt(completed({ status: JobStatus.FAILED }), null, minutes(30)), null);
  t.equal(archiveDueAt(completed({ resultKeys: { summary: 's', log: 'l' } }), null, minutes(30)), null);
  t.equal(archiveDueAt(completed({ finishedAt: undefined }), null, minutes(30)), null);
  t.equal(archiveDueAt(completed({ resultState: ResultState.ARCHIVED }), null, minutes(30)), null);
});

t.test('a due timer archives only while nothing has changed since it was set', async (t) => {
  const timer = create(ArchiveDueSchema, { userId: 'u1', jobId: 'j', dueAt: at(minutes(30)), planChangedAt: at(-minutes(60)) });
  const free = account(Plan.FREE, -minutes(60));
  t.strictSame(dueAction(timer, completed(), free), { action: 'archive' });
  t.match(dueAction(timer, completed(), account(Plan.PREMIUM, minutes(10))), { action: 'skip', reason: /premium/ });
  t.match(
    dueAction(timer, completed(), account(Plan.FREE, minutes(20))),
    { action: 'skip', reason: /plan changed/ },
    'upgraded, then downgraded',
  );
  t.strictSame(
    dueAction(timer, completed({ resultState: ResultState.ARCHIVED }), free),
    { action: 'finish' },
    'recorded but hot copies not yet deleted',
  );
  t.match(dueAction(timer, completed({ resultState: ResultState.RESTORING }), free), { action: 'skip' });
  t.match(
    dueAction(timer, completed({ archivedAt: at(minutes(30)) }), free),
    { action: 'skip', reason: /restored/ },
    'archived at most once',
  );
  t.match(dueAction(timer, null, free), { action: 'skip', reason: /deleted/ });
  const noAccount = create(ArchiveDueSchema, { userId: 'u1', jobId: 'j', dueAt: at(minutes(30)) });
  t.strictSame(dueAction(noAccount, completed(), null), { action: 'archive' });
});

t.test('a timer is held for the time left, in steps; a restore is checked at its expected time or each poll', async (t) => {
  const now = new Date(finished);
  t.equal(holdMs(new Date(finished.getTime() + 1500), now, 3_600_000), 1500);
  t.equal(holdMs(new Date(finished.getTime() + 5 * 3_600_000), now, 3_600_000), 3_600_000, 'a long wait is re-armed each step');
  t.equal(holdMs(new Date(finished.getTime() - 10), now, 3_600_000), 0, 'past due: act now');
  t.equal(restoreCheckMs(new Date(finished.getTime() + 20_000), now, 60_000), 20_000);
  t.equal(restoreCheckMs(new Date(finished.getTime() + 5 * 3_600_000), now, 60_000), 60_000);
  t.equal(restoreCheckMs(new Date(finished.getTime() - 1), now, 60_000), 60_000, 'late: poll');
  t.equal(restoreCheckMs(undefined, now, 60_000), 60_000);
});
