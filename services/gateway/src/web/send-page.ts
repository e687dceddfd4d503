import type { FastifyReply } from 'fastify';
import type { Html } from './html.ts';

/** A page for a signed-in user: never stored by the browser or a proxy. */
export function sendPage(reply: FastifyReply, body: Html, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').header('Cache-Control', 'private, no-store').send(body.text);
}
