/**
 * A task's form, generated from its fields: checkbox for bool, number inputs, a select for
 * choices, date-time, a list input for `string[]`. Defaults are filled in; validation errors
 * are shown at the field they belong to. Form posts go through the same argument parser as
 * every other input.
 */
import { ValidationError, type FieldIssue } from '../../errors.js'
import { DEFAULT_QUEUE, type AnyTask } from '../../task/define.js'
import { fieldInfo } from '../../task/describe.js'
import type { Field } from '../../task/fields.js'
import { parseTaskArgs } from '../../task/validate.js'
import { Csrf, Icon } from './ui.js'

/** Form names of the engine's own inputs (a task's field keys cannot contain ":"). */
export const OWN = { label: 'te:label', queue: 'te:queue', priority: 'te:priority', delay: 'te:delay', maxAttempts: 'te:maxAttempts', confirm: 'te:confirm', csrf: '_csrf' } as const

/** Submitted values by field key. */
export type FormValues = Readonly<Record<string, string | readonly string[]>>

/** Splits a parsed form body into field values and the engine's own inputs. */
export function splitForm(body: Readonly<Record<string, unknown>>, fields: readonly Field[]): { values: Record<string, string | string[]>; own: Record<string, string> } {
  const values: Record<string, string | string[]> = {}
  const own: Record<string, string> = {}
  for (const [name, raw] of Object.entries(body)) {
    const list = (Array.isArray(raw) ? raw : [raw]).filter((v): v is string => typeof v === 'string')
    if (name.startsWith('te:') || name === OWN.csrf) {
      own[name] = list.at(-1) ?? ''
      continue
    }
    const field = fields.find((f) => f.key === name)
    // A checkbox posts a hidden "false" and, when ticked, "true": the last one wins.
    if (field?.type === 'bool') values[name] = list.at(-1) ?? ''
    else if (field?.type === 'string[]') values[name] = list.length === 1 && !field.choices ? list[0]! : list
    else values[name] = list.length === 1 ? list[0]! : list
  }
  return { values, own }
}

/**
 * Parses submitted values (the fields, then the task's `validate`); returns the arguments or the
 * problems by field key. Problems of the arguments as a whole are under `''`; several problems
 * of one key are joined into one.
 */
export function parseForm(task: AnyTask, values: FormValues): { args: Record<string, unknown> } | { issues: ReadonlyMap<string, FieldIssue> } {
  try {
    return { args: parseTaskArgs(task, values) }
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error
    const issues = new Map<string, FieldIssue>()
    for (const issue of error.fields) {
      const before = issues.get(issue.key)
      issues.set(issue.key, before === undefined ? issue : { ...before, expected: `${before.expected}; ${issue.expected}`, message: `${before.message}; ${issue.message}` })
    }
    return { issues }
  }
}

/** The problems a form cannot show beside one of its fields: those of the arguments as a whole (and of keys that are not fields). */
export function formWideIssues(task: AnyTask, issues: ReadonlyMap<string, FieldIssue>): FieldIssue[] {
  return [...issues.values()].filter((issue) => issue.key !== OWN.confirm && !task.fields.some((f) => f.key === issue.key))
}

/** Values to show in the form: what was submitted, else stored arguments, else defaults. */
export function formValues(task: AnyTask, args: Readonly<Record<string, unknown>> | undefined): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const field of task.fields) {
    const value = args?.[field.key] ?? field.default
    if (value === undefined || value === null) continue
    if (Array.isArray(value)) out[field.key] = value.map(String)
    else if (value instanceof Date) out[field.key] = isoTimeText(value)
    else if (field.type === 'time' && typeof value === 'string') out[field.key] = timeText(value)
    else if (field.type === 'time' && typeof value === 'number') out[field.key] = isoTimeText(new Date(value))
    else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') out[field.key] = String(value)
    else out[field.key] = JSON.stringify(value)
  }
  return out
}

