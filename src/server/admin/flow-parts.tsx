/**
 * The parts of the Queues page: a queue or task as an item with its usage, its pause / resume
 * button and its limits form. The forms post to the admin UI (they work without the script);
 * the script sends the same patch to `PUT /api/queues/:name` or `PUT /api/tasks/:key` instead
 * and shows the API's errors at their fields (`client/flow-forms.ts`).
 */
import type { Child } from 'hono/jsx'
import type { RateLimit } from '../../task/limits.js'
import type { PageContext } from './layout.js'
import { issueField, ratePeriod, type FlowFormValues } from './shared/flow-form.js'
import { Csrf, Icon } from './ui.js'

/** A form that came back with errors (posted without the script): what was typed and what is wrong. */
export interface FlowEdit {
  /** Which form: `queue:<name>`, `task:<key>`, or `task:` (the "limit another task" form). */
  readonly target: string
  readonly values: FlowFormValues
  /** What is wrong, by form field (`concurrency`, `rate`, `groupConcurrency`, `paused`, `task`). */
  readonly issues: ReadonlyMap<string, string>
  /** The whole error, shown above the form. */
  readonly message: string
}

/** Issues of a `ValidationError` by the form field that shows each. */
export function issuesByField(fields: readonly { readonly key: string; readonly message: string }[]): Map<string, string> {
  const issues = new Map<string, string>()
  for (const field of fields) {
    const at = issueField(field.key)
    issues.set(at, issues.has(at) ? `${issues.get(at)!}; ${field.message}` : field.message)
  }
  return issues
}

/** `10 per 1 s`, or a faint dash without a rate limit. */
export function RateText({ rate }: { rate: RateLimit | null }) {
  if (rate === null) return <span class="faint">—</span>
  return (
    <span class="nowrap" title={`at most ${rate.max} starts per ${rate.perMs} ms across every worker`}>
      {rate.max} per {ratePeriod(rate.perMs)}
    </span>
  )
}

/** A limit, or a faint "none". */
export function Limit({ value }: { value: number | null }) {
  return value === null ? <span class="faint">none</span> : <>{value}</>
}

/** One figure of an item: a label over its value. */
export function Stat({ label, children, name }: { label: string; children: Child; name: string }) {
  return (
    <div data-stat={name}>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  )
}

/** `paused` or `active`. */
export function StateBadge({ paused }: { paused: boolean }) {
  return paused ? (
    <span class="badge badge-paused" data-state="paused">
      paused
    </span>
  ) : (
    <span class="badge badge-active" data-state="active">
      active
    </span>
  )
}

/** Where a queue's or task's forms post (admin) and what the script calls (API). */
export interface FlowTarget {
  readonly kind: 'queue' | 'task'
  /** The queue's name or the task's key. */
  readonly name: string
}

const post = (page: PageContext, t: FlowTarget): string => `${page.admin}/flow/${t.kind}/${encodeURIComponent(t.name)}`
const api = (page: PageContext, t: FlowTarget): string => `${page.base}/api/${t.kind === 'task' ? 'tasks' : 'queues'}/${encodeURIComponent(t.name)}`

/** Pause or resume: a form posting the opposite state. */
export function PauseButton({ page, target, paused, edit }: { page: PageContext; target: FlowTarget; paused: boolean; edit: FlowEdit | undefined }) {
  const error = edit?.target === `${target.kind}:${target.name}` && edit.values.paused !== undefined ? edit.message : undefined
  return (
    <form method="post" action={post(page, target)} class="inline pause-form" data-flow-form="" data-api={api(page, target)}>
      <Csrf token={page.csrf} />
      <input type="hidden" name="paused" value={paused ? 'false' : 'true'} />
      <button type="submit" class="small" data-action={paused ? 'resume' : 'pause'} title={paused ? 'Start its pending runs again' : 'Start none of its runs: running ones finish, pending ones wait'}>
        <Icon name={paused ? 'play' : 'pause'} /> {paused ? 'Resume' : 'Pause'}
      </button>
      <span class="form-error" role="alert" hidden={error === undefined}>
        {error}
      </span>
    </form>
  )
}

