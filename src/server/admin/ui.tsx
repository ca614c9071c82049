/**
 * Small building blocks of the admin pages. Everything user-controlled is rendered as text:
 * hono/jsx escapes by construction, and nothing here bypasses it.
 */
import type { Child } from 'hono/jsx'
import type { RunState } from '../../store/types.js'
import type { AnyTask } from '../../task/define.js'
import type { LogEntry, Progress, RunError } from '../../task/context.js'
import { clockTime, formatCount, formatDuration, jsonText, jsonTree, progressCaption, relative, type JsonTree } from './shared/format.js'

/** Icon names the UI draws; a task's `icon` picks one (unknown names get the default). */
const ICONS: Readonly<Record<string, Child>> = {
  cog: (
    <>
      <circle cx="12" cy="12" r="3" />
      <path d="M12 2v3M12 19v3M2 12h3M19 12h3M4.9 4.9l2.1 2.1M17 17l2.1 2.1M4.9 19.1L7 17M17 7l2.1-2.1" />
    </>
  ),
  database: (
    <>
      <ellipse cx="12" cy="5" rx="8" ry="3" />
      <path d="M4 5v14c0 1.7 3.6 3 8 3s8-1.3 8-3V5M4 12c0 1.7 3.6 3 8 3s8-1.3 8-3" />
    </>
  ),
  columns: (
    <>
      <rect x="3" y="4" width="7.5" height="16" rx="1.5" />
      <rect x="13.5" y="4" width="7.5" height="16" rx="1.5" />
    </>
  ),
  hand: <path d="M7 11V5.5a1.5 1.5 0 013 0V11m0-6.5a1.5 1.5 0 013 0V11m0-5a1.5 1.5 0 013 0V13m0-4a1.5 1.5 0 013 0v5a7 7 0 01-7 7h-1a6 6 0 01-5-3l-2.5-4a1.5 1.5 0 012.5-1.6L7 14" />,
  timer: (
    <>
      <circle cx="12" cy="13" r="8" />
      <path d="M12 9v4l2.5 2.5M9 2h6" />
    </>
  ),
  alert: (
    <>
      <path d="M12 3l10 18H2z" />
      <path d="M12 10v5M12 18h.01" />
    </>
  ),
  form: (
    <>
      <rect x="4" y="3" width="16" height="18" rx="2" />
      <path d="M8 8h8M8 12h8M8 16h5" />
    </>
  ),
  list: <path d="M8 6h12M8 12h12M8 18h12M4 6h.01M4 12h.01M4 18h.01" />,
  play: <path d="M7 4l13 8-13 8z" />,
  pause: <path d="M8 5v14M16 5v14" />,
  stop: <rect x="6" y="6" width="12" height="12" rx="1" />,
  refresh: <path d="M20 11a8 8 0 10-2.3 5.7M20 4v7h-7" />,
  trash: <path d="M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13" />,
  download: <path d="M12 3v12M7 10l5 5 5-5M4 20h16" />,
  copy: (
    <>
      <rect x="8" y="8" width="12" height="12" rx="2" />
      <path d="M16 8V4H4v12h4" />
    </>
  ),
  theme: (
    <>
      <circle cx="12" cy="12" r="8" />
      <path d="M12 4a8 8 0 000 16z" />
    </>
  ),
  user: (
    <>
      <circle cx="12" cy="8" r="4" />
      <path d="M4 21a8 8 0 0116 0" />
    </>
  ),
  bolt: <path d="M13 2L4 14h7l-1 8 9-12h-7z" />,
  mail: (
    <>
      <rect x="3" y="5" width="18" height="14" rx="2" />
      <path d="M3 7l9 6 9-6" />
    </>
  ),
  chart: <path d="M4 20V10M10 20V4M16 20v-7M22 20H2" />,
  server: (
    <>
      <rect x="3" y="4" width="18" height="7" rx="1.5" />
      <rect x="3" y="13" width="18" height="7" rx="1.5" />
      <path d="M7 7.5h.01M7 16.5h.01" />
    </>
  ),
}

