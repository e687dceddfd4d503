// POST /api/v1/jobs and the order of its checks, on the gateway built in-process (buildGateway) and
// driven with inject(): no process is started. Real parts: the filesystem blob store in a test
// folder, the operator API tokens, the plan limits. The job service's two gRPC clients (JobService,
// AccountService) are fakes, named as such in the test names; the notification service's client is
// a fake that no API route calls. The identity buckets (NATS KV) are
// never read here: every request carries an operator token or no credential at all.
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import type { KV } from '@nats-io/kv';
import {
  create,
  AccountSchema,
  CreateJobResponseSchema,
  GenomeBuild,
  GetAccountResponseSchema,
  JobSchema,
  JobStatus,
  Plan,
  RpcError,
  Status,
} from '@gas/proto';
import type { AccountService, JobService, NotificationService, ServiceClient } from '@gas/proto';
import { createLogger, createRegistry } from '@gas/runtime';
import { FileBlobStore } from '@gas/storage';
import { sharedDataPath } from '@gas/testing';
import { buildGateway } from '../src/app.ts';
import { BuiltinBilling } from '../src/billing/builtin-billing.ts';
import { ApiTokenStore, SessionStore, UserStore } from '../src/identity/index.ts';
import { ULID } from '../src/job-view.ts';

const FREE_LIMIT = 8 * 1024;
const MAX_UPLOAD = 16 * 1024;
/** What upload.ts allows on top of the limit for the multipart framing before it trusts Content-Length alone. */
const MULTIPART_SLACK = 64 * 1024;

// Operator tokens (GATEWAY_API_TOKENS): a user without an account (free plan) and a premium user.
const FREE_TOKEN = 'free-user-token-0123456789';
const PREMIUM_TOKEN = 'premium-user-token-0123456789';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

const VCF_HEAD = '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n';
const RECORD = 'chr21\t5097843\t.\tA\tG\t0\tPASS\t.\n';
/** A VCF of about `bytes` bytes. */
const vcfOf = (bytes: number) => VCF_HEAD + RECORD.repeat(Math.max(1, Math.ceil((bytes - VCF_HEAD.length) / RECORD.length)));

type Call = { method: string; req: Record<string, unknown> };

/**
 * Fake of a gRPC client of the job service (another process): the methods in `answers` answer and
 * are recorded; any other call is recorded and fails, so a route that makes it answers 500.
 */
function fakeGrpcClient<C extends object>(service: string, answers: Partial<C>, calls: Call[]): C {
  return new Proxy({} as C, {
    get(_target, prop) {
      if (typeof prop !== 'string' || prop === 'then') return undefined;
      const answer = (answers as Record<string, ((req: unknown) => Promise<unknown>) | undefined>)[prop];
      return async (req: Record<string, unknown>) => {
        calls.push({ method: `${service}.${prop}`, req });
        if (!answer) throw new Error(`${service}.${prop} was not expected in this test`);
        return answer(req);
      };
    },
  });
}

/** The identity buckets are never read in these tests (see the top); a read would fail the request. */
const untouchedKv = new Proxy({} as KV, {
  get(_target, prop) {
    throw new Error(`the identity KV was used (${String(prop)}); these tests send operator tokens or nothing`);
  },
});

interface Gateway {
  inject: ReturnType<typeof buildGateway>['inject'];
  calls: Call[];
  /** Keys stored in the inputs area. */
  storedInputs(): Promise<string[]>;
  store: FileBlobStore;
}

