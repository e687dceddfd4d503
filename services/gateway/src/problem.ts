import type { FastifyReply } from 'fastify';
import { Status } from '@gas/proto';
import type { RpcError } from '@gas/proto';

/** An error answer as application/problem+json (RFC 9457). */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly headers: Record<string, string> = {},
    /** RFC 9457 extension members for programs (e.g. `result_state`); each must be in api-schemas.ts's problem schema, which filters the answer. */
    readonly extensions: Record<string, string | number> = {},
  ) {
    super(detail ?? title);
  }
}

/** A problem's detail as a sentence for a page: capitalised, ending in a full stop. */
export function asSentence(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? '' : '.');
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  for (const [k, v] of Object.entries(p.headers)) reply.header(k, v);
  return reply
    .code(p.status)
    .type('application/problem+json')
    .send({ type: 'about:blank', title: p.title, status: p.status, ...(p.detail ? { detail: p.detail } : {}), ...p.extensions });
}

const httpOf: Partial<Record<Status, [number, string]>> = {
  [Status.INVALID_ARGUMENT]: [400, 'Bad Request'],
  [Status.NOT_FOUND]: [404, 'Not Found'],
  [Status.ALREADY_EXISTS]: [409, 'Conflict'],
  [Status.FAILED_PRECONDITION]: [409, 'Conflict'],
  [Status.ABORTED]: [409, 'Conflict'],
  [Status.PERMISSION_DENIED]: [403, 'Forbidden'],
  [Status.RESOURCE_EXHAUSTED]: [429, 'Too Many Requests'],
  [Status.UNAVAILABLE]: [503, 'Service Unavailable'],
  [Status.DEADLINE_EXCEEDED]: [503, 'Service Unavailable'],
};

export function problemFromRpc(err: RpcError): Problem {
  const [status, title] = httpOf[err.code] ?? [500, 'Internal Server Error'];
  // Internal details stay in the logs.
  return new Problem(status, title, status >= 500 ? 'the job service could not answer; try again shortly' : err.message);
}
