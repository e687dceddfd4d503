// NoteSignUpAttempt in-process against a real nats-server, served over gRPC with a clock the test
// moves: one account.sign_up_attempted event per account an hour, the same event id again inside
// JetStream's duplicate window (dropped there), and the account otherwise unchanged. And
// RequestEmailConfirmation and RequestPasswordReset: the link's event, only to the account's own
// address; and NotePasswordChanged.
import t from 'tap';
import { Writable } from 'node:stream';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { startNatsServer } from '@gas/testing';
import { createLogger, createRegistry } from '@gas/runtime';
import { ensureStreams, jetstream, jetstreamManager, streamSpecsFrom } from '@gas/messaging';
import {
  addService,
  createClient,
  fromBinary,
  startGrpcServer,
  timestampDate,
  timestampFromDate,
  AccountEventKind,
  AccountEventSchema,
  AccountService,
  Status,
} from '@gas/proto';
import { AccountStore } from '../src/account-store.ts';
import { JobStore } from '../src/job-store.ts';
import { IdempotencyStore } from '../src/idempotency-store.ts';
import { createJobDeletion } from '../src/job-deletion.ts';
import { createAccountService, SIGN_UP_NOTE_WINDOW_MS } from '../src/account-service.ts';

const nats = await startNatsServer();
t.teardown(() => nats.stop());
const nc = await connect({ servers: nats.url });
t.teardown(() => nc.close());
const jsm = await jetstreamManager(nc);
await ensureStreams(jsm, streamSpecsFrom({ eventsMaxAgeDays: 1, natsReplicas: 1 }));
const js = jetstream(nc);
const kvm = new Kvm(js);
const store = new AccountStore(await kvm.create('gas-accounts', { history: 1, storage: 'file' }));
const jobStore = new JobStore(await kvm.create('gas-jobs', { history: 1, storage: 'file' }), jsm, 'gas-jobs');
t.teardown(() => jobStore.closeIndex());
const idempotency = new IdempotencyStore(await kvm.create('gas-idempotency', { history: 1, storage: 'file' }));
const registry = createRegistry('job');
let clock = new Date('2026-12-07T06:00:00.000Z');
const logger = createLogger({ service: 'job', level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const server = await startGrpcServer({
  host: '127.0.0.1',
  port: 0,
  serviceNames: [AccountService.typeName],
  register: (s) => {
    const jobDeps = { jobs: jobStore, idempotency, js, logger, registry };
    const service = createAccountService({ accounts: store, ...jobDeps, deleteJob: createJobDeletion(jobDeps), now: () => clock });
    addService(s, AccountService, service);
  },
});
t.teardown(() => server.shutdown(500));
const accounts = createClient(AccountService, `127.0.0.1:${server.port}`, { defaultDeadlineMs: 5000 });
t.teardown(() => accounts.close());

const advance = (ms: number) => (clock = new Date(clock.getTime() + ms));

/** The sign-up-attempt events (or others on `subject`) GAS_EVENTS holds, oldest first. */
async function events(subject = 'gas.events.account.sign_up_attempted') {
  const info = await jsm.streams.info('GAS_EVENTS', { subjects_filter: 'gas.events.account.>' });
  const n = info.state.subjects?.[subject] ?? 0;
  const out = [];
  for (let seq = info.state.first_seq; out.length < n && seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage('GAS_EVENTS', { seq }).catch(() => null);
    if (m?.subject === subject) out.push({ msgId: m.header?.get('Nats-Msg-Id'), event: fromBinary(AccountEventSchema, m.data) });
  }
  return out;
}

t.test('one event an hour per account; a repeat inside the duplicate window is the same event', async (t) => {
  await accounts.upsertAccount({ account: { userId: 'owner', email: 'owner@example.org', name: 'Owner', institution: 'Lab' } });
  const first = await accounts.noteSignUpAttempt({ userId: 'owner' });
  t.equal(first.noted, true);
  let seen = await events();
  t.equal(seen.length, 1);
  const eventId = `owner.sign_up_attempted.${clock.getTime() / 1000}`;
  t.equal(seen[0]!.msgId, eventId, 'Nats-Msg-Id is the event id');
  t.equal(seen[0]!.event.eventId, eventId);
  t.equal(seen[0]!.event.kind, AccountEventKind.SIGN_UP_ATTEMPTED);
  t.equal(seen[0]!.event.account?.email, 'owner@example.org', 'the event carries the address to write to');
  t.equal(timestampDate(seen[0]!.event.occurredAt!).toISOString(), clock.toISOString());

  // Within two minutes: published again with the same id (a retry after a failed publish), and dropped.
  advance(60_000);
  t.equal((await accounts.noteSignUpAttempt({ userId: 'owner' })).noted, false);
  t.equal((await events()).length, 1, 'JetStream dropped the copy');

  // Later in the hour: nothing is published at all.
  advance(30 * 60_000);
  t.equal((await accounts.noteSignUpAttempt({ userId: 'owner' })).noted, false);
  t.equal((await events()).length, 1);

  // An hour after the first: a new event, with a new id.
  advance(SIGN_UP_NOTE_WINDOW_MS - 31 * 60_000);
  t.equal((await accounts.noteSignUpAttempt({ userId: 'owner' })).noted, true);
  seen = await events();
  t.equal(seen.length, 2);
  t.equal(seen[1]!.event.eventId, `owner.sign_up_attempted.${clock.getTime() / 1000}`);

  // Another account has its own hour.
  await accounts.upsertAccount({ account: { userId: 'other', email: 'other@example.org', name: 'Other' } });
  t.equal((await accounts.noteSignUpAttempt({ userId: 'other' })).noted, true);
  t.equal((await events()).length, 3);
});

t.test('the account is otherwise unchanged, and a profile edit keeps the note', async (t) => {
  const { account } = await accounts.getAccount({ userId: 'owner' });
  t.match(account, { email: 'owner@example.org', name: 'Owner', institution: 'Lab' });
  const noted = account!.signUpAttemptNotedAt;
  t.ok(noted);
  const edited = await accounts.upsertAccount({ account: { userId: 'owner', email: 'owner@example.org', name: 'Owner Two' } });
  t.strictSame(edited.account!.signUpAttemptNotedAt, noted, 'a profile edit does not reopen the window');
  advance(60 * 1000);
  t.equal((await accounts.noteSignUpAttempt({ userId: 'owner' })).noted, false);
});

t.test('an unknown user is NOT_FOUND, a bad id INVALID_ARGUMENT, and neither publishes', async (t) => {
  const before = (await events()).length;
  await t.rejects(accounts.noteSignUpAttempt({ userId: 'ghost' }), { name: 'RpcError', code: Status.NOT_FOUND });
  await t.rejects(accounts.noteSignUpAttempt({ userId: 'not a user' }), { name: 'RpcError', code: Status.INVALID_ARGUMENT });
  t.equal((await events()).length, before);
});

t.test(
  "RequestEmailConfirmation: one event with the token for the account's own address; anything else refused, nothing published",
  async (t) => {
    const confirmations = () => events('gas.events.account.email_confirmation_requested');
    await accounts.upsertAccount({ account: { userId: 'confirmer', email: 'confirmer@example.org', name: 'C' } });
    const expiresAt = timestampFromDate(new Date(clock.getTime() + 24 * 3600_000));
    const req = { userId: 'confirmer', email: 'Confirmer@Example.org', token: 'confirmer.a-secret', expiresAt, requestId: '1796600000000' };
    await accounts.requestEmailConfirmation(req);
    await accounts.requestEmailConfirmation(req);
    const [only, ...more] = await confirmations();
    t.equal(more.length, 0, 'a retry with the same request id is dropped as a duplicate');
    t.equal(only!.msgId, 'confirmer.email_confirmation_requested.1796600000000');
    t.equal(only!.event.eventId, only!.msgId);
    t.equal(only!.event.kind, AccountEventKind.EMAIL_CONFIRMATION_REQUESTED);
    t.match(only!.event.account, { userId: 'confirmer', email: 'confirmer@example.org' });
    t.match(only!.event.emailConfirmation, { email: 'confirmer@example.org', token: 'confirmer.a-secret' });
    t.equal(timestampDate(only!.event.emailConfirmation!.expiresAt!).getTime(), clock.getTime() + 24 * 3600_000);

    const refused: Array<[Partial<typeof req>, Status]> = [
      [{ email: 'someone.else@example.org' }, Status.FAILED_PRECONDITION],
      [{ userId: 'ghost' }, Status.NOT_FOUND],
      [{ userId: 'not a user' }, Status.INVALID_ARGUMENT],
      [{ requestId: 'a.b' }, Status.INVALID_ARGUMENT],
      [{ token: '' }, Status.INVALID_ARGUMENT],
    ];
    for (const [change, code] of refused)
      await t.rejects(accounts.requestEmailConfirmation({ ...req, requestId: '1796600000001', ...change }), { name: 'RpcError', code });
    t.equal((await confirmations()).length, 1, 'nothing more published');
  },
);

t.test(
  "RequestPasswordReset: one event with the token for the account's own address; anything else refused, nothing published",
  async (t) => {
    const resets = () => events('gas.events.account.password_reset_requested');
    await accounts.upsertAccount({ account: { userId: 'forgetful', email: 'forgetful@example.org', name: 'F' } });
    const expiresAt = timestampFromDate(new Date(clock.getTime() + 3600_000));
    const req = { userId: 'forgetful', email: ' Forgetful@Example.ORG', token: 'forgetful.reset-secret', expiresAt, requestId: 'r_1-a' };
    await accounts.requestPasswordReset(req);
    await accounts.requestPasswordReset(req);
    const [only, ...more] = await resets();
    t.equal(more.length, 0, 'a retry with the same request id is dropped as a duplicate');
    t.equal(only!.msgId, 'forgetful.password_reset_requested.r_1-a');
    t.equal(only!.event.eventId, only!.msgId);
    t.equal(only!.event.kind, AccountEventKind.PASSWORD_RESET_REQUESTED);
    t.match(only!.event.account, { userId: 'forgetful', email: 'forgetful@example.org' });
    t.equal(timestampDate(only!.event.occurredAt!).toISOString(), clock.toISOString());
    t.match(only!.event.passwordReset, { email: 'forgetful@example.org', token: 'forgetful.reset-secret' }, 'to the address on record');
    t.equal(timestampDate(only!.event.passwordReset!.expiresAt!).getTime(), clock.getTime() + 3600_000);
    t.equal(only!.event.emailConfirmation, undefined);

    const refused: Array<[Partial<typeof req>, Status]> = [
      [{ email: 'someone.else@example.org' }, Status.FAILED_PRECONDITION],
      [{ email: '' }, Status.FAILED_PRECONDITION],
      [{ userId: 'ghost' }, Status.NOT_FOUND],
      [{ userId: 'not a user' }, Status.INVALID_ARGUMENT],
      [{ requestId: 'a.b' }, Status.INVALID_ARGUMENT],
      [{ requestId: '' }, Status.INVALID_ARGUMENT],
      [{ requestId: 'x'.repeat(65) }, Status.INVALID_ARGUMENT],
      [{ token: '' }, Status.INVALID_ARGUMENT],
      [{ expiresAt: undefined }, Status.INVALID_ARGUMENT],
    ];
    for (const [change, code] of refused)
      await t.rejects(
        accounts.requestPasswordReset({ ...req, requestId: 'r_2', ...change }),
        { name: 'RpcError', code },
        JSON.stringify(change),
      );
    t.equal((await resets()).length, 1, 'nothing more published');
    t.equal((await events('gas.events.account.email_confirmation_requested')).length, 1, 'nor a confirmation');
  },
);

t.test('NotePasswordChanged: one event per request id, saying how the password was changed', async (t) => {
  const changes = () => events('gas.events.account.password_changed');
  await accounts.notePasswordChanged({ userId: 'forgetful', requestId: 'c1', throughResetLink: true });
  await accounts.notePasswordChanged({ userId: 'forgetful', requestId: 'c1', throughResetLink: true });
  advance(1000);
  await accounts.notePasswordChanged({ userId: 'forgetful', requestId: 'c2', throughResetLink: false });
  const seen = await changes();
  t.equal(seen.length, 2, 'the retry of c1 was dropped as a duplicate');
  t.strictSame(
    seen.map((s) => [s.msgId, s.event.eventId, s.event.kind, s.event.passwordChangedThroughResetLink]),
    [
      ['forgetful.password_changed.c1', 'forgetful.password_changed.c1', AccountEventKind.PASSWORD_CHANGED, true],
      ['forgetful.password_changed.c2', 'forgetful.password_changed.c2', AccountEventKind.PASSWORD_CHANGED, false],
    ],
  );
  t.match(seen[1]!.event.account, { userId: 'forgetful', email: 'forgetful@example.org' }, 'with the address to tell');
  t.equal(timestampDate(seen[1]!.event.occurredAt!).toISOString(), clock.toISOString());
  t.equal(seen[1]!.event.passwordReset, undefined, 'and no secret');

  const refused: Array<[{ userId?: string; requestId?: string }, Status]> = [
    [{ userId: 'ghost' }, Status.NOT_FOUND],
    [{ userId: 'not a user' }, Status.INVALID_ARGUMENT],
    [{ requestId: 'a b' }, Status.INVALID_ARGUMENT],
    [{ requestId: '' }, Status.INVALID_ARGUMENT],
  ];
  for (const [change, code] of refused)
    await t.rejects(
      accounts.notePasswordChanged({ userId: 'forgetful', requestId: 'c3', throughResetLink: false, ...change }),
      { name: 'RpcError', code },
      JSON.stringify(change),
    );
  t.equal((await changes()).length, 2, 'nothing more published');
});