async function gateway(t: Test): Promise<Gateway> {
  const calls: Call[] = [];
  const root = t.testdir();
  const store = new FileBlobStore({ root });
  const jobs = fakeGrpcClient<ServiceClient<typeof JobService>>(
    'JobService',
    {
      createJob: async ({ userId, jobId, genomeBuild, inputName, inputKey, inputSize, warnings }) =>
        create(CreateJobResponseSchema, {
          created: true,
          job: create(JobSchema, { userId, jobId, genomeBuild, inputName, inputKey, inputSize, warnings, status: JobStatus.PENDING }),
        }),
    },
    calls,
  );
  const accounts = fakeGrpcClient<ServiceClient<typeof AccountService>>(
    'AccountService',
    {
      getAccount: async ({ userId }) => {
        // The free user has no account record: the gateway counts that as the free plan.
        if (userId !== 'premium-user') throw new RpcError(Status.NOT_FOUND, `no account ${userId}`);
        return create(GetAccountResponseSchema, { account: create(AccountSchema, { userId, plan: Plan.PREMIUM }) });
      },
    },
    calls,
  );
  const notices = fakeGrpcClient<ServiceClient<typeof NotificationService>>('NotificationService', {}, calls);
  const secret = Buffer.alloc(32, 7);
  const app = buildGateway({
    jobs,
    accounts,
    notices,
    store,
    identity: {
      users: new UserStore(untouchedKv),
      sessions: new SessionStore(untouchedKv, { idleMs: 60_000, absoluteMs: 3_600_000, touchEveryMs: 60_000 }),
      tokens: new ApiTokenStore(untouchedKv),
    },
    logger: createLogger({ service: 'gateway-test', level: 'silent' }),
    registry: createRegistry('gateway-test'),
    apiTokens: [`free-user:${FREE_TOKEN}`, `premium-user:${PREMIUM_TOKEN}`],
    limits: { freeMaxUploadBytes: FREE_LIMIT, maxUploadBytes: MAX_UPLOAD },
    session: { maxMs: 3_600_000 },
    rateLimit: { perMinute: 10_000, signInPerMinute: 10 },
    billing: new BuiltinBilling({ secret, baseUrl: 'http://gateway.test' }),
    secret,
  });
  t.teardown(() => app.close());
  await app.ready();
  return {
    inject: app.inject.bind(app),
    calls,
    store,
    async storedInputs() {
      const found: string[] = [];
      const walk = async (dir: string, prefix: string): Promise<void> => {
        let entries;
        try {
          entries = await readdir(dir, { withFileTypes: true });
        } catch {
          return; // no inputs area yet: nothing stored
        }
        for (const e of entries) {
          if (e.isDirectory()) await walk(join(dir, e.name), `${prefix}${e.name}/`);
          else found.push(`${prefix}${e.name}`);
        }
      };
      await walk(join(root, 'inputs'), '');
      return found;
    },
  };
}

type Part = { name: string; value: string } | { name: string; filename: string; content: string; type?: string };

