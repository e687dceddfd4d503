// Chaos: a burst of jobs through the whole stack while a seeded schedule SIGKILLs the annotator,
// the job service and the gateway at random moments and restarts NATS once, with the local stack's
// supervisor bringing each back. Every job must end COMPLETED or FAILED with a reason, with exactly
// one outcome event each, and every completed job's result must be there and whole.
//
// GAS_CHAOS_SEED=<n> replays a schedule (the run prints its seed); GAS_CHAOS_JOBS=<n> sizes the burst.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { fromBinary, JobEventSchema } from '@gas/proto';
import { seededRandom, sharedDataPath, startGasStack, superviseStack, testEnvironment } from '@gas/testing';
import type { GasStack, JobJson, SupervisorEvent } from '@gas/testing';

const seed = testEnvironment.chaosSeed() ?? Date.now() % 100_000;
const JOBS = testEnvironment.chaosJobs();
const random = seededRandom(seed);

const stack: GasStack = await startGasStack({
  store: 'filesystem',
  env: {
    // A killed annotator's job comes back after 3 s rather than 30; ten deliveries leave room for
    // a job caught by several kills.
    annotator: { ANNOTATOR_ACK_WAIT_MS: '3000', ANNOTATOR_MAX_DELIVER: '10', ANNOTATOR_HEARTBEAT_MS: '500', ANNOTATOR_CONCURRENCY: '2' },
    // The burst and its polling are one client: the per-client budget is not what is tested here.
    gateway: { GATEWAY_RATE_LIMIT_PER_MINUTE: '1000000', GATEWAY_DRAIN_DELAY_MS: '0' },
  },
});
const events: SupervisorEvent[] = [];
const supervisor = superviseStack(stack, {
  onEvent: (e) => events.push(e),
  livenessIntervalMs: 500,
  initialBackoffMs: 250,
  maxBackoffMs: 2000,
  stableAfterMs: 5000,
});
t.teardown(async () => {
  supervisor.stop();
  await stack.stop();
});
const user = stack.users[0]!;

// Two real inputs of different sizes, so jobs are in every state when a kill lands.
const inputs = [
  { name: 'free_1.vcf', text: await readFile(sharedDataPath('vcf/gas_anntools/free_1.vcf'), 'utf8') },
  { name: 'test.vcf', text: await readFile(sharedDataPath('vcf/gas_anntools/test.vcf'), 'utf8') },
].map((i) => ({ ...i, records: i.text.split('\n').filter((l) => l && !l.startsWith('#')).length }));

/**
 * Retries what a client retries, with the same Idempotency-Key: refused connections, 5xx, 429, and
 * the 409 that says the key's first request is still being created (a job service killed in the
 * middle of it leaves the key claimed for 10 s; the answer says to retry in a few seconds).
 */
async function submit(i: number): Promise<{ id: string; input: (typeof inputs)[number] }> {
  const input = inputs[i % inputs.length]!;
  for (;;) {
    try {
      const res = await stack.submitText(user, `${i}-${input.name}`, input.text, {
        genomeBuild: 'GRCh37',
        idempotencyKey: `chaos-${seed}-${i}`,
      });
      if (res.status === 201 || res.status === 200) return { id: ((await res.json()) as { id: string }).id, input };
      const body = await res.text();
      const retryable = res.status >= 500 || res.status === 429 || (res.status === 409 && body.includes('retry in a few seconds'));
      if (!retryable) throw new Error(`submission ${i} refused: ${res.status} ${body}`);
    } catch (err) {
      if ((err as Error).message.startsWith('submission')) throw err;
    }
    await sleep(200);
  }
}

async function jobState(id: string): Promise<JobJson | null> {
  try {
    const res = await stack.api(user, `/api/v1/jobs/${id}`);
    if (res.status !== 200) {
      await res.body?.cancel();
      return null;
    }
    return (await res.json()) as JobJson;
  } catch {
    return null;
  }
}

