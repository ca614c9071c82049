/** The durable-runs suite on SQLite: in-memory stores, and files shared by several engines. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import { sqliteStore } from '../../src/store/sqlite/store.js'
import { describeDurable } from '../durable/index.js'

const dir = mkdtempSync(join(tmpdir(), 'taskengine-durable-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let fileNo = 0

describeDurable({
  store: () => sqliteStore(':memory:'),
  database: () => {
    const path = join(dir, `durable-${++fileNo}.db`)
    return () => sqliteStore(path)
  },
})
