/**
 * The runs list's "new runs" banner: counts runs that match the page's filter and arrived after
 * the page was rendered. An event only says that a run may be new; the server's count decides
 * (`data-src`: the page's filter from the page's time on, as JSON).
 */
import type { RunPage } from '../../../store/types.js'
import type { Jsonified } from '../../jsonified.js'
import { $, $$, fetchJson } from './dom.js'
import { STATUS_AFTER, type StreamEvent } from './stream.js'

/** Waits this long after an event before counting, so a burst of runs costs one count. */
const COUNT_AFTER_MS = 250

/** The filter as the page's URL has it (`data-filter`). */
export type PageFilter = Readonly<Partial<Record<'task' | 'status' | 'queue' | 'label' | 'tag' | 'createdBy' | 'pool', string>>>

export class NewRunsBanner {
  readonly filter: PageFilter
  readonly #banner: HTMLElement
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(banner: HTMLElement) {
    this.#banner = banner
    this.filter = JSON.parse(banner.dataset.filter ?? '{}') as PageFilter
  }

  /** The banner on this page, if it has one. */
  static find(): NewRunsBanner | undefined {
    const banner = $('#new-runs')
    return banner === null ? undefined : new NewRunsBanner(banner)
  }

  /** Counts again soon when the event may have added a run to the page's filter. */
  consider(event: StreamEvent): void {
    if (!this.#mayBeNew(event)) return
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => void this.count(), COUNT_AFTER_MS)
  }

  /** Asks the server how many runs match now and are not on the page. */
  async count(): Promise<void> {
    try {
      const found = await fetchJson<Jsonified<RunPage>>(this.#banner.dataset.src ?? '')
      if (found === undefined) return
      const shown = new Set($$('tr[data-run-id]').map((row) => row.dataset.runId))
      const fresh = Math.max(0, found.total - found.data.filter((run) => shown.has(run.id)).length)
      this.#banner.dataset.count = String(fresh)
      const text = $('[data-part="text"]', this.#banner)
      if (text !== null) text.textContent = fresh === 1 ? '1 new run matches this page.' : `${fresh} new runs match this page.`
    } catch {
      // The banner is a hint; the page's own reload shows the same.
    }
  }

  /** Whether an event may add a run to this page's filter. */
  #mayBeNew(event: StreamEvent): boolean {
    const f = this.filter
    if ((f.task !== undefined && event.task !== f.task) || (f.pool !== undefined && event.poolId !== f.pool)) return false
    if (event.type === 'created') {
      const run = event.run
      return (
        (f.status === undefined || run.status === f.status) &&
        (f.queue === undefined || run.queue === f.queue) &&
        (f.label === undefined || run.label === f.label) &&
        (f.tag === undefined || run.tags.includes(f.tag)) &&
        (f.createdBy === undefined || run.createdBy === f.createdBy)
      )
    }
    return f.status !== undefined && STATUS_AFTER[event.type] === f.status
  }
}
