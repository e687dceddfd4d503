import t from 'tap';
import { parseLogLine } from '@gas/testing';
import type { LogLine } from '@gas/testing';
import { Writable } from 'node:stream';
import { createLogger } from '../src/index.ts';

/** The value at a path of nested objects, or undefined where the path breaks off. */
function at(value: unknown, ...path: string[]): unknown {
  let v = value;
  for (const key of path) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}

function capture(): { stream: Writable; lines: () => LogLine[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return {
    stream,
    lines: () => chunks.join('').split('\n').filter(Boolean).map(parseLogLine),
  };
}

t.test('writes JSON with service, ISO time and level name', async (t) => {
  const out = capture();
  const log = createLogger({ service: 'job', destination: out.stream });
  log.info({ jobId: 'j1' }, 'hello');
  log.debug('hidden at info level');
  const lines = out.lines();
  t.equal(lines.length, 1);
  const [line] = lines;
  t.equal(line?.service, 'job');
  t.equal(line?.msg, 'hello');
  t.equal(line?.jobId, 'j1');
  t.equal(line?.level, 'info');
  t.match(String(line?.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  t.equal(line?.pid, undefined);
});

t.test('honours the level option and child bindings', async (t) => {
  const out = capture();
  const log = createLogger({ service: 'annotator', level: 'debug', destination: out.stream });
  log.child({ requestId: 'r9' }).debug('dbg');
  const [line] = out.lines();
  t.equal(line?.level, 'debug');
  t.equal(line?.requestId, 'r9');
  t.equal(line?.service, 'annotator');
});

t.test('redacts secrets at the top level and one and two levels deep', async (t) => {
  const out = capture();
  const log = createLogger({ service: 'gateway', destination: out.stream });
  log.info(
    {
      password: 'p0',
      token: 't0',
      user: { name: 'ann', password: 'p1', apiToken: 'a1' },
      s3: { creds: { secretAccessKey: 'sk2', accessKeyId: 'ak2' }, secret: 's1' },
      req: { method: 'GET', headers: { authorization: 'Bearer abc', cookie: 'sid=1', accept: 'text/html' } },
      headers: { authorization: 'Basic xyz', 'x-id': '7' },
      res: { headers: { 'set-cookie': 'sid=2' } },
    },
    'request',
  );
  const [line] = out.lines();
  t.ok(line, 'the line was logged');
  if (!line) return;
  t.equal(line.password, '[redacted]');
  t.equal(line.token, '[redacted]');
  t.equal(at(line, 'user', 'password'), '[redacted]');
  t.equal(at(line, 'user', 'apiToken'), '[redacted]');
  t.equal(at(line, 'user', 'name'), 'ann');
  t.equal(at(line, 's3', 'secret'), '[redacted]');
  t.equal(at(line, 's3', 'creds', 'secretAccessKey'), '[redacted]');
  t.equal(at(line, 's3', 'creds', 'accessKeyId'), '[redacted]');
  t.equal(at(line, 'req', 'headers', 'authorization'), '[redacted]');
  t.equal(at(line, 'req', 'headers', 'cookie'), '[redacted]');
  t.equal(at(line, 'req', 'headers', 'accept'), 'text/html');
  t.equal(at(line, 'req', 'method'), 'GET');
  t.equal(at(line, 'headers', 'authorization'), '[redacted]');
  t.equal(at(line, 'headers', 'x-id'), '7');
  t.equal(at(line, 'res', 'headers', 'set-cookie'), '[redacted]');
  const raw = JSON.stringify(line);
  for (const secret of ['p0', 't0', 'p1', 'a1', 'sk2', 'ak2', 's1', 'Bearer abc', 'sid=1', 'Basic xyz', 'sid=2']) {
    t.notOk(raw.includes(`"${secret}"`), `${secret} does not leak`, { line: raw });
  }
});

t.test('serialises errors with their stack', async (t) => {
  const out = capture();
  createLogger({ service: 'job', destination: out.stream }).error({ err: new Error('boom') }, 'failed');
  const [line] = out.lines();
  t.equal(line?.err?.message, 'boom');
  t.match(String(line?.err?.stack), /Error: boom/);
});
