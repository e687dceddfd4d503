import type { ConfigSpec, ConfigValues, Field } from './config.ts';
import { ConfigError, readConfig, describeConfig } from './config.ts';
import { loadConfigOrExit } from './config-or-exit.ts';
import { createLogger } from './logger.ts';
import type { Logger } from './logger.ts';
import { createRegistry } from './metrics.ts';
import type { Registry } from './metrics.ts';
import { Health } from './health.ts';
import { startOpsServer } from './ops-server.ts';
import type { OpsServer } from './ops-server.ts';

type BootSpec = ConfigSpec & { logLevel: Field<string>; opsPort: Field<number>; opsHost?: Field<string> };

export interface ServiceBase<S extends BootSpec> {
  config: ConfigValues<S>;
  logger: Logger;
  registry: Registry;
  health: Health;
  ops: OpsServer;
}

/**
 * What every service does first: read its config (exit 78 listing every problem), make its logger
 * and metrics registry, and open the ops port so /livez answers while the rest starts.
 */
export async function bootService<S extends BootSpec>(
  service: string,
  spec: S,
  env: Record<string, string | undefined>,
  /** Problems between variables (ones that only make sense together), reported like the rest. */
  crossCheck?: (config: ConfigValues<S>) => string[],
): Promise<ServiceBase<S>> {
  const config = loadConfigOrExit(service, () => {
    const values = readConfig(env, spec);
    const problems = crossCheck?.(values) ?? [];
    if (problems.length > 0) throw new ConfigError(problems);
    return values;
  });
  const logger = createLogger({ service, level: config.logLevel });
  // The pid once, not on every line: enough to find the process behind a log (a supervisor, an operator).
  logger.info({ config: describeConfig(spec, config), pid: process.pid }, 'starting');
  const registry = createRegistry(service);
  const health = new Health();
  const ops = await startOpsServer({ port: config.opsPort, host: config.opsHost, registry, health, logger });
  return { config, logger, registry, health, ops };
}
