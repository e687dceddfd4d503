// The identity stores' parts of an account's deletion, against a real nats-server: sessions are
// keyed under a digest of their user, so all of a user's sessions can be listed and ended, while a
// cookie from before that (the bare random id, its SHA-256 the key) still resumes and is ended too;
// all of a user's API tokens are revoked at once; and a user's credentials go with every OpenID
// Connect link to them, another user's left alone.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Kvm } from '@nats-io/kv';
import type { KV } from '@nats-io/kv';
import { startNatsServer } from '@gas/testing';
import { connectNats, jetstream } from '@gas/messaging';
import { createLogger } from '@gas/runtime';
import { ApiTokenStore, SessionStore, UserStore, sessionUserKey } from '../src/identity/index.ts';
import { digest } from '../src/identity/digest.ts';

const nats = await startNatsServer();
t.teardown(() => nats.stop());
const logger = createLogger({ service: 'gateway', level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const nc = await connectNats({ servers: nats.url, name: 'account-deletion-stores-test', logger });
t.teardown(() => nc.close());
const kvm = new Kvm(jetstream(nc));
const TIMES = { idleMs: 3_600_000, absoluteMs: 7_200_000, touchEveryMs: 60_000 };

async function keysOf(kv: KV): Promise<string[]> {
  const keys: string[] = [];
  for await (const k of await kv.keys()) keys.push(k);
  return keys.sort();
}

/** A session as the gateway before this version made it: the cookie is the random id, the key its SHA-256. */
async function oldFormatSession(kv: KV, userId: string): Promise<string> {
  const id = randomBytes(32).toString('base64url');
  const at = Date.now();
  await kv.put(digest(id), JSON.stringify({ userId, csrfToken: 'c', createdAt: at, lastSeenAt: at, expiresAt: at + TIMES.absoluteMs }));
  return id;
}

t.test('a new session: the cookie names the user key, the bucket key is the user key and the digest of the secret', async (t) => {
  const kv = await kvm.create('sessions-format', { history: 1 });
  const sessions = new SessionStore(kv, TIMES);
  const { id } = await sessions.start('01USERAAAAAAAAAAAAAAAAAAAA');
  const userKey = sessionUserKey('01USERAAAAAAAAAAAAAAAAAAAA');
  t.match(userKey, /^[0-9a-f]{32}$/);
  t.match(id, new RegExp(`^${userKey}\\.[A-Za-z0-9_-]{43}$`));
  t.same(await keysOf(kv), [`${userKey}.${digest(id.slice(33))}`], 'the secret itself is not in the bucket');
  t.equal((await sessions.resume(id))?.userId, '01USERAAAAAAAAAAAAAAAAAAAA');
  for (const bad of [id.slice(1), `${id}x`, id.replace('.', '-'), `${'0'.repeat(32)}.${id.slice(33)}`, id.slice(33) + 'x', '']) {
    t.equal(await sessions.resume(bad), null, `not a session: ${JSON.stringify(bad)}`);
  }
  // A record put under another user's key (by anyone who can write the bucket) is not taken.
  const other = sessionUserKey('someone-else');
  const secret = randomBytes(32).toString('base64url');
  await kv.put(`${other}.${digest(secret)}`, (await kv.get(`${userKey}.${digest(id.slice(33))}`))!.value);
  t.equal(await sessions.resume(`${other}.${secret}`), null, 'a record whose user the key does not name');
  await sessions.end(id);
  t.equal(await sessions.resume(id), null, 'ended');
});

t.test('an old-format cookie still resumes, is touched and ends; endAll ends both formats of one user only', async (t) => {
  const kv = await kvm.create('sessions-endall', { history: 1 });
  let clock = Date.now();
  const sessions = new SessionStore(kv, TIMES, () => clock);
  const ann = '01ANNAAAAAAAAAAAAAAAAAAAAA';
  const ben = '01BENAAAAAAAAAAAAAAAAAAAAA';
  const oldAnn = await oldFormatSession(kv, ann);
  const oldAnn2 = await oldFormatSession(kv, ann);
  const oldBen = await oldFormatSession(kv, ben);
  t.equal((await sessions.resume(oldAnn))?.userId, ann, 'an old-format cookie resumes');
  clock += TIMES.touchEveryMs + 1;
  await sessions.resume(oldAnn);
  t.equal((await kv.get(digest(oldAnn)))!.json<{ lastSeenAt: number }>().lastSeenAt, clock, 'and its activity is written back');

  const [a1, a2, a3] = await Promise.all([sessions.start(ann), sessions.start(ann), sessions.start(ann)]);
  const b1 = await sessions.start(ben);
  t.equal(await sessions.endAll(ann, { except: a1.id }), 4, "ann's other sessions: two new, two old");
  for (const [id, live, what] of [
    [a1.id, true, 'the kept one'],
    [a2.id, false, 'new'],
    [a3.id, false, 'new'],
    [oldAnn, false, 'old'],
    [oldAnn2, false, 'old'],
    [b1.id, true, "ben's new"],
    [oldBen, true, "ben's old"],
  ] as const)
    t.equal((await sessions.resume(id)) !== null, live, `${what} ${live ? 'lives' : 'ended'}`);

  t.equal(await sessions.endAll(ann, { except: oldBen }), 1, 'the last one too');
  t.equal(await sessions.resume(a1.id), null);
  t.equal(await sessions.endAll(ann), 0, 'nothing left: a repeat ends nothing');
  t.equal(await sessions.endAll(ben), 2, "ben's, of both formats");
  t.same(await keysOf(kv), [], 'the bucket is empty');
});

t.test('revokeAll revokes every token of the user and removes their list; another user keeps theirs', async (t) => {
  const kv = await kvm.create('tokens-revokeall', { history: 1 });
  const tokens = new ApiTokenStore(kv);
  t.teardown(() => tokens.close());
  const mine = await Promise.all(['a', 'b', 'c'].map((n) => tokens.create('01ANN', n)));
  const theirs = await tokens.create('01BEN', 'x');
  for (const m of mine) t.equal(await tokens.userOf(m.token), '01ANN');
  t.equal(await tokens.revokeAll('01ANN'), 3);
  for (const m of mine) t.equal(await tokens.userOf(m.token), null, `${m.info.name} revoked`);
  t.same(await tokens.list('01ANN'), []);
  t.equal(await tokens.userOf(theirs.token), '01BEN');
  t.same(
    (await keysOf(kv)).filter((k) => !k.includes(digest(theirs.token)) && k !== 'user.01BEN'),
    [],
    "nothing of ann's is left",
  );
  t.equal(await tokens.revokeAll('01ANN'), 0, 'a repeat revokes nothing');
});

t.test("deleteCredentials: the address's record and the user's OIDC links go; another user's stay", async (t) => {
  const kv = await kvm.create('users-delete', { history: 1 });
  const users = new UserStore(kv);
  const pw = await users.create('Pat@Example.org', 'scrypt$hash');
  const oidc = await users.create('oi@example.org', null, { confirmed: true });
  await users.linkOidc('https://idp.example', 'sub-1', oidc.userId);
  await users.linkOidc('https://other.example', 'sub-9', oidc.userId);
  const keep = await users.create('keep@example.org', null, { confirmed: true });
  await users.linkOidc('https://idp.example', 'sub-2', keep.userId);

  t.same(
    await users.deleteCredentials(pw.userId, 'keep@example.org'),
    { credentials: false, oidcLinks: 0 },
    "another user's address: nothing",
  );
  t.ok(await users.byEmail('keep@example.org'));
  t.same(await users.deleteCredentials(pw.userId, 'pat@example.org'), { credentials: true, oidcLinks: 0 }, 'a password account');
  t.equal(await users.byEmail('pat@example.org'), null);

  await users.startDeletion(oidc.userId, 'OI@example.org');
  t.same(await users.deletionOf(oidc.userId), { email: 'oi@example.org', startedAt: (await users.deletionOf(oidc.userId))!.startedAt });
  t.same(
    await users.deleteCredentials(oidc.userId, 'oi@example.org'),
    { credentials: true, oidcLinks: 2 },
    'an OIDC account and its two links',
  );
  t.equal(await users.userForOidc('https://idp.example', 'sub-1'), null);
  t.equal(await users.userForOidc('https://other.example', 'sub-9'), null);
  t.equal(await users.userForOidc('https://idp.example', 'sub-2'), keep.userId, "another user's link stays");
  t.same(await users.deleteCredentials(oidc.userId, 'oi@example.org'), { credentials: false, oidcLinks: 0 }, 'a repeat finds nothing');
  await users.finishDeletion(oidc.userId);
  t.equal(await users.deletionOf(oidc.userId), null);
  t.same((await keysOf(kv)).length, 2, "only keep's record and link are left");
  t.ok(await users.create('pat@example.org', 'scrypt$new'), 'the address can sign up again');
});
