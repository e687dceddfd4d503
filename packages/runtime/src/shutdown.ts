import type { Health } from './health.ts';
import type { Logger } from './logger.ts';

export interface ShutdownStep {
  name: string;
  run: () => Promise<void>;
}

export interface ShutdownOptions {
  logger: Logger;
  /** Keep below the pod's terminationGracePeriodSeconds so we exit before SIGKILL. */
  timeoutMs: number;
  steps: ShutdownStep[];
  health?: Health;
  signals?: NodeJS.Signals[];
  exit?: (code: number) => void;
  /** Where signals and process errors are listened for; tests pass their own emitter. */
  events?: NodeJS.EventEmitter;
}

export interface ShutdownHandle {
  shutdown(reason: string): Promise<void>;
  /** Removes the listeners this installed; for tests and embedding. */
  uninstall(): void;
}

export function installShutdown(opts: ShutdownOptions): ShutdownHandle {
  const { logger, timeoutMs, steps, health } = opts;
  const signals = opts.signals ?? ['SIGTERM', 'SIGINT'];
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const events: NodeJS.EventEmitter = opts.events ?? process;

  let running: Promise<void> | undefined;
  let exitCode = 0;
  let exited = false;

  const exitOnce = (code: number): void => {
    if (exited) return;
    exited = true;
    exit(code);
  };

  async function runSteps(reason: string): Promise<void> {
    const started = Date.now();
    logger.info({ reason, timeoutMs }, 'shutdown started');
    health?.startShutdown();
    const hardTimer = setTimeout(() => {
      logger.error({ reason, timeoutMs }, 'shutdown timed out; exiting');
      exitOnce(1);
    }, timeoutMs);
    // The timer is a backstop, not a reason to keep an otherwise finished process alive.
    hardTimer.unref();

    for (const step of steps) {
      const t0 = Date.now();
      try {
        await step.run();
        logger.info({ step: step.name, durationMs: Date.now() - t0 }, 'shutdown step done');
      } catch (err) {
        logger.error({ err, step: step.name, durationMs: Date.now() - t0 }, 'shutdown step failed');
      }
    }
    clearTimeout(hardTimer);
    logger.info({ reason, durationMs: Date.now() - started, exitCode }, 'shutdown complete');
    exitOnce(exitCode);
  }

  function shutdown(reason: string, code = 0): Promise<void> {
    if (code !== 0) exitCode = code;
    running ??= runSteps(reason);
    return running;
  }

  const onSignal = (signal: NodeJS.Signals): void => {
    if (running) {
      logger.warn({ signal }, 'signal received while shutting down; ignored');
      return;
    }
    void shutdown(signal);
  };
  const onUncaught = (err: unknown): void => {
    logger.fatal({ err }, 'uncaught exception');
    void shutdown('uncaughtException', 1);
  };
  const onUnhandled = (reason: unknown): void => {
    logger.fatal({ err: reason }, 'unhandled promise rejection');
    void shutdown('unhandledRejection', 1);
  };

  for (const s of signals) events.on(s, onSignal);
  events.on('uncaughtException', onUncaught);
  events.on('unhandledRejection', onUnhandled);

  return {
    shutdown: (reason: string) => shutdown(reason),
    uninstall() {
      for (const s of signals) events.off(s, onSignal);
      events.off('uncaughtException', onUncaught);
      events.off('unhandledRejection', onUnhandled);
    },
  };
}
