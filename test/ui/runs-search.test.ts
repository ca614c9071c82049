/**
 * A text search in the runs list of a store bigger than one search slice (SEARCH_SCAN runs): the
 * page reads the newest slice only and says so, links on to the older runs until the oldest, and
 * back; pages within a slice stay in it; the bulk "all matching" offer does not pretend the
 * slice's count is every match. Over HTTP, as a browser without a script sees it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEngine, defineTask, type Engine, type RunPage } from '../../src/index.js'
import { serve, type RunningServer } from '../../src/server/index.js'
import { SEARCH_SCAN } from '../../src/server/admin/pages/runs.js'
import { sqliteStore } from '../../src/store/sqlite/store.js'
import { newRun } from '../../src/store/testing/fixtures.js'
import { Session, text } from '../helpers/admin-session.js'

const haystack = defineTask({ key: 'haystack', run: () => undefined })

describe('runs list: a search over more runs than one slice', () => {
  let engine: Engine
  let server: RunningServer
  /** Ids of the needles, oldest first: one among the oldest runs, three among the newest. */
  const needles: string[] = []

  beforeAll(async () => {
    const store = sqliteStore(':memory:')
    engine = createEngine({ store, tasks: [haystack] })
    const at = Date.now() - 86_400_000
    const total = SEARCH_SCAN + 1_000
    const rows = Array.from({ length: total }, (_, i) => {
      const needle = i === 10 || i >= total - 30
      const row = newRun({ task: 'haystack', createdAt: at + i, runAt: at + i + 3_600_000_000, args: JSON.stringify({ note: needle && (i === 10 || i % 10 === 0) ? `needle ${i}` : `hay ${i}` }) })
      if (needle && (i === 10 || i % 10 === 0)) needles.push(row.id)
      return row
    })
    for (let i = 0; i < rows.length; i += 20_000) await store.insertRuns(rows.slice(i, i + 20_000))
    server = await serve(engine, { port: 0, onError: () => undefined })
  }, 120_000)
  afterAll(async () => {
    await server?.close()
    await engine?.close({ graceMs: 0 })
  })

  it('reads the newest slice, links on to the older runs until the oldest, and back', async () => {
    const session = new Session(server.url)
    const first = await session.page('/admin/runs?search=needle')
    const newest = needles.slice(1).reverse()
    expect(text(first)).toContain(`3 matching in the newest ${SEARCH_SCAN.toLocaleString('en-US')} runs`)
    for (const id of newest) expect(first).toContain(id)
    expect(first).not.toContain(needles[0]!)
    expect(text(first)).toContain(`Searched the newest ${SEARCH_SCAN.toLocaleString('en-US')} runs.`)
    // Bulk actions over every match are still offered, without the slice's count as their number.
    expect(text(first)).toContain('or all matching, in every run:')
    const older = /href="([^"]*before=[^"]*)">Search older runs</.exec(first)?.[1]?.replaceAll('&amp;', '&')
    expect(older).toBeDefined()
    const second = await session.page(older!)
    expect(second).toContain(needles[0]!)
    for (const id of newest) expect(second).not.toContain(id)
    expect(text(second)).toContain('1 matching in the older runs, down to the oldest')
    expect(text(second)).toContain('Searched the older runs, down to the oldest.')
    expect(second).not.toContain('Search older runs')
    const back = /href="([^"]*)">Back to the newest</.exec(second)?.[1]?.replaceAll('&amp;', '&')
    expect(back).toBe('/admin/runs?search=needle')
  })

  it('keeps a slice\'s pages in it, answers the same as data, and leaves unsliced lists and other orders alone', async () => {
    const session = new Session(server.url)
    const paged = await session.page('/admin/runs?search=needle&pageSize=2')
    const next = /href="([^"]*page=2[^"]*)"/.exec(paged)?.[1]?.replaceAll('&amp;', '&')
    expect(next).toBeDefined()
    const json = (await (await session.get(next!.replace('?', '?format=json&'), { accept: 'application/json' })).json()) as RunPage
    expect(json.data.map((r) => r.id)).toEqual([needles[1]!])
    expect(json.scanBefore).toBeDefined()
    // A list without a search, and a search in another order, read every run as before.
    expect(text(await session.page('/admin/runs?task=haystack'))).toContain('10,000+ matching')
    const sorted = await session.page('/admin/runs?search=needle&sort=created')
    expect(text(sorted)).toContain('4 matching')
    expect(text(sorted)).not.toContain('Searched the newest')
  })
})
