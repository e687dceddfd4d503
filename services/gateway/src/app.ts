import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import type { Logger, Registry } from '@gas/runtime';
import { Histogram } from '@gas/runtime';
import { RpcError, JobService } from '@gas/proto';
import type { ServiceClient } from '@gas/proto';
import type { BlobStore } from '@gas/storage';
import { Problem, problemFromRpc, sendProblem } from './problem.ts';
import { ApiTokenAuth } from './api-token-auth.ts';
import { registerJobRoutes } from './jobs-routes.ts';

export interface GatewayDeps {
  jobs: ServiceClient<typeof JobService>;
  store: BlobStore;
  logger: Logger;
  registry: Registry;
  apiTokens: string[];
  maxUploadBytes: number;
}

/** Builds the HTTP app without listening, so tests can use `inject` or listen on port 0. */
export function buildGateway(deps: GatewayDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    disableRequestLogging: false,
    bodyLimit: 1024 * 1024,
    requestIdHeader: 'x-request-id',
    trustProxy: false,
  });
  const duration = new Histogram({
    name: 'gas_gateway_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [deps.registry],
  });
  app.addHook('onResponse', async (req, reply) => {
    duration.observe({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  app.addHook('onSend', async (_req, reply) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'no-referrer');
  });
  void app.register(multipart, { limits: { fileSize: deps.maxUploadBytes + 1, files: 1, fields: 10, fieldSize: 1024 } });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof Problem) return sendProblem(reply, err);
    if (err instanceof RpcError) {
      const p = problemFromRpc(err);
      if (p.status >= 500) req.log.error({ err }, 'job service call failed');
      return sendProblem(reply, p);
    }
    const e = err as { statusCode?: number; code?: string; message: string };
    if (e.code === 'FST_REQ_FILE_TOO_LARGE') {
      return sendProblem(reply, new Problem(413, 'Content Too Large', `the upload is larger than the ${deps.maxUploadBytes}-byte limit`));
    }
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      return sendProblem(reply, new Problem(e.statusCode, 'Bad Request', e.message));
    }
    req.log.error({ err }, 'request failed');
    return sendProblem(reply, new Problem(500, 'Internal Server Error', 'something went wrong on our side; the request id is ' + req.id));
  });
  app.setNotFoundHandler((req, reply) => sendProblem(reply, new Problem(404, 'Not Found', `no route ${req.method} ${req.url.split('?')[0]}`)));

  const auth = new ApiTokenAuth(deps.apiTokens);
  registerJobRoutes(app, { jobs: deps.jobs, store: deps.store, auth, logger: deps.logger, maxUploadBytes: deps.maxUploadBytes });
  app.get('/', async (_req, reply) =>
    reply.type('text/plain').send('GAS, the Genomics Annotation Service. JSON API under /api/v1 (Authorization: Bearer <token>).\n'),
  );
  return app;
}
