import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { sqliteStore } from '../../src/store/sqlite/store.js'
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.js'
import { describeStoreConformance, newRun } from '../store-conformance.js'

const dir = mkdtempSync(join(tmpdir(), 'taskengine-sqlite-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0

describeStoreConformance('sqlite (memory)', async () => sqliteStore(':memory:'))
describeStoreConformance('sqlite (file)', async () => sqliteStore(join(dir, `conformance-${++n}.db`)))

describe('sqlite store specifics', () => {
  it('uses WAL on files, applies migrations once, and reopens existing files', async () => {
    const path = join(dir, 'reopen.db')
    const first = sqliteStore(path)
    expect(first.database.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(first.database.pragma('synchronous', { simple: true })).toBe(1)
    const row = newRun()
    await first.insertRuns([row])
    await first.close()
    const second = sqliteStore(path, { synchronous: 'full' })
    expect(second.database.pragma('synchronous', { simple: true })).toBe(2)
    expect((await second.getRun(row.id))?.id).toBe(row.id)
    expect(second.database.prepare('SELECT count(*) AS n FROM schema_migrations').get()).toEqual({ n: SQLITE_MIGRATIONS.length })
    await second.close()
  })

  it('keeps claims atomic between two connections to one file', async () => {
    const path = join(dir, 'shared.db')
    const a = sqliteStore(path)
    const b = sqliteStore(path)
    await a.insertRuns(Array.from({ length: 200 }, () => newRun()))
    const request = (workerId: string) => ({ workerId, limit: 7, now: Date.UTC(2026, 10, 23, 12), leaseUntil: Date.UTC(2026, 10, 23, 13), tasks: ['work'], queues: undefined, taskCaps: new Map(), queueCaps: new Map() })
    const seen: string[] = []
    for (let i = 0; i < 40; i++) {
      const [x, y] = await Promise.all([a.claimRuns(request('a')), b.claimRuns(request('b'))])
      seen.push(...x.map((c) => c.id), ...y.map((c) => c.id))
    }
    expect(seen).toHaveLength(200)
    expect(new Set(seen).size).toBe(200)
    await a.close()
    await b.close()
  })
})
