import t from 'tap';
import type { Test } from 'tap';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import {
  addService,
  createClient,
  startGrpcServer,
  rpcErrors,
  RpcError,
  Status,
  create,
  AccountService,
  AccountSchema,
  JobService,
  JobSchema,
  JobStatus,
  Plan,
} from '../src/index.ts';
import type { ServiceImpl, Account } from '../src/index.ts';

const accounts = new Map<string, Account>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const accountImpl: ServiceImpl<typeof AccountService> = {
  async getAccount(req) {
    if (req.userId === 'boom') throw new Error('database password is hunter2');
    if (req.userId === 'slow') await sleep(500);
    if (req.userId === 'outage') throw new Error('nats is down');
    const a = accounts.get(req.userId);
    if (!a) throw rpcErrors.notFound(`account ${req.userId} not found`);
    return { account: a };
  },
  async upsertAccount(req) {
    accounts.set(req.account!.userId, req.account!);
    return { account: req.account, created: true };
  },
  async setPlan() {
    throw rpcErrors.failedPrecondition('no plans here');
  },
  async noteSignUpAttempt() {
    throw rpcErrors.failedPrecondition('not in this test');
  },
  async requestEmailConfirmation() {
    throw rpcErrors.failedPrecondition('not in this test');
  },
  async requestPasswordReset() {
    throw rpcErrors.failedPrecondition('not in this test');
  },
  async notePasswordChanged() {
    throw rpcErrors.failedPrecondition('not in this test');
  },
  async deleteAccount() {
    throw rpcErrors.failedPrecondition('not in this test');
  },
  async requestEmailChange() {
    throw rpcErrors.failedPrecondition('not in this test');
  },
  async changeEmail() {
    throw rpcErrors.failedPrecondition('not in this test');
  },
};

// Only WatchJobs is exercised; the other methods are never called.
const jobImpl = new Proxy({} as ServiceImpl<typeof JobService>, {
  get(_t, name) {
    if (name === 'watchJobs') {
      return async function* (req: { userId: string }, ctx: { signal: AbortSignal }) {
        for (let i = 0; i < 3; i++) yield { job: create(JobSchema, { jobId: `j${i}`, userId: req.userId, status: JobStatus.PENDING }) };
        if (req.userId === 'forever') while (!ctx.signal.aborted) await sleep(20);
      };
    }
    return async () => {
      throw rpcErrors.unavailable('not in this test');
    };
  },
});

const errors: object[] = [];
const server = await startGrpcServer({
  host: '127.0.0.1',
  port: 0,
  serviceNames: [AccountService.typeName, JobService.typeName],
  register: (s) => {
    addService(s, AccountService, accountImpl, {
      logger: { error: (o) => errors.push(o) },
      mapError: (e) => ((e as Error).message === 'nats is down' ? rpcErrors.unavailable('the job store is unavailable; retry') : undefined),
    });
    addService(s, JobService, jobImpl);
  },
});
const address = `127.0.0.1:${server.port}`;
const client = createClient(AccountService, address, { defaultDeadlineMs: 2000 });
const jobs = createClient(JobService, address, { defaultDeadlineMs: 2000 });
t.teardown(async () => {
  client.close();
  jobs.close();
  await server.shutdown(100);
});

// The call fails with an RpcError of status `code`, whose message matches `message` when given.
async function rejectsWithStatus(t: Test, call: Promise<unknown>, code: Status, message?: RegExp): Promise<RpcError | undefined> {
  const err = await t.rejects(call, RpcError);
  if (!(err instanceof RpcError)) return undefined;
  t.equal(err.code, code, `status ${Status[code]}`);
  if (message) t.match(err.message, message);
  return err;
}

t.test('unary round trip carries protobuf messages both ways', async (t) => {
  await client.upsertAccount({ account: { userId: 'ann', email: 'ann@example.org', plan: Plan.PREMIUM } });
  const res = await client.getAccount({ userId: 'ann' });
  t.equal(res.account?.email, 'ann@example.org');
  t.equal(res.account?.plan, Plan.PREMIUM);
  t.equal(res.account?.$typeName, AccountSchema.typeName);
});

t.test('domain errors arrive with their own status code and message', async (t) => {
  await rejectsWithStatus(t, client.getAccount({ userId: 'nobody' }), Status.NOT_FOUND, /nobody/);
  await rejectsWithStatus(t, client.setPlan({ userId: 'ann' }), Status.FAILED_PRECONDITION);
});

t.test('an unexpected error is INTERNAL without its text, and is logged on the server', async (t) => {
  const err = await rejectsWithStatus(t, client.getAccount({ userId: 'boom' }), Status.INTERNAL);
  t.notMatch(err?.message, /hunter2/);
  t.equal(errors.length, 1);
  errors.length = 0;
});

t.test('a dependency outage mapped by the service arrives as UNAVAILABLE', async (t) => {
  await rejectsWithStatus(t, client.getAccount({ userId: 'outage' }), Status.UNAVAILABLE, /retry/);
});

t.test('every call has a deadline: a slow handler ends in DEADLINE_EXCEEDED', async (t) => {
  await rejectsWithStatus(t, client.getAccount({ userId: 'slow' }, { deadlineMs: 100 }), Status.DEADLINE_EXCEEDED);
});

t.test('server streams deliver every message and end', async (t) => {
  const got: string[] = [];
  for await (const r of jobs.watchJobs({ userId: 'u' }, { deadlineMs: 5000 })) got.push(r.job!.jobId);
  t.strictSame(got, ['j0', 'j1', 'j2']);
});

t.test('an aborted stream stops quietly', async (t) => {
  const ac = new AbortController();
  const got: string[] = [];
  for await (const r of jobs.watchJobs({ userId: 'forever' }, { deadlineMs: 60_000, signal: ac.signal })) {
    got.push(r.job!.jobId);
    if (got.length === 3) ac.abort();
  }
  t.equal(got.length, 3);
});

t.test('a call whose signal fired before it began is never left open', async (t) => {
  const ac = new AbortController();
  ac.abort();
  const got: unknown[] = [];
  for await (const r of jobs.watchJobs({ userId: 'forever' }, { deadlineMs: 60_000, signal: ac.signal })) got.push(r);
  t.strictSame(got, [], 'the stream ends at once, without a message');
  await rejectsWithStatus(t, client.getAccount({ userId: 'slow' }, { deadlineMs: 60_000, signal: ac.signal }), Status.CANCELLED);
});

t.test('grpc.health.v1 answers SERVING for the server and each service, NOT_SERVING after setServing(false)', async (t) => {
  const Health = grpc.makeGenericClientConstructor(healthService, 'Health');
  const h = new Health(address, grpc.credentials.createInsecure()) as unknown as {
    check(req: { service: string }, cb: (err: grpc.ServiceError | null, res: { status: string }) => void): void;
    close(): void;
  };
  const check = (service: string) =>
    new Promise<string>((resolve, reject) => h.check({ service }, (err, res) => (err ? reject(err) : resolve(res.status))));
  t.equal(await check(''), 'SERVING');
  t.equal(await check('gas.v1.AccountService'), 'SERVING');
  const unknown = await t.rejects(check('no.such.Service'));
  t.equal((unknown as grpc.ServiceError).code, Status.NOT_FOUND);
  server.setServing(false);
  t.equal(await check('gas.v1.JobService'), 'NOT_SERVING');
  server.setServing(true);
  h.close();
});
