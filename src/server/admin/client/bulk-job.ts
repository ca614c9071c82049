/**
 * A bulk job's page: while the job runs, reads its state again every half second (the page's
 * own `?format=json`, so a job worked through by another server process shows too) and updates
 * the counts, the bar and the state; when it ends, the stop button goes.
 */
import type { BulkJob } from '../../../store/types.js'
import type { Jsonified } from '../../jsonified.js'
import { $, fetchJson } from './dom.js'

const POLL_MS = 500

export function followBulkJob(): void {
  const panel = $('#bulk-job')
  if (panel === null || panel.dataset.state !== 'running') return
  const src = panel.dataset.src ?? ''
  const tick = async (): Promise<void> => {
    let job: Jsonified<BulkJob> | undefined
    try {
      job = await fetchJson<Jsonified<BulkJob>>(src)
    } catch {
      // Offline for a moment: try again at the next tick.
    }
    if (job !== undefined) show(panel, job)
    // Until it ends (a failed read tries again).
    if (job === undefined || job.state === 'running') setTimeout(() => void tick(), POLL_MS)
  }
  setTimeout(() => void tick(), POLL_MS)
}

function show(panel: HTMLElement, job: Jsonified<BulkJob>): void {
  panel.dataset.state = job.state
  const set = (part: string, text: string): void => {
    const node = $(`[data-part="${part}"]`, panel)
    if (node !== null) node.textContent = text
  }
  set('done', String(job.done))
  set('skipped', String(job.skipped))
  set('total', String(job.total))
  set('state', job.state)
  set('error', job.error === null ? '' : ` — failed: ${job.error}`)
  $('[data-part="state"]', panel)?.setAttribute('class', `status bulk-${job.state}`)
  const bar = $<HTMLProgressElement>('#bulk-progress', panel)
  if (bar !== null) {
    bar.max = Math.max(1, job.total)
    bar.value = Math.min(job.done + job.skipped, bar.max)
    bar.className = `bar-${job.state === 'running' ? 'running' : 'done'}`
  }
  if (job.state !== 'running') $('#bulk-cancel', panel)?.remove()
}
