import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { trackChild, untrackChild } from './cleanup-registry.ts';
import { freePort } from './free-port.ts';
import { OutputBuffer } from './output-buffer.ts';
import { makeTempDir } from './temp-dir.ts';
import type { TempDir } from './temp-dir.ts';
import { testEnvironment } from './config.ts';

export interface NatsServerHandle {
  url: string;
  monitorUrl: string;
  port: number;
  storeDir: string;
  /** Stops the server for good, and deletes its store unless the caller gave `storeDir`. */
  stop(): Promise<void>;
  /**
   * Stops the server (SIGTERM: its file store is flushed) but keeps its store and ports, so that
   * `resume()` brings the same server back: for tests of what clients do while NATS is down.
   */
  halt(): Promise<void>;
  resume(): Promise<void>;
  /** Whether the server process is alive (false after halt(), stop() or a crash). */
  isRunning(): boolean;
}

export interface StartNatsServerOptions {
  storeDir?: string;
  port?: number;
  /** false: a server without JetStream (default true). */
  jetstream?: boolean;
}

const READY_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;
const PORT_ATTEMPTS = 3;

class PortInUseError extends Error {}

function natsBinary(): string {
  // Lets a developer run the suite against a newer server (e.g. one built with `go install`).
  return testEnvironment.natsServerBin();
}

async function healthy(monitorUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${monitorUrl}/healthz`, { signal: AbortSignal.timeout(1_000) });
    if (!res.ok) {
      await res.body?.cancel();
      return false;
    }
    const body = (await res.json()) as { status?: string };
    return body.status === 'ok';
  } catch {
    return false;
  }
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function setRef(child: ChildProcess, ref: boolean): void {
  for (const s of [child.stdout, child.stderr] as Array<Socket | null>) {
    if (s && ref) s.ref();
    else if (s) s.unref();
  }
  if (ref) child.ref();
  else child.unref();
}

async function launch(port: number, monitorPort: number, storeDir: string, jetstream: boolean): Promise<ChildProcess> {
  const bin = natsBinary();
  const args = ['-a', '127.0.0.1', '-p', String(port), ...(jetstream ? ['-js', '-sd', storeDir] : []), '-m', String(monitorPort)];
  // Its own process group: a terminal's Ctrl-C reaches only the launcher, which stops the services
  // before NATS instead of everything at once.
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  trackChild(child);
  const output = new OutputBuffer(256 * 1024);
  child.stdout?.on('data', (c: Buffer) => output.append(c));
  child.stderr?.on('data', (c: Buffer) => output.append(c));

  let failure: Error | undefined;
  child.once('error', (err: NodeJS.ErrnoException) => {
    failure ??=
      err.code === 'ENOENT'
        ? new Error(`nats-server binary not found (${bin}); install it: apt-get install -y nats-server`)
        : new Error(`could not start ${bin}: ${err.message}`);
  });
  child.once('exit', (code, signal) => {
    const log = output.tail(40);
    const message = `nats-server exited (code ${code}, signal ${signal}) before it was ready:\n${log}`;
    failure ??= /address already in use/i.test(log) ? new PortInUseError(message) : new Error(message);
  });

  const monitorUrl = `http://127.0.0.1:${monitorPort}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (failure) throw failure;
    if (await healthy(monitorUrl)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nats-server did not report healthy at ${monitorUrl}/healthz within ${READY_TIMEOUT_MS} ms:\n${output.tail(40)}`);
    }
    await sleep(50);
  }
  // A test that forgets stop() must not keep its process alive forever; the exit hook in
  // cleanup-registry kills the server when the process ends.
  setRef(child, false);
  return child;
}

export async function startNatsServer(opts: StartNatsServerOptions = {}): Promise<NatsServerHandle> {
  let ownDir: TempDir | undefined;
  if (!opts.storeDir) ownDir = await makeTempDir('gas-nats-');
  const storeDir = opts.storeDir ?? (ownDir as TempDir).path;

  let child: ChildProcess | undefined;
  let port = 0;
  let monitorPort = 0;
  for (let attempt = 1; !child; attempt++) {
    port = opts.port ?? (await freePort());
    monitorPort = await freePort();
    try {
      child = await launch(port, monitorPort, storeDir, opts.jetstream ?? true);
    } catch (err) {
      // freePort cannot reserve a port, so another process may take it first: try fresh ones.
      const retry = err instanceof PortInUseError && opts.port === undefined && attempt < PORT_ATTEMPTS;
      if (!retry) {
        await ownDir?.cleanup();
        throw err;
      }
    }
  }

  let running: ChildProcess | undefined = child;
  const terminate = async (): Promise<void> => {
    const proc = running;
    running = undefined;
    if (!proc) return;
    setRef(proc, true);
    const exited = waitExit(proc);
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(killer);
    }
    untrackChild(proc);
  };
  let stopping: Promise<void> | undefined;
  return {
    url: `nats://127.0.0.1:${port}`,
    monitorUrl: `http://127.0.0.1:${monitorPort}`,
    port,
    storeDir,
    stop() {
      stopping ??= (async () => {
        await terminate();
        await ownDir?.cleanup();
      })();
      return stopping;
    },
    halt: terminate,
    isRunning: () => running !== undefined && running.exitCode === null && running.signalCode === null,
    async resume() {
      if (stopping) throw new Error('resume() after stop(): this nats-server is gone for good');
      // A server that died on its own is launched again too.
      if (running && (running.exitCode !== null || running.signalCode !== null)) {
        untrackChild(running);
        running = undefined;
      }
      running ??= await launch(port, monitorPort, storeDir, opts.jetstream ?? true);
    },
  };
}
