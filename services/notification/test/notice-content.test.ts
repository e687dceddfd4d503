import t from 'tap';
import {
  create,
  timestampFromDate,
  AccountEventKind,
  AccountEventSchema,
  AccountSchema,
  GenomeBuild,
  JobEventKind,
  JobEventSchema,
  JobSchema,
  JobStatus,
  NoticeKind,
  NotificationPrefsSchema,
  VariantCountsSchema,
} from '@gas/proto';
import { accountNotice, emailPreference, jobFacts, jobNotice, wantsEmail } from '../src/notice-content.ts';
import { noticeId } from '../src/notice-id.ts';

const at = new Date('2026-12-07T10:15:30Z');
const job = create(JobSchema, {
  jobId: '01JQ8Z7X5K3M4N6P8R9S2T3V4W',
  userId: 'alice',
  status: JobStatus.COMPLETED,
  genomeBuild: GenomeBuild.GRCH37,
  inputName: 'sample <1>.vcf',
  createdAt: timestampFromDate(new Date('2026-12-07T10:14:00Z')),
  finishedAt: timestampFromDate(at),
  counts: create(VariantCountsSchema, { records: 1141n, alleles: 1173n, snvs: 1145n, indels: 24n }),
  failureReason: 'invalid VCF: line 7: POS: not a number',
});
const event = (kind: JobEventKind) =>
  create(JobEventSchema, { eventId: `${job.jobId}.${JobEventKind[kind].toLowerCase()}`, kind, job, occurredAt: timestampFromDate(at) });

t.test('each job event says what happened to which file', async (t) => {
  const done = jobNotice(event(JobEventKind.COMPLETED))!;
  t.equal(done.kind, NoticeKind.JOB_COMPLETED);
  t.equal(done.title, 'sample <1>.vcf is annotated');
  t.equal(done.text, 'The GRCh37 annotation of sample <1>.vcf is done: 1,141 variants, 1,173 alleles (1,145 SNVs, 24 indels).');
  t.equal(done.jobId, job.jobId);
  t.equal(done.userId, 'alice');
  t.equal(done.noticeId, noticeId(done.eventId, at));
  t.match(jobNotice(event(JobEventKind.FAILED))!, {
    kind: NoticeKind.JOB_FAILED,
    title: 'sample <1>.vcf failed',
    text: /failed: invalid VCF: line 7: POS/,
  });
  t.match(jobNotice(event(JobEventKind.ARCHIVED))!, { kind: NoticeKind.RESULTS_ARCHIVED, text: /cold storage/ });
  t.match(jobNotice(event(JobEventKind.RESTORED))!, { kind: NoticeKind.RESULTS_RESTORED, title: /results are back/ });
  t.equal(jobNotice(create(JobEventSchema, { eventId: 'x', kind: JobEventKind.UNSPECIFIED, job })), null);
  t.equal(jobNotice(create(JobEventSchema, { eventId: 'x', kind: JobEventKind.COMPLETED })), null, 'no job, no notice');
});

t.test('the facts an email lists: file, build, times, counts or reason', async (t) => {
  t.strictSame(jobFacts(event(JobEventKind.COMPLETED)), [
    ['File', 'sample <1>.vcf'],
    ['Genome build', 'GRCh37'],
    ['Submitted', '2026-12-07 10:14 UTC'],
    ['Finished', '2026-12-07 10:15 UTC'],
    ['Variants', '1,141'],
    ['Alleles', '1,173 (1,145 SNVs, 24 indels)'],
  ]);
  t.match(jobFacts(event(JobEventKind.FAILED)).at(-1), ['Reason', /invalid VCF/]);
});

t.test('account events: upgraded and downgraded', async (t) => {
  const e = (kind: AccountEventKind) =>
    create(AccountEventSchema, {
      eventId: `alice.${kind}.1`,
      kind,
      account: create(AccountSchema, { userId: 'alice' }),
      occurredAt: timestampFromDate(at),
    });
  t.match(accountNotice(e(AccountEventKind.UPGRADED))!, { kind: NoticeKind.PLAN_UPGRADED, title: 'You are on premium', jobId: '' });
  t.match(accountNotice(e(AccountEventKind.DOWNGRADED))!, { kind: NoticeKind.PLAN_DOWNGRADED, title: 'You are on the free plan' });
  t.equal(accountNotice(create(AccountEventSchema, { eventId: 'x', kind: AccountEventKind.UPGRADED })), null);
});

t.test('the preference: all, failures only, none', async (t) => {
  const prefs = (emailOnCompletion: boolean, emailOnFailure: boolean) =>
    create(NotificationPrefsSchema, { emailOnCompletion, emailOnFailure });
  t.equal(emailPreference(undefined), 'all', 'an account without preferences gets everything');
  t.equal(emailPreference(prefs(true, true)), 'all');
  t.equal(emailPreference(prefs(false, true)), 'failures');
  t.equal(emailPreference(prefs(false, false)), 'none');
  for (const kind of [NoticeKind.JOB_COMPLETED, NoticeKind.RESULTS_ARCHIVED, NoticeKind.RESULTS_RESTORED, NoticeKind.PLAN_UPGRADED]) {
    t.equal(wantsEmail(kind, prefs(true, true)), true);
    t.equal(wantsEmail(kind, prefs(false, true)), false, `${NoticeKind[kind]} under failures only`);
  }
  t.equal(wantsEmail(NoticeKind.JOB_FAILED, prefs(false, true)), true);
  t.equal(wantsEmail(NoticeKind.JOB_FAILED, prefs(false, false)), false);
  t.equal(wantsEmail(NoticeKind.JOB_FAILED, prefs(true, false)), false, 'the failure switch decides failures');
});

t.test('notice ids sort by time and are fixed per event', async (t) => {
  const a = noticeId('e1', new Date('2026-01-01T00:00:00Z'));
  t.match(a, /^[0-9A-HJKMNP-TV-Z]{26}$/);
  t.equal(noticeId('e1', new Date('2026-01-01T00:00:00Z')), a, 'the same event, the same id');
  t.not(noticeId('e2', new Date('2026-01-01T00:00:00Z')), a);
  t.ok(noticeId('e0', new Date('2026-01-01T00:00:01Z')) > a, 'later events sort after');
});