/** A text field of a limits form, with its error. */
function LimitField({ id, name, label, value, placeholder, error, suffix }: { id: string; name: string; label: string; value: string; placeholder: string; error?: string | undefined; suffix?: string }) {
  return (
    <div class={`field${error === undefined ? '' : ' invalid'}`} data-flow-field={name}>
      <label for={id}>{label}</label>
      <span class="with-suffix">
        <input id={id} name={name} type="text" inputmode="numeric" autocomplete="off" value={value} placeholder={placeholder} aria-invalid={error === undefined ? undefined : 'true'} />
        {suffix === undefined ? null : <span class="faint">{suffix}</span>}
      </span>
      <div class="error" role="alert" hidden={error === undefined}>
        {error}
      </div>
    </div>
  )
}

/** The current limits, as the form's initial values. */
export interface FormLimits {
  readonly concurrency: number | null
  readonly rate: RateLimit | null
  readonly groupConcurrency?: number | null
}

/**
 * The limits form in a disclosure: concurrency, rate (max per ms), and for a task the per-group
 * limit; empty is no limit. Open, with what was typed and the errors, when it came back with some.
 */
export function LimitsEditor({ page, target, limits, edit, tasks }: { page: PageContext; target: FlowTarget; limits: FormLimits; edit: FlowEdit | undefined; tasks?: readonly string[] }) {
  const mine = edit?.target === `${target.kind}:${target.name}` && edit.values.paused === undefined ? edit : undefined
  const typed = (name: string, current: number | null | undefined): string => mine?.values[name] ?? (current === null || current === undefined ? '' : String(current))
  const id = (field: string): string => `${target.kind}-${field}-${target.name === '' ? 'new' : target.name}`.replace(/[^A-Za-z0-9_-]/g, '_')
  const another = tasks !== undefined
  const rateError = mine?.issues.get('rate')
  return (
    <details class="limits-editor" data-hold-live="" open={mine !== undefined}>
      <summary class="button small">{another ? 'Limit another task' : 'Edit limits'}</summary>
      <form
        method="post"
        action={another ? `${page.admin}/flow/task` : post(page, target)}
        class="limits-form"
        data-flow-form=""
        data-api={another ? `${page.base}/api/tasks/` : api(page, target)}
        data-api-key={another ? 'task' : undefined}
      >
        <Csrf token={page.csrf} />
        <p class="form-error" role="alert" hidden={mine === undefined}>
          {mine?.message}
        </p>
        {another ? (
          <div class={`field${mine?.issues.has('task') === true ? ' invalid' : ''}`} data-flow-field="task">
            <label for={id('task')}>Task</label>
            <select id={id('task')} name="task">
              {tasks.map((key) => (
                <option value={key} selected={mine?.values.task === key}>
                  {key}
                </option>
              ))}
            </select>
            <div class="error" role="alert" hidden={mine?.issues.has('task') !== true}>
              {mine?.issues.get('task')}
            </div>
          </div>
        ) : null}
        <div class="limit-fields">
          <LimitField id={id('concurrency')} name="concurrency" label="Concurrency" value={typed('concurrency', limits.concurrency)} placeholder="no limit" error={mine?.issues.get('concurrency')} suffix="at once" />
          <div class={`field rate-field${rateError === undefined ? '' : ' invalid'}`} data-flow-field="rate">
            <label for={id('rateMax')}>Rate</label>
            <span class="with-suffix">
              <input id={id('rateMax')} name="rateMax" type="text" inputmode="numeric" autocomplete="off" aria-label="starts" value={typed('rateMax', limits.rate?.max)} placeholder="no limit" aria-invalid={rateError === undefined ? undefined : 'true'} />
              <span class="faint">starts per</span>
              <input id={id('ratePerMs')} name="ratePerMs" type="text" inputmode="numeric" autocomplete="off" aria-label="window in ms" value={typed('ratePerMs', limits.rate?.perMs)} placeholder="ms" aria-invalid={rateError === undefined ? undefined : 'true'} />
              <span class="faint">ms</span>
            </span>
            <div class="error" role="alert" hidden={rateError === undefined}>
              {rateError}
            </div>
          </div>
          {target.kind === 'task' ? (
            <LimitField id={id('groupConcurrency')} name="groupConcurrency" label="Per group" value={typed('groupConcurrency', limits.groupConcurrency)} placeholder="no limit" error={mine?.issues.get('groupConcurrency')} suffix="at once per key" />
          ) : null}
        </div>
        <p class="help faint small">Empty: no limit (also none of the code's). Applies to every worker on the store within a heartbeat, and is stored.</p>
        <div class="form-actions">
          <button type="submit" class="primary small">
            Save limits
          </button>
        </div>
      </form>
    </details>
  )
}
