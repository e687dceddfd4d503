// gas.v1.NotificationService: the user's in-app notices for the gateway (list, read mark, live feed).
import { create, rpcErrors, NoticeSchema } from '@gas/proto';
import type { Notice, NotificationService, ServiceImpl } from '@gas/proto';
import { USER_ID } from './notice-store.ts';
import type { NoticeStore } from './notice-store.ts';

const NOTICE_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

function checkUser(userId: string): void {
  if (!USER_ID.test(userId)) throw rpcErrors.invalidArgument('user_id must be 1-64 characters of A-Z a-z 0-9 _ -');
}

export function createNotificationService(deps: { notices: NoticeStore; stopping?: AbortSignal }): ServiceImpl<typeof NotificationService> {
  const unread = (ids: string[], mark: string) => ids.filter((id) => id > mark).length;

  return {
    async listNotices(req) {
      checkUser(req.userId);
      const size = Math.min(Math.max(req.pageSize || 20, 1), 100);
      const [ids, mark] = await Promise.all([deps.notices.ids(req.userId), deps.notices.readMark(req.userId)]);
      const notices: Notice[] = [];
      // Listed, then gone before it was read: its job was deleted meanwhile, so it is not counted either.
      let gone = 0;
      for (const id of ids) {
        if (notices.length >= size) break;
        const n = await deps.notices.get(req.userId, id);
        if (!n && id > mark) gone++;
        if (!n || (req.jobId && n.jobId !== req.jobId)) continue;
        notices.push(create(NoticeSchema, { ...n, read: id <= mark }));
      }
      return { notices, unreadCount: unread(ids, mark) - gone };
    },

    async markNoticesRead(req) {
      checkUser(req.userId);
      if (req.upToNoticeId && !NOTICE_ID.test(req.upToNoticeId)) throw rpcErrors.invalidArgument('up_to_notice_id is not a notice id');
      const ids = await deps.notices.ids(req.userId);
      const upTo = req.upToNoticeId || ids[0] || '';
      if (upTo) await deps.notices.markRead(req.userId, upTo);
      return { unreadCount: unread(ids, await deps.notices.readMark(req.userId)) };
    },

    async *watchNotices(req, ctx) {
      checkUser(req.userId);
      const signal = deps.stopping ? AbortSignal.any([ctx.signal, deps.stopping]) : ctx.signal;
      for await (const changed of deps.notices.watch(req.userId, signal)) {
        const [ids, mark] = await Promise.all([deps.notices.ids(req.userId), deps.notices.readMark(req.userId)]);
        const notice = changed ? create(NoticeSchema, { ...changed, read: changed.noticeId <= mark }) : undefined;
        yield { notice, unreadCount: unread(ids, mark) };
      }
    },
  };
}