export function Icon({ name, label }: { name: string; label?: string }) {
  return (
    <svg class="icon" viewBox="0 0 24 24" aria-hidden={label === undefined ? 'true' : undefined} role={label === undefined ? undefined : 'img'} aria-label={label}>
      {ICONS[name] ?? ICONS.cog}
    </svg>
  )
}

export function StatusPill({ status }: { status: RunState | 'succeeded' | 'failed' | 'cancelled' }) {
  return (
    <span class={`status status-${status}`} data-status={status}>
      {status}
    </span>
  )
}

/** A time: relative text, absolute in the tooltip and the `datetime` attribute (the client script keeps it fresh). */
export function Time({ date, now }: { date: Date | null | undefined; now: number }) {
  if (date === null || date === undefined) return <span class="faint">—</span>
  const iso = date.toISOString()
  return (
    <time datetime={iso} title={iso.replace('T', ' ').replace('Z', ' UTC')} data-relative="">
      {relative(date, now)}
    </time>
  )
}

export function Duration({ from, to }: { from: Date | null; to: Date | null }) {
  if (from === null || to === null) return <span class="faint">—</span>
  return <span class="nowrap">{formatDuration(to.getTime() - from.getTime())}</span>
}

/** A progress bar with its caption; hidden until something was reported (the script shows it then). */
export function ProgressBar({ progress, id }: { progress: Progress | null | undefined; id?: string }) {
  const percent = progress?.percent
  const caption = progressCaption(progress ?? {})
  return (
    <div class="progress" id={id} data-progress="" hidden={progress === null || progress === undefined}>
      <progress max="100" value={percent === undefined ? undefined : String(Math.round(percent))} aria-label="progress">
        {percent === undefined ? '' : `${Math.round(percent)}%`}
      </progress>
      <div class="caption">
        <span data-part="percent">{caption.percent}</span>
        <span data-part="steps">{caption.steps}</span>
        <span data-part="message">{caption.message}</span>
        {progress?.dest !== undefined && progress.dest !== '' && /^(\/|https?:\/\/)/.test(progress.dest) ? (
          <a href={progress.dest} rel="noopener noreferrer">
            open result
          </a>
        ) : null}
      </div>
    </div>
  )
}

export function ErrorCard({ error, title }: { error: RunError; title?: string }) {
  return (
    <div class="error-card" role="alert">
      <div class="split">
        <span class="message">{error.message}</span>
        <span class="badge badge-danger mono">{error.code}</span>
      </div>
      {title === undefined ? null : <div class="faint">{title}</div>}
      {error.stack === undefined ? null : (
        <details class="stack">
          <summary>Stack trace ({error.name})</summary>
          <pre class="stack">{error.stack}</pre>
        </details>
      )}
    </div>
  )
}

/**
 * A log line. With `attempt`, it carries the attempt that wrote it (the run page's filter and
 * split read it); `first` marks the first line of an attempt, labelled by the stylesheet.
 */
export function LogLine({ entry, attempt, first = false }: { entry: LogEntry; attempt?: number; first?: boolean }) {
  return (
    <div
      class={first ? 'line attempt-start' : 'line'}
      data-seq={String(entry.seq)}
      data-level={entry.level}
      data-attempt={attempt === undefined ? undefined : String(attempt)}
      data-attempt-label={first ? `attempt ${String(attempt)}` : undefined}
    >
      <span class="t" title={entry.time.toISOString()}>
        {clockTime(entry.time.toISOString())}
      </span>
      <span class={`lv lv-${entry.level}`}>{entry.level}</span>
      <span class="msg">{entry.message}</span>
    </div>
  )
}

/** A table cell with how long a finished run took; empty until it ends (live updates fill it in). */
export function TookCell({ run }: { run: { readonly startedAt: Date | null; readonly finishedAt: Date | null } }) {
  return (
    <td class="num" data-cell="took">
      {run.startedAt !== null && run.finishedAt !== null ? formatDuration(run.finishedAt.getTime() - run.startedAt.getTime()) : ''}
    </td>
  )
}

