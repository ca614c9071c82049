/**
 * Parts of the run diff page (`pages/run-diff.tsx`): the summary table with differing values
 * marked, a JSON diff as a list of changed paths, both errors side by side, and the log diff
 * with added and removed lines coloured and long stretches of unchanged lines collapsed.
 * Everything is text in JSX (escaped): logs and arguments may hold any markup.
 */
import { previewJson, type JsonDiff } from '../../diff/json-diff.js'
import type { LineChunk, LineDiff } from '../../diff/line-diff.js'
import type { LogEntry } from '../../task/context.js'
import type { ComparedField } from '../run-diff/compare.js'
import type { RunSide } from '../run-diff/sides.js'
import { formatCount, formatDuration } from './shared/format.js'
import { ErrorCard, StatusPill } from './ui.js'

/** Unchanged lines shown before and after each change; longer unchanged stretches collapse. */
const CONTEXT = 3
/** A collapsed stretch up to this long can be opened in place; a longer one only says its size. */
const EXPANDABLE = 500
/** Changed log lines drawn at most (the rest are counted). */
const SHOWN_CHANGES = 2_000
/** Characters of a value shown in a JSON change (the rest is cut, its length said). */
const VALUE_CHARS = 300

/** What each summary field is called on the page. */
const FIELD_LABELS: Readonly<Record<string, string>> = {
  task: 'Task',
  label: 'Label',
  status: 'Status',
  attempt: 'Attempt',
  tookMs: 'Took',
  totalMs: 'Created to finished',
  tags: 'Tags',
  createdBy: 'Created by',
  queue: 'Queue',
  worker: 'Worker',
  createdAt: 'Created',
  startedAt: 'Started',
  finishedAt: 'Finished',
  logLines: 'Log lines',
}

