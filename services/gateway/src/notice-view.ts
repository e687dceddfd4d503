// The user's in-app notices as the gateway shows them: the header's unread count, the notices page,
// the job page's email callout and the live stream's events. They come from the notification
// service, which may be away: pages then render without them and the live stream carries none,
// rather than failing, and readiness does not depend on it (notices are a convenience; jobs are not).
import { EmailStatus, timestampDate } from '@gas/proto';
import type { Notice, NotificationService, ServiceClient } from '@gas/proto';
import { ULID } from './job-view.ts';

export type NoticeClient = ServiceClient<typeof NotificationService>;

/** The count decorates every page: a service that hangs must not hold the page for the full RPC deadline. */
export const NOTICE_LOOKUP_DEADLINE_MS = 2000;
/** What the notices page lists. */
export const NOTICES_PAGE_SIZE = 100;

interface WarnLog {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

const OUTAGE_LOG_EVERY_MS = 60_000;
let lastOutageLog = -Infinity;

/**
 * Logs that the notification service did not answer: at warn once a minute, at debug otherwise,
 * since every page view of every user would repeat it while the service is away.
 */
export function noteNoticeOutage(log: WarnLog, err: unknown, what: string): void {
  const now = Date.now();
  if (now - lastOutageLog >= OUTAGE_LOG_EVERY_MS) {
    lastOutageLog = now;
    log.warn({ err }, `${what}: the notification service did not answer; going on without notices`);
  } else log.debug({ err }, `${what}: the notification service did not answer`);
}

/** The user's unread count, or undefined (no badge) when the notification service does not answer. */
export async function unreadNotices(client: NoticeClient, userId: string, log: WarnLog): Promise<number | undefined> {
  try {
    return (await client.listNotices({ userId, pageSize: 1 }, { deadlineMs: NOTICE_LOOKUP_DEADLINE_MS })).unreadCount;
  } catch (err) {
    noteNoticeOutage(log, err, 'unread count');
    return undefined;
  }
}

/** The job's notices and the user's unread count (one call for both), or undefined when the service does not answer. */
export async function jobNotices(
  client: NoticeClient,
  userId: string,
  jobId: string,
  log: WarnLog,
): Promise<{ notices: Notice[]; unread: number } | undefined> {
  try {
    const res = await client.listNotices({ userId, jobId, pageSize: 20 }, { deadlineMs: NOTICE_LOOKUP_DEADLINE_MS });
    return { notices: res.notices, unread: res.unreadCount };
  } catch (err) {
    noteNoticeOutage(log, err, 'job notices');
    return undefined;
  }
}

/** Where a notice leads: its job, or the notices page for account notices. */
export function noticeLink(n: Notice): string {
  return n.jobId && ULID.test(n.jobId) ? `/jobs/${n.jobId}` : '/notices';
}

const withoutFinalStop = (s: string) => s.trim().replace(/[.\s]+$/, '');

/** What became of the notice's email, for people. */
export function emailWords(n: Notice): string {
  const detail = withoutFinalStop(n.emailDetail);
  switch (n.emailStatus) {
    case EmailStatus.SENT:
      return 'Emailed';
    case EmailStatus.NOT_WANTED:
      return 'Not emailed (your preference)';
    case EmailStatus.REFUSED:
      return detail ? `The email was refused: ${detail}` : 'The email was refused';
    case EmailStatus.GAVE_UP:
      return detail ? `The email could not be sent: ${detail}` : 'The email could not be sent';
    case EmailStatus.NO_ADDRESS:
      return 'No email address';
    default:
      return 'Email being sent';
  }
}

/** Whether the notice's email failed for good: the job page says so. */
export function emailFailed(n: Notice): boolean {
  return n.emailStatus === EmailStatus.REFUSED || n.emailStatus === EmailStatus.GAVE_UP;
}

/** The job page's sentence about emails that failed for this job, one per distinct reason. */
export function emailProblems(notices: Notice[]): string[] {
  const reasons = notices.filter(emailFailed).map((n) => withoutFinalStop(n.emailDetail) || 'the mail server did not take it');
  return [...new Set(reasons)];
}

export interface NoticeView {
  id: string;
  title: string;
  text: string;
  occurred_at: string | null;
  link: string;
  email: string;
  email_failed: boolean;
  read: boolean;
}

export function noticeView(n: Notice): NoticeView {
  return {
    id: n.noticeId,
    title: n.title,
    text: n.text,
    occurred_at: n.occurredAt ? timestampDate(n.occurredAt).toISOString() : null,
    link: noticeLink(n),
    email: emailWords(n),
    email_failed: emailFailed(n),
    read: n.read,
  };
}

/**
 * A notice is new when the notification service has not yet recorded what became of its email: it
 * stores a notice first and its email status after, so a notice with a status is one that changed
 * (the badge may move; no toast). A stream remembers the ids it announced, for the same reason.
 */
export function isNewNotice(n: Notice): boolean {
  return n.emailStatus === EmailStatus.UNSPECIFIED || n.emailStatus === EmailStatus.PENDING;
}

/** The live stream's `notice` event: plain text the page script puts in a toast with textContent. */
export function liveNotice(n: Notice, unread: number): { id: string; title: string; text: string; link: string; unread: number } {
  return { id: n.noticeId, title: n.title, text: n.text, link: noticeLink(n), unread };
}
