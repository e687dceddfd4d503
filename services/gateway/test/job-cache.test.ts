// The gateway's per-user job cache (src/job-cache.ts), on the gateway built in-process and driven
// with inject(), against a real nats-server and job service: a job created through the gateway is
// listed at once; a change the job service makes (claim, progress) shows in the list and the
// detail within a bounded wait; one user's cache never answers another; when the job service is
// killed the answers stay right (the job service's own, or its 503, never stale ones) and the cache
// is whole again after the restart; at most maxUsers caches are open, and an idle one closes.
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { JobStatus } from '@gas/proto';
import { newApiToken, startGasStack } from '@gas/testing';
import type { JobJson, StackUser } from '@gas/testing';
import { stackClients, stackGateway } from './stack-clients.ts';
import { JobCache } from '../src/job-cache.ts';

const users: StackUser[] = ['alice', 'bob', 'carol'].map((userId) => ({ userId, token: newApiToken() }));
const stack = await startGasStack({ store: 'filesystem', services: ['job'], users });
t.teardown(() => stack.stop());
const [alice, bob, carol] = users as [StackUser, StackUser, StackUser];
const clients = await stackClients(stack, {
  name: 'job-cache-test',
  deadlineMs: 5_000,
  noticesDeadlineMs: 1_000,
});
const { jobs, logger } = clients;
const IDLE_MS = 1_500;
const cache = new JobCache({ jobs, logger, maxUsers: 2, idleMs: IDLE_MS, retryMs: 100 });
t.teardown(() => cache.close());
const app = await stackGateway(stack, clients, { jobCache: cache });

