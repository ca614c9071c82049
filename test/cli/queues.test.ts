/**
 * `taskengine queues`: every queue the tasks module and the store know of, idle ones included,
 * with the config file's limits across workers, through the real binary.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { QueueInfo } from '../../src/index.js'
import { FIXTURES, runBin } from '../helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'taskengine-queues-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const tasks = join(FIXTURES, 'queue-config.mjs')

describe('taskengine queues', () => {
  it('lists the known queues with their limits, tasks and counts, as a table or as JSON', async () => {
    const store = join(dir, 'queues.db')
    const enqueued = await runBin(['enqueue', 'send', '--tasks', tasks, '--store', store, '--delay', '600000'])
    expect(enqueued.code, enqueued.stderr).toBe(0)
    const table = await runBin(['queues', '--tasks', tasks, '--store', store])
    expect(table.code, table.stderr).toBe(0)
    const lines = table.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^QUEUE\s+STATE\s+CONCURRENCY\s+RATE\s+STARTS\s+PENDING\s+RUNNING\s+OLDEST DUE\s+TASKS$/)
    expect(lines.slice(1).map((line) => line.split(/\s+/))).toEqual([
      ['bulk', 'active', '7', '-', '-', '0', '0', '-', '-'],
      ['default', 'active', '-', '-', '-', '0', '0', '-', 'taskengine.retention,tidy'],
      ['mail', 'active', '2', '-', '-', '1', '0', '-', 'send'],
    ])
    const json = await runBin(['queues', '--tasks', tasks, '--store', store, '--json'])
    const queues = JSON.parse(json.stdout) as QueueInfo[]
    expect(queues.find((q) => q.name === 'mail')).toMatchObject({ concurrency: 2, rate: null, paused: false, tasks: ['send'], pending: 1, running: 0, startsInWindow: null, oldestPendingAt: null })
  })

  it('refuses a config whose queue limit is not a positive integer, naming it', async () => {
    const bad = join(dir, 'bad-config.mjs')
    writeFileSync(bad, `import { defineTask } from ${JSON.stringify(join(process.cwd(), 'dist', 'index.js'))}\nexport default { tasks: [defineTask({ key: 't', run: () => 1 })], queues: { mail: { concurrency: 0 } } }\n`)
    const result = await runBin(['queues', '--tasks', bad, '--store', join(dir, 'bad.db')])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('taskengine: createEngine: queues.mail.concurrency must be an integer from 1 to 1000000, got 0 (number)\n')
  })
})
