// The bare peers of `pnpm bench:system`, each in a process of its own like the service it stands
// beside: `fastify` answers GET / with a small JSON object (Fastify with no plugins, no logger);
// `grpc` serves the JobService descriptor on grpc-js through the same bridge the job service uses,
// answering GetJob and CreateJob from memory (no NATS, no checks). Prints `port <n>` once listening.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  create,
  RpcError,
  Status,
  GenomeBuild,
  JobSchema,
  JobService,
  JobStatus,
  addService,
  startGrpcServer,
  timestampFromDate,
} from '../packages/proto/src/index.ts';
import type { ServiceImpl } from '../packages/proto/src/index.ts';
import { createLogger, createRegistry, Histogram } from '../packages/runtime/src/index.ts';
import { RequestLog } from '../services/gateway/src/request-log.ts';
import { addSecurityHeaders } from '../services/gateway/src/security-headers.ts';
import { REPO_ROOT } from './report.ts';

const [kind, pagePath] = process.argv.slice(2);

interface FastifyRequestLike {
  method: string;
  headers: Record<string, string | undefined>;
  routeOptions: { url?: string };
}
interface FastifyLike {
  get(path: string, handler: (req: unknown, reply: { type(t: string): { send(b: Buffer): unknown } }) => unknown): void;
  addHook(name: string, hook: (...args: never[]) => unknown): void;
  register(plugin: unknown, opts?: object): unknown;
  listen(opts: { host: string; port: number }): Promise<string>;
  server: { address(): { port: number } | string | null };
}

if (kind === 'fastify') {
  // The gateway's own Fastify, not a copy that might be another version.
  const require = createRequire(join(REPO_ROOT, 'services', 'gateway', 'package.json'));
  const Fastify = require('fastify') as (opts: { logger: boolean }) => FastifyLike;
  const app = Fastify({ logger: false });
  app.get('/', () => ({ hello: 'world' }));
  // The same bytes as a page of the API's job list, when given: what sending that much costs alone.
  const page = pagePath ? readFileSync(pagePath) : undefined;
  if (page) app.get('/page', (_req, reply) => reply.type('application/json; charset=utf-8').send(page));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  process.stdout.write(`port ${typeof address === 'object' && address ? address.port : 0}\n`);
} else if (kind === 'fastify-plugins') {
  // The hello again, with the per-request machinery the gateway has on its read routes and nothing
  // of its own: rate limit by credential, cookies, the form parser, the security headers, and one
  // log line a request that also observes the duration histogram (the gateway's RequestLog). The
  // multipart parser is only on the gateway's upload routes. What Fastify with those costs alone.
  const require = createRequire(join(REPO_ROOT, 'services', 'gateway', 'package.json'));
  const Fastify = require('fastify') as (opts: object) => FastifyLike;
  const logger = createLogger({ service: 'peer' }).child({}, { redact: [] });
  const registry = createRegistry('peer');
  const duration = new Histogram({
    name: 'gas_peer_http_request_duration_seconds',
    help: 'x',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const app = Fastify({ loggerInstance: logger, logController: new RequestLog(logger, duration) });
  addSecurityHeaders(app as never, {});
  void app.register(require('@fastify/cookie'), { secret: 'a'.repeat(32) });
  void app.register(require('@fastify/formbody'));
  void app.register(require('@fastify/rate-limit'), {
    global: true,
    max: 1_000_000_000,
    timeWindow: 60_000,
    keyGenerator: (req: FastifyRequestLike) =>
      createHash('sha256')
        .update(req.headers.authorization ?? '')
        .digest('hex'),
  });
  app.get('/', () => ({ hello: 'world' }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  process.stdout.write(`port ${typeof address === 'object' && address ? address.port : 0}\n`);
} else if (kind === 'grpc') {
  const at = timestampFromDate(new Date());
  const stored = create(JobSchema, {
    jobId: '01JPEER0000000000000000000',
    userId: 'peer',
    status: JobStatus.COMPLETED,
    genomeBuild: GenomeBuild.GRCH37,
    inputName: 'free_1.vcf',
    inputKey: 'peer/x/free_1.vcf',
    createdAt: at,
    updatedAt: at,
  });
  const unimplemented = () => Promise.reject(new RpcError(Status.UNIMPLEMENTED, 'not in the peer'));
  const impl = Object.fromEntries(JobService.methods.map((m) => [m.localName, unimplemented])) as unknown as ServiceImpl<typeof JobService>;
  impl.getJob = async () => ({ job: stored });
  impl.createJob = async (req) => ({
    job: create(JobSchema, {
      jobId: req.jobId,
      userId: req.userId,
      status: JobStatus.PENDING,
      genomeBuild: req.genomeBuild,
      inputName: req.inputName,
      inputKey: req.inputKey,
      inputSize: req.inputSize,
      createdAt: at,
      updatedAt: at,
    }),
    created: true,
  });
  const server = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    serviceNames: [JobService.typeName],
    register: (s) => addService(s, JobService, impl),
  });
  process.stdout.write(`port ${server.port}\n`);
} else {
  process.stderr.write('usage: system-peers.ts fastify|grpc\n');
  process.exit(2);
}