const STATUSES = new Set(['pending', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'])

/** A summary value as shown: durations readable, statuses as pills, times in UTC, none as a dash. */
function FieldValue({ name, value }: { name: string; value: string | null }) {
  if (value === null) return <span class="faint">—</span>
  if (name === 'tookMs' || name === 'totalMs') return <span title={`${value} ms`}>{formatDuration(Number(value))}</span>
  if (name === 'status') return STATUSES.has(value) ? <StatusPill status={value as 'failed'} /> : <span class="badge">{value}</span>
  if (name.endsWith('At')) return <span class="nowrap">{value.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}</span>
  if (name === 'worker') return <span class="mono">{value}</span>
  return <span>{value}</span>
}

/**
 * Both sides' summary fields, a row each; a differing row is marked (a sign and a colour, not
 * colour alone), but for times, which always differ between two runs.
 */
export function SummaryTable({ fields }: { fields: readonly ComparedField[] }) {
  return (
    <div class="table-wrap">
      <table class="diff-summary" id="diff-summary">
        <thead>
          <tr>
            <th scope="col">
              <span class="visually-hidden">Field</span>
            </th>
            <th scope="col">A</th>
            <th scope="col">B</th>
          </tr>
        </thead>
        <tbody>
          {fields.map((field) => (
            <tr class={field.same || !field.compared ? undefined : 'differs'} data-field={field.name}>
              <th scope="row">
                {FIELD_LABELS[field.name] ?? field.name}
                {field.same || !field.compared ? null : (
                  <span class="diff-mark" title="differs" aria-label="differs">
                    ≠
                  </span>
                )}
              </th>
              <td data-side="A">
                <FieldValue name={field.name} value={field.a} />
              </td>
              <td data-side="B">
                <FieldValue name={field.name} value={field.b} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

/** A JSON diff as its changed paths: what was added, removed, or changed from what to what. */
export function JsonChanges({ diff, id, same }: { diff: JsonDiff; id: string; same: string }) {
  if (diff.changes.length === 0) return <p class="empty">{same}</p>
  return (
    <div>
      <ul class="json-changes" id={id}>
        {diff.changes.map((change) => (
          <li class={`change change-${change.kind}`} data-path={change.path}>
            <span class="path mono">{change.path === '' ? '(the whole value)' : change.path}</span> <span class="badge">{change.kind}</span>
            <div class="values mono">
              {'before' in change ? <del class="before">{previewJson(change.before, VALUE_CHARS)}</del> : null}
              {'before' in change && 'after' in change ? <span class="arrow"> → </span> : null}
              {'after' in change ? <ins class="after">{previewJson(change.after, VALUE_CHARS)}</ins> : null}
            </div>
          </li>
        ))}
      </ul>
      {diff.omitted === 0 ? null : <p class="faint">…and {formatCount(diff.omitted)} more changes not listed.</p>}
    </div>
  )
}

/** Both sides' errors, side by side (stacked when narrow), with their stacks. */
export function ErrorPair({ a, b, same }: { a: RunSide; b: RunSide; same: boolean }) {
  if (a.error === null && b.error === null) return <p class="empty">Neither has an error.</p>
  return (
    <div>
      {same ? <p class="faint">The same error on both sides.</p> : null}
      <div class="grid grid-2 diff-columns">
        {[a, b].map((side, i) => (
          <div data-side={i === 0 ? 'a' : 'b'}>
            <h3>{i === 0 ? 'A' : 'B'}</h3>
            {side.error === null ? <p class="empty">No error.</p> : <ErrorCard error={side.error} />}
          </div>
        ))}
      </div>
    </div>
  )
}

/** One line of the log diff: its sign, level and message; `title` says where it is on each side. */
function DiffLine({ entry, kind, where }: { entry: LogEntry; kind: LineChunk['kind']; where: string }) {
  const sign = kind === 'added' ? '+' : kind === 'removed' ? '−' : ' '
  return (
    <div class={`line diff-${kind}`} data-level={entry.level} title={where}>
      <span class="sign" aria-hidden="true">
        {sign}
      </span>
      <span class={`lv lv-${entry.level}`}>{entry.level}</span>
      <span class="msg">
        <span class="visually-hidden">{kind === 'same' ? '' : `${kind}: `}</span>
        {entry.message}
      </span>
    </div>
  )
}

/** Unchanged lines `from`–`to` of side a (with b's positions at `b`), as lines. */
function SameLines({ a, from, to, b }: { a: readonly LogEntry[]; from: number; to: number; b: number }) {
  const lines = []
  for (let i = from; i < to; i++) lines.push(<DiffLine entry={a[i]!} kind="same" where={`line ${i + 1} of A, ${b + i - from + 1} of B`} />)
  return <>{lines}</>
}

/**
 * The log diff: changed lines with a few unchanged ones around them; longer unchanged stretches
 * collapse to "… 120 unchanged lines" (opened in place when not huge). At most
 * {@link SHOWN_CHANGES} changed lines are drawn, so two very different logs still make a page of
 * bounded size; the rest are counted.
 */
export function LogDiff({ diff, a, b }: { diff: LineDiff; a: RunSide; b: RunSide }) {
  if (diff.chunks.length === 0) return <p class="empty">Neither has log lines.</p>
  if (diff.chunks.every((c) => c.kind === 'same')) {
    return (
      <div class="terminal terminal-done log-diff" id="log-diff">
        <div class="diff-skip">No differences in {formatCount(diff.unchanged)} compared lines.</div>
      </div>
    )
  }
  const parts = []
  let shown = 0
  for (const [index, chunk] of diff.chunks.entries()) {
    if (chunk.kind === 'same') {
      parts.push(<SameChunk chunk={chunk} first={index === 0} last={index === diff.chunks.length - 1} a={a.logs} />)
      continue
    }
    const count = Math.min(chunk.count, SHOWN_CHANGES - shown)
    const side = chunk.kind === 'removed' ? a : b
    const start = chunk.kind === 'removed' ? chunk.a : chunk.b
    for (let i = 0; i < count; i++) parts.push(<DiffLine entry={side.logs[start + i]!} kind={chunk.kind} where={`line ${start + i + 1} of ${chunk.kind === 'removed' ? 'A' : 'B'}`} />)
    shown += count
    if (shown >= SHOWN_CHANGES) {
      const rest = diff.added + diff.removed - shown
      if (rest > 0) parts.push(<div class="diff-skip" id="log-diff-more">… {formatCount(rest)} more changed lines not shown here (the API's answer, GET /api/runs/diff, has them all)</div>)
      break
    }
  }
  return (
    <div class="terminal terminal-done log-diff" id="log-diff" tabindex={0} aria-label="log differences">
      {parts}
    </div>
  )
}

/** An unchanged stretch: shown whole when short, else its ends (next to changes) and a collapsed middle. */
function SameChunk({ chunk, first, last, a }: { chunk: LineChunk; first: boolean; last: boolean; a: readonly LogEntry[] }) {
  const head = first ? 0 : CONTEXT
  const tail = last ? 0 : CONTEXT
  if (chunk.count <= head + tail + 1) return <SameLines a={a} from={chunk.a} to={chunk.a + chunk.count} b={chunk.b} />
  const hiddenFrom = chunk.a + head
  const hiddenTo = chunk.a + chunk.count - tail
  const hidden = hiddenTo - hiddenFrom
  const label = `… ${formatCount(hidden)} unchanged ${hidden === 1 ? 'line' : 'lines'}`
  return (
    <>
      <SameLines a={a} from={chunk.a} to={hiddenFrom} b={chunk.b} />
      {hidden <= EXPANDABLE ? (
        <details class="diff-skip">
          <summary>{label}</summary>
          <SameLines a={a} from={hiddenFrom} to={hiddenTo} b={chunk.b + head} />
        </details>
      ) : (
        <div class="diff-skip">{label}</div>
      )}
      <SameLines a={a} from={hiddenTo} to={chunk.a + chunk.count} b={chunk.b + chunk.count - tail} />
    </>
  )
}

/** What the log diff could not do in its bound: lines past the compared ones, a middle not lined up. */
export function LogDiffLimits({ diff, a, b }: { diff: LineDiff; a: RunSide; b: RunSide }) {
  // No total: the reader stopped once it had more lines than are compared (or scanned its most).
  const count = (side: RunSide): string => (side.logTotal === null ? `at least ${formatCount(side.logs.length)}` : formatCount(side.logTotal))
  return (
    <>
      {diff.truncated ? (
        <div class="notice notice-warn" id="log-diff-truncated" role="status">
          Logs too long to diff fully: showing the first {formatCount(Math.max(diff.compared.a, diff.compared.b))} lines of each (A has {count(a)} lines, B {count(b)}).
        </div>
      ) : null}
      {diff.approximate ? (
        <div class="notice notice-warn" id="log-diff-approximate" role="status">
          Too many differences to line up within the diff's work bound: the differing middle is shown as removed, then added, so some lines common to both may show on both sides.
        </div>
      ) : null}
    </>
  )
}
