import t from 'tap';
import { BlobNotFoundError, S3BlobStore } from '../src/index.ts';
import type { ColdRestore } from '../src/index.ts';
import { AwsGlacierStandIn, GLACIER_EXPEDITED_UNAVAILABLE } from './aws-glacier-stand-in.ts';

const buckets = { inputs: 'gas-inputs', results: 'gas-results', archive: 'gas-archive' };
const KEY = 'u1/j1/result.annot.vcf';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function storeWith(aws: AwsGlacierStandIn, archiveStorageClass: string | undefined, opts: { restoreDays?: number } = {}): S3BlobStore {
  const client = aws.client();
  t.teardown(() => client.destroy());
  return new S3BlobStore({ client, buckets, archiveStorageClass, ...opts });
}

function coldRestoreOf(store: S3BlobStore): ColdRestore {
  if (!store.coldRestore) throw new Error('expected the store to have coldRestore');
  return store.coldRestore;
}

/** The ticket's wait, in ms from when request() was called (allowing for the time the call took). */
async function requestTimed(cold: ColdRestore, key: string) {
  const before = Date.now();
  const ticket = await cold.request(key);
  const after = Date.now();
  return {
    ticket,
    waitFrom: (ms: number) => ticket.expectedReadyAt.getTime() >= before + ms && ticket.expectedReadyAt.getTime() <= after + ms,
  };
}

t.test('S3BlobStore.coldRestore is there only for classes that need a restore', async (t) => {
  const aws = new AwsGlacierStandIn();
  t.equal(storeWith(aws, 'GLACIER').coldRestore?.tier, 'GLACIER');
  t.equal(storeWith(aws, 'DEEP_ARCHIVE').coldRestore?.tier, 'DEEP_ARCHIVE');
  t.equal(storeWith(aws, 'GLACIER_IR').coldRestore, undefined, 'Glacier Instant Retrieval is read at once');
  t.equal(storeWith(aws, undefined).coldRestore, undefined);
  t.throws(() => storeWith(aws, 'GLACIER', { restoreDays: 0 }), /restoreDays/);
  t.throws(() => storeWith(aws, 'GLACIER', { restoreDays: 1.5 }), /restoreDays/);
});

t.test('AWS Glacier mocked at the S3 client boundary: Expedited restore accepted (202)', async (t) => {
  const aws = new AwsGlacierStandIn();
  aws.store(buckets.archive, KEY, 'GLACIER');
  const cold = coldRestoreOf(storeWith(aws, 'GLACIER'));
  const { ticket, waitFrom } = await requestTimed(cold, KEY);
  t.equal(ticket.retrieval, 'Expedited');
  t.ok(waitFrom(5 * MINUTE), 'expected within the 5 minutes AWS gives Expedited');
  t.strictSame(aws.sent, [{ operation: 'RestoreObject', bucket: 'gas-archive', key: KEY, days: 1, tier: 'Expedited' }]);
});

t.test(
  'AWS Glacier mocked at the S3 client boundary: Expedited refused (503 GlacierExpeditedRetrievalNotAvailable), then Standard',
  async (t) => {
    const aws = new AwsGlacierStandIn();
    aws.store(buckets.archive, KEY, 'GLACIER');
    aws.expeditedRefusals.push(GLACIER_EXPEDITED_UNAVAILABLE);
    const cold = coldRestoreOf(storeWith(aws, 'GLACIER', { restoreDays: 3 }));
    const { ticket, waitFrom } = await requestTimed(cold, KEY);
    t.equal(ticket.retrieval, 'Standard');
    t.ok(waitFrom(5 * HOUR), 'expected within the 5 hours AWS gives Standard');
    t.strictSame(
      aws.sent.map((s) => [s.operation, s.tier, s.days]),
      [
        ['RestoreObject', 'Expedited', 3],
        ['RestoreObject', 'Standard', 3],
      ],
    );
  },
);

t.test('AWS Glacier mocked at the S3 client boundary: the SDK retries the 503 itself before Standard is asked', async (t) => {
  const aws = new AwsGlacierStandIn();
  aws.store(buckets.archive, KEY, 'GLACIER');
  aws.expeditedRefusals.push(GLACIER_EXPEDITED_UNAVAILABLE, GLACIER_EXPEDITED_UNAVAILABLE, GLACIER_EXPEDITED_UNAVAILABLE);
  const client = aws.client({ maxAttempts: 3 });
  t.teardown(() => client.destroy());
  const store = new S3BlobStore({ client, buckets, archiveStorageClass: 'GLACIER' });
  t.equal((await coldRestoreOf(store).request(KEY)).retrieval, 'Standard');
  t.strictSame(
    aws.sent.map((s) => s.tier),
    ['Expedited', 'Expedited', 'Expedited', 'Standard'],
  );
});

t.test('AWS Glacier mocked at the S3 client boundary: falls back to Standard on insufficient capacity', async (t) => {
  for (const refusal of [
    { status: 503, code: 'InsufficientCapacityException', message: 'Insufficient capacity for expedited retrievals' },
    { status: 503, code: 'ServiceUnavailable', message: 'Service is unable to handle request.' },
  ]) {
    const aws = new AwsGlacierStandIn();
    aws.store(buckets.archive, KEY, 'GLACIER');
    aws.expeditedRefusals.push(refusal);
    const ticket = await coldRestoreOf(storeWith(aws, 'GLACIER')).request(KEY);
    t.equal(ticket.retrieval, 'Standard', refusal.code);
    t.strictSame(
      aws.sent.map((s) => s.tier),
      ['Expedited', 'Standard'],
    );
  }
});

