// Archive and restore on the real stack (nats-server, the five services, the filesystem store; the
// S3 archive bucket against the real S3-protocol server), with a two-second retention: a free user's
// results go cold on time, a premium user's never, an upgrade before the time keeps them hot, an
// upgrade after brings them back (RESTORING on the way, in the API and in Chromium), and after a
// downgrade new results follow the free rule again.
import t from 'tap';
import type { Test } from 'tap';
import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { createGunzip, gunzipSync } from 'node:zlib';
import { createClient, AccountService, JobService, JobStatus, Plan } from '@gas/proto';
import type { Job } from '@gas/proto';
import { createS3Client, FileBlobStore, S3BlobStore } from '@gas/storage';
import type { BlobStore } from '@gas/storage';
import { launchBrowser, newApiToken, screenshot, sharedDataPath, startGasStack, WebClient } from '@gas/testing';
import type { GasStack, StackUser } from '@gas/testing';
import { join } from 'node:path';

const RETENTION_S = 2;
const FREE_1 = sharedDataPath('vcf/gas_anntools/free_1.vcf');
/** free_1.vcf is sorted, so its results include a tabix index. */
const ARCHIVED_KINDS = ['tbi', 'tsv', 'vcf'];

const users: StackUser[] = ['alice', 'bob', 'carol', 'dave'].map((userId) => ({ userId, token: newApiToken() }));
const [alice, bob, carol, dave] = users as [StackUser, StackUser, StackUser, StackUser];

async function archiveStack(store: 'filesystem' | 's3', restoreDelayS: number): Promise<GasStack> {
  return startGasStack({
    store,
    users,
    userPlan: 'free',
    env: {
      archive: {
        ARCHIVE_FREE_RETENTION_SECONDS: String(RETENTION_S),
        ARCHIVE_FS_RESTORE_DELAY_SECONDS: String(restoreDelayS),
        ARCHIVE_RESTORE_POLL_SECONDS: '1',
      },
      gateway: { GATEWAY_FREE_RETENTION_SECONDS: String(RETENTION_S), GATEWAY_SIGNIN_ATTEMPTS_PER_MINUTE: '100' },
    },
  });
}

/** The stack's blob store, opened the way the services open it, to see where each result is. */
function storeOf(stack: GasStack): BlobStore {
  if (!stack.s3) return new FileBlobStore({ root: join(stack.stateDir, 'blobs') });
  const s3 = stack.s3;
  const client = createS3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    checksumWhenRequired: true,
  });
  return new S3BlobStore({ client, buckets: s3.buckets });
}

function clients(stack: GasStack) {
  const jobs = createClient(JobService, stack.jobGrpcUrl, { defaultDeadlineMs: 10_000 });
  const accounts = createClient(AccountService, stack.jobGrpcUrl, { defaultDeadlineMs: 10_000 });
  return {
    record: async (u: StackUser, jobId: string): Promise<Job> => (await jobs.getJob({ userId: u.userId, jobId })).job!,
    setPlan: (u: StackUser | string, plan: Plan) => accounts.setPlan({ userId: typeof u === 'string' ? u : u.userId, plan }),
    close: () => (jobs.close(), accounts.close()),
  };
}

async function completedJob(stack: GasStack, u: StackUser): Promise<string> {
  const res = await stack.submit(u, FREE_1, { genomeBuild: 'GRCh37' });
  if (res.status !== 201) throw new Error(`submit answered ${res.status}: ${await res.text()}`);
  const { id } = (await res.json()) as { id: string };
  await stack.waitForJob(u, id, (j) => j.status === 'COMPLETED', 90_000);
  return id;
}

async function resultState(stack: GasStack, u: StackUser, id: string): Promise<string> {
  return ((await (await stack.api(u, `/api/v1/jobs/${id}`)).json()) as { result_state: string }).result_state;
}

/** For each archived kind: is it in the results area (hot), the archive area (cold), or both. */
async function places(store: BlobStore, job: Job): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const kind of ARCHIVED_KINDS) {
    const key = job.resultKeys[kind]!;
    const hot = Boolean(await store.stat('results', key));
    const cold = Boolean(await store.stat('archive', key));
    out[kind] = hot && cold ? 'both' : hot ? 'hot' : cold ? 'cold' : 'nowhere';
  }
  return out;
}

/** Where the archived kinds are once the last step (deleting the other copies) is done. */
async function settledPlaces(store: BlobStore, job: Job, where: 'hot' | 'cold'): Promise<Record<string, string>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const p = await places(store, job);
    if (Object.values(p).every((w) => w === where) || Date.now() > deadline) return p;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The sum of a metric's series on the archive service, of those whose labels include `labels`. */
