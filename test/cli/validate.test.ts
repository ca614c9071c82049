/**
 * A task's validate and int64 fields on the command line: `run` and `enqueue` name each bad
 * field (a whole-arguments problem without a flag), exit 2 and run or store nothing; an int64
 * beyond 2^53 goes through exact, and a bigint in the result prints as its decimal string.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { Run } from '../../src/index.js'
import { FIXTURES, runInProcess } from '../helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'taskengine-cli-validate-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const tasks = join(FIXTURES, 'validated-tasks.mjs')
const BIG = '9007199254740993' // 2^53 + 1

describe('validate on the command line', () => {
  it('run and enqueue exit 2 naming the field of each problem, and a whole-arguments one without a flag; nothing is stored', async () => {
    const store = join(dir, 'refused.db')
    for (const command of ['run', 'enqueue']) {
      const fieldIssue = await runInProcess([command, 'booking', '--tasks', tasks, '--store', store, '--room', '1', '--from', '5', '--to', '2'])
      expect(fieldIssue).toMatchObject({ code: 2, stdout: '' })
      expect(fieldIssue.stderr).toBe('taskengine: invalid arguments for task "booking":\n  --to: must be after from\n')
      const both = await runInProcess([command, 'booking', '--tasks', tasks, '--store', store, '--room', '1', '--from', '5', '--to', '2', '--late'])
      expect(both.stderr).toBe('taskengine: invalid arguments for task "booking":\n  --to: must be after from\n')
      const whole = await runInProcess([command, 'booking', '--tasks', tasks, '--store', store, '--room', '1', '--from', '1', '--to', '9', '--late'])
      expect(whole).toMatchObject({ code: 2, stdout: '' })
      expect(whole.stderr).toBe('taskengine: invalid arguments for task "booking":\n  a late booking lasts at most 2 days\n')
    }
    const listed = await runInProcess(['runs', 'list', '--store', store, '--json'])
    expect(listed.code, listed.stderr).toBe(0)
    expect((JSON.parse(listed.stdout) as { total: number }).total).toBe(0)
  })

  it('takes an int64 beyond 2^53 exactly: enqueue stores its decimal string, run prints a bigint result as text', async () => {
    const store = join(dir, 'int64.db')
    const enqueued = await runInProcess(['enqueue', 'booking', '--tasks', tasks, '--store', store, '--room', BIG, '--from', '1', '--to', '2'])
    expect(enqueued.code, enqueued.stderr).toBe(0)
    expect((JSON.parse(enqueued.stdout) as Run).args).toEqual({ room: BIG, from: 1, to: 2, late: false })
    const ran = await runInProcess(['run', 'booking', '--tasks', tasks, '--room', BIG, '--from', '1', '--to', '3', '--json'])
    expect(ran.code, ran.stderr).toBe(0)
    expect(JSON.parse(ran.stdout)).toMatchObject({ status: 'succeeded', args: { room: BIG }, data: { room: BIG, next: '9007199254740994', nights: 2 } })
    const refused = await runInProcess(['run', 'booking', '--tasks', tasks, '--room', '1.5', '--from', '1', '--to', '3'])
    expect(refused.stderr).toBe('taskengine: invalid arguments for task "booking":\n  --room: expected int64 from -2^63 to 2^63-1 (beyond 2^53 as a decimal string), got "1.5" (string)\n')
  })
})
