// Live job updates for the jobs and job pages: server-sent events fed by the job service's
// WatchJobs stream. Each event carries the job's row and status cell rendered on the server, so
// the page script only swaps markup in and user data is escaped in one place.
import type { FastifyInstance } from 'fastify';
import { JobStatus } from '@gas/proto';
import type { Job } from '@gas/proto';
import { jobView } from '../job-view.ts';
import { queuePosition } from '../queue-position.ts';
import { jobRow } from '../web/pages/jobs-page.ts';
import { statusCell } from '../web/pages/job-status.ts';
import type { WebDeps } from './web-deps.ts';

const HEARTBEAT_MS = 15_000;
/** Queue positions move when other users' jobs start, which WatchJobs does not report. */
const QUEUE_REFRESH_MS = 3_000;
const WATCH_DEADLINE_MS = 6 * 3600_000;

export function registerLiveRoutes(app: FastifyInstance, deps: WebDeps): void {
  app.get('/jobs/events', async (req, reply) => {
    const userId = await deps.authn.apiUser(req);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
      'X-Content-Type-Options': 'nosniff',
    });
    res.write('retry: 3000\n\n');
    const ac = new AbortController();
    const pending = new Map<string, Job>();
    const lastPosition = new Map<string, number>();

    const send = (job: Job, position?: number) => {
      const view = jobView(job, { queuePosition: position });
      const data = { id: job.jobId, status: view.status, row: jobRow(view).text, statusHtml: statusCell(view).text };
      res.write(`event: job\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const positionOf = (job: Job) => queuePosition(deps.jobs, job);

    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    const queue = setInterval(() => {
      for (const job of pending.values()) {
        positionOf(job).then(
          (p) => {
            if (p !== undefined && p !== lastPosition.get(job.jobId) && pending.has(job.jobId)) {
              lastPosition.set(job.jobId, p);
              send(job, p);
            }
          },
          () => undefined,
        );
      }
    }, QUEUE_REFRESH_MS);
    const stop = () => {
      clearInterval(heartbeat);
      clearInterval(queue);
      ac.abort();
    };
    req.raw.on('close', stop);

    try {
      for await (const { job } of deps.jobs.watchJobs({ userId }, { deadlineMs: WATCH_DEADLINE_MS, signal: ac.signal })) {
        if (!job) continue;
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
