// The command-line handling every bench script shares: parse (pnpm's `--` dropped), `--help`
// prints the usage, and a bad option or value exits 2 with the message and the usage.
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
type Values<O extends OptionsConfig> = ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>>['values'];

export interface BenchCommand<O extends OptionsConfig> {
  values: Values<O>;
  /** Exits 2 with `<command>: <message>` and the usage. */
  fail: (message: string) => never;
  /** An integer option's value, from `min` to `max`; `raw` undefined gives `dflt`. */
  integer: (flag: string, raw: string | undefined, dflt: number, min?: number, max?: number) => number;
  /** A number option's value above 0; `raw` undefined gives `dflt`. */
  positive: (flag: string, raw: string | undefined, dflt: number) => number;
}

export function benchCommand<O extends OptionsConfig>(command: string, usage: string, options: O): BenchCommand<O> {
  const fail = (message: string): never => {
    process.stderr.write(`${command}: ${message}\n\n${usage}`);
    process.exit(2);
  };
  let values: Values<O>;
  try {
    values = parseArgs({
      args: process.argv.slice(2).filter((a) => a !== '--'),
      options: { ...options, help: { type: 'boolean', default: false } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    return fail((err as Error).message);
  }
  if ((values as { help?: boolean }).help) {
    process.stdout.write(usage);
    process.exit(0);
  }
  return {
    values,
    fail,
    integer: (flag, raw, dflt, min = 1, max = Number.MAX_SAFE_INTEGER) => {
      if (raw === undefined) return dflt;
      const n = Number(raw);
      if (!Number.isInteger(n) || n < min || n > max) {
        fail(`--${flag} must be an integer ${max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`}, not ${raw}`);
      }
      return n;
    },
    positive: (flag, raw, dflt) => {
      if (raw === undefined) return dflt;
      const n = Number(raw);
      if (!Number.isFinite(n) || n <= 0) fail(`--${flag} must be a positive number, not ${raw}`);
      return n;
    },
  };
}
