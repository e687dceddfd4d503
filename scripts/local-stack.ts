// The local stack: nats-server with JetStream and the five services on fixed ports, state in .gas/
// (so a second start keeps the jobs), the filesystem blob store and an outbox folder for notices.
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startGasStack, superviseStack, readApiToken, newApiToken, repoRoot } from '@gas/testing';
import type { SupervisorEvent } from '@gas/testing';
import { ensureReferenceFiles } from '@gas/anntools';

// Every port and the state folder can be moved, so a second stack (or the test of this script) can
// run beside a developer's own.
const env = process.env;
const stateDir = resolve(repoRoot(), env['GAS_STATE_DIR'] ?? '.gas');
const opsBase = Number(env['GAS_OPS_PORT_BASE'] ?? 9100);
const opsPorts = { gateway: opsBase, job: opsBase + 1, annotator: opsBase + 3, notification: opsBase + 4, archive: opsBase + 5 };
const port = Number(env['GAS_PORT'] ?? 8080);
const natsPort = Number(env['GAS_NATS_PORT'] ?? 4222);
const jobGrpcPort = Number(env['GAS_JOB_GRPC_PORT'] ?? 50051);
const notificationGrpcPort = Number(env['GAS_NOTIFICATION_GRPC_PORT'] ?? 50052);
const say = (s: string) => process.stdout.write(s + '\n');

/** Whether nothing listens on 127.0.0.1:`p` (the stack's address). */
const portFree = (p: number) =>
  new Promise<boolean>((done) => {
    const probe = createServer();
    probe.once('error', () => done(false));
    probe.listen(p, '127.0.0.1', () => probe.close(() => done(true)));
  });

// A port another program holds (another ./gas up, a dev server on 8080) would stop one service after
// the reference build, with a stack trace; said first, with the variable that moves it.
const ports: Array<[number, string, string]> = [
  [port, 'the web site and API', 'GAS_PORT'],
  [natsPort, 'nats-server', 'GAS_NATS_PORT'],
  [jobGrpcPort, "the job service's gRPC", 'GAS_JOB_GRPC_PORT'],
  [notificationGrpcPort, "the notification service's gRPC", 'GAS_NOTIFICATION_GRPC_PORT'],
  ...Object.entries(opsPorts).map(([service, p]): [number, string, string] => [
    p,
    `the ${service}'s ops port (metrics, probes)`,
    'GAS_OPS_PORT_BASE',
  ]),
];
const taken: string[] = [];
for (const [p, what, variable] of ports) if (!(await portFree(p))) taken.push(`  ${p}: ${what} (move it with ${variable})`);
if (taken.length) {
  process.stderr.write(
    `[gas] the stack cannot start: another program listens on ${taken.length === 1 ? 'this port' : 'these ports'}:\n${taken.join('\n')}\n` +
      `[gas] stop it (is another ./gas up running?), or move the port, e.g. GAS_PORT=8090 ./gas up\n`,
  );
  process.exit(1);
}
await mkdir(stateDir, { recursive: true });
const tokenFile = join(stateDir, 'api-token');
let token = await readApiToken(tokenFile);
if (!token) {
  token = newApiToken();
  await writeFile(tokenFile, token + '\n', { mode: 0o600 });
}
// The gateway signs built-in checkout links and sign-in state with this; kept so they survive a restart.
const secretFile = join(stateDir, 'gateway-secret');
let gatewaySecret = await readApiToken(secretFile);
if (!gatewaySecret) {
  gatewaySecret = randomBytes(32).toString('base64url');
  await writeFile(secretFile, gatewaySecret + '\n', { mode: 0o600 });
}
// How long free users' results stay hot before they move to the archive folder (the original GAS: 30 minutes).
const retention = env['GAS_FREE_RETENTION_SECONDS'] ?? '1800';
// Who sees the admin page: by default the "local" user's address. The stack makes that user with its
// API token (GATEWAY_API_TOKENS), which the gateway counts as confirmed, so the token reads
// /admin/state.json at once. A browser account with a listed address sees the page once it has
// confirmed the address with the link mailed at sign-up (here an .eml in the outbox folder).
const adminEmails = env['GAS_ADMIN_EMAILS'] ?? 'local@example.org';