/** Log lines in a terminal; `finished` (no more lines will come) changes what an empty one says. */
export function LogTerminal({ logs, id, follow, finished }: { logs: readonly LogEntry[]; id: string; follow?: boolean; finished?: boolean }) {
  return (
    <div>
      <div class="terminal-bar">
        <span>
          <span data-log-count="">{logs.length}</span> {logs.length === 1 ? 'line' : 'lines'}
        </span>
        {follow === true ? (
          <label class="checkbox-label">
            <input type="checkbox" data-follow={id} checked /> follow
          </label>
        ) : null}
      </div>
      <div class={finished === true ? 'terminal terminal-done' : 'terminal'} id={id} data-last-seq={String(logs.at(-1)?.seq ?? 0)} tabindex={0} aria-label="log lines">
        {logs.map((entry) => (
          <LogLine entry={entry} />
        ))}
      </div>
    </div>
  )
}

/** The bar above a JSON view: a button that copies the raw text kept in `<pre id>`. */
function CopyBar({ id }: { id: string }) {
  return (
    <div class="split">
      <span />
      <button type="button" class="small" data-copy={id} title="Copy as JSON">
        <Icon name="copy" /> Copy
      </button>
    </div>
  )
}

/** JSON as a collapsible tree, with a button that copies the raw text. */
export function JsonView({ value, id }: { value: unknown; id: string }) {
  const text = jsonText(value)
  return (
    <div class="json">
      <CopyBar id={id} />
      <pre hidden id={id}>
        {text}
      </pre>
      <JsonNode node={jsonTree(JSON.parse(text))} />
    </div>
  )
}

/** An empty {@link JsonView} the client script fills (`data-json-tree` gets the tree, the `<pre>` the raw text). */
export function JsonShell({ id }: { id: string }) {
  return (
    <div class="json">
      <CopyBar id={id} />
      <pre hidden id={id} />
      <div data-json-tree={id} />
    </div>
  )
}

/** Draws a {@link JsonTree} (the browser draws the same tree with DOM nodes: `client/render.ts`). */
function JsonNode({ node }: { node: JsonTree }): Child {
  const key = node.key === undefined ? null : <span class="k">{node.key}</span>
  if (node.kind === 'row') return <div class="row">{key}<span class={node.class}>{node.text}</span></div>
  return (
    <details open={node.expanded}>
      <summary>
        {key}
        {node.open} <span class="faint">{node.size}</span>
      </summary>
      {node.children.map((child) => (
        <JsonNode node={child} />
      ))}
      <div class="row">{node.close}</div>
    </details>
  )
}

/**
 * Page links under a list. `capped`: `total` is a lower bound (the count stopped there), so there
 * is no last page to name and an older page follows whenever this one is full.
 */
export function Pagination({ page, pageSize, total, capped = false, href }: { page: number; pageSize: number; total: number; capped?: boolean; href: (page: number) => string }) {
  const pages = Math.max(1, Math.ceil(total / pageSize))
  const from = total === 0 ? 0 : (page - 1) * pageSize + 1
  const to = Math.min(total, page * pageSize)
  const of = `${formatCount(total)}${capped ? '+' : ''}`
  return (
    <nav class="pagination" aria-label="pages">
      <span>
        {formatCount(from)}–{formatCount(to)} of {of}
      </span>
      <span class="actions">
        {page > 1 ? (
          <a class="button small" href={href(page - 1)} rel="prev" data-key="[">
            ← Newer
          </a>
        ) : null}
        <span>
          page {formatCount(page)} of {capped ? 'many' : formatCount(pages)}
        </span>
        {page < pages || capped ? (
          <a class="button small" href={href(page + 1)} rel="next" data-key="]">
            Older →
          </a>
        ) : null}
      </span>
    </nav>
  )
}

/** A hidden CSRF field for forms that change state. */
export function Csrf({ token }: { token: string }) {
  return <input type="hidden" name="_csrf" value={token} />
}

/** A task's `dangerous` and `expensive` badges. */
export function TaskBadges({ task }: { task: AnyTask }) {
  return (
    <>
      {task.dangerous === undefined ? null : (
        <span class="badge badge-danger" title={task.dangerous}>
          dangerous
        </span>
      )}
      {task.expensive ? <span class="badge badge-expensive">expensive</span> : null}
    </>
  )
}
