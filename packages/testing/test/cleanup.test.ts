import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
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

async function run(mode: string, signal?: NodeJS.Signals): Promise<{ info: Abandoned; code: number | null; sig: NodeJS.Signals | null; stderr: string }> {
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
  if (signal) child.kill(signal);
  const [code, sig] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve([child.exitCode, child.signalCode]);
    else child.once('exit', (c, s) => resolve([c, s]));
  });
  return { info, code, sig, stderr };
}

async function assertCleanedUp(info: Abandoned): Promise<void> {
  for (let i = 0; i < 50 && (alive(info.servicePid) || natsPidsUsing(info.natsStore).length > 0); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(alive(info.servicePid), false, 'service child still running');
  assert.deepEqual(natsPidsUsing(info.natsStore), [], 'nats-server still running');
  assert.equal(existsSync(info.natsStore), false, 'nats store dir left behind');
  assert.equal(existsSync(info.tempDir), false, 'temp dir left behind');
}

describe('servers left running by a test', () => {
  it('are killed when the test process throws', async () => {
    const { info, code, stderr } = await run('throw');
    assert.equal(code, 1);
    assert.match(stderr, /test blew up/);
    await assertCleanedUp(info);
  });

  it('do not keep the test process alive, and are killed when it ends', async () => {
    const { info, code } = await run('return');
    assert.equal(code, 0);
    await assertCleanedUp(info);
  });

  it('are killed when the test process gets SIGTERM', async () => {
    const { info, sig } = await run('wait', 'SIGTERM');
    assert.equal(sig, 'SIGTERM');
    await assertCleanedUp(info);
  });
});
