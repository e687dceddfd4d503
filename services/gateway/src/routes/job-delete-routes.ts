// Deleting a job from the web pages: GET /jobs/:id/delete asks, POST /jobs/:id/delete deletes
// (with the session's CSRF token) and goes back to the job list with a notice. The API's
// DELETE /api/v1/jobs/:id is in jobs-routes.ts; both go through deleteJob below.
import type { FastifyInstance } from 'fastify';
import { RpcError, Status } from '@gas/proto';
import type { Job, JobService, ServiceClient } from '@gas/proto';
import { jobView, ULID } from '../job-view.ts';
import type { JobCache } from '../job-cache.ts';
import { Problem, asSentence } from '../problem.ts';
import { deleteJobPage } from '../web/pages/delete-job-page.ts';
import { sendPage } from '../web/send-page.ts';
import { signedIn } from '../web/viewer.ts';
import type { WebDeps } from './web-deps.ts';

/**
 * Deletes the user's job (the job service refuses one still being written to, and answers
 * NOT_FOUND for another user's) and takes it out of this gateway's cache at once; other gateways
 * hear of it from their WatchJobs streams. The files go moments later (the archive service).
 */
export async function deleteJob(
  deps: { jobs: ServiceClient<typeof JobService>; jobCache?: JobCache },
  userId: string,
  jobId: string,
): Promise<Job> {
  const { job } = await deps.jobs.deleteJob({ userId, jobId });
  deps.jobCache?.forget(userId, jobId);
  return job!;
}

export function registerJobDeleteRoutes(app: FastifyInstance, deps: WebDeps): void {
  const jobIdOf = (params: unknown): string => {
    const id = (params as { id: string }).id;
    if (!ULID.test(id)) throw new Problem(404, 'Not Found', 'There is no such job.');
    return id;
  };

  app.get('/jobs/:id/delete', async (req, reply) => {
    const who = await signedIn(req, reply, deps);
    if (!who) return reply;
    const { job } = await deps.jobs.getJob({ userId: who.userId, jobId: jobIdOf(req.params) });
    return sendPage(reply, deleteJobPage({ viewer: who.viewer, job: jobView(job!) }));
  });

  app.post('/jobs/:id/delete', async (req, reply) => {
    const who = await signedIn(req, reply, deps);
    if (!who) return reply;
    deps.authn.checkCsrf(req, who.session);
    const jobId = jobIdOf(req.params);
    try {
      await deleteJob(deps, who.userId, jobId);
    } catch (err) {
      // Queued, running or restoring: the same page, saying why and what to do.
      if (!(err instanceof RpcError) || err.code !== Status.FAILED_PRECONDITION) throw err;
      const { job } = await deps.jobs.getJob({ userId: who.userId, jobId });
      return sendPage(reply, deleteJobPage({ viewer: who.viewer, job: jobView(job!), error: asSentence(err.message) }), 409);
    }
    return reply.redirect(`/jobs?deleted=${jobId}`, 303);
  });
}
