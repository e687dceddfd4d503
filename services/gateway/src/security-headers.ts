import type { ServerResponse } from 'node:http';
import helmetMiddleware from 'helmet';
import type { FastifyInstance } from 'fastify';
import type { FastifyHelmetOptions } from '@fastify/helmet';

type HelmetOptions = Omit<FastifyHelmetOptions, 'global' | 'enableCSPNonces'>;
type Middleware = (req: unknown, res: Pick<ServerResponse, 'setHeader' | 'removeHeader'>, next: (err?: unknown) => void) => void;

// helmet itself (the version @fastify/helmet uses), so the bundler sees the import.
const helmet = helmetMiddleware as unknown as (o: HelmetOptions) => Middleware;

/** The headers helmet sets for these options: the same for every request, as no nonces are asked for. */
export function securityHeaders(options: HelmetOptions): [string, string][] {
  const headers: [string, string][] = [];
  helmet(options)(
    {},
    {
      setHeader(name: string, value: string | number | readonly string[]) {
        headers.push([name, String(value)]);
        return this as unknown as ServerResponse;
      },
      removeHeader() {},
    },
    (err) => {
      if (err) throw err as Error;
    },
  );
  return headers;
}

/**
 * Sets helmet's headers on every answer, computed once: @fastify/helmet built the helmet
 * middleware again for every request (the whole CSP included). They go on the raw response, as
 * helmet puts them, so hijacked replies (the live updates' event stream) carry them too. Returns
 * the function that sets them, for answers that skip the hooks.
 */
export function addSecurityHeaders(app: FastifyInstance, options: HelmetOptions): (res: Pick<ServerResponse, 'setHeader'>) => void {
  const headers = securityHeaders(options);
  const set = (res: Pick<ServerResponse, 'setHeader'>): void => {
    for (const [name, value] of headers) res.setHeader(name, value);
  };
  app.addHook('onRequest', (_req, reply, done) => {
    set(reply.raw);
    done();
  });
  // Answers Fastify gives before routing (a malformed address) run no onRequest hook: they call this.
  return set;
}
