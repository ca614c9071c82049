/**
 * Small building blocks of the admin pages. Everything user-controlled is rendered as text:
 * hono/jsx escapes by construction, and nothing here bypasses it.
 */
import type { Child } from 'hono/jsx'
import type { LogEntry, Progress, RunError } from '../../task/context.js'
import type { RunState } from '../../store/types.js'

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

/** "3 min ago" / "in 2 h": short relative time. */
export function relative(date: Date, now: number): string {
  const seconds = Math.round((date.getTime() - now) / 1000)
  const abs = Math.abs(seconds)
  const [n, unit] = abs < 60 ? [abs, 's'] : abs < 3600 ? [Math.round(abs / 60), 'min'] : abs < 86_400 ? [Math.round(abs / 3600), 'h'] : [Math.round(abs / 86_400), 'd']
  if (abs < 2) return 'just now'
  return seconds < 0 ? `${n} ${unit} ago` : `in ${n} ${unit}`
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

/** `850 ms`, `2.4 s`, `3 min 5 s`, `2 h 10 min`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`
}

export function Duration({ from, to }: { from: Date | null; to: Date | null }) {
  if (from === null || to === null) return <span class="faint">—</span>
  return <span class="nowrap">{formatDuration(to.getTime() - from.getTime())}</span>
}

/** `1 item`, `2 items`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

/** A progress bar with its caption; hidden until something was reported (the script shows it then). */
export function ProgressBar({ progress, id }: { progress: Progress | null | undefined; id?: string }) {
  const percent = progress?.percent
  return (
    <div class="progress" id={id} data-progress="" hidden={progress === null || progress === undefined}>
      <progress max="100" value={percent === undefined ? undefined : String(Math.round(percent))} aria-label="progress">
        {percent === undefined ? '' : `${Math.round(percent)}%`}
      </progress>
      <div class="caption">
        <span data-part="percent">{percent === undefined ? '' : `${Math.floor(percent)}%`}</span>
        <span data-part="steps">{progress?.step !== undefined && progress.steps !== undefined ? `${progress.step}/${progress.steps}` : ''}</span>
        <span data-part="message">{progress?.message ?? ''}</span>
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

export function LogLine({ entry }: { entry: LogEntry }) {
  return (
    <div class="line" data-seq={String(entry.seq)}>
      <span class="t" title={entry.time.toISOString()}>
        {entry.time.toISOString().slice(11, 19)}
      </span>
      <span class={`lv lv-${entry.level}`}>{entry.level}</span>
      <span class="msg">{entry.message}</span>
    </div>
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
  const text = JSON.stringify(value ?? null, null, 2) ?? 'null'
  return (
    <div class="json">
      <CopyBar id={id} />
      <pre hidden id={id}>
        {text}
      </pre>
      <JsonNode value={JSON.parse(text) as unknown} depth={0} />
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

function JsonNode({ value, depth, name }: { value: unknown; depth: number; name?: string }): Child {
  const key = name === undefined ? null : <span class="k">{JSON.stringify(name)}: </span>
  if (value === null) return <div class="row">{key}<span class="z">null</span></div>
  if (typeof value === 'string') return <div class="row">{key}<span class="s">{JSON.stringify(value)}</span></div>
  if (typeof value === 'number') return <div class="row">{key}<span class="n">{String(value)}</span></div>
  if (typeof value === 'boolean') return <div class="row">{key}<span class="b">{String(value)}</span></div>
  const entries: [string | undefined, unknown][] = Array.isArray(value) ? value.map((v) => [undefined, v]) : Object.entries(value as Record<string, unknown>)
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}']
  if (entries.length === 0) return <div class="row">{key}<span class="z">{open + close}</span></div>
  return (
    <details open={depth < 2}>
      <summary>
        {key}
        {open} <span class="faint">{plural(entries.length, Array.isArray(value) ? 'item' : 'key')}</span>
      </summary>
      {entries.map(([k, v]) => (
        <JsonNode value={v} depth={depth + 1} {...(k === undefined ? {} : { name: k })} />
      ))}
      <div class="row">{close}</div>
    </details>
  )
}

export function Pagination({ page, pageSize, total, href }: { page: number; pageSize: number; total: number; href: (page: number) => string }) {
  const pages = Math.max(1, Math.ceil(total / pageSize))
  const from = total === 0 ? 0 : (page - 1) * pageSize + 1
  const to = Math.min(total, page * pageSize)
  return (
    <nav class="pagination" aria-label="pages">
      <span>
        {from}–{to} of {total}
      </span>
      <span class="actions">
        {page > 1 ? (
          <a class="button small" href={href(page - 1)} rel="prev" data-key="[">
            ← Newer
          </a>
        ) : null}
        <span>
          page {page} of {pages}
        </span>
        {page < pages ? (
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