t.test(`${JOBS} jobs through random SIGKILLs of the annotator, job service and gateway and a NATS restart`, async (t) => {
  const started = Date.now();
  const kills: Record<string, number> = { annotator: 0, job: 0, gateway: 0, nats: 0 };
  // A fixed number of events, a second or two apart, while the burst is still being submitted: the
  // submissions are spread over the same window, so every kind of kill lands on jobs in flight.
  const KILLS = 9;
  // Each of the three at least once (in a seeded order), the rest at random.
  const all = ['annotator', 'job', 'gateway'] as const;
  const targets: Array<(typeof all)[number]> = [...all].sort(() => random() - 0.5);
  while (targets.length < KILLS) targets.push(all[Math.floor(random() * all.length)]!);
  const chaos = (async () => {
    // One NATS restart, somewhere among the kills.
    const natsAt = 2 + Math.floor(random() * 5);
    for (let n = 0; n <= KILLS; n++) {
      await sleep(700 + random() * 1300);
      if (n === natsAt) {
        kills.nats!++;
        await stack.nats.halt(); // the supervisor notices and starts it again
        continue;
      }
      const target = targets.shift()!;
      // A process still down from the last kill (the supervisor backs off up to 2 s) cannot be
      // killed again: wait until the supervisor has brought it back, so every kill hits a live one.
      for (let waited = 0; (supervisor.restarts()[target] ?? 0) < kills[target]! && waited < 30_000; waited += 100) await sleep(100);
      const handle = stack.services[target];
      if (!handle) continue;
      kills[target]!++;
      handle.signal('SIGKILL');
    }
  })();

  const spreadMs = (KILLS * 1700) / JOBS;
  const submitted = await Promise.all(Array.from({ length: JOBS }, (_, i) => sleep(i * spreadMs).then(() => submit(i))));
  t.equal(new Set(submitted.map((s) => s.id)).size, JOBS, 'one job per submission, whatever was retried');

  await chaos;
  const final = new Map<string, JobJson>();
  const deadline = Date.now() + 10 * 60_000;
  while (final.size < JOBS && Date.now() < deadline) {
    for (const { id } of submitted) {
      if (final.has(id)) continue;
      const j = await jobState(id);
      if (j && (j.status === 'COMPLETED' || j.status === 'FAILED')) final.set(id, j);
    }
    await sleep(500);
  }
  const done = Date.now();
  t.equal(final.size, JOBS, 'every job finished');

  for (const { id, input } of submitted) {
    const j = final.get(id);
    if (!j) continue;
    if (j.status === 'FAILED') t.ok(j.failure_reason, `job ${id} failed with a reason`);
    else t.equal(j.counts.records, input.records, `job ${id} counted every record`);
  }

  // Exactly one outcome event per job, read straight from the stream.
  const nc = await connect({ servers: stack.natsUrl });
  const outcomes = new Map<string, string[]>();
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info('GAS_EVENTS');
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage('GAS_EVENTS', { seq }).catch(() => null);
      if (!m || !/^gas\.events\.job\.(completed|failed)$/.test(m.subject)) continue;
      const jobId = fromBinary(JobEventSchema, m.data).job!.jobId;
      outcomes.set(jobId, [...(outcomes.get(jobId) ?? []), m.subject.split('.').at(-1)!]);
    }
  } finally {
    await nc.close();
  }
  const wrong = submitted
    .map(({ id }) => ({ id, events: outcomes.get(id) ?? [], status: final.get(id)?.status.toLowerCase() }))
    .filter((o) => o.events.length !== 1 || o.events[0] !== o.status);
  t.strictSame(wrong, [], 'exactly one outcome event per job, matching its status');

  // No result lost: every completed job's annotated VCF downloads whole.
  const lost: string[] = [];
  for (const { id, input } of submitted) {
    if (final.get(id)?.status !== 'COMPLETED') continue;
    const res = await stack.api(user, `/api/v1/jobs/${id}/result`);
    let body = Buffer.from(await res.arrayBuffer());
    if (body[0] === 0x1f && body[1] === 0x8b) body = gunzipSync(body);
    const records = body
      .toString('utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#')).length;
    if (res.status !== 200 || records !== input.records) lost.push(`${id}: HTTP ${res.status}, ${records} of ${input.records} records`);
  }
  t.strictSame(lost, [], 'every completed result is stored and whole');

  const restarts = supervisor.restarts();
  const recoveries = events.filter((e) => e.kind === 'restarted').map((e) => (e as { downMs: number }).downMs);
  recoveries.sort((a, b) => a - b);
  const completed = [...final.values()].filter((j) => j.status === 'COMPLETED').length;
  const figures = {
    seed,
    jobs: JOBS,
    completed,
    failed: final.size - completed,
    kills,
    restarts,
    recoverMs: { median: recoveries[Math.floor(recoveries.length / 2)] ?? 0, max: recoveries.at(-1) ?? 0 },
    seconds: Math.round((done - started) / 1000),
  };
  process.stderr.write(`chaos: ${JSON.stringify(figures)}\n`);
  t.equal(kills.annotator! + kills.job! + kills.gateway!, KILLS, 'the schedule killed processes', { ...figures });
  t.equal(kills.nats, 1, 'and restarted NATS once');
  t.ok(kills.annotator! > 0 && kills.job! > 0 && kills.gateway! > 0, 'each of the three at least once');
  t.ok(
    (restarts.nats ?? 0) >= 1 && (restarts.annotator ?? 0) + (restarts.job ?? 0) + (restarts.gateway ?? 0) >= KILLS,
    'the supervisor restarted each (a kill during a restart counts as a failed start)',
  );
});
