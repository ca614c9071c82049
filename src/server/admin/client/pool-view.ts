/**
 * Keeps the pool view (`#pool-view`: the Gantt timeline and the tree) live: when a run of the
 * tree is created, starts, waits, resumes, retries or ends, the fragment at its `data-src` is
 * fetched again (at most once per {@link MIN_GAP_MS}) and swapped in; while the tree is active it
 * is also refreshed every {@link EVERY_MS}, so bars of running runs grow and what no event tells
 * here (runs in other processes without a relay) shows up. The markup is the server's own,
 * escaped by construction, the same as a reload would show.
 */
import { $ } from './dom.js'
import type { LiveStream } from './stream.js'
import { localTitles, refreshTimes } from './times.js'

/** Events that move a bar or add a row. */
const REFRESH_ON = new Set(['created', 'started', 'waiting', 'resumed', 'retrying', 'retried', 'succeeded', 'failed', 'cancelled', 'deleted'])
/** At most one fetch in this time. */
const MIN_GAP_MS = 500
/** While the tree is active, refresh this often anyway. */
const EVERY_MS = 3_000

export function followPoolView(stream: LiveStream): void {
  if ($('#pool-view') === null) return
  let timer: ReturnType<typeof setTimeout> | undefined
  let busy = false
  let again = false
  let last = 0
  const pools = (): Set<string> => new Set(($('#pool-gantt svg')?.dataset.pools ?? '').split(' ').filter((id) => id !== ''))
  const refresh = async (): Promise<void> => {
    const view = $('#pool-view')
    const src = view?.dataset.src
    if (view === null || src === undefined) return
    if (busy) {
      again = true
      return
    }
    busy = true
    last = Date.now()
    try {
      const response = await fetch(src, { headers: { accept: 'text/html' } })
      if (!response.ok) throw new Error(String(response.status))
      const fresh = new DOMParser().parseFromString(await response.text(), 'text/html')
      const next = $('#pool-view', fresh)
      if (next !== null) $('#pool-view')?.replaceWith(document.importNode(next, true))
      $('#pool-view')?.classList.remove('stale')
      refreshTimes()
      localTitles()
    } catch {
      $('#pool-view')?.classList.add('stale')
    } finally {
      busy = false
      if (again) {
        again = false
        soon()
      }
    }
  }
  const soon = (): void => {
    if (timer !== undefined) return
    timer = setTimeout(
      () => {
        timer = undefined
        void refresh()
      },
      Math.max(0, last + MIN_GAP_MS - Date.now()),
    )
  }
  stream.add('pool-view', {
    filter: {},
    onGap: soon,
    onEvent(event) {
      if (!REFRESH_ON.has(event.type)) return
      const poolId = event.poolId ?? null
      // A run created in a pool not drawn yet may open a new level of the tree.
      if (poolId !== null && (pools().has(poolId) || event.type === 'created')) soon()
    },
  })
  setInterval(() => {
    if (document.visibilityState === 'visible' && $('#pool-gantt svg')?.dataset.active === 'true') soon()
  }, EVERY_MS)
}
