// The request's logger is made only when something logs through it: a route that logs must still
// get its line with the request id, and levels that are off must stay off.
import t from 'tap';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import type { FastifyBaseLogger } from 'fastify';
import { createLogger } from '@gas/runtime';
import type { Logger } from '@gas/runtime';
import { LazyRequestLogger, RequestLog } from '../src/request-log.ts';

function app(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  const logger = createLogger({ service: 'test', level, destination });
  const fastify = Fastify({
    loggerInstance: logger,
    logController: new RequestLog(logger),
    requestIdHeader: 'x-request-id',
    childLoggerFactory: (parent, bindings, options) =>
      new LazyRequestLogger(parent as Logger, bindings, options) as unknown as FastifyBaseLogger,
  });
  fastify.get('/quiet', async () => 'ok');
  fastify.get('/talks', async (req) => {
    req.log.debug({ step: 1 }, 'a debug line');
    req.log.info({ step: 2, token: 'secret-token' }, 'a route line');
    return 'ok';
  });
  return { fastify, lines };
}

t.test("a route's own lines carry the request id, redacted as before; a quiet route writes only the request line", async (t) => {
  const { fastify, lines } = app('info');
  t.teardown(() => fastify.close());
  await fastify.inject({ url: '/quiet', headers: { 'x-request-id': 'r-quiet' } });
  t.strictSame(
    lines.map((l) => l.msg),
    ['request completed'],
  );
  await fastify.inject({ url: '/talks', headers: { 'x-request-id': 'r-talks' } });
  const line = lines.find((l) => l.msg === 'a route line');
  t.equal(line?.reqId, 'r-talks');
  t.equal(line?.step, 2);
  t.equal(line?.token, '[redacted]', "the child keeps the parent's redaction");
  t.notOk(
    lines.some((l) => l.msg === 'a debug line'),
    'debug is off at info',
  );
});

t.test('a level the parent enables reaches the output', async (t) => {
  const { fastify, lines } = app('debug');
  t.teardown(() => fastify.close());
  await fastify.inject({ url: '/talks' });
  t.ok(lines.some((l) => l.msg === 'a debug line' && l.step === 1));
});
