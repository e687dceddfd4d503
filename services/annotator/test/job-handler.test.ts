// The outcome table of services/annotator/README.md ("What happens to one message"), row by row:
// the job handler built in-process from its dependencies. Real parts: the filesystem blob store in
// a test folder, the engine, and a GRCh38 reference file built from ../shared/data. The job
// service's gRPC client is a hand-written fake (the only fake), named as such in the test names.
//
// The handler decides by returning ack or term, or by throwing: the consume loop then naks the
// message with backoff (or terms it past max_deliver, or releases it when stopping); that mapping
// is the loop's own (packages/messaging/test/consume-loop.test.ts).
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Readable, Writable } from 'node:stream';
import t from 'tap';
import type { Test } from 'tap';
import {
  create,
  toBinary,
  ClaimJobResponseSchema,
  CompleteJobResponseSchema,
  FailJobResponseSchema,
  ReleaseJobResponseSchema,
  GenomeBuild,
  JobRequestedSchema,
  JobSchema,
  JobStatus,
  ReportProgressResponseSchema,
  RpcError,
  Status,
} from '@gas/proto';
import type { Job } from '@gas/proto';
import type { Outcome } from '@gas/messaging';
import { createLogger } from '@gas/runtime';
import { blobKey, FileBlobStore } from '@gas/storage';
import { RESULT_KINDS, resultKinds, TSV_COLUMNS } from '@gas/anntools/format';
import { testReferenceDir } from '@gas/testing';
import { createJobHandler } from '../src/job-handler.ts';
import type { JobServiceCalls } from '../src/job-handler.ts';
import { ReferenceStore } from '../src/reference-store.ts';

const USER = 'alice';
const JOB_ID = '01JAAAAAAAAAAAAAAAAAAAAAAA';
const MAX_DELIVER = 3;

// Four chr21 records of Platinum Genomes NA12878 (GRCh38), cut to the eight fixed columns.
const VCF = [
  '##fileformat=VCFv4.2',
  '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO',
  'chr21\t5097843\t.\tA\tG\t0\tPASS\t.',
  'chr21\t5102323\t.\tG\tA\t0\tPASS\t.',
  'chr21\t5122220\t.\tC\tT\t0\tPASS\t.',
  'chr21\t5122300\t.\tCA\tC\t0\tPASS\t.',
  '',
].join('\n');

// One GRCh38 reference file, loaded once for every row; GRCh37 is left out on purpose, for the
// row of a build this annotator has no reference data for.
const referenceDir = t.testdir();
await copyFile(join(await testReferenceDir(), 'GRCh38.gasref'), join(referenceDir, 'GRCh38.gasref'));
const references = new ReferenceStore(referenceDir);
await references.load(createLogger({ service: 'annotator-test', level: 'silent' }));
t.teardown(() => references.close());

type Call = { method: 'claimJob' | 'reportProgress' | 'completeJob' | 'failJob' | 'releaseJob'; req: Record<string, unknown> };

/**
 * Fake of the job service's gRPC client (the boundary to another process): records every call and
 * answers as the row needs. claimJob hands out `job`; a method given an error throws it.
 */
class FakeJobServiceClient implements JobServiceCalls {
  readonly calls: Call[] = [];

  constructor(
    private readonly job: Job,
    private readonly errors: Partial<Record<Call['method'], RpcError | RpcError[]>> = {},
  ) {}

  private answer(method: Call['method'], req: Record<string, unknown>): void {
    this.calls.push({ method, req: { ...req } });
    // A list is thrown one error per call, then the method answers.
    const errs = this.errors[method];
    const err = Array.isArray(errs) ? errs.shift() : errs;
    if (err) throw err;
  }

  claimJob: JobServiceCalls['claimJob'] = async (req) => {
    this.answer('claimJob', req);
    return create(ClaimJobResponseSchema, { job: { ...this.job, status: JobStatus.RUNNING, attempt: req.attempt ?? 0 } });
  };

  reportProgress: JobServiceCalls['reportProgress'] = async (req) => {
    this.answer('reportProgress', req);
    return create(ReportProgressResponseSchema, {});
  };

  completeJob: JobServiceCalls['completeJob'] = async (req) => {
    this.answer('completeJob', req);
    return create(CompleteJobResponseSchema, {});
  };

