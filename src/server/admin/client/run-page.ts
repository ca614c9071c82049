/**
 * The run page (`#run-page`): a live log tail with follow, progress and status from the stream,
 * and, for a run executed by a worker in another process, from the store through the stream's
 * `logs` and `run` messages. When the run ends (or its status changes otherwise) the page
 * reloads itself for the final state the server renders.
 */
import type { Run } from '../../../store/types.js'
import type { Jsonified } from '../../jsonified.js'
import { relative } from '../shared/format.js'
import { $, el, fetchJson } from './dom.js'
import { appendLog, setProgress, statusPill } from './render.js'
import { startRunClock } from './run-clock.js'
import { showPartialResult } from './run-result.js'
import type { LiveStream } from './stream.js'

/** Waits this long before reloading a run that changed, so its final writes are in. */
const RELOAD_AFTER_MS = 400

export function followRunPage(stream: LiveStream, base: string): void {
  const page = $('#run-page')
  if (page === null) return
  const runId = page.dataset.runId ?? ''
  const terminal = $('#run-log')
  const statusCell = $('[data-cell="status"]', page)
  const tick = startRunClock()
  let reloading = false
  const finish = (status: string): void => {
    if (reloading || status === page.dataset.status) return
    reloading = true
    setTimeout(() => location.reload(), RELOAD_AFTER_MS)
  }
  stream.add('run', {
    filter: { runId },
    logsAfter: () => Number(terminal?.dataset.lastSeq ?? '0'),
    onLogs(logs) {
      if (terminal !== null) for (const entry of logs) appendLog(terminal, entry)
    },
    onGap() {
      // Events were missed (the server restarted): the stored run says where it is now.
      void (async () => {
        try {
          const run = await fetchJson<Jsonified<Run>>(`${base}/api/runs/${encodeURIComponent(runId)}`)
          if (run !== undefined && run.status !== page.dataset.status) finish(run.status)
        } catch {
          // Offline again: the next reconnect tries again.
        }
      })()
    },
    onRun(run) {
      // A snapshot from the store (the run executes in another process).
      setProgress($('#run-progress'), run.progress)
      tick(run.progress)
      showPartialResult(run.data)
      statusCell?.replaceChildren(statusPill(run.status))
      if (run.status === 'succeeded' || run.status === 'failed' || run.status === 'cancelled' || run.status !== page.dataset.status) finish(run.status)
    },
    onEvent(event) {
      if (event.type === 'waiting' || event.type === 'resumed') {
        const item = el('li', event.type === 'waiting' ? 'wait' : 'run')
        const when = el('div', 'when')
        const time = el('time', '', relative(new Date(event.time)))
        time.dateTime = event.time
        time.dataset.relative = ''
        when.append(time, ` · ${event.time.replace('T', ' ').slice(0, 23)} UTC`)
        item.append(el('div', '', event.type === 'waiting' ? 'waiting on its pool' : 'resumed'), when)
        $('#run-timeline')?.append(item)
      }
      if (event.type === 'log') {
        if (terminal !== null) appendLog(terminal, event.entry)
      } else if (event.type === 'progress') {
        setProgress($('#run-progress'), event.progress)
        tick(event.progress)
      } else if (event.type === 'result') showPartialResult(event.data)
      else if (event.type === 'started' || event.type === 'resumed') statusCell?.replaceChildren(statusPill('running'))
      else if (event.type === 'waiting') statusCell?.replaceChildren(statusPill('waiting'))
      else if (event.type === 'succeeded' || event.type === 'failed' || event.type === 'cancelled') {
        statusCell?.replaceChildren(statusPill(event.type))
        finish(event.type)
      } else if (event.type === 'retrying') {
        statusCell?.replaceChildren(statusPill('pending'))
        finish('pending')
      }
    },
  })
}
