import { ConfigError } from './config.ts';

/**
 * Runs a service's config loader; on a ConfigError prints every problem to stderr and exits 78
 * (EX_CONFIG), before any logger exists, so a misconfigured pod says exactly what to fix.
 */
export function loadConfigOrExit<T>(service: string, load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${service}: ${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
}