const metric = async (stack: GasStack, name: string, labels = ''): Promise<number> => {
  let sum = 0;
  for (const m of (await stack.metrics('archive')).matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) {
    if ((m[1] ?? '').includes(labels)) sum += Number(m[2]);
  }
  return sum;
};

async function lifeCycle(t: Test, stack: GasStack) {
  const store = storeOf(stack);
  const c = clients(stack);
  t.teardown(() => c.close());
  await c.setPlan(bob, Plan.PREMIUM);

  await t.test('a free user’s results move to the archive tier within a second of due; summary and log stay', async (t) => {
    const id = await completedJob(stack, alice);
    const state = await stack.eventually(
      () => resultState(stack, alice, id),
      (s) => s === 'ARCHIVED',
      15_000,
    );
    t.equal(state, 'ARCHIVED');
    const job = await c.record(alice, id);
    const due = Number(job.finishedAt!.seconds) * 1000 + job.finishedAt!.nanos / 1e6 + RETENTION_S * 1000;
    const archivedAt = Number(job.archivedAt!.seconds) * 1000 + job.archivedAt!.nanos / 1e6;
    t.ok(archivedAt >= due, 'not before due');
    t.ok(archivedAt - due < 1000, `archived ${archivedAt - due} ms after due`);
    t.strictSame(Object.keys(job.archiveKeys).sort(), ARCHIVED_KINDS);
    // ARCHIVED is recorded before the hot copies go.
    t.strictSame(await settledPlaces(store, job, 'cold'), { tbi: 'cold', tsv: 'cold', vcf: 'cold' });
    t.ok(await store.stat('results', job.resultKeys.summary!), 'the summary stays hot');
    t.ok(await store.stat('results', job.resultKeys.log!), 'the log stays hot');
    const download = await stack.api(alice, `/api/v1/jobs/${id}/result`);
    t.equal(download.status, 409);
    t.match(((await download.json()) as { detail: string }).detail, /cold storage/);
    t.equal((await stack.api(alice, `/api/v1/jobs/${id}/summary`)).status, 200, 'the summary still downloads');
    t.ok((await metric(stack, 'gas_archive_lag_seconds_count')) >= 1, 'the lag was measured');
  });

  await t.test('a premium user’s results are never archived', async (t) => {
    const set = await metric(stack, 'gas_archive_timers_set_total');
    const id = await completedJob(stack, bob);
    // Past the retention window is the behaviour under test: this wait stays.
    await new Promise((r) => setTimeout(r, (RETENTION_S + 1.5) * 1000));
    t.equal(await resultState(stack, bob, id), 'AVAILABLE');
    t.equal(await metric(stack, 'gas_archive_timers_set_total'), set, 'no timer was set');
    t.strictSame(await places(store, await c.record(bob, id)), { tbi: 'hot', tsv: 'hot', vcf: 'hot' });
  });

  await t.test('an upgrade before the results are due keeps them hot', async (t) => {
    const archived = await metric(stack, 'gas_archive_archives_total', 'outcome="archived"');
    const res = await stack.submit(carol, FREE_1, { genomeBuild: 'GRCh37' });
    const { id } = (await res.json()) as { id: string };
    await stack.eventually(
      async () => (await c.record(carol, id)).status,
      (s) => s === JobStatus.COMPLETED,
      90_000,
    );
    await c.setPlan(carol, Plan.PREMIUM);
    await new Promise((r) => setTimeout(r, (RETENTION_S + 1.5) * 1000));
    const job = await c.record(carol, id);
    t.equal(job.archivedAt, undefined, 'never archived');
    t.equal(await resultState(stack, carol, id), 'AVAILABLE');
    t.strictSame(await places(store, job), { tbi: 'hot', tsv: 'hot', vcf: 'hot' });
    t.equal(await metric(stack, 'gas_archive_archives_total', 'outcome="archived"'), archived, 'nothing was archived meanwhile');
    await c.setPlan(carol, Plan.FREE);
  });

  await t.test(
    'an upgrade after archiving restores the results (RESTORING on the way); after a downgrade new results go cold again',
    async (t) => {
      const id = await completedJob(stack, dave);
      await stack.eventually(
        () => resultState(stack, dave, id),
        (s) => s === 'ARCHIVED',
        15_000,
      );
      const before = await c.record(dave, id);
      const coldVcf = await text((await store.get('archive', before.archiveKeys.vcf!)).pipe(createGunzip()));

      const seen = new Set<string>();
      await c.setPlan(dave, Plan.PREMIUM);
      const final = await stack.eventually(
        async () => {
          const s = await resultState(stack, dave, id);
          seen.add(s);
          return s;
        },
        (s) => s === 'AVAILABLE',
        30_000,
      );
      t.equal(final, 'AVAILABLE');
      if (!stack.s3) t.ok(seen.has('RESTORING'), `the restoring state was seen on the way (${[...seen].join(', ')})`);
      const restored = await c.record(dave, id);
      t.strictSame(restored.archiveKeys, {});
      t.ok(restored.restoredAt);
      // AVAILABLE is recorded before the archive copies go.
      t.strictSame(await settledPlaces(store, restored, 'hot'), { tbi: 'hot', tsv: 'hot', vcf: 'hot' }, 'back in one place: hot');
      const download = await stack.api(dave, `/api/v1/jobs/${id}/result`);
      t.equal(download.status, 200);
      t.equal(gunzipSync(Buffer.from(await download.arrayBuffer())).toString('utf8'), coldVcf, 'the same annotated VCF');
      t.ok((await metric(stack, 'gas_archive_restore_wait_seconds_count')) >= 1);

      await c.setPlan(dave, Plan.FREE);
      const next = await completedJob(stack, dave);
      await stack.eventually(
        () => resultState(stack, dave, next),
        (s) => s === 'ARCHIVED',
        15_000,
      );
      t.equal(await resultState(stack, dave, next), 'ARCHIVED', 'a job completed after the downgrade is archived');
      await new Promise((r) => setTimeout(r, 1000));
      t.equal(await resultState(stack, dave, id), 'AVAILABLE', 'the restored results stay hot');
    },
  );
}

