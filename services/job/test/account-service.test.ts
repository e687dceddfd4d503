// NoteSignUpAttempt in-process against a real nats-server, served over gRPC with a clock the test
// moves: one account.sign_up_attempted event per account an hour, the same event id again inside
// JetStream's duplicate window (dropped there), and the account otherwise unchanged. And
// RequestEmailConfirmation and RequestPasswordReset: the link's event, only to the account's own
// address; and NotePasswordChanged. And RequestEmailChange (the link's event, to the new address, the
// account unchanged) and ChangeEmail (the new address stored, email_changed with the old; a repeat
// is one event; a stale or losing change refused; the undo link for the old address and an undo's
// mark in the event).
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

t.test('RequestEmailChange: one event with the new address and the token; the account unchanged; anything else refused', async (t) => {
  const requests = () => events('gas.events.account.email_change_requested');
  await accounts.upsertAccount({ account: { userId: 'mover', email: 'mover@example.org', name: 'M' } });
  const before = (await accounts.getAccount({ userId: 'mover' })).account;
  const expiresAt = timestampFromDate(new Date(clock.getTime() + 24 * 3600_000));
  const req = { userId: 'mover', newEmail: ' Mover@New.Example.ORG', token: 'mover.change-secret', expiresAt, requestId: 'ch-1' };
  await accounts.requestEmailChange(req);
  await accounts.requestEmailChange(req);
  const [only, ...more] = await requests();
  t.equal(more.length, 0, 'a retry with the same request id is dropped as a duplicate');
  t.equal(only!.msgId, 'mover.email_change_requested.ch-1');
  t.equal(only!.event.eventId, only!.msgId);
  t.equal(only!.event.kind, AccountEventKind.EMAIL_CHANGE_REQUESTED);
  t.match(only!.event.account, { userId: 'mover', email: 'mover@example.org' }, 'the account as it is');
  t.match(only!.event.emailConfirmation, { email: 'mover@new.example.org', token: 'mover.change-secret' }, 'the link to the new address');
  t.equal(timestampDate(only!.event.emailConfirmation!.expiresAt!).getTime(), clock.getTime() + 24 * 3600_000);
  t.equal(timestampDate(only!.event.occurredAt!).toISOString(), clock.toISOString());
  t.equal(only!.event.previousEmail, '');
  t.strictSame((await accounts.getAccount({ userId: 'mover' })).account, before, 'the account is not changed');

  const refused: Array<[Partial<typeof req>, Status]> = [
    [{ newEmail: 'MOVER@example.org ' }, Status.FAILED_PRECONDITION],
    [{ newEmail: 'not an address' }, Status.INVALID_ARGUMENT],
    [{ newEmail: '' }, Status.INVALID_ARGUMENT],
    [{ userId: 'ghost' }, Status.NOT_FOUND],
    [{ userId: 'not a user' }, Status.INVALID_ARGUMENT],
    [{ requestId: 'a.b' }, Status.INVALID_ARGUMENT],
    [{ token: '' }, Status.INVALID_ARGUMENT],
    [{ expiresAt: undefined }, Status.INVALID_ARGUMENT],
  ];
  for (const [change, code] of refused)
    await t.rejects(
      accounts.requestEmailChange({ ...req, requestId: 'ch-2', ...change }),
      { name: 'RpcError', code },
      JSON.stringify(change),
    );
  t.equal((await requests()).length, 1, 'nothing more published');
  t.strictSame((await accounts.getAccount({ userId: 'mover' })).account, before, 'nor anything changed');
});

