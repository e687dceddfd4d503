// A deleted job leaves the gateways' job caches (src/job-cache.ts): two gateways built in-process on
// one real nats-server and job service, each with its own cache, as two replicas. The one that
// takes DELETE /api/v1/jobs/{id} drops the job at once; the other hears it from its WatchJobs
// stream; an answer the job service gave before the delete never brings it back; the whole cache
// opened afterwards (its replay carries the delete marker) never lists it.
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { JobStatus } from '@gas/proto';
import type { Job } from '@gas/proto';
import { newApiToken, startGasStack } from '@gas/testing';
import type { StackUser } from '@gas/testing';
import type { FastifyInstance } from 'fastify';
import { stackClients, stackGateway } from './stack-clients.ts';
import { JobCache } from '../src/job-cache.ts';

const users: StackUser[] = ['dora', 'eve'].map((userId) => ({ userId, token: newApiToken() }));
const [dora, eve] = users as [StackUser, StackUser];
// No annotator: jobs are finished through the job service, as an annotator would.
const stack = await startGasStack({ store: 'filesystem', services: ['job'], users });
t.teardown(() => stack.stop());
const clients = await stackClients(stack, { name: 'job-cache-delete-test', deadlineMs: 5_000, noticesDeadlineMs: 1_000 });
const { jobs, logger } = clients;
const cacheA = new JobCache({ jobs, logger, retryMs: 100 });
const cacheB = new JobCache({ jobs, logger, retryMs: 100 });
t.teardown(() => (cacheA.close(), cacheB.close()));
const a = await stackGateway(stack, clients, { jobCache: cacheA });
const b = await stackGateway(stack, clients, { jobCache: cacheB });

const call = (app: FastifyInstance, user: StackUser, method: 'GET' | 'DELETE', url: string) =>
  app.inject({ method, url, headers: { authorization: `Bearer ${user.token}` } });
const listed = async (app: FastifyInstance, user: StackUser) =>
  (await call(app, user, 'GET', '/api/v1/jobs')).json<{ jobs: Array<{ id: string }> }>().jobs.map((j) => j.id);

const VCF = '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchr21\t5097843\t.\tA\tG\t0\tPASS\t.\n';
async function failedJob(app: FastifyInstance, user: StackUser, name: string): Promise<Job> {
  const boundary = '----gas-job-cache-delete-test';
  const payload =
    `--${boundary}\r\nContent-Disposition: form-data; name="genome_build"\r\n\r\nGRCh38\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: text/x-vcf\r\n\r\n${VCF}\r\n` +
    `--${boundary}--\r\n`;
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/jobs',
    headers: { authorization: `Bearer ${user.token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
    payload,
  });
  if (res.statusCode !== 201) throw new Error(`upload: ${res.statusCode} ${res.body}`);
  const jobId = res.json<{ id: string }>().id;
  return (await jobs.failJob({ userId: user.userId, jobId, attempt: 0, reason: 'test: finished for deletion' })).job!;
}

/** Milliseconds until `probe` holds, or -1 after `timeoutMs`. */
async function within(probe: () => Promise<boolean>, timeoutMs = 5_000): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await probe()) return Date.now() - t0;
    await sleep(10);
  }
  return -1;
}

/** Reads through the gateway until its cache of the user is whole and has the job as `status`. */
const cached = (cache: JobCache, app: FastifyInstance, user: StackUser, jobId: string, status: JobStatus) =>
  within(async () => {
    await listed(app, user);
    return cache.get(user.userId, jobId)?.status === status;
  });

t.test('the gateway that deletes drops the job at once; the other hears it from its stream', async (t) => {
  const keep = await failedJob(a, dora, 'keep.vcf');
  const gone = await failedJob(a, dora, 'gone.vcf');
  t.not(await cached(cacheA, a, dora, gone.jobId, JobStatus.FAILED), -1, 'gateway A has the finished job cached');
  t.not(await cached(cacheB, b, dora, gone.jobId, JobStatus.FAILED), -1, 'and so has gateway B');

  const del = await call(a, dora, 'DELETE', `/api/v1/jobs/${gone.jobId}`);
  t.equal(del.statusCode, 204, del.body);
  t.equal(del.body, '');
  t.same(await listed(a, dora), [keep.jobId], "A's list, right after");
  t.equal((await call(a, dora, 'GET', `/api/v1/jobs/${gone.jobId}`)).statusCode, 404, "A's detail");
  const ms = await within(async () => !(await listed(b, dora)).includes(gone.jobId));
  t.not(ms, -1, `B's list lost it ${ms} ms later`);
  t.equal(cacheB.get(dora.userId, gone.jobId), undefined, "not in B's cache");
  t.equal((await call(b, dora, 'GET', `/api/v1/jobs/${gone.jobId}`)).statusCode, 404, "B's detail");
  t.ok(cacheB.list(dora.userId, '', 20, JobStatus.UNSPECIFIED), "B's cache is still whole (answers from memory)");

  // An answer read before the delete (a slow GetJob) arriving after it.
  cacheA.saw(gone);
  cacheB.saw(gone);
  t.same(await listed(a, dora), [keep.jobId], 'a stale answer does not bring it back to A');
  t.same(await listed(b, dora), [keep.jobId], 'nor to B');
});

t.test('a cache opened after the delete never lists the job', async (t) => {
  const gone = await failedJob(a, eve, 'later.vcf');
  t.equal((await call(a, eve, 'DELETE', `/api/v1/jobs/${gone.jobId}`)).statusCode, 204);
  // Gateway B has not read eve's jobs yet: its cache opens now, on a replay that has the delete marker.
  const cacheC = new JobCache({ jobs, logger, retryMs: 100 });
  t.teardown(() => cacheC.close());
  const c = await stackGateway(stack, clients, { jobCache: cacheC });
  const whole = await within(async () => {
    await listed(c, eve);
    return cacheC.list(eve.userId, '', 20, JobStatus.UNSPECIFIED) !== undefined;
  });
  t.not(whole, -1, "the new cache of eve's jobs is whole");
  t.same(await listed(c, eve), [], 'and empty');

  const stays = await failedJob(c, eve, 'stays.vcf');
  const other = await call(c, dora, 'DELETE', `/api/v1/jobs/${stays.jobId}`);
  t.equal(other.statusCode, 404, "another user's DELETE: 404");
  t.equal(other.headers['content-type'], 'application/problem+json; charset=utf-8');
  t.same(await listed(c, eve), [stays.jobId], 'and the job stays');
});
