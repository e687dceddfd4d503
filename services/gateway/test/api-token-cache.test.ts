// API tokens users create are looked up in memory (a watch of the tokens bucket), not read from KV
// on every request. Against a real nats-server, with two gateway replicas' stores each on its own
// connection: a new token works at once everywhere, a revoked one stops at once on the replica that
// revoked it and on the other as soon as its watch delivers the deletion, and a replica cut off
// from NATS trusts its cache for at most TOKEN_CACHE_MAX_AGE_MS.
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import { Kvm } from '@nats-io/kv';
import { startNatsServer } from '@gas/testing';
import { connectNats, jetstream } from '@gas/messaging';
import { createLogger } from '@gas/runtime';
import { ApiTokenStore, identityBuckets } from '../src/identity/index.ts';
import { TOKEN_CACHE_MAX_AGE_MS } from '../src/identity/api-token-store.ts';

const nats = await startNatsServer();
t.teardown(() => nats.stop());

const logger = createLogger({ service: 'gateway', level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
let clock = Date.now();
const now = () => clock;

async function replica(): Promise<ApiTokenStore> {
  const nc = await connectNats({ servers: nats.url, name: 'token-cache-test', logger });
  const kv = await new Kvm(jetstream(nc)).create(identityBuckets.tokens, { history: 1 });
  const store = new ApiTokenStore(kv, now);
  t.teardown(async () => {
    store.close();
    await nc.close();
  });
  return store;
}

const a = await replica();
const b = await replica();

/** How long until `probe` is true, or null after `timeoutMs`. */
async function msUntil(probe: () => Promise<boolean>, timeoutMs = 1000): Promise<number | null> {
  const start = performance.now();
  while (performance.now() - start < timeoutMs) {
    if (await probe()) return performance.now() - start;
    await sleep(1);
  }
  return null;
}

t.test(
  'a new token works at once on both replicas; revoked, it stops at once where revoked and within milliseconds on the other',
  async (t) => {
    const { token, info } = await a.create('carol', 'script');
    t.equal(await b.userOf(token), 'carol', 'the other replica before its watch has it (read through)');
    t.equal(await a.userOf(token), 'carol');
    // Both watches have delivered it: the lookups are memory reads now.
    t.ok((await msUntil(async () => (await b.userOf(token)) === 'carol')) !== null);
    t.ok(await a.revoke('carol', info.tokenId));
    t.equal(await a.userOf(token), null, 'at once on the replica that revoked it');
    const ms = await msUntil(async () => (await b.userOf(token)) === null);
    t.ok(ms !== null && ms < 1000, `gone on the other replica after ${ms?.toFixed(1)} ms`);
    t.equal(await b.userOf('gas_not-a-token-at-all'), null);
  },
);

t.test('a revocation the watch has applied is not undone by a lookup that read the bucket before it', async (t) => {
  const { token, info } = await a.create('dave', 'ci');
  await msUntil(async () => (await b.userOf(token)) === 'dave');
  const racing = b.userOf(token);
  await a.revoke('dave', info.tokenId);
  await racing;
  t.ok((await msUntil(async () => (await b.userOf(token)) === null)) !== null);
  await sleep(50);
  t.equal(await b.userOf(token), null, 'and it stays revoked');
});

t.test('cut off from NATS, a replica answers from its cache only for TOKEN_CACHE_MAX_AGE_MS', async (t) => {
  const { token } = await a.create('erin', 'laptop');
  t.ok((await msUntil(async () => (await b.userOf(token)) === 'erin')) !== null);
  // Watch-delivered now; read it once so the entry is fresh.
  await b.userOf(token);
  await nats.halt();
  t.teardown(() => nats.resume());
  t.equal(await b.userOf(token), 'erin', 'from memory while NATS is away');
  clock += TOKEN_CACHE_MAX_AGE_MS;
  await t.rejects(b.userOf(token), 'after the bound it must read the bucket, which is not there');
  await nats.resume();
  const back = await msUntil(async () => (await b.userOf(token).catch(() => 'down')) === 'erin', 15_000);
  t.ok(back !== null, 'NATS back: the token works again');
});
