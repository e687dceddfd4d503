import t from 'tap';
import { Health } from '../src/index.ts';

t.test('a Health without checks is ready only after markStarted()', async (t) => {
  const h = new Health();
  t.equal(h.isReady(), false);
  t.equal(h.started, false);
  h.markStarted();
  t.equal(h.isReady(), true);
  t.strictSame(h.status(), {});
});

t.test('every registered check must be ok, and shutdown wins over everything', async (t) => {
  const h = new Health({ checks: ['nats', 'kv'] });
  h.markStarted();
  t.equal(h.isReady(), false);
  h.setReady('nats', true);
  t.equal(h.isReady(), false);
  h.setReady('kv', true);
  t.equal(h.isReady(), true);
  h.setReady('nats', false);
  t.equal(h.isReady(), false);
  t.strictSame(h.status(), { nats: false, kv: true });
  h.setReady('nats', true);
  h.startShutdown();
  t.equal(h.shuttingDown, true);
  t.equal(h.isReady(), false);
});
