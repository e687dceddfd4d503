// Archive and restore survive a SIGKILL at every step and a NATS restart. Over seeded runs, the
// archive service is stopped dead (ARCHIVE_TEST_STALL_AFTER, then SIGKILL) right after it copied
// the results to the archive tier, after it recorded ARCHIVED, after it asked for a restore, during
// the restore wait, or after it copied the results back; a fresh archive service finishes the work.
// Every result must end in exactly one place (cold when archived, hot when restored), readable, with
// one archived event (and one restored event) per job. A NATS stop and start loses no timer.
//
// GAS_CHAOS_SEED=<n> replays a schedule (the run prints its seed).
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { createGunzip } from 'node:zlib';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { createClient, fromBinary, AccountService, JobEventSchema, JobService, Plan, ResultState } from '@gas/proto';
import type { Job } from '@gas/proto';
import { FileBlobStore } from '@gas/storage';
import { newApiToken, seededRandom, sharedDataPath, startGasStack, startService, testEnvironment } from '@gas/testing';
import type { StackUser } from '@gas/testing';

const seed = testEnvironment.chaosSeed() ?? Date.now() % 100_000;
const random = seededRandom(seed);
const RUNS = 8;
const FREE_1 = sharedDataPath('vcf/gas_anntools/free_1.vcf');
const KINDS = ['tbi', 'tsv', 'vcf'];
type Point = 'copied' | 'recorded' | 'restore-requested' | 'restore-wait' | 'restore-copied';
const POINTS: Point[] = ['copied', 'recorded', 'restore-requested', 'restore-wait', 'restore-copied'];

const REPLICA_JOBS = 4;
const users: StackUser[] = Array.from({ length: RUNS + 2 }, (_, i) => ({ userId: `user${i}`, token: newApiToken() }));
const archiveEnv = {
  ARCHIVE_FREE_RETENTION_SECONDS: '1',
  // A killed replica's timer comes back after 2 s rather than a minute.
  ARCHIVE_ACK_WAIT_MS: '2000',
  ARCHIVE_FS_RESTORE_DELAY_SECONDS: '2',
  ARCHIVE_RESTORE_POLL_SECONDS: '1',
};
const stack = await startGasStack({ store: 'filesystem', users, userPlan: 'free', env: { archive: archiveEnv } });
t.teardown(() => stack.stop());
const store = new FileBlobStore({ root: join(stack.stateDir, 'blobs') });
const jobs = createClient(JobService, stack.jobGrpcUrl, { defaultDeadlineMs: 10_000 });
const accounts = createClient(AccountService, stack.jobGrpcUrl, { defaultDeadlineMs: 10_000 });
t.teardown(() => (jobs.close(), accounts.close()));
t.comment(`seed ${seed} (GAS_CHAOS_SEED=${seed} replays it)`);

const record = async (u: StackUser, jobId: string): Promise<Job> => (await jobs.getJob({ userId: u.userId, jobId })).job!;
const state = async (u: StackUser, jobId: string) => (await record(u, jobId)).resultState;
const { ARCHIVED, AVAILABLE, RESTORING } = ResultState;

async function completedJob(u: StackUser): Promise<string> {
  const res = await stack.submit(u, FREE_1, { genomeBuild: 'GRCh37' });
  const { id } = (await res.json()) as { id: string };
  await stack.waitForJob(u, id, (j) => j.status === 'COMPLETED', 90_000);
  return id;
}

/** Restarts the archive service, stopped dead after `point` when given. */
async function restartArchive(stallAfter?: string): Promise<void> {
  await stack.services.archive?.stop(15_000);
  await stack.startService('archive', stallAfter ? { ARCHIVE_TEST_STALL_AFTER: stallAfter } : {});
}

async function killWhenStalled(): Promise<void> {
  const archive = stack.services.archive!;
  const logs = await stack.eventually(
    async () => archive.logs(),
    (text) => text.includes('stalled for a fault test'),
    30_000,
  );
  if (!logs.includes('stalled for a fault test'))
    throw new Error(`the archive service never reached its stall point:\n${logs.slice(-3000)}`);
  archive.signal('SIGKILL');
  await archive.exited;
}

/** Where each archived kind is now, and whether its copy there (the hot one if both) reads as a whole gzip file. */
/**
 * Where the archived kinds are once the hot copies are gone: ARCHIVED is recorded before they are
 * deleted, so right after the state changes they can be in both places for a moment.
 */
async function settledCold(user: StackUser, id: string): Promise<Record<string, string>> {
  return stack.eventually(
    async () => places(await record(user, id)),
    (p) => Object.values(p).every((w) => w === 'cold'),
    10_000,
  );
}

async function places(job: Job): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const kind of KINDS) {
    const key = job.resultKeys[kind]!;
    const hot = await store.stat('results', key);
    const cold = await store.stat('archive', key);
    const where = hot && cold ? 'both' : hot ? 'hot' : cold ? 'cold' : 'nowhere';
    let readable = false;
    if (where !== 'nowhere') {
      const body = await text((await store.get(where === 'cold' ? 'archive' : 'results', key)).pipe(createGunzip())).catch(() => '');
      readable = body.length > 0;
    }
    out[kind] = `${where}${readable ? '' : ' (unreadable)'}`;
  }
  return out;
}

const readableSomewhere = (p: Record<string, string>) => Object.values(p).every((w) => ['hot', 'cold', 'both'].includes(w));

