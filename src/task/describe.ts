/**
 * A task as plain, JSON-safe data: what the API, the CLI and the admin form show.
 */
import { DEFAULT_PRIORITY, DEFAULT_QUEUE, type AnyTask } from './define.js'
import type { Field, FieldType } from './fields.js'
import { canonicalType, titleCase } from './fields.js'

/**
 * One field as data. The type is the one an alias stands for (`number` → `int`); time defaults
 * are ISO strings; an int64's default and bounds are decimal strings (exact beyond 2^53).
 */
export interface FieldInfo {
  readonly key: string
  readonly title: string
  readonly description: string
  readonly type: FieldType
  readonly required: boolean
  readonly default?: string | number | boolean | readonly string[]
  readonly choices?: readonly (string | number)[]
  readonly min?: number | string
  readonly max?: number | string
}

/** A task's metadata and fields as data. */
export interface TaskInfo {
  readonly key: string
  readonly title: string
  readonly category: string
  readonly icon: string
  readonly description: string
  readonly tags: readonly string[]
  readonly dangerous: string | null
  readonly expensive: boolean
  readonly webUrl: string
  /** `null` when not set. */
  readonly maxConcurrent: number | null
  /** Runs of the task executing at once across every worker (`limits.concurrency`); `null`: no such limit. */
  readonly concurrency: number | null
  readonly timeoutMs: number | null
  /** Default queue of durable runs. */
  readonly queue: string
  readonly priority: number
  /** `null`: the engine's default. */
  readonly maxAttempts: number | null
  readonly reuseResultMs: number | null
  readonly fields: readonly FieldInfo[]
}

/** Describes a field as data. */
export function fieldInfo(field: Field): FieldInfo {
  const info: { -readonly [K in keyof FieldInfo]: FieldInfo[K] } = {
    key: field.key,
    title: field.title ?? titleCase(field.key),
    description: field.description ?? '',
    type: canonicalType(field.type) ?? (field.type as FieldType),
    required: field.required === true,
  }
  const value = field.default
  if (value !== undefined) info.default = value instanceof Date ? value.toISOString() : typeof value === 'bigint' || info.type === 'int64' ? String(value) : value
  if ('choices' in field && field.choices !== undefined) info.choices = field.choices
  if ('min' in field && field.min !== undefined) info.min = typeof field.min === 'number' && info.type !== 'int64' ? field.min : String(field.min)
  if ('max' in field && field.max !== undefined) info.max = typeof field.max === 'number' && info.type !== 'int64' ? field.max : String(field.max)
  return info
}

/** Describes a task as data. */
export function taskInfo(task: AnyTask): TaskInfo {
  return {
    key: task.key,
    title: task.title,
    category: task.category,
    icon: task.icon,
    description: task.description,
    tags: task.tags,
    dangerous: task.dangerous ?? null,
    expensive: task.expensive,
    webUrl: task.webUrl,
    maxConcurrent: task.maxConcurrent ?? null,
    concurrency: task.limits.concurrency ?? null,
    timeoutMs: task.timeoutMs ?? null,
    queue: task.queue ?? DEFAULT_QUEUE,
    priority: task.priority ?? DEFAULT_PRIORITY,
    maxAttempts: task.maxAttempts ?? null,
    reuseResultMs: task.reuseResultMs ?? null,
    fields: task.fields.map(fieldInfo),
  }
}
