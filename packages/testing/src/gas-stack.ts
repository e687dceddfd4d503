// The whole system as real processes on free ports: nats-server, optionally an S3 server, and the
// five services. Used by the end-to-end tests and by the local stack.
import { openAsBlob } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { create, createClient, AccountSchema, AccountService, JobService, JobStatus, Plan } from '@gas/proto';
import { freePort } from './free-port.ts';
import { makeTempDir } from './temp-dir.ts';
import { startNatsServer } from './nats-server.ts';
import type { NatsServerHandle } from './nats-server.ts';
import { startS3Server } from './s3-server.ts';
import type { S3ServerHandle } from './s3-server.ts';
import { startService } from './service.ts';
import { repoRoot } from './repo-root.ts';
import { sharedDataPath } from './shared-data.ts';
import { ensureReferenceFiles } from '@gas/anntools';
import type { ServiceHandle, ServiceName } from './service.ts';
import { testEnvironment } from './config.ts';

export interface StackUser {
  userId: string;
  token: string;
}

/** The JSON API's job view, as far as tests read it. */
export interface JobJson {
  id: string;
  status: string;
  attempt: number;
  failure_reason: string | null;
  counts: { records: number; alleles: number };
  progress: { done: number; total: number } | null;
  queue_position: number | null;
  [k: string]: unknown;
}

export interface GasStackOptions {
  store: 'filesystem' | 's3';
  /** Extra environment per service (e.g. a short ack wait for the annotator). */
  env?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Services to start; all five by default. */
  services?: ServiceName[];
  /** Persistent state (local stack); a temp dir removed on stop otherwise. */
  stateDir?: string;
  natsPort?: number;
  gatewayPort?: number;
  jobGrpcPort?: number;
  notificationGrpcPort?: number;
  opsPorts?: Partial<Record<ServiceName, number>>;
  users?: StackUser[];
  /** Append each service's output to <logDir>/<service>.log. */
  logDir?: string;
  /** The plan of the token users' accounts; premium by default. */
  userPlan?: 'free' | 'premium';
  /** Where the annotator finds `<build>.gasref`; built from ../shared/data (and cached) by default. */
  referenceDir?: string;
  /** Picks the ports the stack chooses itself (freePort); for the test of a port taken in between. */
  pickPort?: () => Promise<number>;
  /** Runs each service from the production build in this folder (`pnpm build`: <dir>/<service>/lib/main.mjs) instead of its sources. */
  fromBundle?: string;
}

