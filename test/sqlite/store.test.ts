import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { afterAll, describe, expect, it } from 'vitest'
import { sqliteStore } from '../../src/store/sqlite/store.js'
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations/index.js'
import { describeStoreConformance, newRun } from '../../src/store/testing/index.js'
import { expectUpgradedRows, versionTwoRows } from '../upgrade-fixture.js'
import Database from 'better-sqlite3'

const dir = mkdtempSync(join(tmpdir(), 'taskengine-sqlite-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0

// SQLite has no signal bus, no leader election and no caller transactions: the suite checks it
// says so. Files are durable places (several stores may open one); memory is not. Its calls do
// their work before they return (no concurrentCalls), so the suite's claims cannot race: the
// claim's atomicity is shown below, by threads claiming from one file.
describeStoreConformance('sqlite (memory)', async () => sqliteStore(':memory:'), { signals: false, leader: false })
describeStoreConformance('sqlite (file)', async () => sqliteStore(join(dir, `conformance-${++n}.db`)), {
  signals: false,
  leader: false,
  durable: () => {
    const path = join(dir, `shared-${++n}.db`)
    return async () => sqliteStore(path)
  },
})

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

  it('upgrades a file of version 2 with runs in it: migrations 3 and 4 keep every run working', async () => {
    const path = join(dir, 'upgrade.db')
    const old = new Database(path)
    old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)')
    for (const migration of SQLITE_MIGRATIONS.filter((m) => m.version <= 2)) {
      old.exec(migration.sql)
      old.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(migration.version, migration.name, 0)
    }
    old.exec(versionTwoRows('runs'))
    old.close()
    const store = sqliteStore(path)
    expect((store.database.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number }).v).toBe(SQLITE_MIGRATIONS.at(-1)!.version)
    await expectUpgradedRows(store)
    await store.close()
  })

  it('gives each run to one claimer only when threads with connections of their own claim from one file at once', { timeout: 30_000 }, async () => {
    const path = join(dir, 'shared.db')
    const store = sqliteStore(path)
    const rows = Array.from({ length: 3000 }, (_, i) => newRun({ task: i % 3 === 0 ? 'other' : 'work' }))
    await store.insertRuns(rows)
    // Each thread is a separate connection claiming in a loop: real concurrency, unlike two
    // connections in one thread (better-sqlite3 is synchronous, so claims there run one after
    // another and the conformance suite's claims "at once" cannot overlap). Shown to fail when a
    // claim is not atomic (a SELECT and then an UPDATE outside a transaction: runs claimed twice).
    const sync = new Int32Array(new SharedArrayBuffer(8))
    const names = ['a', 'b', 'c']
    const workers = names.map((workerId) => new Worker(new URL('./claim-worker.mjs', import.meta.url), { workerData: { path, workerId, threads: names.length, sync } }))
    const results = workers.map(
      (worker) =>
        new Promise<{ claimed: string[]; claims: number }>((resolve, reject) => {
          worker.on('message', (message: { ready?: boolean; claimed?: string[]; claims?: number }) => {
            if (message.claimed !== undefined) resolve({ claimed: message.claimed, claims: message.claims! })
          })
          worker.on('error', reject)
        }),
    )
    await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('message', resolve))))
    Atomics.store(sync, 0, 1)
    Atomics.notify(sync, 0)
    const outcomes = await Promise.all(results)
    const all = outcomes.flatMap((o) => o.claimed)
    expect(all).toHaveLength(rows.length)
    expect(new Set(all).size).toBe(rows.length)
    // Every thread took part: each got runs in its first claim and then claimed beside the others.
    for (const o of outcomes) expect(o.claimed.length).toBeGreaterThanOrEqual(3)
    // Claimed exactly once each, as the store records it.
    expect(store.database.prepare(`SELECT count(*) FROM runs WHERE status = 'running' AND attempt = 1`).pluck().get()).toBe(rows.length)
    await store.close()
  })
})
