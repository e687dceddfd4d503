// The user's notices page and its read mark. Opening the page marks what it shows as read (the page
// script posts, with the CSRF header); the "Mark all read" button does the same without script.
import type { FastifyInstance } from 'fastify';
import { ULID } from '../job-view.ts';
import { NOTICES_PAGE_SIZE, noteNoticeOutage, noticeView } from '../notice-view.ts';
import type { NoticeView } from '../notice-view.ts';
import { Problem } from '../problem.ts';
import { noticesPage } from '../web/pages/notices-page.ts';
import { sendPage } from '../web/send-page.ts';
import { signedIn } from '../web/viewer.ts';
import type { WebDeps } from './web-deps.ts';

export function registerNoticeRoutes(app: FastifyInstance, deps: WebDeps): void {
  app.get('/notices', async (req, reply) => {
    // The list answers the unread count too: one call for the page and its header.
    const who = await signedIn(req, reply, deps, { unreadNotices: false });
    if (!who) return reply;
    let notices: NoticeView[] | null = null;
    let unread: number | undefined;
    try {
      const res = await deps.notices.listNotices({ userId: who.userId, pageSize: NOTICES_PAGE_SIZE });
      notices = res.notices.map(noticeView);
      unread = res.unreadCount;
    } catch (err) {
      noteNoticeOutage(req.log, err, 'notices page');
    }
    return sendPage(
      reply,
      noticesPage({
        viewer: { ...who.viewer, unreadNotices: unread },
        notices,
        notice: (req.query as { read?: string }).read ? 'Your notices are marked read.' : null,
      }),
      notices ? 200 : 503,
    );
  });

  // Marks notices read up to `up_to` (the newest the page showed, so one that came after it stays
  // unread), or all of them. The page script asks for JSON and gets the new count for the badge.
  app.post('/notices/read', async (req, reply) => {
    const who = await signedIn(req, reply, deps);
    if (!who) return reply;
    deps.authn.checkCsrf(req, who.session);
    const upTo = (req.body as { up_to?: string } | undefined)?.up_to ?? '';
    if (upTo && !ULID.test(upTo)) throw new Problem(400, 'Bad Request', 'up_to is not a notice id');
    let unread: number;
    try {
      unread = (await deps.notices.markNoticesRead({ userId: who.userId, upToNoticeId: upTo })).unreadCount;
    } catch (err) {
      req.log.warn({ err }, 'marking notices read failed');
      throw new Problem(503, 'Service Unavailable', 'notices cannot be marked read right now; try again shortly');
    }
    if (req.headers.accept?.includes('application/json')) return reply.header('Cache-Control', 'no-store').send({ unread });
    return reply.redirect('/notices?read=1', 303);
  });
}