/** A multipart/form-data body, parts in the order given (genome_build must come before the file). */
function multipart(parts: Part[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = '----gas-upload-checks';
  const pieces: string[] = [];
  for (const p of parts) {
    pieces.push(`--${boundary}\r\n`);
    if ('filename' in p) {
      pieces.push(
        `Content-Disposition: form-data; name="${p.name}"; filename="${p.filename}"\r\nContent-Type: ${p.type ?? 'text/x-vcf'}\r\n\r\n${p.content}\r\n`,
      );
    } else {
      pieces.push(`Content-Disposition: form-data; name="${p.name}"\r\n\r\n${p.value}\r\n`);
    }
  }
  pieces.push(`--${boundary}--\r\n`);
  return { payload: Buffer.from(pieces.join('')), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/** The usual upload form: the build, then the file. */
const upload = (content: string, filename = 'sample.vcf', build = 'GRCh38') =>
  multipart([
    { name: 'genome_build', value: build },
    { name: 'file', filename, content },
  ]);

async function post(
  gw: Gateway,
  body: { payload: Buffer | string; headers: Record<string, string> },
  headers: Record<string, string> = {},
) {
  const res = await gw.inject({ method: 'POST', url: '/api/v1/jobs', payload: body.payload, headers: { ...body.headers, ...headers } });
  const problem = res.headers['content-type']?.toString().startsWith('application/problem+json')
    ? res.json<{ status: number; title: string; detail: string }>()
    : undefined;
  return { status: res.statusCode, headers: res.headers, problem, json: () => res.json<Record<string, unknown>>() };
}

const methods = (gw: Gateway) => gw.calls.map((c) => c.method);

t.test('401 without credentials: nothing asked of the job service (fake gRPC clients), nothing stored', async (t) => {
  const gw = await gateway(t);
  const res = await post(gw, upload(vcfOf(100)));
  t.equal(res.status, 401);
  t.equal(res.headers['www-authenticate'], 'Bearer');
  t.match(res.problem, { status: 401, title: 'Unauthorized', detail: /^sign in, or send an API token/ });
  t.strictSame(methods(gw), []);
  t.strictSame(await gw.storedInputs(), []);
});

t.test('401 for an Authorization header that is not "Bearer <token>"', async (t) => {
  const gw = await gateway(t);
  const res = await post(gw, upload(vcfOf(100)), { authorization: 'Basic YWxpY2U6c2VjcmV0' });
  t.equal(res.status, 401);
  t.match(res.problem, { detail: 'send an API token as "Authorization: Bearer <token>"' });
  t.strictSame(methods(gw), []);
});

t.test("413 over the free plan's limit, with the plan's message; nothing stored (fake gRPC clients)", async (t) => {
  t.test('found while streaming (Content-Length within the multipart slack)', async (t) => {
    const gw = await gateway(t);
    const res = await post(gw, upload(vcfOf(FREE_LIMIT + 2000)), bearer(FREE_TOKEN));
    t.equal(res.status, 413);
    t.match(res.problem, {
      title: 'Content Too Large',
      detail: /^the file is larger than 8\.0 KB, the free plan's limit; upgrade to premium/,
    });
    t.strictSame(methods(gw), ['AccountService.getAccount'], 'no job created');
    t.strictSame(await gw.storedInputs(), [], 'the partial upload is removed');
  });
  t.test('refused from Content-Length alone, before the body is read', async (t) => {
    const gw = await gateway(t);
    const res = await post(gw, upload(vcfOf(FREE_LIMIT + MULTIPART_SLACK + 1000)), bearer(FREE_TOKEN));
    t.equal(res.status, 413);
    t.match(res.problem, { detail: /the free plan's limit/ });
    t.strictSame(methods(gw), ['AccountService.getAccount']);
    t.strictSame(await gw.storedInputs(), []);
  });
  t.test('the same file from a premium user is accepted (201)', async (t) => {
    const gw = await gateway(t);
    const res = await post(gw, upload(vcfOf(FREE_LIMIT + 2000)), bearer(PREMIUM_TOKEN));
    t.equal(res.status, 201);
    t.strictSame(methods(gw), ['AccountService.getAccount', 'JobService.createJob']);
  });
});

t.test('413 over the size limit of the service, premium included (fake gRPC clients)', async (t) => {
  const gw = await gateway(t);
  const res = await post(gw, upload(vcfOf(MAX_UPLOAD + 2000)), bearer(PREMIUM_TOKEN));
  t.equal(res.status, 413);
  t.match(res.problem, { detail: /^the file is larger than 16 KB, the largest upload this service accepts$/ });
  t.strictSame(methods(gw), ['AccountService.getAccount']);
  t.strictSame(await gw.storedInputs(), []);
});

t.test('415 for a body that is not multipart/form-data (fake gRPC clients)', async (t) => {
  const gw = await gateway(t);
  const res = await post(
    gw,
    { payload: JSON.stringify({ genome_build: 'GRCh38', file: VCF_HEAD }), headers: { 'content-type': 'application/json' } },
    bearer(FREE_TOKEN),
  );
  t.equal(res.status, 415);
  t.match(res.problem, { title: 'Unsupported Media Type', detail: /multipart\/form-data with a "file" part/ });
  t.notOk(methods(gw).includes('JobService.createJob'));
});

t.test('400 for a file that is not a VCF, naming the file and the reason; nothing stored (fake gRPC clients)', async (t) => {
  const gw = await gateway(t);
  const res = await post(gw, upload('name\tvalue\nx\t1\n', 'notes.txt', 'GRCh38'), bearer(FREE_TOKEN));
  t.equal(res.status, 400);
  t.equal(
    res.problem?.detail,
    'the file notes.txt is not a VCF file: a VCF file must start with "##fileformat=VCFv4.x"; this file does not',
  );
  t.strictSame(methods(gw), ['AccountService.getAccount']);
  t.strictSame(await gw.storedInputs(), []);
});

t.test('400 for the other request errors: genome build, file part, Idempotency-Key (fake gRPC clients)', async (t) => {
  const gw = await gateway(t);
  const badBuild = await post(gw, upload(vcfOf(100), 'sample.vcf', 'hg19'), bearer(FREE_TOKEN));
  t.equal(badBuild.status, 400);
  t.match(badBuild.problem, { detail: /^genome_build must be GRCh37 or GRCh38/ });
  const noFile = await post(gw, multipart([{ name: 'genome_build', value: 'GRCh38' }]), bearer(FREE_TOKEN));
  t.equal(noFile.status, 400);
  t.match(noFile.problem, { detail: 'the form has no "file" part' });
  const longKey = await post(gw, upload(vcfOf(100)), { ...bearer(FREE_TOKEN), 'idempotency-key': 'k'.repeat(256) });
  t.equal(longKey.status, 400);
  t.match(longKey.problem, { detail: 'Idempotency-Key is longer than 255 characters' });
  t.notOk(methods(gw).includes('JobService.createJob'));
  t.strictSame(await gw.storedInputs(), []);
});

t.test('when several checks fail at once, the first in the order applies', async (t) => {
  const gw = await gateway(t);
  const notVcf = 'name\tvalue\n';
  const cases: Array<[string, { payload: Buffer | string; headers: Record<string, string> }, Record<string, string>, number, RegExp]> = [
    ['anonymous + over the size limit -> 401', upload(vcfOf(MAX_UPLOAD + MULTIPART_SLACK + 1000)), {}, 401, /^sign in/],
    ['anonymous + not multipart -> 401', { payload: '{}', headers: { 'content-type': 'application/json' } }, {}, 401, /^sign in/],
    ['anonymous + not a VCF -> 401', upload(notVcf, 'notes.txt'), {}, 401, /^sign in/],
    // Content-Length is judged before the body's type.
    [
      'over the free limit by Content-Length + not multipart -> 413',
      { payload: 'x'.repeat(FREE_LIMIT + MULTIPART_SLACK + 1000), headers: { 'content-type': 'text/plain' } },
      bearer(FREE_TOKEN),
      413,
      /free plan's limit/,
    ],
    [
      'over the free limit by Content-Length + not a VCF -> 413',
      upload(notVcf.repeat(8000), 'notes.txt'),
      bearer(FREE_TOKEN),
      413,
      /free plan's limit/,
    ],
    [
      'not multipart + long Idempotency-Key -> 415',
      { payload: '{}', headers: { 'content-type': 'application/json', 'idempotency-key': 'k'.repeat(300) } },
      bearer(FREE_TOKEN),
      415,
      /multipart/,
    ],
    [
      'long Idempotency-Key + bad build -> 400 for the key',
      upload(vcfOf(100), 'a.vcf', 'hg19'),
      { 'idempotency-key': 'k'.repeat(300), ...bearer(FREE_TOKEN) },
      400,
      /^Idempotency-Key/,
    ],
    ['bad build + not a VCF -> 400 for the build', upload(notVcf, 'notes.txt', 'hg19'), bearer(FREE_TOKEN), 400, /^genome_build/],
    // Within the slack the size is only known while streaming, after the sniff.
    [
      'over the free limit while streaming + not a VCF -> 400 not a VCF',
      upload(notVcf.repeat(1000), 'notes.txt'),
      bearer(FREE_TOKEN),
      400,
      /is not a VCF file/,
    ],
  ];
  for (const [name, body, headers, status, detail] of cases) {
    const res = await post(gw, body, headers);
    t.equal(res.status, status, name);
    t.match(res.problem?.detail, detail, name);
  }
  t.strictSame(await gw.storedInputs(), [], 'none of them stored anything');
  t.notOk(methods(gw).includes('JobService.createJob'), 'none of them created a job');
});

t.test('a GRCh37 header sent as GRCh38 is accepted as asked, with the warning in the job and the answer (fake gRPC)', async (t) => {
  const gw = await gateway(t);
  const text = gunzipSync(readFileSync(sharedDataPath('vcf/grch37/GIAB_NA12878_hg19_chr20_10.0-10.1Mb.vcf.gz'))).toString('latin1');
  // Its header and first record: under this test's upload limit.
  const head = text.slice(0, text.indexOf('\n', text.indexOf('\n', text.indexOf('#CHROM')) + 1) + 1);
  const res = await post(gw, upload(head, 'hg19.vcf', 'GRCh38'), bearer(PREMIUM_TOKEN));
  t.equal(res.status, 201);
  const req = gw.calls.find((c) => c.method === 'JobService.createJob')!.req;
  t.equal(req['genomeBuild'], GenomeBuild.GRCH38, 'the build chosen stands');
  t.strictSame(
    req['inputLimits'],
    {
      maxDecompressedBytes: 64n << 30n,
      maxRecords: 500_000_000n,
      plan: 'premium',
      beyond: 'this is the largest input this service accepts',
    },
    "premium's caps are the operator's",
  );
  t.match(req['warnings'], [
    { code: 'build_mismatch', message: /^This file looks like GRCh37 \(contig lengths\), but it was annotated as GRCh38/ },
  ]);
  t.match(res.json(), { genome_build: 'GRCh38', warnings: [{ code: 'build_mismatch', message: /looks like GRCh37/ }] });
});

t.test('an accepted upload reaches the job service client (fake gRPC) with the name, the sanitised key and the build', async (t) => {
  const gw = await gateway(t);
  const content = vcfOf(500);
  const res = await post(gw, upload(content, 'my sample (1).vcf', 'GRCh37'), { ...bearer(FREE_TOKEN), 'idempotency-key': '  retry-42  ' });
  t.equal(res.status, 201);
  t.strictSame(methods(gw), ['AccountService.getAccount', 'JobService.createJob']);
  const req = gw.calls[1]!.req;
  const jobId = req['jobId'] as string;
  t.match(jobId, ULID);
  t.strictSame(req, {
    userId: 'free-user',
    jobId,
    genomeBuild: GenomeBuild.GRCH37,
    // The job keeps the name as the user knows it; the blob key uses the safe form.
    inputName: 'my sample (1).vcf',
    inputKey: `free-user/${jobId}/my_sample_1_.vcf`,
    inputSize: BigInt(Buffer.byteLength(content)),
    idempotencyKey: 'retry-42',
    // The header names no build: nothing to warn about.
    warnings: [],
    // The free plan's caps for the annotator (the defaults: this gateway sets none), and what premium allows.
    inputLimits: {
      maxDecompressedBytes: 1n << 30n,
      maxRecords: 5_000_000n,
      plan: 'free',
      beyond: 'premium allows 64 GiB and 500 M records',
    },
  });
  t.equal(res.headers['location'], `/api/v1/jobs/${jobId}`);
  t.match(res.json(), {
    id: jobId,
    status: 'PENDING',
    genome_build: 'GRCh37',
    input_name: 'my sample (1).vcf',
    input_size: Buffer.byteLength(content),
  });
  t.strictSame(await gw.storedInputs(), [`free-user/${jobId}/my_sample_1_.vcf`]);
  const stored: Buffer[] = [];
  for await (const chunk of await gw.store.get('inputs', `free-user/${jobId}/my_sample_1_.vcf`)) stored.push(chunk as Buffer);
  t.equal(Buffer.concat(stored).toString('utf8'), content, 'the file is stored as sent');
});
