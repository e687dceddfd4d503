// Typed configuration read once from the environment. Every problem is collected before throwing so
// an operator fixes a broken deployment in one round instead of one variable per restart.

export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; problem: string };

export interface Field<T> {
  readonly env: string;
  readonly secret: boolean;
  /** `raw` is undefined when the variable is unset or blank; problems never quote the value. */
  parse(raw: string | undefined): ParseResult<T>;
}

export type FieldValue<F> = F extends Field<infer T> ? T : never;

export type ConfigSpec = Record<string, Field<unknown>>;

export type ConfigValues<S extends ConfigSpec> = { [K in keyof S]: FieldValue<S[K]> };

const ok = <T>(value: T): ParseResult<T> => ({ ok: true, value });
const bad = (problem: string): ParseResult<never> => ({ ok: false, problem });

function makeField<T>(
  env: string,
  secret: boolean,
  hasDefault: boolean,
  defaultValue: T | undefined,
  convert: (raw: string) => ParseResult<T>,
): Field<T> {
  return {
    env,
    secret,
    parse(raw) {
      if (raw === undefined) return hasDefault ? ok(defaultValue as T) : bad('required');
      return convert(raw);
    },
  };
}

function integerRange(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `an integer between ${min} and ${max}`;
  if (min !== undefined) return `an integer >= ${min}`;
  if (max !== undefined) return `an integer <= ${max}`;
  return 'an integer';
}

const boolWords: Record<string, boolean> = { true: true, false: false, '1': true, '0': false, yes: true, no: false };

export const field = {
  string(env: string, opts: { default?: string; secret?: boolean } = {}): Field<string> {
    return makeField(env, opts.secret ?? false, opts.default !== undefined, opts.default, (raw) => ok(raw));
  },

  int(env: string, opts: { default?: number; min?: number; max?: number } = {}): Field<number> {
    const { min, max } = opts;
    return makeField(env, false, opts.default !== undefined, opts.default, (raw) => {
      const text = raw.trim();
      const n = Number(text);
      if (!/^[+-]?\d+$/.test(text) || !Number.isSafeInteger(n) || (min !== undefined && n < min) || (max !== undefined && n > max)) {
        return bad(`must be ${integerRange(min, max)}`);
      }
      return ok(n);
    });
  },

  bool(env: string, opts: { default?: boolean } = {}): Field<boolean> {
    return makeField(env, false, opts.default !== undefined, opts.default, (raw) => {
      const v = boolWords[raw.trim().toLowerCase()];
      return v === undefined ? bad(`must be one of true, false, 1, 0, yes, no`) : ok(v);
    });
  },

  oneOf<const V extends readonly string[]>(env: string, values: V, opts: { default?: V[number] } = {}): Field<V[number]> {
    return makeField<V[number]>(env, false, opts.default !== undefined, opts.default, (raw) => {
      const text = raw.trim();
      return values.includes(text) ? ok(text as V[number]) : bad(`must be one of ${values.join(', ')}`);
    });
  },

  optional(env: string, opts: { secret?: boolean } = {}): Field<string | undefined> {
    return makeField<string | undefined>(env, opts.secret ?? false, true, undefined, (raw) => ok(raw));
  },

  /** Comma-separated; `check` returns what is wrong with the items (never quoting a secret) or null. */
  list(env: string, opts: { default?: string[]; secret?: boolean; check?: (items: string[]) => string | null } = {}): Field<string[]> {
    return makeField(env, opts.secret ?? false, opts.default !== undefined, opts.default, (raw) => {
      const items = raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
      const problem = opts.check?.(items) ?? null;
      return problem ? bad(problem) : ok(items);
    });
  },
};

export function readConfig<S extends ConfigSpec>(env: Record<string, string | undefined>, spec: S): ConfigValues<S> {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(spec)) {
    const set = env[f.env];
    // Orchestrators often set a variable to "" to mean "not set"; treating blank as unset keeps
    // defaults working and reports a blank required variable as missing.
    const raw = set === undefined || set.trim() === '' ? undefined : set;
    const result = f.parse(raw);
    if (result.ok) values[key] = result.value;
    // Only here, where secrecy is known, is the offending value quoted: a secret must never reach a log line.
    else if (raw === undefined || f.secret) problems.push(`${f.env}: ${result.problem}`);
    else problems.push(`${f.env}: ${result.problem}, got ${JSON.stringify(raw)}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return values as ConfigValues<S>;
}

export const REDACTED = '[redacted]';

export function describeConfig<S extends ConfigSpec>(spec: S, values: ConfigValues<S>): Record<keyof S, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(spec)) {
    const v = (values as Record<string, unknown>)[key];
    // An unset optional secret is still worth showing: "is the token configured?" is a common question.
    out[key] = f.secret && v !== undefined ? REDACTED : v;
  }
  return out as Record<keyof S, unknown>;
}
