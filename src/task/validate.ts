/**
 * A task's own check of its arguments as a whole (`validate` in `defineTask`, the seeds'
 * `Valid()`/`Verify()`): it runs after the fields have parsed, on the typed arguments, wherever
 * arguments enter (run, enqueue, schedules, HTTP, CLI, the admin form, each durable attempt).
 *
 * It is synchronous, as the seeds' checks are: it decides from the arguments alone, so it runs
 * the same everywhere and may run more than once per run (the server checks a request, then the
 * engine checks the call). Anything that needs I/O belongs in the handler.
 */
import { TaskDefinitionError, ValidationError, describeValue, type FieldIssue } from '../errors.js'
import { parseArgs, type ArgsInput, type Field } from './fields.js'

/**
 * One problem `validate` found. With `field`, it is about that field (the admin form shows it
 * beside the field; messages read `<field>: <message>`); without, about the arguments as a whole
 * (shown above the form).
 *
 * @example
 * { field: 'end', message: 'must be after start' }
 */
export interface ArgsIssue<K extends string = string> {
  /** The field the problem is about; omitted for a problem of the arguments as a whole. */
  readonly field?: K
  /** What is wrong, as a sentence for a person. */
  readonly message: string
}

/**
 * What `validate` returns: nothing (or an empty list) when the arguments are fine; else a
 * sentence, an {@link ArgsIssue}, or a list of them. It may also throw a `ValidationError`,
 * whose `fields` are kept as they are.
 */
export type ArgsCheckResult<K extends string = string> = void | undefined | null | string | ArgsIssue<K> | readonly (string | ArgsIssue<K>)[]

/** A task's check of its parsed arguments (see {@link ArgsCheckResult}). */
export type ArgsCheck<A> = (args: A) => ArgsCheckResult<keyof A & string>

/** What {@link parseTaskArgs} needs of a task. */
export interface ArgsSpec {
  readonly key: string
  readonly fields: readonly Field[]
  readonly validate: ((args: never) => ArgsCheckResult) | undefined
}

/**
 * Parses arguments with the task's fields, then runs its `validate` on the result. Throws one
 * `ValidationError` listing every bad field; `validate` runs only when every field parsed (it
 * is given typed arguments), and its problems are issues with `origin: 'validate'`.
 *
 * @example
 * parseTaskArgs(task, { start: '2026-01-02', end: '2026-01-01' })
 * // ValidationError: invalid arguments: end: must be after start
 */
export function parseTaskArgs(task: ArgsSpec, input: ArgsInput): Record<string, unknown> {
  const args = parseArgs(task.fields, input)
  checkTaskArgs(task, args)
  return args
}

/** Runs a task's `validate` on parsed arguments; throws a `ValidationError` with its problems. */
export function checkTaskArgs(task: ArgsSpec, args: Record<string, unknown>): void {
  if (task.validate === undefined) return
  let result: unknown
  try {
    result = (task.validate as (args: Record<string, unknown>) => unknown)(args)
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error
    // A thrown ValidationError keeps its fields; one without any is about the whole arguments.
    const issues = error.fields.length > 0 ? error.fields : [wholeIssue(error.message)]
    throw new ValidationError('invalid arguments', issues, { cause: error })
  }
  const issues = argsIssues(task.key, result, args)
  if (issues.length > 0) throw new ValidationError('invalid arguments', issues)
}

/** The issues `validate` returned, as field issues; a malformed return value is a definition error. */
function argsIssues(taskKey: string, result: unknown, args: Record<string, unknown>): FieldIssue[] {
  if (result === undefined || result === null) return []
  if (typeof (result as { then?: unknown }).then === 'function') {
    throw new TaskDefinitionError(`task "${taskKey}": validate must be synchronous (it returned a promise); check what needs I/O in the handler`)
  }
  const list: readonly unknown[] = Array.isArray(result) ? result : [result]
  return list.map((item) => {
    if (typeof item === 'string' && item !== '') return wholeIssue(item)
    if (typeof item === 'object' && item !== null && !Array.isArray(item)) {
      const { field, message } = item as { field?: unknown; message?: unknown }
      if (typeof message === 'string' && message !== '') {
        if (field === undefined) return wholeIssue(message)
        if (typeof field === 'string' && field !== '') return fieldIssue(field, message, args[field])
      }
    }
    throw new TaskDefinitionError(
      `task "${taskKey}": validate must return nothing, a message, { field?, message } or a list of them, got ${describeValue(item)}`,
    )
  })
}

function fieldIssue(key: string, message: string, value: unknown): FieldIssue {
  const received = value === undefined ? undefined : describeValue(value)
  return { key, expected: message, received, message: `${key}: ${message}`, origin: 'validate' }
}

function wholeIssue(message: string): FieldIssue {
  return { key: '', expected: message, received: undefined, message, origin: 'validate' }
}

/** Checks a `validate` option at definition time: a function, and not an async one. */
export function checkValidateOption(value: unknown, where: string): void {
  if (value === undefined) return
  if (typeof value !== 'function') throw new TaskDefinitionError(`${where}: validate must be a function of the arguments, got ${describeValue(value)}`)
  if (value.constructor.name === 'AsyncFunction') {
    throw new TaskDefinitionError(`${where}: validate must be synchronous (it is an async function); check what needs I/O in the handler`)
  }
}