// Reference data: built once from ../shared/data into .gas/reference, reused while unchanged.
const referenceDir = join(stateDir, 'reference');
const dataDir = resolve(repoRoot(), env['GAS_SHARED_DATA'] ?? '../shared/data');
say(`[gas] checking reference data in ${referenceDir} (sources: ${dataDir})`);
for (const r of await ensureReferenceFiles({ dataDir, outDir: referenceDir, onProgress: (m) => say(`[gas]   ${m}`) })) {
  if (r.action === 'missing') {
    say(
      `[gas] no ${r.build} reference: missing ${r.missing.join(', ')} (see ../shared/data/PROVENANCE.md); ${r.build} jobs will fail with that reason`,
    );
  } else say(`[gas] ${r.build} reference ${r.action}: ${r.file}`);
}

say(`[gas] starting nats-server and the five services (state in ${stateDir}, logs in ${join(stateDir, 'logs')})`);
const stack = await startGasStack({
  store: 'filesystem',
  stateDir,
  logDir: join(stateDir, 'logs'),
  referenceDir,
  natsPort,
  gatewayPort: port,
  jobGrpcPort,
  notificationGrpcPort,
  opsPorts,
  users: [{ userId: 'local', token }],
  env: {
    gateway: {
      GATEWAY_SECRET: gatewaySecret,
      GATEWAY_PUBLIC_URL: `http://127.0.0.1:${port}`,
      GATEWAY_FREE_RETENTION_SECONDS: retention,
      GATEWAY_ADMIN_EMAILS: adminEmails,
    },
    // A restore from the archive folder takes a little while, as from cold storage, so the browser shows it happen.
    // Emails go to the outbox folder as .eml files unless SMTP_URL is set (then through that server).
    notification: {
      NOTIFICATION_PUBLIC_URL: `http://127.0.0.1:${port}`,
      ...(env['SMTP_URL'] ? { SMTP_URL: env['SMTP_URL'], SMTP_REQUIRE_TLS: env['SMTP_REQUIRE_TLS'] ?? 'false' } : {}),
    },
    archive: { ARCHIVE_FREE_RETENTION_SECONDS: retention, ARCHIVE_FS_RESTORE_DELAY_SECONDS: '20', ARCHIVE_RESTORE_POLL_SECONDS: '5' },
  },
}).catch((err: Error) => {
  process.stderr.write(`[gas] the stack did not start: ${err.message}\n`);
  process.exit(1);
});

say('');
say(`GAS is running at ${stack.url}`);
say(`Open it in a browser and create an account (upgrading to premium takes no payment here).`);
say(`API token (user "local"): ${token}`);
say(
  `Try: curl -H "Authorization: Bearer ${token}" -F genome_build=GRCh37 -F file=@../shared/data/vcf/gas_anntools/free_1.vcf ${stack.url}/api/v1/jobs`,
);
if (adminEmails)
  say(
    `Admin page: ${stack.url}/admin for ${adminEmails}, once confirmed: the "local" token reads ${stack.url}/admin/state.json; ` +
      `in a browser, sign up with that address and open the confirmation link mailed to it (GAS_ADMIN_EMAILS changes who).`,
  );
say(`Emails are written to ${stack.outboxDir} as .eml files (set SMTP_URL to send them). Press Ctrl-C to stop.`);

// Like Kubernetes in the chart: a process that exits or stops answering /livez is started again.
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const supervisor = superviseStack(stack, {
  onEvent(e: SupervisorEvent) {
    const at = new Date().toISOString().slice(11, 19);
    switch (e.kind) {
      case 'exited':
        return say(
          `[gas] ${at} ${e.service} ${e.detail}; restarting in ${seconds(e.restartInMs)}` +
            (e.service === 'nats' ? '' : ` (its log: ${join(stateDir, 'logs', `${e.service}.log`)})`),
        );
      case 'unresponsive':
        return say(`[gas] ${at} ${e.service} is not answering (${e.detail}); killing it`);
      case 'restarted':
        return say(
          e.ready === false
            ? `[gas] ${at} ${e.service} is running again but not ready (restart ${e.restarts}): see its /readyz and log`
            : `[gas] ${at} ${e.service} is back after ${seconds(e.downMs)} (restart ${e.restarts})`,
        );
      case 'restart-failed':
        return say(`[gas] ${at} ${e.service} did not start (${e.detail}); next try in ${seconds(e.restartInMs)}`);
    }
  },
});

let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    say('\n[gas] stopping...');
    supervisor.stop();
    stack.stop().then(
      () => {
        say(`[gas] stopped; state kept in ${stateDir} for the next start`);
        process.exit(0);
      },
      (err: Error) => {
        process.stderr.write(`[gas] stop failed: ${err.message}\n`);
        process.exit(1);
      },
    );
  });
}
// Keep the process alive while the services run.
setInterval(() => undefined, 1 << 30);
