/**
 * The header menu of the caller's runs (`#my-runs`): active and recent, and the count of active
 * ones, kept live by the stream (a run of mine created, started or finished). Only while the
 * stream is down does a slow poll stand in for it. Each run shows when it started (active) or
 * ended (recent), ticking; an active run is not repeated under Recent.
 */
import type { Run } from '../../../store/types.js'
import type { Jsonified } from '../../jsonified.js'
import { relative } from '../shared/format.js'
import { $, el, fetchJson } from './dom.js'
import { statusPill } from './render.js'
import type { LiveStream } from './stream.js'

/** What `/api/me/runs` answers. */
interface MyRuns {
  readonly user: string
  readonly active: Jsonified<Run>[]
  readonly activeTotal: number
  readonly recent: Jsonified<Run>[]
}

/** Events that change a run already in the menu. */
const CHANGES = new Set(['started', 'waiting', 'resumed', 'retrying', 'retried', 'deleted', 'succeeded', 'failed', 'cancelled'])
/** Reads the menu again this long after an event, so a burst costs one read. */
const SOON_MS = 250
/** The poll while the stream is down. */
const POLL_MS = 60_000

export function followMyRuns(stream: LiveStream, admin: string): void {
  const menu = $<HTMLDetailsElement>('#my-runs')
  const panel = menu === null ? null : $('.menu-panel', menu)
  if (menu === null || panel === null) return
  const fill = (list: HTMLElement | null, runs: readonly Jsonified<Run>[]): void => {
    if (list === null) return
    list.replaceChildren()
    if (runs.length === 0) list.append(el('li', 'faint', 'none'))
    for (const run of runs) {
      const link = el('a')
      link.href = `${admin}/runs/${run.id}`
      link.append(statusPill(run.status), el('span', '', `${run.task} · ${run.label}`), timeOf(run))
      const item = el('li')
      item.append(link)
      list.append(item)
    }
  }
  /** My runs' ids in the menu: changes to them (not only new runs) refresh it. */
  let mine = new Set<string>()
  const load = async (): Promise<void> => {
    try {
      const data = await fetchJson<MyRuns>(panel.dataset.src ?? '')
      if (data === undefined) return
      fill($('[data-list="active"]', panel), data.active)
      const active = new Set(data.active.map((run) => run.id))
      fill($('[data-list="recent"]', panel), data.recent.filter((run) => !active.has(run.id)))
      const badge = $('#my-active-count')
      if (badge !== null) {
        badge.textContent = String(data.activeTotal)
        badge.dataset.count = String(data.activeTotal)
      }
      mine = new Set([...data.active, ...data.recent].map((run) => run.id))
    } catch {
      // The menu is a convenience; the runs page has the same information.
    }
  }
  const user = menu.dataset.user
  let soonTimer: ReturnType<typeof setTimeout> | undefined
  const soon = (): void => {
    clearTimeout(soonTimer)
    soonTimer = setTimeout(() => void load(), SOON_MS)
  }
  stream.add('mine', {
    filter: {},
    onGap: soon,
    onEvent(event) {
      if (event.type === 'created' ? event.run.createdBy === user : CHANGES.has(event.type) && mine.has(event.runId)) soon()
    },
  })
  void load()
  setInterval(() => {
    if (!stream.up) void load()
  }, POLL_MS)
  menu.addEventListener('toggle', () => {
    if (menu.open) void load()
  })
}

/** When a run started (active) or ended (recent), else when it was created: relative, ticking, absolute in the tooltip. */
function timeOf(run: Jsonified<Run>): HTMLTimeElement {
  const iso = run.finishedAt ?? run.startedAt ?? run.createdAt
  const time = el('time', '', relative(new Date(iso)))
  time.dateTime = iso
  time.dataset.relative = ''
  time.title = `${run.finishedAt !== null ? 'ended' : run.startedAt !== null ? 'started' : 'created'} ${iso.replace('T', ' ').replace('Z', ' UTC')}`
  return time
}