  failJob: JobServiceCalls['failJob'] = async (req) => {
    this.answer('failJob', req);
    return create(FailJobResponseSchema, {});
  };

  releaseJob: JobServiceCalls['releaseJob'] = async (req) => {
    this.answer('releaseJob', req);
    return create(ReleaseJobResponseSchema, {});
  };

  methods(): string[] {
    return this.calls.map((c) => c.method);
  }

  only(method: Call['method']): Record<string, unknown> | undefined {
    const found = this.calls.filter((c) => c.method === method);
    return found.length === 1 ? found[0]!.req : undefined;
  }
}

/** What the handler decided: an outcome it returned, or the error it threw (nak/term by the loop). */
type Decision = Outcome | { kind: 'threw'; error: Error };

interface Row {
  jobs: FakeJobServiceClient;
  store: FileBlobStore;
  logs: Array<Record<string, unknown>>;
  job: Job;
  deliver(attempt: number, opts?: { data?: Uint8Array; signal?: AbortSignal }): Promise<Decision>;
  /** The result blobs of the job that exist in the store, by kind. */
  storedResults(): Promise<string[]>;
}

async function row(
  t: Test,
  opts: {
    build?: GenomeBuild;
    inputName?: string;
    input?: string | null;
    errors?: Partial<Record<Call['method'], RpcError | RpcError[]>>;
    inputLimits?: Job['inputLimits'];
    /** Attempts spent before the request was republished by a release. */
    attemptsBefore?: number;
  } = {},
): Promise<Row> {
  const store = new FileBlobStore({ root: t.testdir() });
  const inputName = opts.inputName ?? 'sample.vcf';
  const inputKey = blobKey(USER, JOB_ID, inputName);
  const input = opts.input === undefined ? VCF : opts.input;
  if (input !== null) await store.put('inputs', inputKey, Readable.from([input]));
  const job = create(JobSchema, {
    jobId: JOB_ID,
    userId: USER,
    status: JobStatus.PENDING,
    genomeBuild: opts.build ?? GenomeBuild.GRCH38,
    inputName,
    inputKey,
    inputSize: BigInt(Buffer.byteLength(input ?? '')),
    inputLimits: opts.inputLimits,
  });
  const jobs = new FakeJobServiceClient(job, opts.errors);
  const logs: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const handler = createJobHandler({
    jobs,
    store,
    references,
    logger: createLogger({ service: 'annotator-test', level: 'debug', destination }),
    annotatorId: 'annotator-test-1',
    maxDeliver: MAX_DELIVER,
    // Every progress offer is reported, so the one at the end of a small run shows.
    progressIntervalMs: 0,
    claimWaitMs: 100,
  });
  const request = toBinary(
    JobRequestedSchema,
    create(JobRequestedSchema, {
      jobId: JOB_ID,
      userId: USER,
      genomeBuild: job.genomeBuild,
      inputKey,
      inputSize: job.inputSize,
      attemptsBefore: opts.attemptsBefore ?? 0,
    }),
  );
  return {
    jobs,
    store,
    logs,
    job,
    async deliver(attempt, d = {}) {
      try {
        return await handler({ data: d.data ?? request }, { signal: d.signal ?? new AbortController().signal, deliveryCount: attempt });
      } catch (error) {
        return { kind: 'threw', error: error as Error };
      }
    },
    async storedResults() {
      const base = inputName.replace(/\.vcf$/, '');
      const kinds = [];
      for (const kind of resultKinds) {
        if (await store.stat('results', blobKey(USER, JOB_ID, base + RESULT_KINDS[kind].suffix))) kinds.push(kind);
      }
      return kinds;
    },
  };
}

const unavailable = () => new RpcError(Status.UNAVAILABLE, 'connect ECONNREFUSED 127.0.0.1:50051');
const failedPrecondition = (what: string) => new RpcError(Status.FAILED_PRECONDITION, what);

t.test('a payload that cannot be decoded: term, and no call to the job service (fake gRPC client)', async (t) => {
  const r = await row(t);
  const decision = await r.deliver(1, { data: Uint8Array.from([0xff, 0xff, 0xff]) });
  t.match(decision, { kind: 'term', reason: /^undecodable job request: cannot decode gas\.v1\.JobRequested/ });
  t.strictSame(r.jobs.methods(), []);
});

