// The annotator queue as the job service reports it (metrics exported by one replica at a time,
// GetQueueStats) and ReleaseJob, against a real nats-server with two job-service replicas.
import t from 'tap';
import type { Test } from 'tap';
import { Writable } from 'node:stream';
import { ulid } from 'ulid';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { createLogger, createRegistry } from '@gas/runtime';
import type { Registry } from '@gas/runtime';
import { createClient, fromBinary, GenomeBuild, JobRequestedSchema, JobService, JobStatus, Status, timestampDate } from '@gas/proto';
import type { ServiceClient } from '@gas/proto';
import { consumerSpecs, ensureConsumer, streamNames } from '@gas/messaging';
import { startNatsServer } from '@gas/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import { createJobApp } from '../src/app.ts';

const nats = await startNatsServer();
t.teardown(() => nats.stop());
const nc: NatsConnection = await connect({ servers: nats.url });
t.teardown(() => nc.close());
const jsm = await jetstreamManager(nc);

interface Replica {
  registry: Registry;
  jobs: ServiceClient<typeof JobService>;
  stop(): Promise<void>;
}

async function replica(name: string): Promise<Replica> {
  const registry = createRegistry('job');
  const app = createJobApp({
    config: {
      grpcHost: '127.0.0.1',
      grpcPort: 0,
      idempotencyTtlHours: 1,
      eventsMaxAgeDays: 1,
      natsReplicas: 1,
      queueMetricsLeaseSeconds: 1,
    },
    nc,
    logger: createLogger({ service: 'job', level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) }),
    registry,
    replicaId: name,
  });
  const port = await app.start();
  const jobs = createClient(JobService, `127.0.0.1:${port}`, { defaultDeadlineMs: 5000 });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    jobs.close();
    await app.stop(200);
  };
  t.teardown(stop);
  return { registry, jobs, stop };
}

const a = await replica('job-a');
const b = await replica('job-b');

async function submit(jobs: ServiceClient<typeof JobService>, userId = 'queue-user') {
  const jobId = ulid();
  const { job } = await jobs.createJob({
    userId,
    jobId,
    genomeBuild: GenomeBuild.GRCH37,
    inputName: 'a.vcf',
    inputSize: 10n,
    inputKey: `${userId}/${jobId}/a.vcf`,
    idempotencyKey: '',
  });
  return job!;
}

