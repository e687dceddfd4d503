import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { isAbsolute, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { trackChild, untrackChild } from './cleanup-registry.ts';
import { freePortSync } from './free-port.ts';
import { OutputBuffer } from './output-buffer.ts';
import { repoRoot } from './repo-root.ts';
import { testEnvironment } from './config.ts';

export type ServiceName = 'gateway' | 'job' | 'annotator' | 'notification' | 'archive';

export interface ServiceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServiceHandle {
  name: string;
  pid: number;
  opsPort: number;
  logs(): string;
  waitReady(timeoutMs?: number): Promise<void>;
  signal(sig: NodeJS.Signals): void;
  exited: Promise<ServiceExit>;
  stop(timeoutMs?: number): Promise<ServiceExit>;
}

export interface StartServiceOptions {
  opsPort?: number;
  /**
   * Script to run instead of services/<name>/src/main.ts (absolute or relative to the repo root): a
   * built one (.mjs, .js) runs without tsx.
   */
  entry?: string;
  /** Also append everything the service prints to this file (the local stack keeps logs this way). */
  logFile?: string;
}

const DEFAULT_READY_TIMEOUT_MS = 30_000;
const DEFAULT_STOP_TIMEOUT_MS = 10_000;
const LOG_TAIL_LINES = 40;

/** The pid a GAS ops server's /readyz names; undefined for any other answer (a test's stand-in says "ok"). */
function answeringPid(body: string): number | undefined {
  try {
    const pid = (JSON.parse(body) as { pid?: unknown } | null)?.pid;
    return typeof pid === 'number' ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The service's ops port answered for another process: it was taken between choosing it and binding it. */
class PortTakenError extends Error {
  override name = 'PortTakenError';
}
// After 'exit', stdio may still hold unread output; 'close' follows once it is drained, unless a
// grandchild inherited the pipes, so do not wait for it forever.
const CLOSE_AFTER_EXIT_MS = 2_000;

function describeExit(exit: ServiceExit): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}

class ServiceProcess implements ServiceHandle {
  readonly name: string;
  readonly pid: number;
  readonly opsPort: number;
  readonly #child: ChildProcess;
  readonly #output = new OutputBuffer();
  readonly #exited: Promise<ServiceExit>;
  #exit: ServiceExit | undefined;
  #stopping: Promise<ServiceExit> | undefined;

  constructor(name: string, entry: string, env: Record<string, string>, opsPort: number, logFile?: string) {
    this.name = name;
    this.opsPort = opsPort;
    const root = repoRoot();
    // Built JavaScript (the production bundle, dist/) runs as in an image: plain node, no tsx.
    const loader = /\.[cm]?js$/.test(entry) ? [] : ['--import', 'tsx'];
    const child = spawn(process.execPath, [...loader, entry], {
      cwd: root,
      env: { ...testEnvironment.inherited(), ...env, OPS_PORT: String(opsPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group, like nats-server: Ctrl-C stops the stack in order, not all at once.
      detached: true,
    });
    this.#child = child;
    this.pid = child.pid ?? -1;
    trackChild(child);

    const echo = testEnvironment.echoServiceLogs();
    const file = logFile ? createWriteStream(logFile, { flags: 'a' }) : undefined;
    child.once('close', () => file?.end());
    const capture = (chunk: Buffer): void => {
      this.#output.append(chunk);
      file?.write(chunk);
      if (echo) process.stderr.write(chunk.toString('utf8').replace(/^(?=.)/gm, `[${name}] `));
    };
    child.stdout?.on('data', capture);
    child.stderr?.on('data', capture);

    this.#exited = new Promise<ServiceExit>((resolveExit) => {
      let settled = false;
      const settle = (exit: ServiceExit): void => {
        if (settled) return;
        settled = true;
        this.#exit = exit;
        untrackChild(child);
        resolveExit(exit);
      };
      child.once('error', (err) => {
        this.#output.append(`[launcher] could not start ${name}: ${err.message}\n`);
        if (child.pid === undefined) settle({ code: null, signal: null });
      });
      child.once('exit', (code, signal) => {
        const exit = { code, signal };
        const timer = setTimeout(() => settle(exit), CLOSE_AFTER_EXIT_MS);
        timer.unref();
        child.once('close', () => {
          clearTimeout(timer);
          settle(exit);
        });
      });
    });
    // A test that never calls stop() must not keep its process alive; the exit hook in
    // cleanup-registry kills the child when the process ends. Whoever waits on the child refs it.
    this.#setRef(false);
  }

  #setRef(ref: boolean): void {
    for (const s of [this.#child.stdout, this.#child.stderr] as Array<Socket | null>) {
      if (s && ref) s.ref();
      else if (s) s.unref();
    }
    if (ref) this.#child.ref();
    else this.#child.unref();
  }

  get exited(): Promise<ServiceExit> {
    this.#setRef(true);
    return this.#exited;
  }

  logs(): string {
    return this.#output.text();
  }

  signal(sig: NodeJS.Signals): void {
    if (this.#exit === undefined && this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill(sig);
  }

  async waitReady(timeoutMs = DEFAULT_READY_TIMEOUT_MS): Promise<void> {
    const url = `http://127.0.0.1:${this.opsPort}/readyz`;
    const deadline = Date.now() + timeoutMs;
    let lastAnswer: string;
    let exit: ServiceExit | undefined;
    void this.#exited.then((e) => (exit = e));
    for (;;) {
      if (exit ?? this.#exit) {
        const e = (exit ?? this.#exit) as ServiceExit;
        throw new Error(
          `${this.name} exited with ${describeExit(e)} before it was ready; last ${LOG_TAIL_LINES} lines of its output:\n` +
            this.#output.tail(LOG_TAIL_LINES),
        );
      }
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
        const text = await res.text();
        // The port was free when chosen, but another process (a parallel test's service) may have
        // bound it first: then that process answers, and this child dies on EADDRINUSE later. The
        // message says EADDRINUSE so startGasStack tries again on fresh ports.
        const pid = answeringPid(text);
        if (pid !== undefined && pid !== this.#child.pid) {
          throw new PortTakenError(`${this.name}'s ops port ${this.opsPort} is answered by another process (pid ${pid}): EADDRINUSE`);
        }
        if (res.status === 200) return;
        // The body names the check that is failing (nats, job-service, annotator, ...).
        lastAnswer = `HTTP ${res.status} ${text.slice(0, 300)}`;
      } catch (err) {
        if (err instanceof PortTakenError) throw err;
        lastAnswer = (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `${this.name} was not ready within ${timeoutMs} ms (${url}: ${lastAnswer}); last ${LOG_TAIL_LINES} lines of its output:\n` +
            this.#output.tail(LOG_TAIL_LINES),
        );
      }
      await sleep(100);
    }
  }

  stop(timeoutMs = DEFAULT_STOP_TIMEOUT_MS): Promise<ServiceExit> {
    this.#stopping ??= (async () => {
      this.#setRef(true);
      if (this.#exit) return this.#exit;
      this.signal('SIGTERM');
      const killer = setTimeout(() => this.signal('SIGKILL'), timeoutMs);
      const exit = await this.#exited;
      clearTimeout(killer);
      return exit;
    })();
    return this.#stopping;
  }
}

export function startService(name: ServiceName, env: Record<string, string>, opts: StartServiceOptions = {}): ServiceHandle {
  const root = repoRoot();
  const entry = opts.entry ?? join('services', name, 'src', 'main.ts');
  const entryPath = isAbsolute(entry) ? entry : resolve(root, entry);
  if (!existsSync(entryPath)) throw new Error(`cannot start ${name}: ${entryPath} does not exist`);
  const fromEnv = env['OPS_PORT'] ? Number(env['OPS_PORT']) : undefined;
  const opsPort = opts.opsPort ?? fromEnv ?? freePortSync();
  return new ServiceProcess(name, entryPath, env, opsPort, opts.logFile);
}
