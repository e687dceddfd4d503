import t from 'tap';
import type { Test } from 'tap';
import { ConfigError, describeConfig, field, readConfig } from '../src/index.ts';

const spec = {
  port: field.int('JOB_PORT', { min: 1, max: 65535 }),
  natsUrl: field.string('NATS_URL'),
  level: field.oneOf('LOG_LEVEL', ['debug', 'info', 'warn'] as const, { default: 'info' }),
  tls: field.bool('USE_TLS', { default: false }),
  token: field.string('API_TOKEN', { secret: true }),
  smtpPassword: field.optional('SMTP_PASSWORD', { secret: true }),
  region: field.optional('AWS_REGION'),
  servers: field.list('SERVERS', { default: ['a'] }),
  workers: field.int('WORKERS', { default: 4, min: 1 }),
};

// The ConfigError readConfig throws, for a closer look at its problems and message; a failed
// assertion (no error, or another kind) gives back an empty ConfigError so the checks after it fail too.
function expectConfigError(t: Test, fn: () => unknown): ConfigError {
  const err: unknown = t.throws(fn, ConfigError, 'expected readConfig to throw a ConfigError');
  return err instanceof ConfigError ? err : new ConfigError([]);
}

t.test('reads and converts a valid environment', async (t) => {
  const cfg = readConfig(
    { JOB_PORT: '8080', NATS_URL: 'nats://x:4222', LOG_LEVEL: 'debug', USE_TLS: 'Yes', API_TOKEN: 's3cr3t', SERVERS: ' a , ,b,, c ' },
    spec,
  );
  t.strictSame(cfg, {
    port: 8080,
    natsUrl: 'nats://x:4222',
    level: 'debug',
    tls: true,
    token: 's3cr3t',
    smtpPassword: undefined,
    region: undefined,
    servers: ['a', 'b', 'c'],
    workers: 4,
  });
  // The inferred types are the useful part of readConfig; these lines fail to typecheck if they drift.
  const port: number = cfg.port;
  const level: 'debug' | 'info' | 'warn' = cfg.level;
  const region: string | undefined = cfg.region;
  const servers: string[] = cfg.servers;
  t.ok(port && level && servers && region === undefined);
});

t.test('applies defaults and treats blank variables as unset', async (t) => {
  const cfg = readConfig({ JOB_PORT: '1', NATS_URL: 'n', API_TOKEN: 't', LOG_LEVEL: '  ', USE_TLS: '' }, spec);
  t.equal(cfg.level, 'info');
  t.equal(cfg.tls, false);
  t.strictSame(cfg.servers, ['a']);
});

t.test('reports every bad or missing variable in one error', async (t) => {
  const err = expectConfigError(t, () =>
    readConfig({ JOB_PORT: 'abc', LOG_LEVEL: 'loud', USE_TLS: 'maybe', WORKERS: '0', API_TOKEN: '   ' }, spec),
  );
  t.strictSame(err.problems, [
    'JOB_PORT: must be an integer between 1 and 65535, got "abc"',
    'NATS_URL: required',
    'LOG_LEVEL: must be one of debug, info, warn, got "loud"',
    'USE_TLS: must be one of true, false, 1, 0, yes, no, got "maybe"',
    'API_TOKEN: required',
    'WORKERS: must be an integer >= 1, got "0"',
  ]);
  t.equal(
    err.message,
    'invalid configuration:\n' +
      '  JOB_PORT: must be an integer between 1 and 65535, got "abc"\n' +
      '  NATS_URL: required\n' +
      '  LOG_LEVEL: must be one of debug, info, warn, got "loud"\n' +
      '  USE_TLS: must be one of true, false, 1, 0, yes, no, got "maybe"\n' +
      '  API_TOKEN: required\n' +
      '  WORKERS: must be an integer >= 1, got "0"',
  );
});

t.test('rejects non-integers and out-of-range integers', async (t) => {
  for (const raw of ['1.5', '1e3', '70000', '0', '0x10', '99999999999999999999']) {
    const err = expectConfigError(t, () => readConfig({ JOB_PORT: raw }, { port: field.int('JOB_PORT', { min: 1, max: 65535 }) }));
    t.strictSame(err.problems, [`JOB_PORT: must be an integer between 1 and 65535, got ${JSON.stringify(raw)}`]);
  }
  t.strictSame(readConfig({ N: ' -3 ' }, { n: field.int('N') }), { n: -3 });
});

t.test('never puts a secret value into an error message', async (t) => {
  const err = expectConfigError(t, () =>
    readConfig({ PORT: 'hunter2-port' }, { port: field.int('PORT'), key: field.string('KEY', { secret: true }) }),
  );
  t.match(err.message, /hunter2-port/);
  const secretInt = { pin: { ...field.int('PIN'), secret: true } };
  const err2 = expectConfigError(t, () => readConfig({ PIN: 'hunter2' }, secretInt));
  t.notMatch(err2.message, /hunter2/);
  t.strictSame(err2.problems, ['PIN: must be an integer']);
});

t.test('describeConfig redacts secrets and keeps everything else', async (t) => {
  const cfg = readConfig({ JOB_PORT: '80', NATS_URL: 'nats://n', API_TOKEN: 'tok-123', SMTP_PASSWORD: 'pw-456' }, spec);
  const described = describeConfig(spec, cfg);
  t.equal(described.token, '[redacted]');
  t.equal(described.smtpPassword, '[redacted]');
  t.equal(described.natsUrl, 'nats://n');
  t.equal(described.port, 80);
  t.notMatch(JSON.stringify(described), /tok-123|pw-456/);
  const unset = describeConfig(spec, { ...cfg, smtpPassword: undefined });
  t.equal(unset.smtpPassword, undefined);
});