t.test('ChangeEmail: stores the new address and publishes email_changed with the old; a repeat changes nothing, one event', async (t) => {
  const changes = () => events('gas.events.account.email_changed');
  const created = (await accounts.getAccount({ userId: 'mover' })).account!;
  advance(60_000);
  const req = { userId: 'mover', email: 'Mover@New.Example.org', previousEmail: 'MOVER@example.org', requestId: 'ch-1' };
  const res = await accounts.changeEmail(req);
  t.equal(res.changed, true);
  t.match(res.account, { userId: 'mover', email: 'mover@new.example.org', name: 'M' }, 'stored lower-cased');
  t.equal(timestampDate(res.account!.updatedAt!).toISOString(), clock.toISOString(), 'updated now');
  const stored = (await accounts.getAccount({ userId: 'mover' })).account!;
  t.strictSame(stored, res.account, 'as answered');
  t.strictSame(
    { ...stored, email: created.email, updatedAt: created.updatedAt },
    created,
    'nothing else of the account changed (plan, name, preferences, times)',
  );

  const [only, ...more] = await changes();
  t.equal(more.length, 0);
  t.equal(only!.msgId, 'mover.email_changed.ch-1');
  t.equal(only!.event.eventId, only!.msgId);
  t.equal(only!.event.kind, AccountEventKind.EMAIL_CHANGED);
  t.match(only!.event.account, { userId: 'mover', email: 'mover@new.example.org' }, 'the account as it is now');
  t.equal(only!.event.previousEmail, 'mover@example.org', 'and the address it had, to tell');
  t.equal(timestampDate(only!.event.occurredAt!).toISOString(), clock.toISOString());
  t.equal(only!.event.emailConfirmation, undefined, 'no secret');

  // A retry (the answer was lost, or the call was cut short before its publish): no change, the same event id.
  advance(1000);
  const again = await accounts.changeEmail(req);
  t.equal(again.changed, false);
  t.strictSame(again.account, stored, 'the account as it was');
  t.equal((await changes()).length, 1, 'published again under the same id, and JetStream kept one');
});

t.test('ChangeEmail: a stale previous_email is refused and changes nothing; bad calls refused', async (t) => {
  const changes = () => events('gas.events.account.email_changed');
  const before = (await accounts.getAccount({ userId: 'mover' })).account!;
  // Asked for when the account still had its first address; meanwhile it was changed to another.
  const stale = { userId: 'mover', email: 'mover@third.example.org', previousEmail: 'mover@example.org', requestId: 'ch-old' };
  const err = await accounts.changeEmail(stale).catch((e: unknown) => e);
  t.match(err, { name: 'RpcError', code: Status.FAILED_PRECONDITION, message: /no longer previous_email/ });
  t.notMatch(String((err as Error).message), /@/, 'the message names no address');
  t.strictSame((await accounts.getAccount({ userId: 'mover' })).account, before, 'nothing changed');
  t.equal((await changes()).length, 1, 'nothing published');

  const ok = { userId: 'mover', email: 'mover@third.example.org', previousEmail: 'mover@new.example.org', requestId: 'ch-3' };
  const refused: Array<[Partial<typeof ok>, Status]> = [
    [{ email: 'not an address' }, Status.INVALID_ARGUMENT],
    [{ email: '' }, Status.INVALID_ARGUMENT],
    [{ previousEmail: '' }, Status.INVALID_ARGUMENT],
    [{ previousEmail: 'MOVER@third.example.org' }, Status.INVALID_ARGUMENT],
    [{ userId: 'ghost' }, Status.NOT_FOUND],
    [{ userId: 'not a user' }, Status.INVALID_ARGUMENT],
    [{ requestId: 'a b' }, Status.INVALID_ARGUMENT],
  ];
  for (const [change, code] of refused)
    await t.rejects(accounts.changeEmail({ ...ok, ...change }), { name: 'RpcError', code }, JSON.stringify(change));
  t.strictSame((await accounts.getAccount({ userId: 'mover' })).account, before, 'nothing changed');
  t.equal((await changes()).length, 1, 'nothing published');
});

