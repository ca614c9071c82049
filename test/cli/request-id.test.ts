/**
 * `taskengine enqueue --request-id`: a request sent twice (a retried script, a repeated deploy
 * step) makes one run; the second answer is the first run.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { Run } from '../../src/index.js'
import { runInProcess } from '../helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'taskengine-request-id-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('enqueue --request-id', () => {
  it('answers the same run for the same id, and refuses an id that is too long, naming the option', async () => {
    const store = join(dir, 'requests.db')
    const enqueue = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => runInProcess(['enqueue', 'hello', '--store', store, ...args])
    const first = await enqueue('--request-id', 'deploy-42')
    expect(first.code, first.stderr).toBe(0)
    const again = await enqueue('--request-id', 'deploy-42')
    expect(again.code, again.stderr).toBe(0)
    const [a, b] = [JSON.parse(first.stdout) as Run, JSON.parse(again.stdout) as Run]
    expect(b.id).toBe(a.id)
    expect(a.requestId).toBe('deploy-42')
    const other = JSON.parse((await enqueue('--request-id', 'deploy-43')).stdout) as Run
    expect(other.id).not.toBe(a.id)
    const long = await enqueue('--request-id', 'x'.repeat(201))
    expect(long.code).toBe(2)
    expect(long.stderr).toMatch(/requestId/)
  })
})
