// A misconfigured service refuses to start and names every bad variable at once (exit 78), and
// never prints a secret's value.
import t from 'tap';
import { startService } from '@gas/testing';

t.test('every service reports all its bad variables at once and exits 78', async (t) => {
  for (const name of ['gateway', 'job', 'annotator', 'notification', 'archive'] as const) {
    const h = startService(name, { LOG_LEVEL: 'loud', NATS_URL: 'nats://127.0.0.1:1', BLOB_STORE: 'floppy', SHUTDOWN_TIMEOUT_MS: 'soon' });
    const exit = await h.exited;
    t.equal(exit.code, 78, `${name} exits 78`, { logs: h.logs() });
    const logs = h.logs();
    t.match(logs, /LOG_LEVEL: must be one of/, name);
    t.match(logs, /SHUTDOWN_TIMEOUT_MS: must be an integer/, name);
    if (name === 'gateway' || name === 'annotator') t.match(logs, /BLOB_STORE: must be one of/, name);
  }
});

t.test('a secret variable with a bad value is reported without its value', async (t) => {
  const h = startService('gateway', { GATEWAY_API_TOKENS: 'alice:tiny42', S3_SECRET_ACCESS_KEY: 'TOPSECRETVALUE', GATEWAY_PORT: '99999' });
  const exit = await h.exited;
  t.equal(exit.code, 78, 'exits 78', { logs: h.logs() });
  t.match(h.logs(), /GATEWAY_PORT/);
  t.match(h.logs(), /GATEWAY_API_TOKENS: the token of entry 1 \(alice\) is shorter than 16 characters/);
  t.notMatch(h.logs(), /tiny42/);
  t.notMatch(h.logs(), /TOPSECRETVALUE/);
});

t.test('half an S3 key pair is a configuration error, not a crash', async (t) => {
  const h = startService('annotator', { BLOB_STORE: 's3', S3_ACCESS_KEY_ID: 'AKIAEXAMPLE' });
  const exit = await h.exited;
  t.equal(exit.code, 78, 'exits 78', { logs: h.logs() });
  t.match(h.logs(), /S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY: set both/);
});