/** The value of a queue gauge in a replica's /metrics text, or undefined when it exports none. */
async function gauge(r: Replica, name: string): Promise<number | undefined> {
  const text = await r.registry.metrics();
  const m = new RegExp(`^${name}\\{consumer="annotator",service="job"\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/** The replica that exports the queue figures once the lease has settled (one, or the test fails). */
async function exporter(t: Test): Promise<Replica> {
  let holders: Replica[] = [];
  for (const deadline = Date.now() + 5000; Date.now() < deadline; await sleep(50)) {
    holders = [];
    for (const r of [a, b]) if (/^gas_job_queue_metrics_exporter\{service="job"\} 1$/m.test(await r.registry.metrics())) holders.push(r);
    if (holders.length === 1) break;
  }
  t.equal(holders.length, 1, 'exactly one replica exports the queue figures');
  return holders[0]!;
}

t.test('N requests and no annotator: the depth reads N, exported by exactly one replica', async (t) => {
  for (let i = 0; i < 5; i++) await submit(a.jobs);
  const holder = await exporter(t);
  const other = holder === a ? b : a;
  t.equal(await gauge(holder, 'gas_job_queue_depth_jobs'), 5);
  t.equal(await gauge(holder, 'gas_job_queue_waiting_jobs'), 5);
  t.equal(await gauge(holder, 'gas_job_queue_running_jobs'), 0);
  t.ok((await gauge(holder, 'gas_job_queue_oldest_waiting_seconds'))! >= 0);
  t.equal(await gauge(other, 'gas_job_queue_depth_jobs'), undefined, 'the other replica exports no series');
  t.match(await other.registry.metrics(), /^gas_job_queue_metrics_exporter\{service="job"\} 0$/m);

  const stats = await b.jobs.getQueueStats({});
  t.equal(stats.depth, 5n, 'GetQueueStats answers on any replica');
  t.equal(stats.waiting, 5n);
  t.ok(stats.oldestWaitingSince, 'the oldest waiting request has a time');
  t.ok(timestampDate(stats.oldestWaitingSince!) <= new Date());
  t.match(stats.consumers, [{ name: 'annotator', pending: 5n, ackPending: 0n }], 'the job service made the consumer before any annotator');
  t.equal(stats.consumers.length, 1);
});

t.test('annotators take the requests: running, then drained to 0; the oldest-waiting age follows', async (t) => {
  const holder = await exporter(t);
  const spec = consumerSpecs.annotator({ ackWaitMs: 30_000, maxDeliver: 5, maxAckPending: 1000 });
  await ensureConsumer(jsm, streamNames.jobs, spec);
  const consumer = await jetstream(nc).consumers.get(streamNames.jobs, spec.durable_name);
  const taken = [];
  for (let i = 0; i < 2; i++) {
    const m = await consumer.next({ expires: 2000 });
    t.ok(m, 'a request delivered');
    taken.push(m!);
  }
  t.equal(await gauge(holder, 'gas_job_queue_depth_jobs'), 5, 'running requests still count');
  t.equal(await gauge(holder, 'gas_job_queue_running_jobs'), 2);
  t.equal(await gauge(holder, 'gas_job_queue_waiting_jobs'), 3);
  const stats = await a.jobs.getQueueStats({});
  t.match(stats.consumers, [{ name: 'annotator', pending: 3n, ackPending: 2n }]);
  const third = await jsm.streams.getMessage(streamNames.jobs, { seq: taken[1]!.seq + 1 });
  t.equal(timestampDate(stats.oldestWaitingSince!).getTime(), third!.time.getTime(), 'the oldest waiting is the first not yet delivered');

  for (const m of taken) await m.ackAck();
  for (let i = 0; i < 3; i++) await (await consumer.next({ expires: 2000 }))!.ackAck();
  t.equal(await gauge(holder, 'gas_job_queue_depth_jobs'), 0);
  t.equal(await gauge(holder, 'gas_job_queue_oldest_waiting_seconds'), 0);
  t.equal((await a.jobs.getQueueStats({})).oldestWaitingSince, undefined);
});

t.test('the exporting replica stops: the other takes the figures over', async (t) => {
  const holder = await exporter(t);
  await submit(a.jobs);
  await holder.stop();
  const survivor = holder === a ? b : a;
  t.equal(await exporter(t), survivor);
  t.equal(await gauge(survivor, 'gas_job_queue_depth_jobs'), 1);
});

t.test('ReleaseJob: the holder hands the job back as a new request; a later attempt claims it', async (t) => {
  const jobs = (await exporter(t)) === a ? a.jobs : b.jobs;
  const job = await submit(jobs, 'release-user');
  const ids = { userId: job.userId, jobId: job.jobId };
  await jobs.claimJob({ ...ids, attempt: 3, annotatorId: 'ann-1' });
  await t.rejects(jobs.releaseJob({ ...ids, attempt: 2, reason: 'x' }), { code: Status.FAILED_PRECONDITION }, 'only the holder');

  const { job: released } = await jobs.releaseJob({ ...ids, attempt: 3, reason: 'annotator shutting down' });
  t.equal(released!.status, JobStatus.PENDING);
  t.equal(released!.annotatorId, '');
  t.ok(released!.queueSequence > job.queueSequence, 'queued again behind what is waiting');
  const msg = await jsm.streams.getMessage(streamNames.jobs, { seq: Number(released!.queueSequence) });
  t.equal(msg?.header?.get('Nats-Msg-Id'), `${job.jobId}.after.3`);
  t.equal(fromBinary(JobRequestedSchema, msg!.data).attemptsBefore, 3);

  const again = await jobs.releaseJob({ ...ids, attempt: 3, reason: 'retried' });
  t.equal(again.job!.queueSequence, released!.queueSequence, 'a retried release publishes no second request');

  const { job: claimed } = await jobs.claimJob({ ...ids, attempt: 4, annotatorId: 'ann-2' });
  t.equal(claimed!.status, JobStatus.RUNNING);
  t.equal(claimed!.attempt, 4);
});