export function TaskForm({
  task,
  admin,
  csrf,
  values,
  issues,
  own,
  canRun = true,
}: {
  task: AnyTask
  admin: string
  csrf: string
  values: FormValues
  issues: ReadonlyMap<string, FieldIssue>
  own: Readonly<Record<string, string>>
  /** Whether the caller may start runs (`tasks:run`); without it the form says so instead of offering buttons. */
  canRun?: boolean
}) {
  const base = `${admin}/task/${encodeURIComponent(task.key)}`
  return (
    <form method="post" action={`${base}/run`} id="task-form" data-dangerous={task.dangerous ?? undefined} novalidate>
      <Csrf token={csrf} />
      {task.fields.length === 0 ? <p class="muted">This task takes no input.</p> : task.fields.map((field) => <FieldInput field={field} value={values[field.key]} issue={issues.get(field.key)} />)}
      <details class="field">
        <summary class="muted">Run options</summary>
        <div class="grid grid-3">
          <div class="field">
            <label for="opt-label">Label</label>
            <input type="text" id="opt-label" name={OWN.label} value={own[OWN.label] ?? ''} placeholder={task.defaults.label ?? 'ad-hoc'} maxlength={200} />
          </div>
          <div class="field">
            <label for="opt-queue">Queue (enqueue)</label>
            <input type="text" id="opt-queue" name={OWN.queue} value={own[OWN.queue] ?? ''} placeholder={task.queue ?? DEFAULT_QUEUE} />
          </div>
          <div class="field">
            <label for="opt-priority">Priority (enqueue)</label>
            <input type="number" id="opt-priority" name={OWN.priority} value={own[OWN.priority] ?? ''} step="1" placeholder={String(task.priority ?? 0)} />
          </div>
          <div class="field">
            <label for="opt-delay">Delay, seconds (enqueue)</label>
            <input type="number" id="opt-delay" name={OWN.delay} value={own[OWN.delay] ?? ''} step="1" min="0" placeholder="0" />
          </div>
          <div class="field">
            <label for="opt-attempts">Max attempts (enqueue)</label>
            <input type="number" id="opt-attempts" name={OWN.maxAttempts} value={own[OWN.maxAttempts] ?? ''} step="1" min="1" placeholder={task.maxAttempts === undefined ? '3' : String(task.maxAttempts)} />
          </div>
        </div>
      </details>
      {task.dangerous === undefined ? null : (
        <div class="danger-box">
          <strong>
            <Icon name="alert" /> Dangerous:
          </strong>{' '}
          {task.dangerous}
          <div class="field">
            <label class="checkbox-label">
              <input type="checkbox" name={OWN.confirm} value="yes" checked={own[OWN.confirm] === 'yes'} /> I understand; run it anyway
            </label>
            {issues.has(OWN.confirm) ? <div class="error">{issues.get(OWN.confirm)!.message}</div> : null}
          </div>
        </div>
      )}
      {canRun ? null : (
        <p class="notice notice-warn" id="cannot-run">
          Your role may look at this task but not start runs (it lacks the tasks:run permission).
        </p>
      )}
      <div class="actions" hidden={!canRun}>
        <button type="submit" class="primary" formaction={`${base}/run`} title="Run now in the server process and show the result" aria-describedby="mode-run">
          <Icon name="play" /> Run
        </button>
        <button type="submit" formaction={`${base}/start`} title="Run now and watch log lines and progress live" aria-describedby="mode-start">
          <Icon name="timer" /> Start
        </button>
        <button type="submit" formaction={`${base}/enqueue`} title="Store a durable run for a worker" aria-describedby="mode-enqueue">
          <Icon name="list" /> Enqueue
        </button>
      </div>
      <RunModes />
    </form>
  )
}

/** What each button does, on the page (not only in tooltips). */
function RunModes() {
  return (
    <dl class="run-modes" id="run-modes">
      <dt>Run</dt>
      <dd id="mode-run">runs it now in this server process and shows the result when it ends. Nothing is kept in the runs list.</dd>
      <dt>Start</dt>
      <dd id="mode-start">runs it now in this server process and streams its log and progress to the page as they come; Stop (or leaving the page) cancels it.</dd>
      <dt>Enqueue</dt>
      <dd id="mode-enqueue">stores a durable run for a worker: it survives restarts, is retried on failure, and takes the queue, priority, delay and attempts of the run options.</dd>
    </dl>
  )
}

/** `2026-12-06T18:00:00Z`: a time as the form shows it (ISO 8601 in UTC, to the second). */
export function isoTimeText(date: Date): string {
  return date.toISOString().replace(/\.000Z$/, 'Z')
}

/** The hint of a time field: what it accepts, with an example. */
export const TIME_HINT = 'e.g. 2026-12-06T18:00:00+01:00 or 2026-12-06T17:00:00Z (ISO 8601; without a zone: UTC)'

