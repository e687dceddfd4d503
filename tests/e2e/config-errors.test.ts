// A misconfigured service refuses to start and names every bad variable at once (exit 78), and
// never prints a secret's value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startService } from '@gas/testing';

test('every service reports all its bad variables at once and exits 78', async () => {
  for (const name of ['gateway', 'job', 'annotator', 'notification', 'archive'] as const) {
    const h = startService(name, { LOG_LEVEL: 'loud', NATS_URL: 'nats://127.0.0.1:1', BLOB_STORE: 'floppy', SHUTDOWN_TIMEOUT_MS: 'soon' });
    const exit = await h.exited;
    assert.equal(exit.code, 78, `${name}: ${h.logs()}`);
    const logs = h.logs();
    assert.match(logs, /LOG_LEVEL: must be one of/, name);
    assert.match(logs, /SHUTDOWN_TIMEOUT_MS: must be an integer/, name);
    if (name === 'gateway' || name === 'annotator') assert.match(logs, /BLOB_STORE: must be one of/, name);
  }
});

test('a secret variable with a bad value is reported without its value', async () => {
  const h = startService('gateway', { GATEWAY_API_TOKENS: 'alice:tiny42', S3_SECRET_ACCESS_KEY: 'TOPSECRETVALUE', GATEWAY_PORT: '99999' });
  const exit = await h.exited;
  assert.equal(exit.code, 78, h.logs());
  assert.match(h.logs(), /GATEWAY_PORT/);
  assert.match(h.logs(), /GATEWAY_API_TOKENS: the token of entry 1 \(alice\) is shorter than 16 characters/);
  assert.doesNotMatch(h.logs(), /tiny42/);
  assert.doesNotMatch(h.logs(), /TOPSECRETVALUE/);
});

test('half an S3 key pair is a configuration error, not a crash', async () => {
  const h = startService('annotator', { BLOB_STORE: 's3', S3_ACCESS_KEY_ID: 'AKIAEXAMPLE' });
  const exit = await h.exited;
  assert.equal(exit.code, 78, h.logs());
  assert.match(h.logs(), /S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY: set both/);
});