t.test('filesystem archive folder', async (t) => {
  const stack = await archiveStack('filesystem', 2);
  t.teardown(() => stack.stop());
  await lifeCycle(t, stack);

  await t.test('in Chromium: the job page says the results are cold, the upgrade brings them back, the page follows', async (t) => {
    const web = new WebClient(stack.url);
    const csrf = await web.signUp({ email: 'erin@example.org', password: 'password of erin', name: 'Erin' });
    const up = await web.upload('erin.vcf', new Blob([await readFile(FREE_1)]), 'GRCh37', csrf);
    t.equal(up.status, 201);
    const id = (JSON.parse(up.text) as { id: string }).id;
    await stack.eventually(
      async () => (await web.get(`/api/v1/jobs/${id}`)).text,
      (s) => /"result_state":"ARCHIVED"/.test(s),
      90_000,
    );
    const browser = await launchBrowser();
    t.teardown(() => browser.close());
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addCookies([{ name: 'gas_session', value: web.cookies.get('gas_session')!, url: stack.url }]);
    const page = await context.newPage();
    await page.goto(`${stack.url}/jobs/${id}`);
    t.equal(await page.locator('.callout', { hasText: 'cold storage' }).count(), 1, 'the page says the files are in cold storage');
    t.equal(await page.getByRole('link', { name: 'Annotated VCF' }).count(), 0, 'no VCF download while archived');
    await screenshot(page, import.meta.filename, 'archived');

    await page.getByRole('link', { name: 'Upgrade to premium' }).click();
    await page.waitForURL(/\/subscribe$/);
    await page.getByRole('button', { name: 'Upgrade' }).click();
    await page.waitForURL(/\/billing\/builtin\/checkout\?token=/);
    await page.getByRole('button', { name: 'Confirm upgrade' }).click();
    await page.waitForURL(/\/subscribe\?upgraded=1$/);

    await page.goto(`${stack.url}/jobs/${id}`);
    await page.locator('.callout', { hasText: 'Restoring' }).waitFor({ timeout: 15_000 });
    await screenshot(page, import.meta.filename, 'restoring');
    // The page reloads itself when the results are back.
    await page.getByRole('link', { name: 'Annotated VCF' }).waitFor({ timeout: 30_000 });
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Annotated VCF' }).click()]);
    t.equal(download.suggestedFilename(), 'erin.annot.vcf.gz');
    await screenshot(page, import.meta.filename, 'restored');
  });
});

t.test('S3 archive bucket (real S3-protocol server)', async (t) => {
  const stack = await archiveStack('s3', 0);
  t.teardown(() => stack.stop());
  await lifeCycle(t, stack);
});