function FieldInput({ field, value, issue }: { field: Field; value: string | readonly string[] | undefined; issue: FieldIssue | undefined }) {
  const info = fieldInfo(field)
  const id = `f-${field.key}`
  const text = Array.isArray(value) ? value.join('\n') : (value as string | undefined) ?? ''
  const describedBy = `${id}-help`
  let input
  if (field.type === 'bool') {
    input = (
      <label class="checkbox-label">
        <input type="hidden" name={field.key} value="false" />
        <input type="checkbox" id={id} name={field.key} value="true" checked={['true', '1', 'yes', 'on'].includes(String(text).toLowerCase())} aria-describedby={describedBy} />
        {info.title}
      </label>
    )
  } else if ((field.type === 'string' || field.type === 'int' || field.type === 'float') && field.choices !== undefined) {
    input = (
      <select id={id} name={field.key} aria-describedby={describedBy} aria-invalid={issue === undefined ? undefined : 'true'}>
        {info.required || info.default !== undefined ? null : <option value="">—</option>}
        {field.choices.map((choice) => (
          <option value={String(choice)} selected={String(choice) === text}>
            {String(choice)}
          </option>
        ))}
      </select>
    )
  } else if (field.type === 'string[]' && field.choices !== undefined) {
    const selected = new Set(Array.isArray(value) ? value : text.split(/[,\n]/).map((s) => s.trim()))
    input = (
      <div id={id} aria-describedby={describedBy}>
        {field.choices.map((choice) => (
          <label class="checkbox-label">
            <input type="checkbox" name={field.key} value={choice} checked={selected.has(choice)} /> {choice}
          </label>
        ))}
      </div>
    )
  } else if (field.type === 'string[]') {
    input = <textarea id={id} name={field.key} rows={3} placeholder="one per line (or comma-separated)" aria-describedby={describedBy} aria-invalid={issue === undefined ? undefined : 'true'}>{text}</textarea>
  } else if (field.type === 'int' || field.type === 'float') {
    input = (
      <input
        type="number"
        id={id}
        name={field.key}
        value={text}
        step={field.type === 'int' ? '1' : 'any'}
        min={field.min === undefined ? undefined : String(field.min)}
        max={field.max === undefined ? undefined : String(field.max)}
        required={info.required}
        aria-describedby={describedBy}
        aria-invalid={issue === undefined ? undefined : 'true'}
      />
    )
  } else if (field.type === 'int64') {
    // Text, not number: a number input holds a double, and int64 values beyond 2^53 must stay exact.
    input = (
      <input
        type="text"
        id={id}
        name={field.key}
        value={text}
        required={info.required}
        inputmode="numeric"
        pattern="[+\-]?[0-9]+"
        autocomplete="off"
        class="mono"
        aria-describedby={describedBy}
        aria-invalid={issue === undefined ? undefined : 'true'}
      />
    )
  } else if (field.type === 'time') {
    // Text, not datetime-local: that input takes no zone, and a time field takes one.
    input = (
      <input
        type="text"
        id={id}
        name={field.key}
        value={text}
        required={info.required}
        inputmode="text"
        autocomplete="off"
        spellcheck={false}
        placeholder="2026-12-06T18:00:00+01:00"
        class="mono"
        aria-describedby={describedBy}
        aria-invalid={issue === undefined ? undefined : 'true'}
      />
    )
  } else {
    input = <input type="text" id={id} name={field.key} value={text} required={info.required} aria-describedby={describedBy} aria-invalid={issue === undefined ? undefined : 'true'} />
  }
  return (
    <div class={`field${issue === undefined ? '' : ' invalid'}`} data-field={field.key}>
      {field.type === 'bool' ? null : (
        <label for={id}>
          {info.title}
          {info.required ? ' *' : ''}
          <span class="type">{field.type}</span>
        </label>
      )}
      {input}
      <div class="help" id={describedBy}>
        {[info.description, field.type === 'time' ? TIME_HINT : '', info.choices === undefined && info.min !== undefined ? `min ${info.min}` : '', info.max !== undefined ? `max ${info.max}` : '']
          .filter((s) => s !== '')
          .join(' · ')}
      </div>
      {issue === undefined ? null : (
        <div class="error" role="alert">
          {issue.origin === 'validate' ? issue.expected : issue.received === undefined ? 'Required.' : `Expected ${issue.expected}, got ${issue.received}.`}
        </div>
      )}
    </div>
  )
}

/** `a.<key>=value` query parameters that prefill a task form (edit & retry; the prefix keeps clear of `format`). */
export function prefillQuery(args: Readonly<Record<string, unknown>>): string {
  const query = new URLSearchParams()
  for (const [key, value] of Object.entries(args)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v === null || v === undefined) continue
      query.append(`a.${key}`, v instanceof Date ? v.toISOString() : String(v as string))
    }
  }
  return query.toString()
}

/**
 * The form values a URL prefills (`a.<field>=value`, over the task's defaults), or `undefined`
 * when it prefills none.
 */
export function prefillValues(task: AnyTask, query: URLSearchParams): Record<string, string | string[]> | undefined {
  const prefill: Record<string, unknown> = {}
  for (const [name, value] of query) if (name.startsWith('a.')) appendValue(prefill, name.slice(2), value)
  return Object.keys(prefill).length > 0 ? { ...formValues(task, undefined), ...toFormValues(prefill) } : undefined
}

function appendValue(target: Record<string, unknown>, key: string, value: string): void {
  const previous = target[key]
  target[key] = previous === undefined ? value : Array.isArray(previous) ? [...(previous as string[]), value] : [previous, value]
}

function toFormValues(values: Record<string, unknown>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [k, v] of Object.entries(values)) out[k] = Array.isArray(v) ? v.map(String) : String(v)
  return out
}

/**
 * A stored time as the form shows it: in UTC to the second when it has a zone (`…Z`, `…+01:00`);
 * else as it was (a time without a zone reads as UTC, and a bad one gets the parser's message).
 */
function timeText(value: string): string {
  if (!/(Z|[+-]\d{2}:\d{2})$/i.test(value)) return value
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? value : isoTimeText(date)
}

/** Hidden inputs that post `args` back as a task form (the same parser reads them). */
export function ArgsInputs({ args }: { args: Readonly<Record<string, unknown>> }) {
  return (
    <>
      {Object.entries(args).map(([key, value]) =>
        (Array.isArray(value) ? value : [value]).map((v) => (v === undefined || v === null ? null : <input type="hidden" name={key} value={v instanceof Date ? v.toISOString() : String(v as string)} />)),
      )}
    </>
  )
}
