import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../src/index.ts';

function capture(): { stream: Writable; lines: () => Record<string, any>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return {
    stream,
    lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>),
  };
}

test('writes JSON with service, ISO time and level name', () => {
  const out = capture();
  const log = createLogger({ service: 'job', destination: out.stream });
  log.info({ jobId: 'j1' }, 'hello');
  log.debug('hidden at info level');
  const lines = out.lines();
  assert.equal(lines.length, 1);
  const [line] = lines;
  assert.equal(line?.service, 'job');
  assert.equal(line?.msg, 'hello');
  assert.equal(line?.jobId, 'j1');
  assert.equal(line?.level, 'info');
  assert.match(String(line?.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(line?.pid, undefined);
});

test('honours the level option and child bindings', () => {
  const out = capture();
  const log = createLogger({ service: 'annotator', level: 'debug', destination: out.stream });
  log.child({ requestId: 'r9' }).debug('dbg');
  const [line] = out.lines();
  assert.equal(line?.level, 'debug');
  assert.equal(line?.requestId, 'r9');
  assert.equal(line?.service, 'annotator');
});

test('redacts secrets at the top level and one and two levels deep', () => {
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
  assert.ok(line);
  assert.equal(line.password, '[redacted]');
  assert.equal(line.token, '[redacted]');
  assert.equal(line.user.password, '[redacted]');
  assert.equal(line.user.apiToken, '[redacted]');
  assert.equal(line.user.name, 'ann');
  assert.equal(line.s3.secret, '[redacted]');
  assert.equal(line.s3.creds.secretAccessKey, '[redacted]');
  assert.equal(line.s3.creds.accessKeyId, '[redacted]');
  assert.equal(line.req.headers.authorization, '[redacted]');
  assert.equal(line.req.headers.cookie, '[redacted]');
  assert.equal(line.req.headers.accept, 'text/html');
  assert.equal(line.req.method, 'GET');
  assert.equal(line.headers.authorization, '[redacted]');
  assert.equal(line.headers['x-id'], '7');
  assert.equal(line.res.headers['set-cookie'], '[redacted]');
  const raw = JSON.stringify(line);
  for (const secret of ['p0', 't0', 'p1', 'a1', 'sk2', 'ak2', 's1', 'Bearer abc', 'sid=1', 'Basic xyz', 'sid=2']) {
    assert.ok(!raw.includes(`"${secret}"`), `${secret} leaked: ${raw}`);
  }
});

test('serialises errors with their stack', () => {
  const out = capture();
  createLogger({ service: 'job', destination: out.stream }).error({ err: new Error('boom') }, 'failed');
  const [line] = out.lines();
  assert.equal(line?.err.message, 'boom');
  assert.match(String(line?.err.stack), /Error: boom/);
});
