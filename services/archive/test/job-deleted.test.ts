// The archive service deleting a deleted job's files, built in-process on a real nats-server with
// the job service running as a process and a filesystem store: everything under the job's folders goes, in all three areas,
// leftovers the record never named included, and nothing outside them, whatever the record names;
// a job.deleted that arrives while the record is still there waits (nak) and the files stay until
// the delete is done; an archive timer of a deleted job is dropped and clears what a move left; a
// deleted account's folders go whole, files no job names included, once its record has gone.
import t from 'tap';
import { Readable, Writable } from 'node:stream';
import { randomInt } from 'node:crypto';
import { connectNats, jetstream, publishProto } from '@gas/messaging';
import { createLogger, createRegistry } from '@gas/runtime';
import {
  create,
  createClient,
  timestampFromDate,
  AccountEventKind,
  AccountEventSchema,
  AccountSchema,
  AccountService,
  ArchiveDueSchema,
  GenomeBuild,
  JobEventKind,
  JobEventSchema,
  JobService,
} from '@gas/proto';
import type { Job } from '@gas/proto';
import { FileBlobStore } from '@gas/storage';
import type { BlobArea } from '@gas/storage';
import { makeTempDir, startGasStack } from '@gas/testing';
import { createArchiveApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { timerSubjects } from '../src/archive-timers.ts';

// The job service as a process; the archive service built in-process on the same nats-server.
const stack = await startGasStack({ store: 'filesystem', services: ['job'] });
t.teardown(() => stack.stop());
const quiet = () => createLogger({ service: 'archive', level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const nc = await connectNats({ servers: stack.natsUrl, name: 'archive-job-deleted-test', logger: quiet() });
t.teardown(() => nc.close());
const jobs = createClient(JobService, stack.jobGrpcUrl, { defaultDeadlineMs: 5000 });
const accounts = createClient(AccountService, stack.jobGrpcUrl, { defaultDeadlineMs: 5000 });
t.teardown(() => (jobs.close(), accounts.close()));
const dir = await makeTempDir('gas-archive-deleted');
t.teardown(() => dir.cleanup());
const store = new FileBlobStore({ root: dir.path });
const registry = createRegistry('archive');
const archive = createArchiveApp({
  config: loadConfig({ ARCHIVE_ACK_WAIT_MS: '5000', BLOB_ROOT: dir.path }),
  nc,
  store,
  jobs,
  accounts,
  logger: quiet(),
  registry,
});
await archive.start();
t.teardown(() => archive.stop(500));
const js = jetstream(nc);

const put = (area: BlobArea, key: string) => store.put(area, key, Readable.from([Buffer.from(key)]));
async function everything(): Promise<string[]> {
  const out: string[] = [];
  for (const area of ['inputs', 'results', 'archive'] as const)
    for (const user of ['ann', 'ben']) for (const key of await store.list(area, `${user}/`)) out.push(`${area}/${key}`);
  return out.sort();
}
async function until(probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
/** The sum of a counter's series (all labels). */
const metricSum = async (name: string) =>
  [...(await registry.getSingleMetricAsString(name)).matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\d+)$`, 'gm'))]
    .map((m) => Number(m[1]))
    .reduce((a, b) => a + b, 0);
const deletedCount = () => metricSum('gas_archive_deleted_objects_total');

/**
 * The handler counts its deletions after its last one, so the files can be gone a moment before the
 * metric says so: wait for the count, then check that nothing more is counted.
 */
async function countedExactly(since: number, n: number): Promise<boolean> {
  if (!(await until(async () => (await deletedCount()) - since >= n))) return false;
  await new Promise((r) => setTimeout(r, 500));
  return (await deletedCount()) - since === n;
}

/** A job id: a ULID's alphabet and length (the archive service does not depend on the ulid package). */
const newJobId = () => `01J${Array.from({ length: 23 }, () => '0123456789ABCDEFGHJKMNPQRSTVWXYZ'[randomInt(32)]).join('')}`;

/** A completed job of `userId` whose files are stored, `resultKeys` as the annotator would report them. */
async function completedJob(userId: string, resultKeys?: (jobId: string) => Record<string, string>): Promise<Job> {
  const jobId = newJobId();
  const inputKey = `${userId}/${jobId}/a.vcf`;
  await put('inputs', inputKey);
  await jobs.createJob({ userId, jobId, genomeBuild: GenomeBuild.GRCH37, inputName: 'a.vcf', inputSize: 5n, inputKey });
  await jobs.claimJob({ userId, jobId, attempt: 1, annotatorId: 'a1' });
  const keys = resultKeys?.(jobId) ?? { vcf: `${userId}/${jobId}/a.annot.vcf.gz`, log: `${userId}/${jobId}/a.count.log` };
  for (const key of Object.values(keys)) if (key.startsWith(`${userId}/${jobId}/`)) await put('results', key);
  return (await jobs.completeJob({ userId, jobId, attempt: 1, resultKeys: keys, resultSize: 5n })).job!;
}

t.test('everything under the job’s folders goes, and nothing else, whatever the record names', async (t) => {
  const other = await completedJob('ben');
  const before = await everything();
  const job = await completedJob('ann', (id) => ({
    vcf: `ann/${id}/a.annot.vcf.gz`,
    // A record that names someone else's file must not delete it.
    tsv: `ben/${other.jobId}/a.vcf`,
  }));
  await put('results', `ann/${job.jobId}/leftover/partial.tsv`);
  await put('archive', `ann/${job.jobId}/a.annot.vcf.gz`);
  const counted = await deletedCount();
  await jobs.deleteJob({ userId: 'ann', jobId: job.jobId });
  t.ok(await until(async () => (await everything()).every((k) => !k.includes(job.jobId))), "the job's objects are gone");
  t.same(await everything(), before, 'the other job’s are all there');
  t.ok(await countedExactly(counted, 4), 'input, two results and an archive copy counted');
});

t.test('a job.deleted while the record is still there waits, and the files stay until the delete is done', async (t) => {
  const job = await completedJob('ann');
  const files = (await everything()).filter((k) => k.includes(job.jobId));
  // What a DeleteJob cut short between publishing and removing the record leaves behind.
  const eventId = `${job.jobId}.deleted`;
  await publishProto(
    js,
    'gas.events.job.deleted',
    JobEventSchema,
    create(JobEventSchema, { eventId, kind: JobEventKind.DELETED, job, occurredAt: timestampFromDate(new Date()) }),
    eventId,
  );
  await new Promise((r) => setTimeout(r, 1500));
  t.same(
    (await everything()).filter((k) => k.includes(job.jobId)),
    files,
    'the files stay while the job is listed',
  );
  // The retry: it publishes the same event id (dropped as a copy) and removes the record; the
  // waiting message comes back and deletes the files.
  await jobs.deleteJob({ userId: 'ann', jobId: job.jobId });
  t.ok(await until(async () => (await everything()).every((k) => !k.includes(job.jobId))), 'then they are deleted');
});

t.test('an archive timer of a deleted job is dropped when due, and clears what a move left', async (t) => {
  const job = await completedJob('ann');
  await jobs.deleteJob({ userId: 'ann', jobId: job.jobId });
  t.ok(await until(async () => (await everything()).every((k) => !k.includes(job.jobId))));
  // A move that was under way when the job went copied a file after the folders were cleared.
  await put('archive', `ann/${job.jobId}/a.annot.vcf.gz`);
  // The job's own timer is due in 30 minutes; this one, as if it were, is due now.
  const skipped = await metricSum('gas_archive_archives_total');
  const timer = create(ArchiveDueSchema, { userId: 'ann', jobId: job.jobId, dueAt: timestampFromDate(new Date(Date.now() - 1000)) });
  await publishProto(js, timerSubjects.archive, ArchiveDueSchema, timer, `archive.${job.jobId}.due-now`);
  t.ok(await until(async () => (await everything()).every((k) => !k.includes(job.jobId))), 'the late copy is gone');
  t.ok(await until(async () => (await metricSum('gas_archive_archives_total')) === skipped + 1), 'and the timer is counted as skipped');
});

t.test('a deleted account’s folders go whole, a file no job names included, once its record has gone', async (t) => {
  await accounts.upsertAccount({ account: create(AccountSchema, { userId: 'cat', email: 'cat@example.org', name: 'Cat' }) });
  await completedJob('cat');
  // An upload on a ticket never redeemed: a file with no job.
  const stray = `cat/${newJobId()}/never-redeemed.vcf`;
  await put('inputs', stray);
  const others = await everything();
  const catFiles = async () => {
    const out: string[] = [];
    for (const area of ['inputs', 'results', 'archive'] as const)
      for (const key of await store.list(area, 'cat/')) out.push(`${area}/${key}`);
    return out.sort();
  };
  const before = await catFiles();
  t.equal(before.length, 4, 'the job’s input and two results, and the stray upload');
  t.ok(before.includes(`inputs/${stray}`));

  // What a DeleteAccount cut short between publishing and removing the record leaves: the event,
  // with the id the job service gives it, and the account still there.
  const account = (await accounts.getAccount({ userId: 'cat' })).account!;
  const eventId = `cat.deleted.${account.createdAt?.seconds ?? 0}`;
  await publishProto(
    js,
    'gas.events.account.deleted',
    AccountEventSchema,
    create(AccountEventSchema, { eventId, kind: AccountEventKind.DELETED, account, occurredAt: timestampFromDate(new Date()) }),
    eventId,
  );
  await new Promise((r) => setTimeout(r, 1500));
  t.same(await catFiles(), before, 'nothing goes while the account is there');

  // The retry deletes the job (its folder goes by job.deleted) and the record; the waiting event
  // comes back and takes the rest.
  const counted = await deletedCount();
  await accounts.deleteAccount({ userId: 'cat' });
  t.ok(await until(async () => (await catFiles()).length === 0, 20_000), 'every file of the account is gone, the stray one too');
  t.same(await everything(), others, 'other users’ files are all there');
  t.ok(await countedExactly(counted, 4), 'each counted once');
});
