// The variables that point the test launchers elsewhere, all read here (the one module of this
// package that reads process.env). Each is read when asked for, not at import: tests set some of
// them for a moment to check what the launchers do with them.
function read(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

export const testEnvironment = {
  /** `NATS_SERVER_BIN`: another nats-server build (e.g. one from `go install`) instead of the one on PATH. */
  natsServerBin: (): string => read('NATS_SERVER_BIN') ?? 'nats-server',
  /** `GAS_CHROMIUM`: the Chromium binary the browser tests drive. */
  chromium: (): string => read('GAS_CHROMIUM') ?? '/usr/bin/chromium',
  /** `GAS_LOG_LEVEL`: the log level of services the launchers start. */
  serviceLogLevel: (): string => read('GAS_LOG_LEVEL') ?? 'info',
  /** `GAS_SERVICE_LOGS=1`: echo every launched service's output to stderr, prefixed with its name. */
  echoServiceLogs: (): boolean => read('GAS_SERVICE_LOGS') === '1',
  /** `GAS_REPO_ROOT`: the repository, when it cannot be found from this file's location. */
  repoRoot: (): string | undefined => read('GAS_REPO_ROOT'),
  /** `GAS_SHARED_DATA`: the shared data folder instead of ../shared/data beside the repository. */
  sharedData: (): string | undefined => read('GAS_SHARED_DATA'),
  /** `GAS_CHAOS_SEED`: the chaos test's kill schedule (it prints the seed it used, to run it again). */
  chaosSeed: (): number | undefined => (read('GAS_CHAOS_SEED') === undefined ? undefined : Number(read('GAS_CHAOS_SEED'))),
  /** `GAS_CHAOS_JOBS`: how many jobs the chaos test submits (100 by default). */
  chaosJobs: (): number => Number(read('GAS_CHAOS_JOBS') ?? 100),
  /** What a launched process inherits (PATH, the coverage hooks tap sets, ...) before its own variables. */
  inherited: (): Record<string, string | undefined> => ({ ...process.env }),
};