/** Archived and restored events per job, read back from GAS_EVENTS. */
async function eventCounts(): Promise<Map<string, { archived: number; restored: number }>> {
  const nc = await connect({ servers: stack.natsUrl });
  const counts = new Map<string, { archived: number; restored: number }>();
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info('GAS_EVENTS');
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage('GAS_EVENTS', { seq }).catch(() => null);
      const kind = m && /^gas\.events\.job\.(archived|restored)$/.exec(m.subject)?.[1];
      if (!m || !kind) continue;
      const jobId = fromBinary(JobEventSchema, m.data).job!.jobId;
      const c = counts.get(jobId) ?? { archived: 0, restored: 0 };
      c[kind as 'archived' | 'restored']++;
      counts.set(jobId, c);
    }
  } finally {
    await nc.close();
  }
  return counts;
}

const runs: Array<{ user: StackUser; id: string; point: Point }> = [];

t.test(`${RUNS} seeded runs, the archive service killed at a step of archiving or restoring`, async (t) => {
  for (let run = 0; run < RUNS; run++) {
    // Every point at least once, the rest at random.
    const point = run < POINTS.length ? POINTS[run]! : POINTS[Math.floor(random() * POINTS.length)]!;
    const user = users[run]!;
    const restoring = point.startsWith('restore');
    await restartArchive(restoring ? undefined : point);
    const id = await completedJob(user);
    if (!restoring) {
      await killWhenStalled();
      t.ok(readableSomewhere(await places(await record(user, id))), `run ${run} (${point}): readable where the kill left it`);
      await restartArchive();
      await stack.eventually(
        () => state(user, id),
        (s) => s === ARCHIVED,
        15_000,
      );
      // The redelivered timer deletes what the killed one left hot.
      const final = await stack.eventually(
        async () => places(await record(user, id)),
        (p) => Object.values(p).every((w) => w === 'cold'),
        15_000,
      );
      t.strictSame(final, { tbi: 'cold', tsv: 'cold', vcf: 'cold' }, `run ${run} (${point}): archived, in one place, readable`);
    } else {
      await stack.eventually(
        () => state(user, id),
        (s) => s === ARCHIVED,
        15_000,
      );
      await restartArchive(point === 'restore-wait' ? undefined : point);
      await accounts.setPlan({ userId: user.userId, plan: Plan.PREMIUM });
      if (point === 'restore-wait') {
        await stack.eventually(
          () => state(user, id),
          (s) => s === RESTORING,
          15_000,
        );
        stack.services.archive!.signal('SIGKILL');
        await stack.services.archive!.exited;
      } else {
        await killWhenStalled();
      }
      t.ok(readableSomewhere(await places(await record(user, id))), `run ${run} (${point}): readable where the kill left it`);
      await restartArchive();
      await stack.eventually(
        () => state(user, id),
        (s) => s === AVAILABLE,
        30_000,
      );
      const final = await stack.eventually(
        async () => places(await record(user, id)),
        (p) => Object.values(p).every((w) => w === 'hot'),
        15_000,
      );
      t.strictSame(final, { tbi: 'hot', tsv: 'hot', vcf: 'hot' }, `run ${run} (${point}): restored, in one place, readable`);
    }
    runs.push({ user, id, point });
  }
  const events = await eventCounts();
  for (const r of runs) {
    const e = events.get(r.id) ?? { archived: 0, restored: 0 };
    t.equal(e.archived, 1, `${r.point}: archived once`);
    t.equal(e.restored, r.point.startsWith('restore') ? 1 : 0, `${r.point}: restored ${r.point.startsWith('restore') ? 'once' : 'never'}`);
  }
});

t.test('a NATS stop and start loses no timer', async (t) => {
  await stack.services.archive?.stop(15_000);
  await stack.startService('archive', { ARCHIVE_FREE_RETENTION_SECONDS: '6' });
  const user = users[RUNS]!;
  const id = await completedJob(user);
  // The timer is on the stream, waiting; NATS goes away and comes back with its file store.
  await stack.eventually(
    async () => /gas_archive_timers_pending\{kind="archive"\} 1/.test(await stack.metrics('archive')),
    (pending) => pending,
    10_000,
  );
  await stack.nats.halt();
  await sleep(1500);
  await stack.nats.resume();
  const final = await stack.eventually(
    () => state(user, id),
    (s) => s === ARCHIVED,
    30_000,
  );
  t.equal(final, ARCHIVED, 'archived after the restart');
  t.strictSame(await settledCold(user, id), { tbi: 'cold', tsv: 'cold', vcf: 'cold' });
});

t.test('two archive replicas: every timer fires once, on one of them', async (t) => {
  await restartArchive();
  const second = startService('archive', {
    NATS_URL: stack.natsUrl,
    JOB_GRPC_URL: stack.jobGrpcUrl,
    BLOB_STORE: 'filesystem',
    BLOB_ROOT: join(stack.stateDir, 'blobs'),
    OPS_HOST: '127.0.0.1',
    ...archiveEnv,
  });
  t.teardown(() => second.stop(15_000));
  await second.waitReady(60_000);
  const user = users[RUNS + 1]!;
  const ids: string[] = [];
  for (let i = 0; i < REPLICA_JOBS; i++) ids.push(await completedJob(user));
  for (const id of ids) {
    t.equal(
      await stack.eventually(
        () => state(user, id),
        (s) => s === ARCHIVED,
        15_000,
      ),
      ARCHIVED,
    );
    t.strictSame(await settledCold(user, id), { tbi: 'cold', tsv: 'cold', vcf: 'cold' });
  }
  const events = await eventCounts();
  t.strictSame(
    ids.map((id) => events.get(id)?.archived ?? 0),
    ids.map(() => 1),
    'one archived event per job',
  );
  const byReplica = [stack.services.archive!.logs(), second.logs()].map((logs) => (logs.match(/"msg":"results archived"/g) ?? []).length);
  t.equal(byReplica[0]! + byReplica[1]!, REPLICA_JOBS, `archived by the replicas: ${byReplica.join(' + ')}`);
});
