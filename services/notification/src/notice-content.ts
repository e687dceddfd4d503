// What a notice says about an event, and whether the user wants an email for it: pure, so the
// words are tested without a mail server.
import { create, timestampDate, AccountEventKind, GenomeBuild, JobEventKind, NoticeKind, NoticeSchema } from '@gas/proto';
import type { AccountEvent, JobEvent, Notice, NotificationPrefs } from '@gas/proto';
import { noticeId } from './notice-id.ts';

const count = (n: bigint | number) => Number(n).toLocaleString('en');
const buildName = (b: GenomeBuild) => (b === GenomeBuild.GRCH37 ? 'GRCh37' : b === GenomeBuild.GRCH38 ? 'GRCh38' : 'unknown build');

function when(e: { occurredAt?: { seconds: bigint; nanos: number } }): Date {
  return e.occurredAt ? timestampDate(e.occurredAt as Parameters<typeof timestampDate>[0]) : new Date(0);
}

/** The notice for a job event, or null for a kind that has none. */
export function jobNotice(e: JobEvent): Notice | null {
  const job = e.job;
  if (!job) return null;
  const name = job.inputName || job.jobId;
  const base = {
    eventId: e.eventId,
    userId: job.userId,
    jobId: job.jobId,
    occurredAt: e.occurredAt,
    noticeId: noticeId(e.eventId, when(e)),
  };
  switch (e.kind) {
    case JobEventKind.COMPLETED: {
      const c = job.counts;
      // SNVs and indels are counted per ALT allele, so they are given with the alleles, not the records.
      const counts = c
        ? `${count(c.records)} variants, ${count(c.alleles)} alleles (${count(c.snvs)} SNVs, ${count(c.indels)} indels)`
        : 'no variant counts';
      return create(NoticeSchema, {
        ...base,
        kind: NoticeKind.JOB_COMPLETED,
        title: `${name} is annotated`,
        text: `The ${buildName(job.genomeBuild)} annotation of ${name} is done: ${counts}.`,
      });
    }
    case JobEventKind.FAILED:
      return create(NoticeSchema, {
        ...base,
        kind: NoticeKind.JOB_FAILED,
        title: `${name} failed`,
        text: `The annotation of ${name} failed: ${job.failureReason || 'no reason was recorded'}.`,
      });
    case JobEventKind.ARCHIVED:
      return create(NoticeSchema, {
        ...base,
        kind: NoticeKind.RESULTS_ARCHIVED,
        title: `${name}: results moved to cold storage`,
        text: `The annotated files of ${name} moved to cold storage; the summary and log stay. Upgrade to premium and they are restored.`,
      });
    case JobEventKind.RESTORED:
      return create(NoticeSchema, {
        ...base,
        kind: NoticeKind.RESULTS_RESTORED,
        title: `${name}: results are back`,
        text: `The annotated files of ${name} are back from cold storage and can be downloaded again.`,
      });
    default:
      return null;
  }
}

/** The notice for an account event, or null for a kind that has none. */
export function accountNotice(e: AccountEvent): Notice | null {
  const userId = e.account?.userId;
  if (!userId) return null;
  const base = { eventId: e.eventId, userId, occurredAt: e.occurredAt, noticeId: noticeId(e.eventId, when(e)) };
  if (e.kind === AccountEventKind.UPGRADED) {
    return create(NoticeSchema, {
      ...base,
      kind: NoticeKind.PLAN_UPGRADED,
      title: 'You are on premium',
      text: 'Your plan is now premium: larger files are accepted, your results stay available, and any in cold storage are brought back.',
    });
  }
  if (e.kind === AccountEventKind.DOWNGRADED) {
    return create(NoticeSchema, {
      ...base,
      kind: NoticeKind.PLAN_DOWNGRADED,
      title: 'You are on the free plan',
      text: 'Your plan is now free: jobs you submit from now on use the free limits, and their results move to cold storage after a while.',
    });
  }
  return null;
}

export type EmailPreference = 'all' | 'failures' | 'none';

/**
 * The profile's two switches (a job is done, a job fails) as the three choices the profile offers.
 * Only older records can hold "done but not failures"; it reads as all, though failures still get
 * no email (wantsEmail follows the switches themselves).
 */
export function emailPreference(prefs: NotificationPrefs | undefined): EmailPreference {
  if (prefs?.emailOnCompletion ?? true) return 'all';
  return (prefs?.emailOnFailure ?? true) ? 'failures' : 'none';
}

/** Whether the user wants an email for this notice: failures by the failure switch, everything else by the other. */
export function wantsEmail(kind: NoticeKind, prefs: NotificationPrefs | undefined): boolean {
  return kind === NoticeKind.JOB_FAILED ? (prefs?.emailOnFailure ?? true) : (prefs?.emailOnCompletion ?? true);
}

const utc = (t: { seconds: bigint; nanos: number } | undefined) =>
  t
    ? `${timestampDate(t as Parameters<typeof timestampDate>[0])
        .toISOString()
        .replace('T', ' ')
        .slice(0, 16)} UTC`
    : undefined;

/** The job's facts an email lists under its sentence, as label and value. */
export function jobFacts(e: JobEvent): Array<[string, string]> {
  const job = e.job;
  if (!job) return [];
  const facts: Array<[string, string | undefined]> = [
    ['File', job.inputName],
    ['Genome build', buildName(job.genomeBuild)],
    ['Submitted', utc(job.createdAt)],
    ['Finished', utc(job.finishedAt)],
  ];
  if (e.kind === JobEventKind.COMPLETED && job.counts) {
    facts.push(['Variants', count(job.counts.records)]);
    facts.push(['Alleles', `${count(job.counts.alleles)} (${count(job.counts.snvs)} SNVs, ${count(job.counts.indels)} indels)`]);
  }
  if (e.kind === JobEventKind.FAILED) facts.push(['Reason', job.failureReason || 'none recorded']);
  if (e.kind === JobEventKind.ARCHIVED) facts.push(['Moved to cold storage', utc(job.archivedAt)]);
  return facts.filter((f): f is [string, string] => Boolean(f[1]));
}
