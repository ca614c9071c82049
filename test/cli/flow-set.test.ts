/**
 * `taskengine queues set` and `taskengine tasks set` through the real binary: limits and pauses
 * stored for every worker on the store, shown by `taskengine queues` and by an engine on the
 * same file; bad flags name themselves, exit 2 and change nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { QueueInfo } from '../../src/index.js'
import { FIXTURES, runBin } from '../helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'taskengine-flow-set-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const tasks = join(FIXTURES, 'flow-config.mjs')

/** The queues as `taskengine queues --json` prints them. */
async function queues(store: string): Promise<QueueInfo[]> {
  const listed = await runBin(['queues', '--tasks', tasks, '--store', store, '--json'])
  expect(listed.code, listed.stderr).toBe(0)
  return JSON.parse(listed.stdout) as QueueInfo[]
}

/** The `mail` queue as `taskengine queues --json` prints it. */
async function mail(store: string): Promise<QueueInfo> {
  return (await queues(store)).find((q) => q.name === 'mail')!
}

describe('taskengine queues set', () => {
  it('changes limits, pauses and resumes; the table shows rate, state and starts', async () => {
    const store = join(dir, 'queues-set.db')
    const set = await runBin(['queues', 'set', 'mail', '--concurrency', '5', '--rate', '100/60s', '--pause', '--tasks', tasks, '--store', store])
    expect(set.code, set.stderr).toBe(0)
    expect(set.stderr).toBe('queue mail: concurrency 5, rate 100/1m, paused\n')
    expect(await mail(store)).toMatchObject({ concurrency: 5, rate: { max: 100, perMs: 60_000 }, paused: true, startsInWindow: 0 })
    const table = await runBin(['queues', '--tasks', tasks, '--store', store])
    const lines = table.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^QUEUE\s+STATE\s+CONCURRENCY\s+RATE\s+STARTS\s+PENDING\s+RUNNING\s+OLDEST DUE\s+TASKS$/)
    expect(lines.find((line) => line.startsWith('mail '))?.split(/\s+/)).toEqual(['mail', 'paused', '5', '100/1m', '0', '0', '0', '-', 'send'])
    // Flags left out keep what holds; none removes a limit (the config's too); --json prints the limits.
    const resumed = await runBin(['queues', 'set', 'mail', '--resume', '--rate', 'none', '--json', '--tasks', tasks, '--store', store])
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(JSON.parse(resumed.stdout)).toEqual({ name: 'mail', concurrency: 5, rate: null, paused: false })
    // A rate in ms, without a unit.
    expect((await runBin(['queues', 'set', 'mail', '--rate', '7/250', '--tasks', tasks, '--store', store])).code).toBe(0)
    expect((await mail(store)).rate).toEqual({ max: 7, perMs: 250 })
  })

  it('refuses bad flags naming each, an unknown queue, and nothing to change; exit 2, nothing changed', async () => {
    const store = join(dir, 'queues-bad.db')
    const before = await mail(store)
    const bad = await runBin(['queues', 'set', 'mail', '--concurrency', '0', '--rate', '10/2d', '--tasks', tasks, '--store', store])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toBe(
      'taskengine: --concurrency: expected an integer from 1 to 1000000, or none, got "0" (string); --rate: expected MAX/PERIOD (e.g. 100/60s or 10/1000: at most MAX starts per PERIOD, in ms or with ms, s, m, h; from 1 ms to 24 h), or none, got "10/2d" (string)\n',
    )
    const tooLong = await runBin(['queues', 'set', 'mail', '--rate', '10/25h', '--tasks', tasks, '--store', store])
    expect([tooLong.code, tooLong.stderr]).toEqual([2, 'taskengine: --rate: PERIOD must be from 1 ms to 24 h, got "10/25h" (string)\n'])
    const both = await runBin(['queues', 'set', 'mail', '--pause', '--resume', '--tasks', tasks, '--store', store])
    expect([both.code, both.stderr]).toEqual([2, 'taskengine: --pause and --resume: give one or the other\n'])
    const nothing = await runBin(['queues', 'set', 'mail', '--tasks', tasks, '--store', store])
    expect([nothing.code, nothing.stderr]).toEqual([2, 'taskengine: nothing to change: give --concurrency, --rate, --pause or --resume\n'])
    const unknown = await runBin(['queues', 'set', 'nope', '--pause', '--tasks', tasks, '--store', store])
    expect([unknown.code, unknown.stderr]).toEqual([2, 'taskengine: unknown queue "nope": no task enqueues into it, no limits name it and no run is in it\n'])
    expect(await mail(store)).toEqual(before)
    expect(before).toMatchObject({ concurrency: 3, rate: { max: 10, perMs: 1000 }, paused: false })
  })
})

describe('taskengine tasks set', () => {
  it('changes a task\'s limits and pauses it; bad flags and unknown tasks are refused, changing nothing', async () => {
    const store = join(dir, 'tasks-set.db')
    const set = await runBin(['tasks', 'set', 'sync-tenant', '--group-concurrency', '3', '--concurrency', 'none', '--pause', '--json', '--tasks', tasks, '--store', store])
    expect(set.code, set.stderr).toBe(0)
    expect(set.stderr).toBe('task sync-tenant: concurrency none, rate none, group concurrency 3, paused\n')
    expect(JSON.parse(set.stdout)).toEqual({ task: 'sync-tenant', concurrency: null, rate: null, groupConcurrency: 3, paused: true })
    const bad = await runBin(['tasks', 'set', 'sync-tenant', '--group-concurrency', '1.5', '--resume', '--tasks', tasks, '--store', store])
    expect([bad.code, bad.stderr]).toEqual([2, 'taskengine: --group-concurrency: expected an integer from 1 to 1000000, or none, got "1.5" (string)\n'])
    const unknown = await runBin(['tasks', 'set', 'nope', '--pause', '--tasks', tasks, '--store', store])
    expect([unknown.code, unknown.stderr]).toEqual([2, 'taskengine: unknown task "nope" (tasks from ' + tasks + ': send, sync-tenant)\n'])
    // Still as set above: the bad call resumed nothing.
    const again = await runBin(['tasks', 'set', 'sync-tenant', '--rate', '5/1s', '--json', '--tasks', tasks, '--store', store])
    expect(JSON.parse(again.stdout)).toEqual({ task: 'sync-tenant', concurrency: null, rate: { max: 5, perMs: 1000 }, groupConcurrency: 3, paused: true })
    // `taskengine tasks` still lists the tasks (the default subcommand).
    const listed = await runBin(['tasks', '--tasks', tasks])
    expect(listed.stdout.split('\n')[0]).toMatch(/^KEY\s+TITLE\s+CATEGORY/)
    expect((JSON.parse((await runBin(['tasks', '--tasks', tasks, '--json'])).stdout) as { key: string }[]).map((t) => t.key)).toEqual(['send', 'sync-tenant'])
  })
})
