// Keeps a running stack's processes up, the way Kubernetes keeps pods up: a service that exits is
// started again, one whose /livez stops answering is killed and started again (a liveness probe),
// and nats-server is brought back if it dies. Restarts back off so a service that cannot start
// does not spin, and every event is reported so the local stack can print it.
import { setTimeout as sleep } from 'node:timers/promises';
import type { GasStack } from './gas-stack.ts';
import type { ServiceExit, ServiceHandle, ServiceName } from './service.ts';

/** A supervised process: one of the services, or nats-server. */
export type ProcessName = ServiceName | 'nats';

export type SupervisorEvent =
  | { kind: 'exited'; service: ProcessName; detail: string; restartInMs: number; restarts: number }
  | { kind: 'unresponsive'; service: ServiceName; detail: string }
  | { kind: 'restarted'; service: ProcessName; restarts: number; downMs: number; ready?: boolean }
  | { kind: 'restart-failed'; service: ProcessName; detail: string; restartInMs: number; restarts: number };

export interface SupervisorOptions {
  onEvent: (e: SupervisorEvent) => void;
  /** How often /livez is asked, and how long an answer may take. */
  livenessIntervalMs?: number;
  livenessTimeoutMs?: number;
  /** Failed liveness answers in a row before the process is killed and restarted. */
  livenessFailures?: number;
  /** First restart delay, doubled after each restart that did not last, up to the maximum. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A process that stayed up this long starts again from the first delay. */
  stableAfterMs?: number;
}

export interface StackSupervisor {
  /** Restarts so far, by process. */
  restarts(): Partial<Record<ProcessName, number>>;
  /** Stops supervising (call before stopping the stack, or its exits are restarted). */
  stop(): void;
}

export function describeExit(exit: ServiceExit): string {
  return exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.code}`;
}

async function hasExited(handle: ServiceHandle): Promise<boolean> {
  return Promise.race([handle.exited.then(() => true), sleep(0).then(() => false)]);
}

export function superviseStack(stack: GasStack, opts: SupervisorOptions): StackSupervisor {
  const livenessIntervalMs = opts.livenessIntervalMs ?? 2000;
  const livenessTimeoutMs = opts.livenessTimeoutMs ?? 2000;
  const livenessFailures = opts.livenessFailures ?? 3;
  const initialBackoffMs = opts.initialBackoffMs ?? 1000;
  const maxBackoffMs = opts.maxBackoffMs ?? 30_000;
  const stableAfterMs = opts.stableAfterMs ?? 60_000;
  const ac = new AbortController();
  const restarts: Partial<Record<ProcessName, number>> = {};
  const backoff = new Map<ProcessName, number>();
  const upSince = new Map<ProcessName, number>();
  const restarting = new Set<ProcessName>();

  const nextDelay = (name: ProcessName): number => {
    const stable = Date.now() - (upSince.get(name) ?? 0) >= stableAfterMs;
    const delay = stable ? initialBackoffMs : Math.min(maxBackoffMs, (backoff.get(name) ?? initialBackoffMs / 2) * 2);
    backoff.set(name, delay);
    return delay;
  };

  const watchExit = (name: ServiceName, handle: ServiceHandle) => {
    upSince.set(name, Date.now());
    void handle.exited.then((exit) => {
      if (ac.signal.aborted || stack.services[name] !== handle) return;
      void restartService(name, describeExit(exit));
    });
  };

  /**
   * Brings one process back: waits out the back-off, tries `start`, and on failure waits longer and
   * tries again, reporting each step. `start` resolves with whether the process came up ready, or
   * throws with why it did not.
   */
  const recover = async (name: ProcessName, why: string, start: () => Promise<{ ready: boolean }>) => {
    if (restarting.has(name)) return;
    restarting.add(name);
    const downSince = Date.now();
    let delay = nextDelay(name);
    opts.onEvent({ kind: 'exited', service: name, detail: why, restartInMs: delay, restarts: restarts[name] ?? 0 });
    try {
      for (;;) {
        await sleep(delay, undefined, { signal: ac.signal });
        restarts[name] = (restarts[name] ?? 0) + 1;
        try {
          const { ready } = await start();
          if (ac.signal.aborted) return;
          opts.onEvent({
            kind: 'restarted',
            service: name,
            restarts: restarts[name],
            downMs: Date.now() - downSince,
            ...(ready ? {} : { ready }),
          });
          return;
        } catch (err) {
          if (ac.signal.aborted) return;
          delay = nextDelay(name);
          const detail = (err as Error).message.split('\n', 1)[0] ?? '';
          opts.onEvent({ kind: 'restart-failed', service: name, detail, restartInMs: delay, restarts: restarts[name] });
        }
      }
    } catch {
      // Aborted: supervision stopped while waiting.
    } finally {
      restarting.delete(name);
    }
  };

  const restartService = (name: ServiceName, why: string) =>
    recover(name, why, async () => {
      try {
        watchExit(name, await stack.startService(name));
        return { ready: true };
      } catch (err) {
        // Up but not ready in time (the gateway waits for an annotator, say): readiness is not
        // liveness, so it is left running, as Kubernetes would; its liveness probe still applies.
        const handle = stack.services[name];
        if (!handle || (await hasExited(handle))) throw err;
        watchExit(name, handle);
        return { ready: false };
      }
    });

  for (const [name, handle] of Object.entries(stack.services) as Array<[ServiceName, ServiceHandle]>) watchExit(name, handle);

  // Liveness: what a kubelet's probe does. A process that is up but stuck gets killed; its exit
  // then restarts it like any other.
  const failures = new Map<ServiceName, number>();
  // One probe at a time per process, and none once it has been killed: answers still on their way
  // from a killed process must not count it unresponsive again.
  const probing = new Set<ServiceHandle>();
  const killed = new WeakSet<ServiceHandle>();
  const probe = async (name: ServiceName, handle: ServiceHandle) => {
    if (probing.has(handle) || killed.has(handle)) return;
    probing.add(handle);
    let ok: boolean;
    try {
      const res = await fetch(`http://127.0.0.1:${handle.opsPort}/livez`, { signal: AbortSignal.timeout(livenessTimeoutMs) });
      await res.body?.cancel();
      ok = res.status === 200;
    } catch {
      ok = false;
    } finally {
      probing.delete(handle);
    }
    if (ac.signal.aborted || stack.services[name] !== handle || restarting.has(name) || killed.has(handle)) return;
    const n = ok ? 0 : (failures.get(name) ?? 0) + 1;
    failures.set(name, n);
    if (n >= livenessFailures) {
      failures.set(name, 0);
      killed.add(handle);
      opts.onEvent({ kind: 'unresponsive', service: name, detail: `/livez failed ${n} times in a row` });
      handle.signal('SIGKILL');
    }
  };

  const natsWatch = () => {
    if (stack.nats.isRunning()) return;
    void recover('nats', 'nats-server is not running', async () => {
      await stack.nats.resume();
      upSince.set('nats', Date.now());
      return { ready: true };
    });
  };
  upSince.set('nats', Date.now());

  const timer = setInterval(() => {
    for (const [name, handle] of Object.entries(stack.services) as Array<[ServiceName, ServiceHandle]>) void probe(name, handle);
    natsWatch();
  }, livenessIntervalMs);
  timer.unref();

  return {
    restarts: () => ({ ...restarts }),
    stop() {
      ac.abort();
      clearInterval(timer);
    },
  };
}
