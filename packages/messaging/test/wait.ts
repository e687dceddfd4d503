// Waiting for something the tests can observe (a log line, a delivery, a queue draining).
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Reads probe() every 20 ms until until(value) holds or timeoutMs has passed, and returns the last
 * value read either way: the test asserts once on it (a tap assertion records a failure instead of
 * throwing, so it must not sit inside the retry loop).
 */
export async function eventually<T>(probe: () => T | Promise<T>, until: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (until(value) || Date.now() > deadline) return value;
    await sleep(20);
  }
}

/** Waits until cond() holds or timeoutMs has passed; says whether it held. */
export function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  return eventually(cond, Boolean, timeoutMs);
}
