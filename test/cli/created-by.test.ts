/**
 * Who the CLI records as a run's creator, one rule for every command that makes runs
 * (`enqueue`, `schedules trigger`): --created-by, else $USER, else the login name, else "local".
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { Run } from '../../src/index.js'
import { FIXTURES, runBin, runInProcess } from '../helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'taskengine-created-by-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const login = userInfo().username
const tasks = join(FIXTURES, 'scheduled-tasks.mjs')

describe('createdBy from the CLI', () => {
  it('enqueue records --created-by, else $USER, else the login name — never null', async () => {
    const store = join(dir, 'enqueue.db')
    const enqueue = async (args: readonly string[], env: Record<string, string | undefined>): Promise<Run> => {
      const { code, stdout, stderr } = await runBin(['enqueue', 'hello', '--store', store, ...args], { env })
      expect(code, stderr).toBe(0)
      return JSON.parse(stdout) as Run
    }
    expect((await enqueue([], { USER: undefined })).createdBy).toBe(login)
    expect((await enqueue([], { USER: '' })).createdBy).toBe(login)
    expect((await enqueue([], { USER: 'ada' })).createdBy).toBe('ada')
    expect((await enqueue(['--created-by', 'grace'], { USER: 'ada' })).createdBy).toBe('grace')
  })

  it('schedules trigger follows the same rule', async () => {
    const store = join(dir, 'trigger.db')
    const unset = await runBin(['schedules', 'trigger', 'weekday-report', '--tasks', tasks, '--store', store], { env: { USER: undefined } })
    expect(unset.code, unset.stderr).toBe(0)
    expect((JSON.parse(unset.stdout) as Run).createdBy).toBe(login)
    const named = await runInProcess(['schedules', 'trigger', 'weekday-report', '--tasks', tasks, '--store', store], { env: { USER: 'ada' } })
    expect((JSON.parse(named.stdout) as Run).createdBy).toBe('ada')
  })
})