t.test(
  'ClaimJob says FAILED_PRECONDITION (job taken over by a later attempt, or finished): ack, request dropped (fake gRPC client)',
  async (t) => {
    const r = await row(t, { errors: { claimJob: failedPrecondition('job is RUNNING under attempt 3') } });
    t.strictSame(await r.deliver(2), { kind: 'ack' });
    t.strictSame(r.jobs.methods(), ['claimJob']);
    t.match(r.jobs.only('claimJob'), { userId: USER, jobId: JOB_ID, attempt: 2, annotatorId: 'annotator-test-1' });
    t.strictSame(await r.storedResults(), [], 'nothing was annotated');
  },
);

t.test(
  'ClaimJob says INVALID_ARGUMENT, or NOT_FOUND for longer than the wait (unknown job): term, no other call (fake gRPC client)',
  async (t) => {
    for (const code of [Status.NOT_FOUND, Status.INVALID_ARGUMENT]) {
      const r = await row(t, { errors: { claimJob: new RpcError(code, `job ${JOB_ID} not found`) } });
      const started = performance.now();
      t.match(await r.deliver(1), { kind: 'term', reason: /^job request for an unknown job: job 01J\w+ not found$/ }, Status[code]);
      const claims = r.jobs.methods().filter((m) => m === 'claimJob').length;
      t.strictSame(new Set(r.jobs.methods()), new Set(['claimJob']), Status[code]);
      if (code === Status.NOT_FOUND) {
        t.ok(claims > 2, `NOT_FOUND: asked again while waiting (${claims} claims)`);
        t.ok(performance.now() - started >= 100, 'NOT_FOUND: for the whole wait');
      } else t.equal(claims, 1, 'INVALID_ARGUMENT: at once');
    }
  },
);

t.test(
  'a request that arrives before its job is written waits for the job and runs it on the same attempt (fake gRPC client)',
  async (t) => {
    const notYet = () => new RpcError(Status.NOT_FOUND, `job ${JOB_ID} not found`);
    const r = await row(t, { errors: { claimJob: [notYet(), notYet()] } });
    t.strictSame(await r.deliver(1), { kind: 'ack' });
    const claims = r.jobs.calls.filter((c) => c.method === 'claimJob');
    t.equal(claims.length, 3);
    t.ok(
      claims.every((c) => c.req.attempt === 1),
      'every claim is attempt 1: the wait spends no delivery',
    );
    t.equal(r.jobs.methods().at(-1), 'completeJob');
  },
);

t.test('no reference file for the build: FailJob with the reason before the input is read, ack (fake gRPC client)', async (t) => {
  // No input blob at all: the handler must fail the job without looking for it.
  const r = await row(t, { build: GenomeBuild.GRCH37, input: null });
  t.strictSame(await r.deliver(1), { kind: 'ack' });
  t.strictSame(r.jobs.methods(), ['claimJob', 'failJob']);
  t.match(r.jobs.only('failJob'), {
    userId: USER,
    jobId: JOB_ID,
    attempt: 1,
    reason: `no reference data for GRCh37 on this annotator (expected ${join(referenceDir, 'GRCh37.gasref')}; build it with "gas-annotate build-db")`,
  });
});

