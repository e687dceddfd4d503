// The job index (the in-memory read model of the gas-jobs bucket behind GetJob and ListJobs),
// against a real nats-server: two job-service replicas over one NATS, each with its own
// connection, must answer as if they read the bucket, whichever of them made the write.
import t from 'tap';
import { Writable } from 'node:stream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { monotonicFactory, ulid } from 'ulid';
import { startNatsServer } from '@gas/testing';
import { createLogger, createRegistry } from '@gas/runtime';
import { create, createClient, toBinary, GenomeBuild, JobSchema, JobService, JobStatus, Status } from '@gas/proto';
import type { ServiceClient } from '@gas/proto';
import { createJobApp } from '../src/app.ts';
import { JobIndex } from '../src/job-index.ts';
import { JobStore } from '../src/job-store.ts';

const nats = await startNatsServer();
t.teardown(() => nats.stop());
const logger = createLogger({ service: 'job', level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

async function replica(): Promise<{ client: ServiceClient<typeof JobService>; nc: NatsConnection }> {
  const nc = await connect({ servers: nats.url });
  const app = createJobApp({
    config: { grpcHost: '127.0.0.1', grpcPort: 0, idempotencyTtlHours: 1, eventsMaxAgeDays: 1, natsReplicas: 1 },
    nc,
    logger,
    registry: createRegistry('job'),
  });
  const port = await app.start();
  const client = createClient(JobService, `127.0.0.1:${port}`, { defaultDeadlineMs: 5000 });
  t.teardown(async () => {
    client.close();
    await app.stop(500);
    await nc.close();
  });
  return { client, nc };
}

const a = await replica();
const b = await replica();

/** Ids in creation order even within one millisecond, so "the newest" is the one created last. */
const nextId = monotonicFactory();

function newJob(client: ServiceClient<typeof JobService>, userId: string, jobId = nextId()) {
  return client.createJob({
    userId,
    jobId,
    genomeBuild: GenomeBuild.GRCH37,
    inputName: 'a.vcf',
    inputSize: 10n,
    inputKey: `${userId}/${jobId}/a.vcf`,
  });
}

const ids = (jobs: { jobId: string }[]) => jobs.map((j) => j.jobId);

t.test('a job created on one replica is listed and found at once, on it and on the other', async (t) => {
  for (let i = 0; i < 20; i++) {
    const { job } = await newJob(i % 2 ? a.client : b.client, 'ix1');
    // No wait of any kind between the write and the reads.
    const [onA, onB, oneOnB] = await Promise.all([
      a.client.listJobs({ userId: 'ix1' }),
      b.client.listJobs({ userId: 'ix1' }),
      b.client.getJob({ userId: 'ix1', jobId: job!.jobId }),
    ]);
    t.equal(onA.jobs[0]?.jobId, job!.jobId, `job ${i} is the newest on replica A`);
    t.equal(onB.jobs[0]?.jobId, job!.jobId, `job ${i} is the newest on replica B`);
    t.equal(oneOnB.job?.queueSequence, job!.queueSequence, 'with its queue sequence');
  }
});

t.test('an update on one replica is what the other answers next', async (t) => {
  const { job } = await newJob(a.client, 'ix2');
  const id = { userId: 'ix2', jobId: job!.jobId };
  await a.client.claimJob({ ...id, attempt: 1, annotatorId: 'x' });
  t.equal((await b.client.getJob(id)).job?.status, JobStatus.RUNNING);
  await b.client.completeJob({ ...id, attempt: 1, resultKeys: { vcf: 'k' }, resultSize: 5n });
  t.equal((await a.client.getJob(id)).job?.status, JobStatus.COMPLETED);
  t.strictSame(ids((await a.client.listJobs({ userId: 'ix2', status: JobStatus.COMPLETED })).jobs), [job!.jobId]);
  t.equal((await b.client.listJobs({ userId: 'ix2', status: JobStatus.PENDING })).jobs.length, 0);
});

t.test('pages: newest first, page tokens, the status filter, and jobs written out of id order', async (t) => {
  // Ids made first and created in reverse: the index keeps id order whatever the write order.
  // (ULIDs made in the same millisecond are not in order by themselves: sorted.)
  const made = Array.from({ length: 7 }, () => ulid()).sort();
  for (const id of [...made].reverse()) await newJob(b.client, 'ix3', id);
  await a.client.claimJob({ userId: 'ix3', jobId: made[1]!, attempt: 1, annotatorId: 'x' });
  await a.client.claimJob({ userId: 'ix3', jobId: made[4]!, attempt: 1, annotatorId: 'x' });
  const seen: string[] = [];
  let token = '';
  let pages = 0;
  do {
    const page = await (pages % 2 ? a : b).client.listJobs({ userId: 'ix3', pageSize: 3, pageToken: token });
    seen.push(...ids(page.jobs));
    token = page.nextPageToken;
    pages++;
  } while (token);
  t.strictSame(seen, [...made].reverse());
  t.equal(pages, 3);
  const running = await b.client.listJobs({ userId: 'ix3', status: JobStatus.RUNNING, pageSize: 1 });
  t.strictSame(ids(running.jobs), [made[4]]);
  const rest = await b.client.listJobs({ userId: 'ix3', status: JobStatus.RUNNING, pageSize: 1, pageToken: running.nextPageToken });
  t.strictSame(ids(rest.jobs), [made[1]]);
  t.equal((await a.client.listJobs({ userId: 'nobody-here' })).jobs.length, 0);
  await t.rejects(a.client.listJobs({ userId: 'ix3', pageToken: 'not-a-job-id' }), { code: Status.INVALID_ARGUMENT });
  await t.rejects(b.client.getJob({ userId: 'ix3', jobId: ulid() }), { code: Status.NOT_FOUND });
});

t.test('a job written to the bucket by someone else, and one deleted, are seen by both replicas', async (t) => {
  // Not through either replica: only their watches can tell them.
  const kv = await new Kvm(jetstream(a.nc)).open('gas-jobs');
  const jobId = ulid();
  const at = { seconds: 1n, nanos: 0 };
  await kv.create(
    `ix4.${jobId}`,
    toBinary(
      JobSchema,
      create(JobSchema, { jobId, userId: 'ix4', status: JobStatus.FAILED, inputName: 'x.vcf', createdAt: at, updatedAt: at }),
    ),
  );
  t.equal((await a.client.getJob({ userId: 'ix4', jobId })).job?.status, JobStatus.FAILED);
  t.strictSame(ids((await b.client.listJobs({ userId: 'ix4' })).jobs), [jobId]);
  await kv.delete(`ix4.${jobId}`);
  await t.rejects(b.client.getJob({ userId: 'ix4', jobId }), { code: Status.NOT_FOUND });
  t.equal((await a.client.listJobs({ userId: 'ix4' })).jobs.length, 0);
});

t.test('a replica started after the writes replays the bucket before it answers', async (t) => {
  const { job } = await newJob(a.client, 'ix5');
  const late = await replica();
  t.strictSame(ids((await late.client.listJobs({ userId: 'ix5' })).jobs), [job!.jobId]);
});

t.test('the index says it is behind rather than answer stale when its watch cannot catch up', async (t) => {
  const nc = await connect({ servers: nats.url });
  t.teardown(() => nc.close());
  const kv = await new Kvm(jetstream(nc)).open('gas-jobs');
  const index = new JobIndex(kv, await jetstreamManager(nc), 'KV_gas-jobs');
  t.ok(await index.caughtUp(5000), 'caught up once the replay is in');
  index.close();
  await newJob(a.client, 'ix6');
  t.notOk(await index.caughtUp(200), 'a closed index never claims to be current');
});

t.test('a store whose index is behind reads the bucket itself: the same pages and jobs', async (t) => {
  const nc = await connect({ servers: nats.url });
  t.teardown(() => nc.close());
  const kv = await new Kvm(jetstream(nc)).open('gas-jobs');
  const store = new JobStore(kv, await jetstreamManager(nc), 'gas-jobs');
  store.closeIndex();
  const made = Array.from({ length: 5 }, () => ulid()).sort();
  for (const id of made) await newJob(a.client, 'ix7', id);
  await a.client.claimJob({ userId: 'ix7', jobId: made[2]!, attempt: 1, annotatorId: 'x' });
  const all = () => true;
  const first = await store.list('ix7', '', 2, all);
  t.strictSame(ids(first.jobs), [made[4], made[3]]);
  t.ok(first.more);
  const rest = await store.list('ix7', made[3]!, 10, all);
  t.strictSame(ids(rest.jobs), [made[2], made[1], made[0]]);
  t.notOk(rest.more);
  t.strictSame(ids((await store.list('ix7', '', 10, (j) => j.status === JobStatus.RUNNING)).jobs), [made[2]]);
  t.equal((await store.list('ix7', made[0]!, 10, all)).jobs.length, 0);
  t.equal((await store.find('ix7', made[2]!))?.status, JobStatus.RUNNING);
  t.equal(await store.find('ix7', ulid()), null);
});

t.test('a watch that opens reports recent deletions only, and every deletion after it opened', async (t) => {
  const nc = await connect({ servers: nats.url });
  t.teardown(() => nc.close());
  const kv = await new Kvm(jetstream(nc)).open('gas-jobs');
  const jsm = await jetstreamManager(nc);
  const seen = async (store: JobStore, until: (r: Array<[string, boolean]>) => boolean, also?: () => Promise<unknown>) => {
    const ac = new AbortController();
    const got: Array<[string, boolean]> = [];
    const timer = setTimeout(() => ac.abort(), 3000);
    const watching = (async () => {
      for await (const r of store.watch('ix9', ac.signal)) {
        got.push([r.job.jobId, r.deleted]);
        if (until(got)) ac.abort();
      }
    })();
    await also?.();
    await watching;
    clearTimeout(timer);
    store.closeIndex();
    return got;
  };
  const [gone, kept, later] = [nextId(), nextId(), nextId()];
  await newJob(a.client, 'ix9', gone);
  await newJob(a.client, 'ix9', kept);
  await kv.delete(`ix9.${gone}`);
  // Written after the deletion, so once it is seen the replay has passed the deletion's marker.
  await newJob(a.client, 'ix9', later);
  // Deletions older than the window (here: any) are not replayed; the live job is.
  const old = await seen(new JobStore(kv, jsm, 'gas-jobs', undefined, 0), (g) => g.some(([id]) => id === later));
  t.notOk(
    old.some(([id]) => id === gone),
    'an old deletion is not replayed',
  );
  t.ok(old.some(([id, d]) => id === kept && !d));
  // Within the window it is (a page that was away a moment catches up).
  const recent = await seen(new JobStore(kv, jsm, 'gas-jobs'), (g) => g.some(([id]) => id === later));
  t.ok(
    recent.some(([id, d]) => id === gone && d),
    'a recent deletion is replayed',
  );
  // A deletion after the watch opened is reported whatever the window.
  const live = await seen(
    new JobStore(kv, jsm, 'gas-jobs', undefined, 0),
    (g) => g.some(([id, d]) => id === kept && d),
    async () => {
      await new Promise((r) => setTimeout(r, 300));
      await kv.delete(`ix9.${kept}`);
    },
  );
  t.ok(
    live.some(([id, d]) => id === kept && d),
    'a live deletion is reported',
  );
});
