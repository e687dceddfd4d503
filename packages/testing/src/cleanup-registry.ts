import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

// Test processes die in many ways (a failed assertion skipping `after`, an uncaught error, the
// runner's timeout). Whatever a launcher started must not outlive the process that started it, or
// the next run finds ports taken and the machine's two cores busy with orphans.
const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let installed = false;

const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function cleanupSync(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  children.clear();
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort: the process is exiting
    }
  }
  tempDirs.clear();
}

// signal-exit listens to these signals without handling them: it runs its exit hooks and re-raises
// the signal only when it is the process's sole listener, and steps aside otherwise, as this module
// does. tap loads it into every test process, and @tapjs/processinfo (through NODE_OPTIONS) into
// every Node process a test spawns, so with both waiting for the other a SIGTERM would be ignored.
// Its listeners are counted the way signal-exit counts them itself (v4 keeps a shared emitter on
// globalThis, v3 one on process), and are not taken for someone handling the signal.
function signalExitListenerCount(): number {
  const v4 = (globalThis as { [key: symbol]: { count?: number } | undefined })[Symbol.for('signal-exit emitter')];
  const v3 = (process as { __signal_exit_emitter__?: { count?: number } }).__signal_exit_emitter__;
  return (v4?.count ?? 0) + (v3?.count ?? 0);
}

function onSignal(signal: NodeJS.Signals): void {
  // Someone else handles this signal (the local stack stops its services gracefully on Ctrl-C):
  // leave the children to them; the exit hook still kills whatever is left at the end.
  if (process.listenerCount(signal) - 1 - signalExitListenerCount() > 0) return;
  cleanupSync();
  // Adding a listener cancels Node's default "die on signal"; when nobody else handles the signal,
  // restore that default and re-raise so the exit status still says which signal it was. Should
  // signal-exit still listen, it now finds itself alone: it runs its hooks and re-raises in turn.
  process.removeListener(signal, onSignal);
  process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanupSync);
  for (const signal of FORWARDED_SIGNALS) process.on(signal, onSignal);
}

export function trackChild(child: ChildProcess): void {
  install();
  children.add(child);
  child.once('exit', () => children.delete(child));
}

export function untrackChild(child: ChildProcess): void {
  children.delete(child);
}

export function trackTempDir(path: string): void {
  install();
  tempDirs.add(path);
}

export function untrackTempDir(path: string): void {
  tempDirs.delete(path);
}
