/**
 * The store's public entries: `taskengine/store` (the contract), `taskengine/store-testing` (the
 * conformance suite, which needs vitest and so is imported by nothing else in src), and what of
 * the contract the root entry still shows (the data users read, not the backend's side).
 */
import { readFileSync, readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import * as root from '../index.js'
import * as contract from './index.js'

const SRC = join(import.meta.dirname, '..')

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sources(path)
    return /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) ? [path] : []
  })
}

describe('store entries', () => {
  it('keeps the conformance suite (and vitest) out of every other module in src', () => {
    const importers = sources(SRC)
      .filter((path) => !relative(SRC, path).startsWith(join('store', 'testing')))
      .filter((path) => /from '(vitest|[^']*\/testing\/[^']*)'/.test(readFileSync(path, 'utf8')))
    expect(importers.map((path) => relative(SRC, path))).toEqual([])
  })

  it('exports the contract helpers from taskengine/store, and only the run data and states from the root', () => {
    expect(Object.keys(contract).sort()).toEqual(['ACTIVE_STATES', 'ClaimPlan', 'FINAL_STATES', 'RUN_STATES', 'attemptsLeftAfter', 'limitsBind', 'runFromNew', 'runsFromNew'])
    expect(contract.attemptsLeftAfter({ attempt: 2, attemptBase: 0, maxAttempts: 3 })).toBe(true)
    expect(contract.attemptsLeftAfter({ attempt: 3, attemptBase: 0, maxAttempts: 3 })).toBe(false)
    expect(root.RUN_STATES).toBe(contract.RUN_STATES)
    expect('attemptsLeftAfter' in root).toBe(false)
  })
})