export interface GasStack {
  url: string;
  natsUrl: string;
  jobGrpcUrl: string;
  notificationGrpcUrl: string;
  outboxDir: string;
  stateDir: string;
  users: StackUser[];
  nats: NatsServerHandle;
  s3?: S3ServerHandle;
  services: Partial<Record<ServiceName, ServiceHandle>>;
  /** Starts (or restarts) one service with the stack's environment plus `env`. */
  startService(name: ServiceName, env?: Record<string, string>): Promise<ServiceHandle>;
  /** The environment the stack gives a service, to start one outside it (the start-up benchmark). */
  serviceEnv(name: ServiceName): Record<string, string>;
  api(user: StackUser, path: string, init?: RequestInit): Promise<Response>;
  submit(user: StackUser, file: string, opts: { genomeBuild?: string; idempotencyKey?: string }): Promise<Response>;
  submitText(user: StackUser, name: string, text: string, opts: { genomeBuild?: string; idempotencyKey?: string }): Promise<Response>;
  waitForJob(user: StackUser, id: string, done: (j: JobJson) => boolean, timeoutMs?: number): Promise<JobJson>;
  /**
   * Records each job's status changes as the job service streams them. Resolves once the stream is
   * open (its first message, or half a second for a user with no jobs yet), so nothing is missed.
   */
  watchStatuses(userId: string): Promise<{ stop(jobId: string): Promise<JobStatus[]> }>;
  /**
   * Reads `probe` every 100 ms until `until` accepts its value or `timeoutMs` passes, and returns the
   * last value read either way: the test asserts on it with tap, so a timeout fails with the value
   * and the expectation side by side. A probe that throws is read again (a service still starting).
   */
  eventually<T>(probe: () => Promise<T>, until: (value: T) => boolean, timeoutMs?: number): Promise<T>;
  metrics(name: ServiceName): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Reference files for the tests, built once from ../shared/data into a cache folder that later runs
 * reuse while the sources are unchanged (building GRCh37 parses 800,000 dbSNP lines).
 */
let referenceDirReady: Promise<string> | undefined;
export function testReferenceDir(): Promise<string> {
  // Checked once per test process: checksumming the sources again for every stack would be waste.
  referenceDirReady ??= (async () => {
    const dir = join(repoRoot(), '.gas-test', 'reference');
    await ensureReferenceFiles({ dataDir: sharedDataPath('.'), outDir: dir });
    return dir;
  })();
  return referenceDirReady;
}

const ORDER: ServiceName[] = ['job', 'annotator', 'notification', 'archive', 'gateway'];

/**
 * The operator-issued token users get accounts, so uploads see a plan: premium by default, since
 * the end-to-end tests upload files larger than the free plan allows.
 */
async function giveAccounts(jobGrpcUrl: string, users: StackUser[], plan: 'free' | 'premium'): Promise<void> {
  const accounts = createClient(AccountService, jobGrpcUrl, { defaultDeadlineMs: 10_000 });
  try {
    for (const u of users) {
      await accounts.upsertAccount({
        account: create(AccountSchema, { userId: u.userId, email: `${u.userId}@example.org`, name: u.userId }),
      });
      if (plan === 'premium') await accounts.setPlan({ userId: u.userId, plan: Plan.PREMIUM });
    }
  } finally {
    accounts.close();
  }
}

/** The original GAS sample VCFs, offered on the upload page when the shared data is there. */
function samplesDir(): Record<string, string> {
  try {
    return { GATEWAY_SAMPLES_DIR: sharedDataPath('vcf/gas_anntools') };
  } catch {
    return {};
  }
}

export function newApiToken(): string {
  return randomBytes(24).toString('base64url');
}

export async function startGasStack(opts: GasStackOptions): Promise<GasStack> {
  const temp = opts.stateDir ? undefined : await makeTempDir('gas-stack-');
  const stateDir = opts.stateDir ?? temp!.path;
  if (opts.logDir) await mkdir(opts.logDir, { recursive: true });
  const nats = await startNatsServer({ storeDir: join(stateDir, 'nats'), port: opts.natsPort });
  const s3 = opts.store === 's3' ? await startS3Server() : undefined;
  const pickPort = opts.pickPort ?? freePort;
  const jobGrpcPort = opts.jobGrpcPort ?? (await pickPort());
  const gatewayPort = opts.gatewayPort ?? (await pickPort());
  const notificationGrpcPort = opts.notificationGrpcPort ?? (await pickPort());
  const users = opts.users ?? [
    { userId: 'alice', token: newApiToken() },
    { userId: 'bob', token: newApiToken() },
  ];
  const outboxDir = join(stateDir, 'outbox');
  const referenceDir = opts.referenceDir ?? (await testReferenceDir());
  const common: Record<string, string> = {
    NATS_URL: nats.url,
    JOB_GRPC_URL: `127.0.0.1:${jobGrpcPort}`,
    LOG_LEVEL: testEnvironment.serviceLogLevel(),
    // Metrics and health are for this machine only, like the gateway's own port.
    OPS_HOST: '127.0.0.1',
    ...(s3
      ? {
          BLOB_STORE: 's3',
          S3_ENDPOINT: s3.endpoint,
          S3_REGION: s3.region,
          S3_ACCESS_KEY_ID: s3.accessKeyId,
          S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
          S3_FORCE_PATH_STYLE: 'true',
          S3_CHECKSUM_WHEN_REQUIRED: 'true',
          S3_BUCKET_INPUTS: s3.buckets.inputs,
          S3_BUCKET_RESULTS: s3.buckets.results,
          S3_BUCKET_ARCHIVE: s3.buckets.archive,
        }
      : { BLOB_STORE: 'filesystem', BLOB_ROOT: join(stateDir, 'blobs') }),
  };
  const perService: Record<ServiceName, Record<string, string>> = {
    job: { JOB_GRPC_HOST: '127.0.0.1', JOB_GRPC_PORT: String(jobGrpcPort) },
    annotator: { ANNOTATOR_REFERENCE_DIR: referenceDir },
    notification: {
      NOTIFICATION_OUTBOX_DIR: outboxDir,
      NOTIFICATION_GRPC_HOST: '127.0.0.1',
      NOTIFICATION_GRPC_PORT: String(notificationGrpcPort),
      NOTIFICATION_PUBLIC_URL: `http://127.0.0.1:${gatewayPort}`,
    },
    archive: {},
    gateway: {
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_PORT: String(gatewayPort),
      NOTIFICATION_GRPC_URL: `127.0.0.1:${notificationGrpcPort}`,
      GATEWAY_API_TOKENS: users.map((u) => `${u.userId}:${u.token}`).join(','),
      // Nothing balances load in front of a test or local gateway; a short drain keeps stops quick.
      GATEWAY_DRAIN_DELAY_MS: '300',
      // A stack started without an annotator (page and API tests) is still ready to serve them.
      ...(opts.services && !opts.services.includes('annotator') ? { GATEWAY_READY_REQUIRES_ANNOTATOR: 'false' } : {}),
      ...samplesDir(),
    },
  };
  const services: Partial<Record<ServiceName, ServiceHandle>> = {};
  const url = `http://127.0.0.1:${gatewayPort}`;

  const start = async (name: ServiceName, env: Record<string, string> = {}) => {
    const opsPort = opts.opsPorts?.[name];
    const handle = startService(
      name,
      { ...common, ...perService[name], ...opts.env?.[name], ...env },
      {
        ...(opsPort ? { opsPort } : {}),
        ...(opts.logDir ? { logFile: join(opts.logDir, `${name}.log`) } : {}),
        ...(opts.fromBundle ? { entry: join(opts.fromBundle, name, 'lib', 'main.mjs') } : {}),
      },
    );
    services[name] = handle;
    await handle.waitReady(60_000);
    return handle;
  };

  const stack: GasStack = {
    url,
    natsUrl: nats.url,
    jobGrpcUrl: common['JOB_GRPC_URL']!,
    notificationGrpcUrl: perService.gateway.NOTIFICATION_GRPC_URL!,
    outboxDir,
    stateDir,
    users,
    nats,
    s3,
    services,
    startService: start,
    serviceEnv: (name) => ({ ...common, ...perService[name], ...opts.env?.[name] }),
    api: (user, path, init = {}) =>
      fetch(stack.url + path, { ...init, headers: { authorization: `Bearer ${user.token}`, ...(init.headers as Record<string, string>) } }),
    async submit(user, file, o) {
      const form = new FormData();
      if (o.genomeBuild) form.append('genome_build', o.genomeBuild);
      form.append('file', await openAsBlob(file), basename(file));
      return stack.api(user, '/api/v1/jobs', {
        method: 'POST',
        body: form,
        headers: o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : {},
      });
    },
    async submitText(user, name, text, o) {
      const form = new FormData();
      if (o.genomeBuild) form.append('genome_build', o.genomeBuild);
      form.append('file', new Blob([text]), name);
      return stack.api(user, '/api/v1/jobs', {
        method: 'POST',
        body: form,
        headers: o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : {},
      });
    },
    async waitForJob(user, id, done, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      let last: JobJson | undefined;
      while (Date.now() < deadline) {
        const res = await stack.api(user, `/api/v1/jobs/${id}`);
        if (res.status === 200) {
          last = (await res.json()) as JobJson;
          if (done(last)) return last;
        } else {
          await res.body?.cancel();
        }
        await sleep(100);
      }
      throw new Error(`job ${id} did not reach the expected state within ${timeoutMs} ms; last seen: ${JSON.stringify(last)}`);
    },
    async watchStatuses(userId) {
      const client = createClient(JobService, stack.jobGrpcUrl, { defaultDeadlineMs: 10_000 });
      await client.waitForReady(10_000);
      const ac = new AbortController();
      const byJob = new Map<string, JobStatus[]>();
      let opened: () => void = () => undefined;
      const open = new Promise<void>((resolve) => (opened = resolve));
      const done = (async () => {
        try {
          for await (const { job } of client.watchJobs({ userId }, { deadlineMs: 3_600_000, signal: ac.signal })) {
            opened();
            const list = byJob.get(job!.jobId) ?? [];
            if (list.at(-1) !== job!.status) list.push(job!.status);
            byJob.set(job!.jobId, list);
          }
        } catch {
          // The stream ends when the stack stops.
        }
      })();
      await Promise.race([open, sleep(500)]);
      const finished = (list: JobStatus[] | undefined) => list?.at(-1) === JobStatus.COMPLETED || list?.at(-1) === JobStatus.FAILED;
      return {
        async stop(jobId) {
          // The caller usually saw the job finish through the API; this stream is another watcher
          // of the same changes and may deliver the last one a moment later.
          const deadline = Date.now() + 5000;
          while (!finished(byJob.get(jobId)) && Date.now() < deadline) await sleep(20);
          ac.abort();
          void done.finally(() => client.close());
          return byJob.get(jobId) ?? [];
        },
      };
    },
    async eventually(probe, until, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        try {
          const value = await probe();
          if (until(value) || Date.now() > deadline) return value;
        } catch (err) {
          if (Date.now() > deadline) throw err;
        }
        await sleep(100);
      }
    },
    async metrics(name) {
      const h = services[name];
      if (!h) throw new Error(`${name} is not running`);
      return (await fetch(`http://127.0.0.1:${h.opsPort}/metrics`)).text();
    },
    async stop() {
      for (const name of [...ORDER].reverse()) await services[name]?.stop(15_000);
      await nats.stop();
      await s3?.stop();
      await temp?.cleanup();
    },
  };

