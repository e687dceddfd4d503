// What a download of a result in cold storage answers, and when a free user's results move there.
import t from 'tap';
import { create, AccountSchema, JobSchema, JobStatus, Plan, ResultState, timestampFromDate } from '@gas/proto';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { archiveDueAt, archivedKinds, archivedProblem } from '../src/archived-results.ts';

const at = (iso: string) => timestampFromDate(new Date(iso));
const ID = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
const keys = { vcf: 'u/j/a.annot.vcf.gz', tsv: 'u/j/a.annot.tsv.gz', tbi: 'u/j/a.annot.vcf.gz.tbi' };
const job = (o: MessageInitShape<typeof JobSchema> = {}) =>
  create(JobSchema, {
    jobId: ID,
    userId: 'u',
    status: JobStatus.COMPLETED,
    resultState: ResultState.AVAILABLE,
    finishedAt: at('2026-12-07T04:01:00Z'),
    resultKeys: { ...keys, summary: 'u/j/a.summary.json', log: 'u/j/a.count.log' },
    ...o,
  });
const archived = job({ resultState: ResultState.ARCHIVED, archiveKeys: keys, archivedAt: at('2026-12-07T04:31:00Z') });
const now = new Date('2026-12-07T04:59:00Z');

t.test('only the kinds in the archive area count as archived, and only while ARCHIVED or RESTORING', async (t) => {
  t.strictSame(archivedKinds(job()), []);
  t.strictSame(archivedKinds(archived), ['vcf', 'tsv', 'tbi']);
  t.strictSame(archivedKinds(job({ resultState: ResultState.RESTORING, archiveKeys: { vcf: 'x' } })), ['vcf']);
  t.strictSame(archivedKinds(job({ resultState: ResultState.AVAILABLE, archiveKeys: { vcf: 'x' } })), []);
  for (const kind of ['summary', 'log', 'input']) t.equal(archivedProblem(archived, kind, 'free', now), null, `${kind} stays hot`);
  t.equal(archivedProblem(job(), 'vcf', 'free', now), null);
});

t.test('ARCHIVED: a free user learns when and how to get the file back; a premium user that it is on its way', async (t) => {
  const free = archivedProblem(archived, 'vcf', 'free', now)!;
  t.equal(free.status, 409);
  t.equal(
    free.detail,
    `the annotated VCF of job ${ID} moved to cold storage on 2026-12-07 04:31 UTC; upgrade to premium and it is restored`,
  );
  t.strictSame(free.extensions, { result_state: 'ARCHIVED' });
  t.strictSame(free.headers, {}, 'no Retry-After: nothing happens until the user upgrades');
  t.equal(
    archivedProblem(archived, 'tsv', 'premium', now)!.detail,
    `the annotation table of job ${ID} is being brought back from cold storage; try again in a few minutes`,
  );
  t.match(archivedProblem(archived, 'tbi', 'free', now)!.detail, /^the tabix index of job/);
});

t.test('RESTORING: when it is expected back, with Retry-After the seconds left (a minute once late)', async (t) => {
  const restoring = job({ ...archived, resultState: ResultState.RESTORING, restoreExpectedAt: at('2026-12-07T05:02:00Z') });
  const p = archivedProblem(restoring, 'vcf', 'free', now)!;
  t.equal(p.detail, `the annotated VCF of job ${ID} is being restored from cold storage; expected back by 2026-12-07 05:02 UTC`);
  t.strictSame(p.headers, { 'Retry-After': '180' });
  t.strictSame(p.extensions, { result_state: 'RESTORING', expected_at: '2026-12-07T05:02:00.000Z' });
  const late = archivedProblem(restoring, 'vcf', 'premium', new Date('2026-12-07T06:00:00Z'))!;
  t.strictSame(late.headers, { 'Retry-After': '60' });
  const unknown = archivedProblem(job({ ...archived, resultState: ResultState.RESTORING }), 'vcf', 'free', now)!;
  t.equal(unknown.detail, `the annotated VCF of job ${ID} is being restored from cold storage; try again later`);
  t.strictSame(unknown.headers, {});
  t.strictSame(unknown.extensions, { result_state: 'RESTORING' });
});

t.test("a free user's results move after the retention window, unless they stay hot", async (t) => {
  const free = create(AccountSchema, { userId: 'u', plan: Plan.FREE });
  t.equal(archiveDueAt(job(), free, 1800)?.toISOString(), '2026-12-07T04:31:00.000Z');
  t.equal(archiveDueAt(job(), null, 60)?.toISOString(), '2026-12-07T04:02:00.000Z', 'no account: free');
  t.equal(archiveDueAt(job(), create(AccountSchema, { plan: Plan.PREMIUM }), 1800), null, 'premium');
  const downgraded = create(AccountSchema, { plan: Plan.FREE, planChangedAt: at('2026-12-07T04:10:00Z') });
  t.equal(archiveDueAt(job(), downgraded, 1800), null, 'finished while premium');
  t.equal(archiveDueAt(job({ archivedAt: at('2026-12-07T04:31:00Z') }), free, 1800), null, 'restored after an earlier archive');
  t.equal(archiveDueAt(archived, free, 1800), null, 'already archived');
  t.equal(archiveDueAt(job({ status: JobStatus.FAILED }), free, 1800), null);
  t.equal(archiveDueAt(job({ resultKeys: { log: 'x', summary: 'y' } }), free, 1800), null, 'nothing that would move');
});
