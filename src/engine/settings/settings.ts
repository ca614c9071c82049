/**
 * Runtime settings: values operators change while the engine runs (from the API, the admin UI or
 * code), stored in the store so every process sharing it uses the same ones.
 */
import { ValidationError, describeValue, type FieldIssue } from '../../errors.js'
import { unknownKeyIssues } from '../../options.js'

/** The settings and their current values. */
export interface Settings {
  /**
   * How many runs each worker process executes at once; `null` lets every worker keep the
   * concurrency it was started with. Changes apply to running workers, without a restart.
   */
  readonly workerConcurrency: number | null
  /** Finished runs (with their logs and artifacts) older than this many days are deleted; 0 keeps them. */
  readonly runRetentionDays: number
  /** Log lines of runs finished more than this many days ago are deleted; 0 keeps them. */
  readonly logRetentionDays: number
  /** Attempts of a durable run when neither its task nor the enqueue call says. */
  readonly defaultMaxAttempts: number
  /** Where workers write log lines: `store`, or a registered log backend such as `files`. */
  readonly logBackend: string
  /** Per-minute rollups of finished runs (the overview's and task pages' history) older than this many days are deleted; 0 keeps them. */
  readonly rollupRetentionDays: number
  /** Audit entries (who did what) older than this many days are deleted; 0 keeps them. */
  readonly auditRetentionDays: number
}

export type SettingKey = keyof Settings

/** How a setting is shown and checked (the admin UI builds its form from these). */
export interface SettingInfo {
  readonly key: SettingKey
  readonly title: string
  readonly description: string
  readonly type: 'int' | 'choice'
  /** For `int`: the smallest and largest value; `null` allowed when `nullable`. */
  readonly min?: number
  readonly max?: number
  readonly nullable?: boolean
  /** For `choice`: the allowed values. */
  readonly choices?: readonly { readonly value: string; readonly title: string; readonly description: string }[]
  readonly default: number | string | null
  readonly value: number | string | null
}

interface Spec {
  readonly title: string
  readonly description: string
  readonly type: 'int' | 'choice'
  readonly min?: number
  readonly max?: number
  readonly nullable?: boolean
}

const SPECS: Readonly<Record<SettingKey, Spec>> = {
  workerConcurrency: {
    title: 'Worker concurrency',
    description: 'Runs each worker process executes at once. Empty: every worker keeps the concurrency it was started with. Applies to running workers at once.',
    type: 'int',
    min: 1,
    max: 10_000,
    nullable: true,
  },
  runRetentionDays: {
    title: 'Run retention (days)',
    description: 'Finished runs older than this, with their logs and artifacts, are deleted by the daily retention run. 0 keeps them forever.',
    type: 'int',
    min: 0,
    max: 36_500,
  },
  logRetentionDays: {
    title: 'Log retention (days)',
    description: 'Log lines of runs finished longer ago than this are deleted by the retention run; the runs stay. 0 keeps them.',
    type: 'int',
    min: 0,
    max: 36_500,
  },
  defaultMaxAttempts: {
    title: 'Default attempts',
    description: 'Attempts of a durable run when neither its task nor the enqueue call sets maxAttempts.',
    type: 'int',
    min: 1,
    max: 1000,
  },
  logBackend: {
    title: 'Log storage',
    description: 'Where workers write the log lines of runs. Lines already written stay where they are and remain readable.',
    type: 'choice',
  },
  rollupRetentionDays: {
    title: 'History retention (days)',
    description: 'Per-minute rollups of finished runs (the throughput, failures and durations the overview and task pages show over 24 h and 7 d) older than this are deleted by the retention run. 0 keeps them.',
    type: 'int',
    min: 0,
    max: 36_500,
  },
  auditRetentionDays: {
    title: 'Audit retention (days)',
    description: 'Entries of the audit trail (who started, cancelled, retried or deleted runs, changed settings, users or tokens, failed sign-ins) older than this are deleted by the retention run. 0 keeps them.',
    type: 'int',
    min: 0,
    max: 36_500,
  },
}

