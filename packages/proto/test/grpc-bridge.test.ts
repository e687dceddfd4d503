import { test, after } from 'node:test';
import assert from 'node:assert/strict';
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
after(async () => {
  client.close();
  jobs.close();
  await server.shutdown(100);
});

test('unary round trip carries protobuf messages both ways', async () => {
  await client.upsertAccount({ account: { userId: 'ann', email: 'ann@example.org', plan: Plan.PREMIUM } });
  const res = await client.getAccount({ userId: 'ann' });
  assert.equal(res.account?.email, 'ann@example.org');
  assert.equal(res.account?.plan, Plan.PREMIUM);
  assert.equal(res.account?.$typeName, AccountSchema.typeName);
});

test('domain errors arrive with their own status code and message', async () => {
  await assert.rejects(client.getAccount({ userId: 'nobody' }), (e: unknown) => e instanceof RpcError && e.code === Status.NOT_FOUND && /nobody/.test(e.message));
  await assert.rejects(client.setPlan({ userId: 'ann' }), (e: unknown) => e instanceof RpcError && e.code === Status.FAILED_PRECONDITION);
});

test('an unexpected error is INTERNAL without its text, and is logged on the server', async () => {
  await assert.rejects(client.getAccount({ userId: 'boom' }), (e: unknown) => {
    assert.ok(e instanceof RpcError);
    assert.equal(e.code, Status.INTERNAL);
    assert.doesNotMatch(e.message, /hunter2/);
    return true;
  });
  assert.equal(errors.length, 1);
  errors.length = 0;
});

test('a dependency outage mapped by the service arrives as UNAVAILABLE', async () => {
  await assert.rejects(client.getAccount({ userId: 'outage' }), (e: unknown) => e instanceof RpcError && e.code === Status.UNAVAILABLE && /retry/.test(e.message));
});

test('every call has a deadline: a slow handler ends in DEADLINE_EXCEEDED', async () => {
  await assert.rejects(client.getAccount({ userId: 'slow' }, { deadlineMs: 100 }), (e: unknown) => e instanceof RpcError && e.code === Status.DEADLINE_EXCEEDED);
});

test('server streams deliver every message and end', async () => {
  const got: string[] = [];
  for await (const r of jobs.watchJobs({ userId: 'u' }, { deadlineMs: 5000 })) got.push(r.job!.jobId);
  assert.deepEqual(got, ['j0', 'j1', 'j2']);
});

test('an aborted stream stops quietly', async () => {
  const ac = new AbortController();
  const got: string[] = [];
  for await (const r of jobs.watchJobs({ userId: 'forever' }, { deadlineMs: 60_000, signal: ac.signal })) {
    got.push(r.job!.jobId);
    if (got.length === 3) ac.abort();
  }
  assert.equal(got.length, 3);
});

test('grpc.health.v1 answers SERVING for the server and each service, NOT_SERVING after setServing(false)', async () => {
  const Health = grpc.makeGenericClientConstructor(healthService, 'Health');
  const h = new Health(address, grpc.credentials.createInsecure()) as unknown as {
    check(req: { service: string }, cb: (err: grpc.ServiceError | null, res: { status: string }) => void): void;
    close(): void;
  };
  const check = (service: string) =>
    new Promise<string>((resolve, reject) => h.check({ service }, (err, res) => (err ? reject(err) : resolve(res.status))));
  assert.equal(await check(''), 'SERVING');
  assert.equal(await check('gas.v1.AccountService'), 'SERVING');
  await assert.rejects(check('no.such.Service'), (e: grpc.ServiceError) => e.code === Status.NOT_FOUND);
  server.setServing(false);
  assert.equal(await check('gas.v1.JobService'), 'NOT_SERVING');
  server.setServing(true);
  h.close();
});
