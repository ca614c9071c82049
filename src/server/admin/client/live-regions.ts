/**
 * Parts of a page that refresh in place (`data-live-region`: the overview's counts, chart,
 * queues, workers and failures; the schedules and workers tables): the page is fetched again
 * and each part swapped for its new self (not while the user works in it: a focused field, an open
 * form). The markup is the server's own page, escaped by
 * construction, the same as a reload would show.
 */
import { $, $$ } from './dom.js'
import { REFRESH_REGIONS } from './flow-forms.js'
import type { LiveStream } from './stream.js'
import { localTitles, refreshTimes } from './times.js'

/** Events after which the regions are read again (runs created, started or finished). */
const REFRESH_ON = new Set(['created', 'started', 'succeeded', 'failed', 'cancelled', 'deleted', 'retried'])
/** Refresh at most about once in this time after events. */
const SOON_MS = 700
/** Refresh every this often anyway (a region's `data-live-every` may say otherwise), for what has no event: heartbeats, due times. */
const EVERY_MS = 10_000

export function followLiveRegions(stream: LiveStream): void {
  const regions = $$('[data-live-region]')
  if (regions.length === 0) return
  const every = Number(regions[0]!.dataset.liveEvery) || EVERY_MS
  let timer: ReturnType<typeof setTimeout> | undefined
  const refreshSoon = (): void => {
    if (timer !== undefined) return
    timer = setTimeout(() => {
      timer = undefined
      void refreshRegions()
    }, SOON_MS)
  }
  stream.add('regions', {
    filter: {},
    onGap: refreshSoon,
    onEvent(event) {
      if (REFRESH_ON.has(event.type)) refreshSoon()
    },
  })
  setInterval(() => void refreshRegions(), every)
  // After a change made on the page (the Queues page's forms): at once.
  document.addEventListener(REFRESH_REGIONS, () => void refreshRegions())
}

async function refreshRegions(): Promise<void> {
  if (document.visibilityState !== 'visible') return
  try {
    const response = await fetch(location.href, { headers: { accept: 'text/html' } })
    if (!response.ok) throw new Error(String(response.status))
    const fresh = new DOMParser().parseFromString(await response.text(), 'text/html')
    for (const region of $$('[data-live-region]')) {
      // Not under the user's hands: a focused switch or field stays as it is until next time.
      if (region.contains(document.activeElement) && document.activeElement !== document.body) continue
      // Nor a form opened to be filled in (`data-hold-live`), with what was typed and its errors.
      if ($('details[open][data-hold-live]', region) !== null) continue
      const next = $(`[data-live-region="${region.dataset.liveRegion}"]`, fresh)
      if (next !== null) region.replaceWith(document.importNode(next, true))
      else region.classList.remove('stale')
    }
    refreshTimes()
    localTitles()
  } catch {
    for (const region of $$('[data-live-region]')) region.classList.add('stale')
  }
}
