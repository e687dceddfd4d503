import type { Logger } from './logger.ts';

/**
 * A fault test's hook: with a point configured (ARCHIVE_TEST_STALL_AFTER and the like), the
 * returned function never resolves once the service reaches that point, so the test can SIGKILL
 * it exactly there. Without one it is undefined, and the service's code skips the call.
 */
export function faultStall<Point extends string>(configured: string | undefined, variable: string, logger: Logger) {
  if (!configured) return undefined;
  return async (point: Point): Promise<void> => {
    if (point !== configured) return;
    logger.warn({ point, variable }, 'stalled for a fault test');
    await new Promise<never>(() => undefined);
  };
}
