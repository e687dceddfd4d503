// Minimal nats-server launcher for this package's tests, until packages/testing provides one.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface NatsServer {
  url: string;
  port: number;
  monitorUrl: string;
  /** Kills the server but keeps its store, so restart() resumes with the same streams. */
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** Stops the server and deletes its store. */
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitHealthy(monitorUrl: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`nats-server exited with ${child.exitCode}: ${log()}`);
    try {
      const res = await fetch(`${monitorUrl}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`nats-server did not become healthy: ${log()}`);
}

export async function startNatsServer(opts: { jetstream?: boolean } = {}): Promise<NatsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'gas-nats-'));
  const port = await freePort();
  const monitorPort = await freePort();
  const monitorUrl = `http://127.0.0.1:${monitorPort}`;
  let child: ChildProcess | undefined;

  async function launch(): Promise<void> {
    let output = '';
    const js = opts.jetstream === false ? [] : ['-js', '-sd', dir];
    const proc = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), ...js, '-m', String(monitorPort)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    proc.stderr?.on('data', (d) => (output = (output + String(d)).slice(-4000)));
    child = proc;
    await waitHealthy(monitorUrl, proc, () => output);
  }

  async function stop(): Promise<void> {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    // SIGTERM lets the server flush its file store, so restart() sees every acknowledged publish.
    proc.kill('SIGTERM');
    await exited;
  }

  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    monitorUrl,
    stop,
    restart: launch,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
