import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Health } from '../src/index.ts';

test('a Health without checks is ready only after markStarted()', () => {
  const h = new Health();
  assert.equal(h.isReady(), false);
  assert.equal(h.started, false);
  h.markStarted();
  assert.equal(h.isReady(), true);
  assert.deepEqual(h.status(), {});
});

test('every registered check must be ok, and shutdown wins over everything', () => {
  const h = new Health({ checks: ['nats', 'kv'] });
  h.markStarted();
  assert.equal(h.isReady(), false);
  h.setReady('nats', true);
  assert.equal(h.isReady(), false);
  h.setReady('kv', true);
  assert.equal(h.isReady(), true);
  h.setReady('nats', false);
  assert.equal(h.isReady(), false);
  assert.deepEqual(h.status(), { nats: false, kv: true });
  h.setReady('nats', true);
  h.startShutdown();
  assert.equal(h.shuttingDown, true);
  assert.equal(h.isReady(), false);
});
