// Live job updates for the jobs and job pages: server-sent events fed by the job service's
// WatchJobs stream. Each event carries the job's row and status cell rendered on the server, so
// the page script only swaps markup in and user data is escaped in one place.
//
// A browser holds one stream for all its tabs (static/live-worker.js, a SharedWorker, or a leader
// tab): browsers allow six HTTP/1.1 connections per host, so a stream per tab left the seventh tab
// unable to load. Because one stream feeds many tabs, it opens with a `hello` naming whose stream
// it is (the liveKey every page also carries), and it ends with `signed-out` as soon as the
// credentials it was opened with stop holding, so it never outlives a sign-out or a session.
//
// A job the user deletes (here, in another tab or on another device) comes as `job-deleted` with
// its id only, so the list drops its row and its open page stops offering downloads that are gone.
//
// The same stream carries the user's in-app notices from the notification service's WatchNotices:
// `notice` for a new one (the pages show a toast), `unread` when only the count moved (a read mark,
// an email status). That service may be away or restart: the watch is opened again with backoff
// while the stream lasts, and meanwhile the stream carries job events only.
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { Registry } from '@gas/runtime';
import { Counter, Gauge } from '@gas/runtime';
import { JobStatus } from '@gas/proto';
import type { Job } from '@gas/proto';
import { jobView } from '../job-view.ts';
import { queuePosition, queuePositions } from '../queue-position.ts';
import { jobRow } from '../web/pages/jobs-page.ts';
import { statusCell } from '../web/pages/job-status.ts';
import { liveKey } from '../web/viewer.ts';
import { isNewNotice, liveNotice, noteNoticeOutage, unreadNotices } from '../notice-view.ts';
import type { WebDeps } from './web-deps.ts';

const HEARTBEAT_MS = 15_000;
/** How soon a sign-out, an expired session or a revoked token ends an open stream. */
const CREDENTIAL_CHECK_MS = 5_000;
/** Queue positions move when other users' jobs start, which WatchJobs does not report. */
const QUEUE_REFRESH_MS = 3_000;
const WATCH_DEADLINE_MS = 6 * 3600_000;
const NOTICE_RETRY_FIRST_MS = 1_000;
const NOTICE_RETRY_MAX_MS = 30_000;