t.test('the run succeeds: CompleteJob with the result keys by kind, their total size and the counts, ack (fake gRPC client)', async (t) => {
  const r = await row(t, { inputName: 'my sample.vcf' });
  t.strictSame(await r.deliver(1), { kind: 'ack' });
  t.strictSame(r.jobs.methods(), ['claimJob', 'reportProgress', 'completeJob']);
  const done = r.jobs.only('completeJob')!;
  const keys = done['resultKeys'] as Record<string, string>;
  // Named after the sanitised input name with each kind's suffix, under <user>/<job>/.
  t.strictSame(keys, {
    vcf: `${USER}/${JOB_ID}/my_sample.annot.vcf.gz`,
    log: `${USER}/${JOB_ID}/my_sample.count.log`,
    summary: `${USER}/${JOB_ID}/my_sample.summary.json`,
    tsv: `${USER}/${JOB_ID}/my_sample.annot.tsv.gz`,
    tbi: `${USER}/${JOB_ID}/my_sample.annot.vcf.gz.tbi`,
  });
  let total = 0;
  for (const key of Object.values(keys)) total += (await r.store.stat('results', key))?.size ?? NaN;
  t.equal(done['resultSize'], BigInt(total), 'result_size is the sum of the five files');
  t.match(done, { userId: USER, jobId: JOB_ID, attempt: 1, counts: { records: 4n, alleles: 4n, snvs: 3n, indels: 1n, other: 0n } });
  t.strictSame(done['warnings'], [], 'a file that fits its reference: no warning');
  t.match(r.jobs.only('reportProgress'), { attempt: 1, done: 4n });

  const vcf = await readBlob(r.store, keys['vcf']!);
  t.match(vcf, /^##fileformat=VCFv4\.2\n/);
  t.equal(vcf.split('\n').filter((l) => l.startsWith('chr21\t') && /GAS_REGION=/.test(l)).length, 4, 'every record annotated');
  t.equal((await readBlob(r.store, keys['tsv']!)).split('\n')[0], TSV_COLUMNS.join('\t'));
  t.match(JSON.parse(await readBlob(r.store, keys['summary']!)), { build: 'GRCh38', records: 4 });
});

t.test('a GRCh37 header on the GRCh38 reference: CompleteJob carries the summary warnings, ack (fake gRPC client)', async (t) => {
  // chr1 and chr2 at their GRCh37 lengths; the records are on chr1, where GRCh38 has no gene models here.
  const input = [
    '##fileformat=VCFv4.2',
    '##contig=<ID=chr1,length=249250621>',
    '##contig=<ID=chr2,length=243199373>',
    '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO',
    'chr1\t1000000\t.\tA\tG\t0\tPASS\t.',
    'chr21\t5097843\t.\tA\tG\t0\tPASS\t.',
    '',
  ].join('\n');
  const r = await row(t, { input });
  t.strictSame(await r.deliver(1), { kind: 'ack' });
  const warnings = r.jobs.only('completeJob')!['warnings'] as Array<{ code: string; message: string }>;
  t.strictSame(
    warnings.map((w) => w.code),
    ['build_mismatch', 'uncovered_chromosomes'],
  );
  t.match(warnings[0]!.message, 'This file looks like GRCh37 (contig lengths), but it was annotated as GRCh38');
  t.match(warnings[1]!.message, /^50% of variants \(1 of 2\) are on chromosomes this reference has no GRCh38 gene models for \(chr1\)/);
});

t.test('a failed progress report is only logged: the job still completes, ack (fake gRPC client)', async (t) => {
  const r = await row(t, { errors: { reportProgress: unavailable() } });
  t.strictSame(await r.deliver(1), { kind: 'ack' });
  t.strictSame(r.jobs.methods(), ['claimJob', 'reportProgress', 'completeJob']);
  t.match(logged(r, 'progress report failed'), { level: 'warn', err: /ECONNREFUSED/ });
});

t.test(
  'an invalid VCF: FailJob with "invalid VCF: line <n>: <field>: <reason>", partial results deleted, ack (fake gRPC client)',
  async (t) => {
    const r = await row(t, { input: VCF.replace('chr21\t5102323\t.\tG\tA\t0\tPASS\t.', 'chr21\tfive\t.\tG\tA\t0\tPASS\t.') });
    t.strictSame(await r.deliver(1), { kind: 'ack' });
    t.strictSame(r.jobs.methods(), ['claimJob', 'failJob']);
    t.match(r.jobs.only('failJob'), { attempt: 1, reason: /^invalid VCF: line 4: POS: / });
    t.strictSame(await r.storedResults(), []);
  },
);

t.test(
  "the plan's caps: FailJob naming the cap, the plan, the line and what premium allows, nothing stored, ack (fake gRPC client)",
  async (t) => {
    const beyond = 'premium allows 64 GiB and 500 M records';
    const records = await row(t, {
      inputLimits: { $typeName: 'gas.v1.InputLimits', maxDecompressedBytes: 0n, maxRecords: 2n, plan: 'free', beyond },
    });
    t.strictSame(await records.deliver(1), { kind: 'ack' });
    t.strictSame(records.jobs.methods(), ['claimJob', 'failJob']);
    t.equal(records.jobs.only('failJob')!['reason'], `the input has more records than the free plan's limit of 2 at line 5; ${beyond}`);
    t.strictSame(await records.storedResults(), [], 'the partial results are deleted');
    const bytes = await row(t, {
      inputLimits: { $typeName: 'gas.v1.InputLimits', maxDecompressedBytes: 100n, maxRecords: 0n, plan: 'free', beyond },
    });
    t.strictSame(await bytes.deliver(1), { kind: 'ack' });
    t.equal(bytes.jobs.only('failJob')!['reason'], `the decompressed input passes the free plan's limit of 100 bytes at line 4; ${beyond}`);
    t.strictSame(await bytes.storedResults(), []);
    const fits = await row(t, {
      inputLimits: { $typeName: 'gas.v1.InputLimits', maxDecompressedBytes: 10_000n, maxRecords: 4n, plan: 'free', beyond },
    });
    t.strictSame(await fits.deliver(1), { kind: 'ack' });
    t.strictSame(fits.jobs.methods(), ['claimJob', 'reportProgress', 'completeJob'], 'an input at the caps completes');
  },
);

t.test('the input blob is missing: FailJob with "the uploaded input file is missing from storage", ack (fake gRPC client)', async (t) => {
  const r = await row(t, { input: null });
  t.strictSame(await r.deliver(1), { kind: 'ack' });
  t.strictSame(r.jobs.methods(), ['claimJob', 'failJob']);
  t.match(r.jobs.only('failJob'), { userId: USER, jobId: JOB_ID, attempt: 1, reason: 'the uploaded input file is missing from storage' });
});

t.test('CompleteJob says FAILED_PRECONDITION (a later attempt took the job over): ack, its result stands (fake gRPC client)', async (t) => {
  const r = await row(t, { errors: { completeJob: failedPrecondition('attempt 1 no longer holds the job') } });
  t.strictSame(await r.deliver(1), { kind: 'ack' });
  t.strictSame(r.jobs.methods(), ['claimJob', 'reportProgress', 'completeJob'], 'no FailJob');
  t.match(logged(r, 'job taken over by a later attempt'), { reason: /no longer holds the job/ });
});

t.test(
  'any other error before the last delivery: thrown for the loop to nak with backoff, job left alone (fake gRPC client)',
  async (t) => {
    const cases: Array<[string, Partial<Record<Call['method'], RpcError>>, string[]]> = [
      ['ClaimJob unavailable', { claimJob: unavailable() }, ['claimJob']],
      ['CompleteJob unavailable', { completeJob: unavailable() }, ['claimJob', 'reportProgress', 'completeJob']],
    ];
    for (const [name, errors, calls] of cases) {
      const r = await row(t, { errors });
      t.match(await r.deliver(MAX_DELIVER - 1), { kind: 'threw', error: { message: /ECONNREFUSED/ } }, name);
      t.strictSame(r.jobs.methods(), calls, name);
    }
    // FailJob itself failing after an invalid VCF is such an error too.
    const r = await row(t, { input: 'not a vcf\n', errors: { failJob: unavailable() } });
    t.match(await r.deliver(1), { kind: 'threw', error: { message: /ECONNREFUSED/ } }, 'FailJob unavailable');
    t.strictSame(r.jobs.methods(), ['claimJob', 'failJob']);
  },
);

t.test('the last delivery (dead letter): FailJob with attempt 0 and "gave up after <n> attempts", ack (fake gRPC client)', async (t) => {
  t.test('a failed CompleteJob', async (t) => {
    const r = await row(t, { errors: { completeJob: new RpcError(Status.INTERNAL, 'store write failed') } });
    t.strictSame(await r.deliver(MAX_DELIVER), { kind: 'ack' });
    t.strictSame(r.jobs.methods(), ['claimJob', 'reportProgress', 'completeJob', 'failJob']);
    t.match(r.jobs.only('failJob'), {
      userId: USER,
      jobId: JOB_ID,
      attempt: 0,
      reason: `gave up after ${MAX_DELIVER} attempts: store write failed`,
    });
    t.match(logged(r, 'job dead-lettered'), { level: 'warn', jobId: JOB_ID });
  });
  t.test('a failed claim included', async (t) => {
    const r = await row(t, { errors: { claimJob: unavailable() } });
    t.strictSame(await r.deliver(MAX_DELIVER), { kind: 'ack' });
    t.strictSame(r.jobs.methods(), ['claimJob', 'failJob']);
    t.match(r.jobs.only('failJob'), { attempt: 0, reason: /^gave up after 3 attempts: connect ECONNREFUSED/ });
  });
  t.test('past max_deliver too (a replica started with a lower ANNOTATOR_MAX_DELIVER)', async (t) => {
    const r = await row(t, { errors: { claimJob: unavailable() } });
    t.strictSame(await r.deliver(MAX_DELIVER + 2), { kind: 'ack' });
    t.match(r.jobs.only('failJob'), { attempt: 0, reason: /^gave up after 5 attempts: / });
  });
  t.test('FailJob says FAILED_PRECONDITION (the job is already COMPLETED): still ack', async (t) => {
    const r = await row(t, { errors: { claimJob: unavailable(), failJob: failedPrecondition('job is COMPLETED') } });
    t.strictSame(await r.deliver(MAX_DELIVER), { kind: 'ack' });
    t.strictSame(r.jobs.methods(), ['claimJob', 'failJob']);
  });
});

t.test('the last FailJob fails too: thrown, for the loop to term and log as an error (fake gRPC client)', async (t) => {
  const r = await row(t, { errors: { claimJob: unavailable(), failJob: new RpcError(Status.DEADLINE_EXCEEDED, 'deadline exceeded') } });
  t.match(await r.deliver(MAX_DELIVER), { kind: 'threw', error: { message: 'deadline exceeded' } });
  t.strictSame(r.jobs.methods(), ['claimJob', 'failJob']);
  t.equal(logged(r, 'job dead-lettered'), undefined);
});

t.test(
  'shutdown aborts the run: the job is released to the queue and the message acked, partial results deleted (fake gRPC client)',
  async (t) => {
    const r = await row(t);
    const stopping = new AbortController();
    stopping.abort(new Error('consume loop stopping'));
    t.strictSame(await r.deliver(1, { signal: stopping.signal }), { kind: 'ack' });
    t.strictSame(r.jobs.methods(), ['claimJob', 'releaseJob'], 'neither completed nor failed');
    t.match(r.jobs.only('releaseJob'), { attempt: 1, reason: 'annotator shutting down' });
    t.strictSame(await r.storedResults(), []);
  },
);

// A nak on the max_deliver-th delivery is never redelivered: before ReleaseJob such a job stayed
// RUNNING for good. A release republishes it, so its last delivery is not spent on a shutdown.
t.test('shutdown on the last delivery releases the job too: neither failed nor left RUNNING (fake gRPC client)', async (t) => {
  const r = await row(t);
  const stopping = new AbortController();
  stopping.abort(new Error('consume loop stopping'));
  t.strictSame(await r.deliver(MAX_DELIVER, { signal: stopping.signal }), { kind: 'ack' });
  t.strictSame(r.jobs.methods(), ['claimJob', 'releaseJob']);
  t.match(r.jobs.only('releaseJob'), { attempt: MAX_DELIVER });
});

t.test('shutdown while the job service is away: thrown, for the loop to nak it back (fake gRPC client)', async (t) => {
  const r = await row(t, { errors: { releaseJob: unavailable() } });
  const stopping = new AbortController();
  stopping.abort(new Error('consume loop stopping'));
  t.match(await r.deliver(1, { signal: stopping.signal }), { kind: 'threw', error: { message: 'consume loop stopping' } });
  t.strictSame(r.jobs.methods(), ['claimJob', 'releaseJob']);
  t.match(logged(r, 'release failed; the message goes back to the queue instead'), { err: /ECONNREFUSED/ });
});

t.test('a released request counts its attempts after the ones before it (fake gRPC client)', async (t) => {
  const r = await row(t, { attemptsBefore: 3 });
  t.strictSame(await r.deliver(1), { kind: 'ack' });
  t.match(r.jobs.only('claimJob'), { attempt: 4 });
  t.match(r.jobs.only('completeJob'), { attempt: 4 });
});

/** The log line with that message, if the handler logged one. */
function logged(r: Row, msg: string): Record<string, unknown> | undefined {
  return r.logs.find((line) => line['msg'] === msg);
}

/** A result's text: the VCF and the TSV are stored compressed. */
async function readBlob(store: FileBlobStore, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get('results', key)) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  return (key.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
}