  // freePort cannot hold a port until the service binds it, so a parallel test may take it first:
  // a first start that fails on a taken port tries again on fresh ports (the ones this stack chose;
  // a new ops port comes with every start unless the caller fixed it).
  const startFresh = async (name: ServiceName) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await start(name);
      } catch (err) {
        if (attempt >= 3 || !/EADDRINUSE/.test((err as Error).message)) throw err;
        await services[name]?.stop(5000);
        if (name === 'gateway' && !opts.gatewayPort) {
          const port = await pickPort();
          perService.gateway.GATEWAY_PORT = String(port);
          stack.url = `http://127.0.0.1:${port}`;
        }
        if (name === 'job' && !opts.jobGrpcPort) {
          const port = await pickPort();
          perService.job.JOB_GRPC_PORT = String(port);
          common['JOB_GRPC_URL'] = `127.0.0.1:${port}`;
          stack.jobGrpcUrl = common['JOB_GRPC_URL'];
        }
        if (name === 'notification' && !opts.notificationGrpcPort) {
          const port = await pickPort();
          perService.notification.NOTIFICATION_GRPC_PORT = String(port);
          perService.gateway.NOTIFICATION_GRPC_URL = `127.0.0.1:${port}`;
          stack.notificationGrpcUrl = perService.gateway.NOTIFICATION_GRPC_URL;
        }
      }
    }
  };

  try {
    for (const name of ORDER) {
      if (opts.services && !opts.services.includes(name)) continue;
      await startFresh(name);
      if (name === 'job') await giveAccounts(common['JOB_GRPC_URL']!, users, opts.userPlan ?? 'premium');
    }
  } catch (err) {
    await stack.stop().catch(() => undefined);
    throw err;
  }
  return stack;
}

export async function readApiToken(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, 'utf8')).trim() || undefined;
  } catch {
    return undefined;
  }
}
