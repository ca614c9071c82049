/** `taskengine runs cancel|retry|delete --all <filter flags>` through the real binary. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createEngine, defineTask } from '../../src/index.js'
import { sqliteStore } from '../../src/store/sqlite/store.js'
import { runBin } from '../helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'taskengine-cli-bulk-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const report = defineTask({ key: 'report', run: () => 'done' })
const other = defineTask({ key: 'other', run: () => 'done' })

/** A store file with `n` pending runs of report and 2 of other. */
async function storeWith(name: string, n: number): Promise<string> {
  const path = join(dir, `${name}.db`)
  const engine = createEngine({ tasks: [report, other], store: sqliteStore(path) })
  try {
    await engine.enqueueMany(report, Array.from({ length: n }, () => ({})), { delayMs: 600_000 })
    await engine.enqueueMany(other, [{}, {}], { delayMs: 600_000 })
  } finally {
    await engine.close()
  }
  return path
}

async function counts(path: string): Promise<Record<string, number>> {
  const engine = createEngine({ store: sqliteStore(path) })
  try {
    const out: Record<string, number> = {}
    for (const [task, status] of [['report', 'pending'], ['report', 'cancelled'], ['other', 'pending']] as const) out[`${task} ${status}`] = (await engine.listRuns({ task, status, pageSize: 1 })).total
    return out
  } finally {
    await engine.close()
  }
}

describe('runs cancel|retry|delete --all', () => {
  it('cancels every run matching the filter flags with --yes, printing the count and what was done', async () => {
    const store = await storeWith('cancel', 1200)
    const result = await runBin(['runs', 'cancel', '--status', 'pending', '--task', 'report', '--all', '--yes', '--store', store])
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(/^1200 runs match\nbulk job [0-9a-f-]{36}: cancel 1200 runs\nfinished: 1200 done, 0 skipped/)
    expect(JSON.parse(result.stdout)).toMatchObject({ action: 'cancel', state: 'finished', total: 1200, done: 1200, skipped: 0 })
    expect(await counts(store)).toEqual({ 'report pending': 0, 'report cancelled': 1200, 'other pending': 2 })
    // Retry them: all back, none skipped.
    const retried = await runBin(['runs', 'retry', '--task', 'report', '--all', '--yes', '--store', store])
    expect(JSON.parse(retried.stdout)).toMatchObject({ state: 'finished', done: 1200, skipped: 0 })
    expect((await counts(store))['report pending']).toBe(1200)
  })

  it('refuses without --yes off a terminal, an empty filter without --yes, an id with --all, and bad flags; changing nothing', async () => {
    const store = await storeWith('refuse', 3)
    const notTty = await runBin(['runs', 'cancel', '--task', 'report', '--all', '--store', store])
    expect(notTty.code).not.toBe(0)
    expect(notTty.stderr).toContain('not a terminal to ask on: add --yes to cancel these 3 runs')
    const everything = await runBin(['runs', 'delete', '--all', '--store', store])
    expect(everything.stderr).toContain('no filter flags: this would delete every run (5); add --yes to confirm')
    const both = await runBin(['runs', 'cancel', 'some-id', '--all', '--store', store])
    expect(both.stderr).toContain('give a run id or --all with filter flags, not both')
    const bad = await runBin(['runs', 'cancel', '--status', 'bogus', '--all', '--yes', '--store', store])
    expect(bad.stderr).toContain('--status: expected pending, running, waiting, succeeded, failed, cancelled, got "bogus"')
    const none = await runBin(['runs', 'cancel', '--store', store])
    expect(none.stderr).toContain('runs cancel: give a run id, or --all with filter flags')
    expect(await counts(store)).toEqual({ 'report pending': 3, 'report cancelled': 0, 'other pending': 2 })
    // With --yes, no filter means every run.
    const all = await runBin(['runs', 'delete', '--all', '--yes', '--store', store])
    expect(JSON.parse(all.stdout)).toMatchObject({ state: 'finished', total: 5, done: 5 })
  })
})