/** How long audit entries are kept by default, in days (the `auditRetentionDays` setting). */
export const DEFAULT_AUDIT_RETENTION_DAYS = 365

/** How long per-minute rollups are kept by default, in days (the `rollupRetentionDays` setting). */
export const DEFAULT_ROLLUP_RETENTION_DAYS = 7

export const SETTING_KEYS = Object.keys(SPECS) as SettingKey[]

/** The defaults, given the engine's own `defaultMaxAttempts`. */
export function defaultSettings(defaultMaxAttempts: number): Settings {
  return { workerConcurrency: null, runRetentionDays: 30, logRetentionDays: 14, defaultMaxAttempts, logBackend: 'store', rollupRetentionDays: DEFAULT_ROLLUP_RETENTION_DAYS, auditRetentionDays: DEFAULT_AUDIT_RETENTION_DAYS }
}

/**
 * Checks a change to settings: an object of known keys with valid values. Throws a
 * `ValidationError` whose `fields` name every bad key (as the arguments of a task do); returns
 * the change.
 */
export function checkSettingsPatch(patch: unknown, backends: readonly string[]): Partial<Settings> {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw new ValidationError('invalid settings', [issue('settings', 'an object of settings', patch)])
  const issues: FieldIssue[] = []
  const unknown = new Map(unknownKeyIssues(patch, SETTING_KEYS, '', 'setting').map((issue) => [issue.key, issue]))
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(patch)) {
    const spec = (SPECS as Record<string, Spec | undefined>)[key]
    if (spec === undefined) {
      // In the order given, among the bad values (a key set to `undefined` changes nothing).
      const issue = unknown.get(key)
      if (issue !== undefined) issues.push(issue)
      continue
    }
    if (spec.type === 'int') {
      if (value === null && spec.nullable === true) out[key] = null
      else if (!Number.isSafeInteger(value) || (value as number) < spec.min! || (value as number) > spec.max!) {
        issues.push(issue(key, `an integer from ${spec.min} to ${spec.max}${spec.nullable === true ? ' or null' : ''}`, value))
      } else out[key] = value
    } else if (typeof value !== 'string' || !backends.includes(value)) {
      issues.push(issue(key, `one of ${backends.join(', ')}`, value))
    } else out[key] = value
  }
  if (issues.length > 0) throw new ValidationError('invalid settings', issues)
  return out
}

function issue(key: string, expected: string, value: unknown): FieldIssue {
  const received = describeValue(value)
  return { key, expected, received, message: `${key}: expected ${expected}, got ${received}` }
}

/** Stored values over the defaults; stored values that no longer check out (a backend gone) fall back to the default. */
export function mergeSettings(defaults: Settings, stored: Readonly<Record<string, unknown>>, backends: readonly string[]): Settings {
  const merged: Record<string, unknown> = { ...defaults }
  for (const key of SETTING_KEYS) {
    if (!(key in stored)) continue
    try {
      Object.assign(merged, checkSettingsPatch({ [key]: stored[key] }, backends))
    } catch {
      // Keep the default.
    }
  }
  return merged as unknown as Settings
}

/** The settings with their descriptions, for forms. */
export function describeSettings(values: Settings, defaults: Settings, backends: readonly { readonly name: string; readonly title: string; readonly description: string }[]): SettingInfo[] {
  return SETTING_KEYS.map((key) => {
    const spec = SPECS[key]
    const base = { key, title: spec.title, description: spec.description, type: spec.type, default: defaults[key], value: values[key] }
    if (spec.type === 'choice') return { ...base, choices: backends.map((b) => ({ value: b.name, title: b.title, description: b.description })) }
    return { ...base, min: spec.min!, max: spec.max!, ...(spec.nullable === true ? { nullable: true } : {}) }
  })
}