t.test('AWS Glacier mocked at the S3 client boundary: other Expedited errors are not retried as Standard', async (t) => {
  const aws = new AwsGlacierStandIn();
  aws.store(buckets.archive, KEY, 'GLACIER');
  aws.expeditedRefusals.push({ status: 403, code: 'AccessDenied', message: 'Access Denied' });
  const err = await t.rejects(coldRestoreOf(storeWith(aws, 'GLACIER')).request(KEY));
  t.equal((err as Error).name, 'AccessDenied');
  t.equal(aws.sent.length, 1);
});

t.test('AWS Glacier mocked at the S3 client boundary: DEEP_ARCHIVE goes straight to Standard', async (t) => {
  const aws = new AwsGlacierStandIn();
  aws.store(buckets.archive, KEY, 'DEEP_ARCHIVE');
  const cold = coldRestoreOf(storeWith(aws, 'DEEP_ARCHIVE'));
  const { ticket, waitFrom } = await requestTimed(cold, KEY);
  t.equal(ticket.retrieval, 'Standard');
  t.ok(waitFrom(12 * HOUR), 'expected within the 12 hours AWS gives Deep Archive Standard');
  t.strictSame(aws.sent, [{ operation: 'RestoreObject', bucket: 'gas-archive', key: KEY, days: 1, tier: 'Standard' }]);
});

t.test('AWS Glacier mocked at the S3 client boundary: RestoreAlreadyInProgress (409) counts as asked', async (t) => {
  const aws = new AwsGlacierStandIn();
  aws.store(buckets.archive, KEY, 'GLACIER');
  const cold = coldRestoreOf(storeWith(aws, 'GLACIER'));
  await cold.request(KEY);
  const { ticket, waitFrom } = await requestTimed(cold, KEY);
  t.equal(ticket.retrieval, 'Standard', 'the earlier tier is unknown, so the slower one is expected');
  t.ok(waitFrom(5 * HOUR));
  t.equal(aws.sent.length, 2, 'no Standard request after the 409');
});

t.test('AWS Glacier mocked at the S3 client boundary: asking again once restored renews it (200) and is ready now', async (t) => {
  const aws = new AwsGlacierStandIn();
  aws.store(buckets.archive, KEY, 'GLACIER');
  aws.finishRestore(buckets.archive, KEY, new Date(Date.now() + 24 * HOUR));
  const { ticket, waitFrom } = await requestTimed(coldRestoreOf(storeWith(aws, 'GLACIER')), KEY);
  t.equal(ticket.retrieval, 'Expedited');
  t.ok(waitFrom(0));
});

t.test('AWS Glacier mocked at the S3 client boundary: an object already hot (403 InvalidObjectState) is ready now', async (t) => {
  const aws = new AwsGlacierStandIn();
  // As a copy back in place (one bucket for results and archive) leaves it.
  aws.store(buckets.archive, KEY, 'STANDARD');
  const { waitFrom } = await requestTimed(coldRestoreOf(storeWith(aws, 'GLACIER')), KEY);
  t.ok(waitFrom(0));
  t.strictSame(
    aws.sent.map((s) => s.operation),
    ['RestoreObject', 'HeadObject'],
  );
});

t.test('AWS Glacier mocked at the S3 client boundary: a missing object is BlobNotFoundError', async (t) => {
  const aws = new AwsGlacierStandIn();
  const cold = coldRestoreOf(storeWith(aws, 'GLACIER'));
  t.hasStrict(await t.rejects(cold.request(KEY), BlobNotFoundError), { area: 'archive', key: KEY });
  t.hasStrict(await t.rejects(cold.status(KEY), BlobNotFoundError), { area: 'archive', key: KEY });
});

t.test('AWS Glacier mocked at the S3 client boundary: status goes cold → restoring → ready from x-amz-restore', async (t) => {
  const aws = new AwsGlacierStandIn();
  aws.store(buckets.archive, KEY, 'GLACIER');
  const cold = coldRestoreOf(storeWith(aws, 'GLACIER'));
  t.equal(await cold.status(KEY), 'cold', 'no x-amz-restore, class GLACIER');
  await cold.request(KEY);
  t.equal(await cold.status(KEY), 'restoring', 'ongoing-request="true"');
  aws.finishRestore(buckets.archive, KEY, new Date('2030-12-23T00:00:00Z'));
  t.equal(await cold.status(KEY), 'ready', 'ongoing-request="false", expiry-date=...');
  t.strictSame(
    aws.sent.map((s) => [s.operation, s.bucket, s.key]),
    [
      ['HeadObject', 'gas-archive', KEY],
      ['RestoreObject', 'gas-archive', KEY],
      ['HeadObject', 'gas-archive', KEY],
      ['HeadObject', 'gas-archive', KEY],
    ],
  );
});

t.test('AWS Glacier mocked at the S3 client boundary: status of objects in other classes is ready', async (t) => {
  const aws = new AwsGlacierStandIn();
  aws.store(buckets.archive, 'u1/j1/standard', 'STANDARD');
  aws.store(buckets.archive, 'u1/j1/instant', 'GLACIER_IR');
  aws.store(buckets.archive, 'u1/j1/deep', 'DEEP_ARCHIVE');
  const cold = coldRestoreOf(storeWith(aws, 'GLACIER'));
  t.equal(await cold.status('u1/j1/standard'), 'ready');
  t.equal(await cold.status('u1/j1/instant'), 'ready');
  t.equal(await cold.status('u1/j1/deep'), 'cold');
});
