import { execFileSync, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import t from 'tap';
import type { Test } from 'tap';
import { repoRoot } from '../src/index.ts';

const fixture = new URL('./fixtures/abandons-servers.ts', import.meta.url).pathname;

interface Abandoned {
  natsStore: string;
  tempDir: string;
  servicePid: number;
  s3: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function natsPidsUsing(storeDir: string): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes('nats-server') && l.includes(storeDir))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

// Should a check below fail, this run must not be the one that leaves servers behind.
function killLeftovers(info: Abandoned): void {
  for (const pid of [info.servicePid, ...natsPidsUsing(info.natsStore)]) {
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  for (const dir of [info.natsStore, info.tempDir]) rmSync(dir, { recursive: true, force: true });
}

// Longer than the fixture needs to end and clean up on two busy cores; a fixture still running
// then is killed, and reported as not having ended by itself.
const EXIT_TIMEOUT_MS = 30_000;

async function run(
  t: Test,
  mode: string,
  signal?: NodeJS.Signals,
): Promise<{ info: Abandoned; code: number | null; sig: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, mode], { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const info = await new Promise<Abandoned>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as Abandoned);
    });
    child.once('exit', () => reject(new Error(`fixture exited early: ${stderr}`)));
  });
  t.teardown(() => killLeftovers(info));
  if (signal) child.kill(signal);
  const [code, sig] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve([child.exitCode, child.signalCode]);
    const timer = setTimeout(() => {
      t.fail(`the fixture (${mode}${signal ? `, ${signal}` : ''}) did not end within ${EXIT_TIMEOUT_MS} ms; killed`);
      child.kill('SIGKILL');
    }, EXIT_TIMEOUT_MS);
    child.once('exit', (c, s) => {
      clearTimeout(timer);
      resolve([c, s]);
    });
  });
  return { info, code, sig, stderr };
}

async function assertCleanedUp(t: Test, info: Abandoned): Promise<void> {
  for (let i = 0; i < 50 && (alive(info.servicePid) || natsPidsUsing(info.natsStore).length > 0); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(alive(info.servicePid), false, 'the service child is gone');
  t.strictSame(natsPidsUsing(info.natsStore), [], 'no nats-server runs on its store');
  t.equal(existsSync(info.natsStore), false, 'the nats store dir is removed');
  t.equal(existsSync(info.tempDir), false, 'the temp dir is removed');
}

t.test('servers left running by a test', async (t) => {
  t.test('are killed when the test process throws', async (t) => {
    const { info, code, stderr } = await run(t, 'throw');
    t.equal(code, 1);
    t.match(stderr, /test blew up/);
    await assertCleanedUp(t, info);
  });

  t.test('do not keep the test process alive, and are killed when it ends', async (t) => {
    const { info, code } = await run(t, 'return');
    t.equal(code, 0);
    await assertCleanedUp(t, info);
  });

  t.test('are killed when the test process gets SIGTERM', async (t) => {
    const { info, sig } = await run(t, 'wait', 'SIGTERM');
    t.equal(sig, 'SIGTERM');
    await assertCleanedUp(t, info);
  });
});
