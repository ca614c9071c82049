/**
 * Run rows anywhere on a page (`tr[data-run-id]`: the runs list, a task's recent runs, a
 * schedule's history, a pool's runs) keep their status and progress current from the stream,
 * and are read again after a gap. On the runs list the same subscription drives the "new runs"
 * banner.
 */
import type { Run } from '../../../store/types.js'
import type { Jsonified } from '../../jsonified.js'
import { formatDuration } from '../shared/format.js'
import { $, $$, el, fetchJson } from './dom.js'
import type { NewRunsBanner } from './new-runs.js'
import { statusPill } from './render.js'
import { STATUS_AFTER, type LiveStream, type StreamEvent } from './stream.js'

/** Follows the page's run rows, and feeds the banner when the page has one. */
export function followRunRows(stream: LiveStream, banner: NewRunsBanner | undefined): void {
  if ($$('tr[data-run-id]').length === 0 && banner === undefined) return
  const filter = banner?.filter ?? {}
  stream.add('rows', {
    // The page's task or pool filter holds for its rows too, so the server may filter.
    filter: filter.task !== undefined ? { task: filter.task } : filter.pool !== undefined ? { poolId: filter.pool } : {},
    onGap() {
      void reloadRows()
      if (banner !== undefined) void banner.count()
    },
    onEvent(event) {
      banner?.consider(event)
      for (const row of $$(`tr[data-run-id="${CSS.escape(event.runId)}"]`)) {
        const status = event.type === 'created' ? undefined : STATUS_AFTER[event.type]
        if (status !== undefined) $('[data-cell="status"]', row)?.replaceChildren(statusPill(status))
        if (event.type === 'started') row.dataset.started = event.time
        if (event.type === 'progress') setRowProgress(row, event.progress.percent)
        else if (status !== undefined) setRowProgress(row, currentPercent(row))
        if (event.type === 'succeeded' || event.type === 'failed' || event.type === 'cancelled') setTook(row, tookOf(row, event))
      }
    },
  })
}

/** How long a run that just finished took: the worker's measure, else its stored times, else since its start seen here. */
function tookOf(row: HTMLElement, event: Extract<StreamEvent, { type: 'succeeded' | 'failed' | 'cancelled' }>): number | undefined {
  if (typeof event.durationMs === 'number') return event.durationMs
  const run = event.run
  if (run !== undefined && run.startedAt !== null && run.finishedAt !== null) return new Date(run.finishedAt).getTime() - new Date(run.startedAt).getTime()
  const started = row.dataset.started
  return started === undefined || started === '' ? undefined : new Date(event.time).getTime() - new Date(started).getTime()
}

function setTook(row: HTMLElement, ms: number | undefined): void {
  const took = $('[data-cell="took"]', row)
  if (took === null) return
  if (ms === undefined) took.replaceChildren(el('span', 'faint', '—'))
  else took.textContent = formatDuration(ms)
}

/** The status the row shows now. */
function rowStatus(row: HTMLElement): string {
  return $('[data-cell="status"] [data-status]', row)?.dataset.status ?? ''
}

function currentPercent(row: HTMLElement): number | undefined {
  const bar = $<HTMLProgressElement>('[data-cell="progress"] progress', row)
  return bar === null ? undefined : bar.value
}

/** A row's bar: coloured by its status while the run may still move; none once it finished. */
function setRowProgress(row: HTMLElement, percent: number | undefined): void {
  const cell = $('[data-cell="progress"]', row)
  if (cell === null) return
  const status = rowStatus(row)
  if (typeof percent !== 'number' || status === 'succeeded' || status === 'failed' || status === 'cancelled') {
    if (cell.querySelector('progress') !== null) cell.replaceChildren(el('span', 'faint', '—'))
    return
  }
  const bar = el('progress', `bar-${status}`)
  bar.max = 100
  bar.value = Math.round(percent)
  cell.replaceChildren(bar)
}

/** A row as the server would render it now. */
function updateRow(row: HTMLElement, run: Jsonified<Run>): void {
  $('[data-cell="status"]', row)?.replaceChildren(statusPill(run.status))
  setRowProgress(row, run.progress?.percent)
  if (run.startedAt !== null) row.dataset.started = run.startedAt
  const attempt = $('[data-cell="attempt"]', row)
  if (attempt !== null) attempt.textContent = `${run.attempt}/${run.maxAttempts + run.attemptBase}`
  setTook(row, run.startedAt !== null && run.finishedAt !== null ? new Date(run.finishedAt).getTime() - new Date(run.startedAt).getTime() : undefined)
  const error = $('[data-cell="error"]', row)
  if (error !== null) {
    error.textContent = run.error?.message ?? ''
    error.title = run.error?.message ?? ''
  }
}

/** After a gap in the stream (the server restarted, or we fell behind): read the rows' state again. */
async function reloadRows(): Promise<void> {
  const url = new URL(location.href)
  url.searchParams.set('format', 'json')
  try {
    const data = await fetchJson<unknown>(url)
    if (data === undefined) return
    const runs = collectRuns(data)
    for (const row of $$('tr[data-run-id]')) {
      const run = runs.get(row.dataset.runId ?? '')
      if (run !== undefined) updateRow(row, run)
    }
  } catch {
    // Offline again: the next reconnect brings another gap and another try.
  }
}

/** Run objects anywhere in a page's JSON (runs lists, recent runs, pools), by id. */
function collectRuns(value: unknown, out = new Map<string, Jsonified<Run>>(), depth = 0): Map<string, Jsonified<Run>> {
  if (depth > 8 || value === null || typeof value !== 'object') return out
  if (isRun(value)) out.set(value.id, value)
  for (const child of Array.isArray(value) ? (value as unknown[]) : Object.values(value)) collectRuns(child, out, depth + 1)
  return out
}

function isRun(value: object): value is Jsonified<Run> {
  const v = value as Record<string, unknown>
  return !Array.isArray(value) && typeof v.id === 'string' && typeof v.status === 'string' && typeof v.task === 'string' && Array.isArray(v.attempts)
}
