/**
 * A bulk job's page: while the job runs, follows it on the page's live stream (a `bulk` message
 * per saved batch and one when it ends, whichever server process works it) and updates the
 * counts, the bar and the state; when it ends, the stop button goes. While the stream is down
 * (or refused the subscription), the page's own `?format=json` is read every half second
 * instead.
 */
import type { BulkJob } from '../../../store/types.js'
import type { Jsonified } from '../../jsonified.js'
import { bulkStateClass } from '../shared/bulk-state.js'
import { formatCount } from '../shared/format.js'
import { $, fetchJson } from './dom.js'
import type { LiveStream } from './stream.js'

/** The poll while the stream is down. */
const POLL_MS = 500
/** The stream subscription's id. */
const SUB = 'bulk-job'

export function followBulkJob(stream: LiveStream): void {
  const panel = $('#bulk-job')
  const jobId = panel?.dataset.job
  if (panel === null || jobId === undefined || panel.dataset.state !== 'running') return
  const src = panel.dataset.src ?? ''
  let ended = false
  /** Whether the stream follows the job now (then the poll rests). */
  let followed = false
  const update = (job: Jsonified<BulkJob>): void => {
    if (ended) return
    show(panel, job)
    if (job.state !== 'running') {
      ended = true
      stream.remove(SUB)
    }
  }
  stream.add(SUB, {
    filter: {},
    bulkId: jobId,
    onEvent: () => undefined,
    onBulk(job) {
      followed = true
      update(job)
    },
    onError() {
      followed = false
    },
  })
  const tick = async (): Promise<void> => {
    if (ended) return
    if (!followed || !stream.up) {
      try {
        const job = await fetchJson<Jsonified<BulkJob>>(src)
        if (job !== undefined) update(job)
      } catch {
        // Offline for a moment: try again at the next tick.
      }
    }
    if (!ended) setTimeout(() => void tick(), POLL_MS)
  }
  setTimeout(() => void tick(), POLL_MS)
}

function show(panel: HTMLElement, job: Jsonified<BulkJob>): void {
  panel.dataset.state = job.state
  const set = (part: string, text: string): void => {
    const node = $(`[data-part="${part}"]`, panel)
    if (node !== null) node.textContent = text
  }
  set('done', formatCount(job.done))
  set('skipped', formatCount(job.skipped))
  set('total', formatCount(job.total))
  set('state', job.state)
  set('error', job.error === null ? '' : ` — failed: ${job.error}`)
  $('[data-part="state"]', panel)?.setAttribute('class', bulkStateClass(job.state))
  const bar = $<HTMLProgressElement>('#bulk-progress', panel)
  if (bar !== null) {
    bar.max = Math.max(1, job.total)
    bar.value = Math.min(job.done + job.skipped, bar.max)
    bar.className = `bar-${job.state === 'running' ? 'running' : 'done'}`
  }
  if (job.state !== 'running') $('#bulk-cancel', panel)?.remove()
}