export function registerLiveRoutes(app: FastifyInstance, deps: WebDeps, registry: Registry): void {
  const open = new Gauge({ name: 'gas_gateway_live_streams', help: 'Live update streams (/jobs/events) open now', registers: [registry] });
  const opened = new Counter({
    name: 'gas_gateway_live_streams_opened_total',
    help: 'Live update streams (/jobs/events) opened',
    registers: [registry],
  });
  const ended = new Counter({
    name: 'gas_gateway_live_streams_signed_out_total',
    help: 'Live update streams ended because their session or token no longer held',
    registers: [registry],
  });

  app.get('/jobs/events', async (req, reply) => {
    const userId = await deps.authn.apiUser(req);
    const identity = (await deps.authn.identify(req))!;
    reply.hijack();
    opened.inc();
    open.inc();
    const res = reply.raw;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
      'X-Content-Type-Options': 'nosniff',
    });
    res.write('retry: 3000\n\n');
    res.write(`event: hello\ndata: ${JSON.stringify({ account: liveKey(userId) })}\n\n`);
    const ac = new AbortController();
    let stopped = false;
    const pending = new Map<string, Job>();
    const lastPosition = new Map<string, number>();

    const send = (job: Job, position?: number) => {
      // Nothing more once the credentials stopped holding (a position lookup may finish after).
      if (stopped) return;
      const view = jobView(job, { queuePosition: position });
      // resultState: the job page reloads when the annotated files move to or from cold storage.
      const data = {
        id: job.jobId,
        status: view.status,
        resultState: view.result_state,
        row: jobRow(view).text,
        statusHtml: statusCell(view).text,
      };
      res.write(`event: job\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const positionOf = (job: Job) => queuePosition(deps.jobs, job);

    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    // The places of all the user's waiting jobs in one call per refresh, not one call per job.
    const queue = setInterval(() => {
      if (pending.size === 0) return;
      queuePositions(deps.jobs, userId, [...pending.values()]).then(
        (positions) => {
          for (const [jobId, p] of positions) {
            const job = pending.get(jobId);
            if (job && p !== lastPosition.get(jobId)) {
              lastPosition.set(jobId, p);
              send(job, p);
            }
          }
        },
        () => undefined,
      );
    }, QUEUE_REFRESH_MS);
    const credentials = setInterval(() => {
      deps.authn.stillValid(req, identity).then(
        (valid) => {
          if (valid || ac.signal.aborted) return;
          ended.inc();
          res.write('event: signed-out\ndata: {}\n\n');
          stop();
        },
        // NATS away: the stream goes on; the next check decides.
        (err: unknown) => req.log.warn({ err }, 'live stream credential check failed'),
      );
    }, CREDENTIAL_CHECK_MS);
    const stop = () => {
      if (stopped) return;
      stopped = true;
      open.dec();
      clearInterval(heartbeat);
      clearInterval(queue);
      clearInterval(credentials);
      ac.abort();
    };
    // The client may have gone while the credentials were being checked, before this listener
    // existed: its 'close' has passed, so the stream would otherwise stay open (watch, timers) for good.
    res.on('close', stop);
    if (res.destroyed || req.raw.socket.destroyed) stop();

    const event = (name: string, data: unknown) => {
      if (!stopped) res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    void (async () => {
      // Announced ids: a change to one of them (its email status) moves the badge, not another toast.
      const announced = new Set<string>();
      let retryMs = NOTICE_RETRY_FIRST_MS;
      let reopened = false;
      while (!ac.signal.aborted) {
        try {
          if (reopened) {
            // Notices and reads while the watch was away: the count catches up; their toasts are gone.
            const unread = await unreadNotices(deps.notices, userId, req.log);
            if (unread !== undefined) event('unread', { unread });
          }
          // The client's signal does not cancel a call started after it aborted: never start one then.
          if (ac.signal.aborted) break;
          for await (const { notice, unreadCount } of deps.notices.watchNotices(
            { userId },
            { deadlineMs: WATCH_DEADLINE_MS, signal: ac.signal },
          )) {
            retryMs = NOTICE_RETRY_FIRST_MS;
            if (notice && isNewNotice(notice) && !announced.has(notice.noticeId)) {
              announced.add(notice.noticeId);
              event('notice', liveNotice(notice, unreadCount));
            } else event('unread', { unread: unreadCount });
          }
        } catch (err) {
          if (!ac.signal.aborted) noteNoticeOutage(req.log, err, 'notice watch');
        }
        if (ac.signal.aborted) break;
        await sleep(retryMs, undefined, { signal: ac.signal }).catch(() => undefined);
        retryMs = Math.min(retryMs * 2, NOTICE_RETRY_MAX_MS);
        reopened = true;
      }
    })();

    try {
      // A client gone before this point has aborted the signal, which would not cancel the call.
      if (stopped) return;
      for await (const { job, deleted } of deps.jobs.watchJobs({ userId }, { deadlineMs: WATCH_DEADLINE_MS, signal: ac.signal })) {
        if (!job) continue;
        // Only the id: the record is gone, and the pages just drop the job (its row, its page's
        // downloads). The watch also replays the user's earlier deletions when it opens, so a page
        // that missed one while its stream was away catches up on reconnect.
        if (deleted) {
          pending.delete(job.jobId);
          lastPosition.delete(job.jobId);
          event('job-deleted', { id: job.jobId });
          continue;
        }
        if (job.status === JobStatus.PENDING) pending.set(job.jobId, job);
        else pending.delete(job.jobId);
        const position = job.status === JobStatus.PENDING ? await positionOf(job).catch(() => undefined) : undefined;
        if (position !== undefined) lastPosition.set(job.jobId, position);
        send(job, position);
      }
    } catch (err) {
      if (!ac.signal.aborted) req.log.warn({ err }, 'job watch ended');
    } finally {
      stop();
      // The browser reconnects (retry above) and gets the current state again.
      res.end();
    }
  });
}