t.test('ChangeEmail: concurrent changes from the same address, one wins, the other is refused', async (t) => {
  const changes = () => events('gas.events.account.email_changed');
  const from = 'mover@new.example.org';
  const results = await Promise.allSettled(
    ['a', 'b', 'c', 'd'].map((x) =>
      accounts.changeEmail({ userId: 'mover', email: `${x}@example.net`, previousEmail: from, requestId: `race-${x}` }),
    ),
  );
  const won = results.filter((r) => r.status === 'fulfilled');
  t.equal(won.length, 1, 'one change wins');
  for (const r of results)
    if (r.status === 'rejected') t.match(r.reason, { name: 'RpcError', code: Status.FAILED_PRECONDITION }, 'the others see it changed');
  const now = (await accounts.getAccount({ userId: 'mover' })).account!;
  t.equal(now.email, (won[0] as PromiseFulfilledResult<{ account?: { email: string } }>).value.account!.email);
  const seen = await changes();
  t.equal(seen.length, 2, 'one more event');
  t.match(seen[1]!.event, { previousEmail: from, account: { email: now.email } });
});

t.test(
  'ChangeEmail: an undo link for the previous address rides in email_changed, and an undo says so; no token without expiry',
  async (t) => {
    const changes = async () => (await events('gas.events.account.email_changed')).filter((e) => e.event.account?.userId === 'undoer');
    await accounts.upsertAccount({ account: { userId: 'undoer', email: 'Owner@Example.org', name: 'U' } });
    const undoExpiresAt = timestampFromDate(new Date(clock.getTime() + 7 * 24 * 3600_000));
    const req = {
      userId: 'undoer',
      email: 'taker@example.net',
      previousEmail: 'owner@example.org',
      requestId: 'take',
      undoToken: 'undoer.undo-secret',
      undoExpiresAt,
    };

    await t.rejects(
      accounts.changeEmail({ ...req, undoExpiresAt: undefined }),
      { name: 'RpcError', code: Status.INVALID_ARGUMENT, message: /undo_expires_at/ },
      'a token without its expiry is refused',
    );
    t.equal((await changes()).length, 0, 'nothing published');
    t.equal((await accounts.getAccount({ userId: 'undoer' })).account!.email, 'Owner@Example.org', 'nor anything changed');

    t.equal((await accounts.changeEmail(req)).changed, true);
    const [taken, ...more] = await changes();
    t.equal(more.length, 0);
    t.equal(taken!.event.previousEmail, 'Owner@Example.org', 'the address as the account had it');
    t.match(
      taken!.event.emailConfirmation,
      { email: 'Owner@Example.org', token: 'undoer.undo-secret' },
      'the undo link, to the address the account left',
    );
    t.equal(timestampDate(taken!.event.emailConfirmation!.expiresAt!).getTime(), timestampDate(undoExpiresAt).getTime());
    t.equal(taken!.event.emailChangeUndone, false, 'not an undo');

    // The retry carries the same fields: JetStream keeps the first copy, and it had them.
    t.equal((await accounts.changeEmail(req)).changed, false);
    t.equal((await changes()).length, 1, 'the same event id again');

    // The owner used the link: the account goes back, and the address it leaves is told it was undone.
    advance(60_000);
    const back = { userId: 'undoer', email: 'owner@example.org', previousEmail: 'taker@example.net', requestId: 'undo', undoing: true };
    t.equal((await accounts.changeEmail(back)).changed, true);
    const undone = (await changes())[1]!.event;
    t.match(undone, { previousEmail: 'taker@example.net', emailChangeUndone: true, account: { email: 'owner@example.org' } });
    t.equal(undone.emailConfirmation, undefined, 'no link without a token');

    // An expiry without a token is no link either.
    advance(60_000);
    const plainReq = {
      userId: 'undoer',
      email: 'third@example.net',
      previousEmail: 'owner@example.org',
      requestId: 'plain',
      undoExpiresAt,
    };
    t.equal((await accounts.changeEmail(plainReq)).changed, true);
    const plain = (await changes())[2]!.event;
    t.equal(plain.emailConfirmation, undefined);
    t.equal(plain.emailChangeUndone, false);
  },
);