type JobList = { jobs: JobJson[]; next_page_token: string | null };
const get = (user: StackUser, url: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${user.token}` } });
const list = async (user: StackUser) => (await get(user, '/api/v1/jobs')).json<JobList>();
const detail = async (user: StackUser, id: string) => (await get(user, `/api/v1/jobs/${id}`)).json<JobJson>();

const VCF = '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchr21\t5097843\t.\tA\tG\t0\tPASS\t.\n';
async function submit(user: StackUser, name: string): Promise<string> {
  const boundary = '----gas-job-cache-test';
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
  return res.json<{ id: string }>().id;
}

/** Reads until the user's cache answers (it opens on the first read and is whole a moment later). */
async function cacheWhole(user: StackUser): Promise<boolean> {
  const t0 = Date.now();
  while (Date.now() - t0 < 10_000) {
    await list(user);
    if (cache.list(user.userId, '', 1, JobStatus.UNSPECIFIED) !== undefined) return true;
    await sleep(20);
  }
  return false;
}

/** Milliseconds until `probe` holds, or -1 after `timeoutMs`. */
async function within(probe: () => Promise<boolean>, timeoutMs = 3_000): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await probe()) return Date.now() - t0;
    await sleep(5);
  }
  return -1;
}

let aliceJob = '';

t.test('a job created through the gateway is in the list and its detail at once, from the cache', async (t) => {
  await submit(alice, 'first.vcf');
  t.ok(await cacheWhole(alice), "alice's cache is whole");
  aliceJob = await submit(alice, 'second.vcf');
  const l = await list(alice);
  t.equal(l.jobs[0]?.id, aliceJob, 'the new job is first in the list right after the upload');
  t.equal(l.jobs.length, 2);
  t.equal(cache.get(alice.userId, aliceJob)?.jobId, aliceJob, 'the answer came from the cache');
  const d = await detail(alice, aliceJob);
  t.equal(d.status, 'PENDING');
  t.type(d.queue_position, 'number', "a waiting job's detail still has its queue position");
});

t.test('a change the job service makes shows in the list and the detail within a bounded wait', async (t) => {
  await jobs.claimJob({ userId: alice.userId, jobId: aliceJob, attempt: 1, annotatorId: 'job-cache-test' });
  const claimed = await within(async () => (await list(alice)).jobs[0]?.status === 'RUNNING');
  t.ok(claimed >= 0, `the list says RUNNING ${claimed} ms after the claim`);
  t.equal((await detail(alice, aliceJob)).status, 'RUNNING', 'and so does the detail');
  await jobs.reportProgress({ userId: alice.userId, jobId: aliceJob, attempt: 1, done: 5n, total: 10n });
  const moved = await within(async () => (await detail(alice, aliceJob)).progress?.done === 5);
  t.ok(moved >= 0, `the detail shows the progress ${moved} ms after it was reported`);
  t.strictSame((await list(alice)).jobs[0]?.progress, { done: 5, total: 10 }, 'and so does the list');
  t.equal(cache.get(alice.userId, aliceJob)?.progressDone, 5n, 'from the cache');
});

t.test("one user's cache never answers another user", async (t) => {
  const bobJob = await submit(bob, 'bob.vcf');
  t.ok(await cacheWhole(bob), "bob's cache is whole");
  const l = await list(bob);
  t.strictSame(
    l.jobs.map((j) => j.id),
    [bobJob],
    "bob's list has his job only",
  );
  const res = await get(bob, `/api/v1/jobs/${aliceJob}`);
  t.equal(res.statusCode, 404, "alice's job is not bob's, though alice's cache holds it");
  t.equal(cache.get(bob.userId, aliceJob), undefined);
  t.notOk(
    (await list(alice)).jobs.some((j) => j.id === bobJob),
    "alice's list has none of bob's",
  );
  t.equal(cache.get(alice.userId, bobJob), undefined, "nor alice's cache");
  t.equal((await detail(bob, bobJob)).input_name, 'bob.vcf');
});

t.test('the job service killed: answers stay right (its own, or 503), and the cache is whole again after the restart', async (t) => {
  const job = stack.services.job!;
  job.signal('SIGKILL');
  await job.exited;
  const down = await within(async () => cache.list(alice.userId, '', 20, JobStatus.UNSPECIFIED) === undefined, 5_000);
  t.ok(down >= 0, `the broken stream took the cache out of use (${down} ms)`);
  const res = await get(alice, '/api/v1/jobs');
  t.equal(res.statusCode, 503, 'with no job service, the list says so rather than answer from a cache it cannot keep current');
  await stack.startService('job');
  // Changed while the gateway's stream is down or reopening.
  await jobs.waitForReady(10_000);
  await jobs.reportProgress({ userId: alice.userId, jobId: aliceJob, attempt: 1, done: 8n, total: 10n });
  t.equal((await detail(alice, aliceJob)).progress?.done, 8, 'the detail is right at once (from the job service until the cache is whole)');
  t.ok(await cacheWhole(alice), "alice's cache is whole again");
  t.equal(cache.get(alice.userId, aliceJob)?.progressDone, 8n, 'with the change made while it was out');
  await jobs.reportProgress({ userId: alice.userId, jobId: aliceJob, attempt: 1, done: 9n, total: 10n });
  const moved = await within(async () => (await list(alice)).jobs[0]?.progress?.done === 9);
  t.ok(moved >= 0, `a change after the restart shows in the list ${moved} ms later`);
});

t.test('at most maxUsers caches are open (least recently read out), and an idle one closes', async (t) => {
  await list(alice);
  await list(bob);
  t.ok(cache.has(alice.userId) && cache.has(bob.userId));
  await list(carol);
  t.ok(cache.has(carol.userId), "carol's cache opened");
  t.notOk(cache.has(alice.userId), "alice's, the least recently read, closed");
  t.ok(cache.has(bob.userId));
  t.equal(cache.stats().users, 2);
  t.equal((await list(alice)).jobs.length, 2, 'a closed cache answers nothing wrong: alice reads her jobs from the job service');
  const closed = await within(async () => cache.stats().users === 0, IDLE_MS * 3);
  t.ok(closed >= 0, `caches nobody reads close (${closed} ms)`);
});

t.test('a user with more jobs than maxJobsPerUser is not cached: the job service answers', async (t) => {
  const small = new JobCache({ jobs, logger, maxJobsPerUser: 1, retryMs: 100 });
  t.teardown(() => small.close());
  const answers: unknown[] = [];
  for (let i = 0; i < 20; i++) {
    answers.push(small.list(alice.userId, '', 20, JobStatus.UNSPECIFIED));
    await sleep(25);
  }
  t.ok(
    answers.every((a) => a === undefined),
    'alice has 2 jobs: her cache never answers',
  );
  t.ok(small.has(alice.userId), 'and stays open (not reopened on every read) until idle');
  t.equal(small.stats().jobs, 0, 'holding no jobs');
});
