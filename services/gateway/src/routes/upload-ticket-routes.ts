import type { FastifyInstance, RouteShorthandOptions } from 'fastify';
import { jobView } from '../job-view.ts';
import type { UploadTickets } from '../upload-tickets.ts';
import { API_SECURITY, COMMON_PROBLEMS, answer, problems, ticketRedeemBody, ticketRequestBody } from './api-schemas.ts';
import type { WebDeps } from './web-deps.ts';

const TICKET = { $ref: 'UploadTicket#' };
const JOB = { $ref: 'Job#' };

// Bodies are validated by the handlers (with their own messages); the schemas document them.
const ISSUE: RouteShorthandOptions = {
  attachValidation: true,
  schema: {
    tags: ['Jobs'],
    summary: 'Ask how to upload a file (an upload ticket)',
    description:
      'With an S3 store the answer is a ticket with presigned URLs: the client sends the file straight to storage, then redeems the ticket. ' +
      'With the filesystem store the answer says to POST the file to /api/v1/jobs. The size is checked against the plan first.',
    security: API_SECURITY,
    body: ticketRequestBody,
    response: {
      201: answer('A ticket with upload URLs.', { 'application/json': TICKET }),
      200: answer('This service takes the file itself: POST it to `url`.', { 'application/json': TICKET }),
      ...problems({
        ...COMMON_PROBLEMS,
        400: 'A missing file name, a size below 1, or a bad genome_build.',
        403: 'A session request without its X-CSRF-Token.',
        413: "The file is larger than your plan's limit.",
      }),
    },
  },
};

const REDEEM: RouteShorthandOptions = {
  attachValidation: true,
  schema: {
    tags: ['Jobs'],
    summary: 'Create the job from a file uploaded on a ticket',
    description:
      'Checks what arrived under the ticket (size, that it is a VCF) and creates the job; redeeming again returns the same job with 200.',
    security: API_SECURITY,
    body: ticketRedeemBody,
    response: {
      201: answer('The job was created.', { 'application/json': JOB }),
      200: answer('The ticket was redeemed before: its job.', { 'application/json': JOB }),
      ...problems({
        ...COMMON_PROBLEMS,
        400: 'A ticket that is altered, expired or not yours, missing parts, or a file that is not a VCF (removed).',
        403: 'A session request without its X-CSRF-Token.',
        409: 'Nothing has arrived under the ticket yet, or the store takes no direct uploads.',
        413: "What arrived is larger than your plan's limit (removed).",
      }),
    },
  },
};

/** Direct uploads to object storage: a ticket first, the file to the bucket, then the job. */
export function registerUploadTicketRoutes(app: FastifyInstance, deps: WebDeps, tickets: UploadTickets): void {
  app.post('/api/v1/uploads', ISSUE, async (req, reply) => {
    const userId = await deps.authn.apiUser(req);
    const issued = await tickets.issue(userId, req.body ?? {});
    return reply.code(issued.method === 'stream' ? 200 : 201).send(issued);
  });

  app.post('/api/v1/uploads/complete', REDEEM, async (req, reply) => {
    const userId = await deps.authn.apiUser(req);
    const { job, created } = await tickets.redeem(userId, req.body ?? {});
    return reply
      .code(created ? 201 : 200)
      .header('Location', `/api/v1/jobs/${job.jobId}`)
      .send(jobView(job));
  });
}
