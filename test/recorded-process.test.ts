/**
 * A recorded in-process run whose process is killed mid-run (SIGKILL: no cleanup at all): its
 * stored run stays `running` while the lease lasts, then the rescue of another process ends it
 * `failed` with its one attempt lost. It is never retried and no worker executes it again. On a
 * SQLite file and on PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { createEngine, type Engine } from '../src/index.js'
import type { Store } from '../src/store/types.js'
import { sqliteStore } from '../src/store/sqlite/store.js'
import { FIXTURES, ROOT } from './helpers/cli.js'
import { describePostgres } from './helpers/postgres.js'
import { runReaches } from './helpers/runs.js'

const CHILD = join(FIXTURES, 'recorded-run.mjs')
const { nap } = (await import(join(FIXTURES, 'nap-tasks.mjs'))) as { nap: Parameters<Engine['register']>[0] }
/** The child's lease: renewed every 200 ms while it lives. */
const LEASE_MS = 600

const dir = mkdtempSync(join(tmpdir(), 'taskengine-recorded-process-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const children: ChildProcessWithoutNullStreams[] = []
const engines: Engine[] = []
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await Promise.all(engines.splice(0).map((e) => e.close({ graceMs: 0 })))
})

/** Starts the child on `spec`, kills it once its run is stored and its lease was renewed, and checks the rescue fails the run. */
async function killMidRun(spec: string, store: Store): Promise<void> {
  const child = spawn(process.execPath, [CHILD, spec, String(LEASE_MS)], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } })
  children.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  await vi.waitFor(() => expect(stdout, stderr).toMatch(/^started \S+\n/), { timeout: 10_000 })
  const id = /^started (\S+)\n/.exec(stdout)![1]!
  // A worker on the same store all along: it never claims the run, and it rescues it.
  const rescuer = createEngine({ tasks: [nap], store, leaseMs: LEASE_MS, pollIntervalMs: 50, onError: () => undefined })
  engines.push(rescuer)
  await rescuer.start()
  const first = await rescuer.getRun(id)
  expect(first).toMatchObject({ status: 'running', inProcess: true, startedFrom: 'cli', createdBy: 'child', maxAttempts: 1 })
  // Alive, the child keeps its lease renewed.
  await vi.waitFor(async () => expect((await rescuer.getRun(id))!.leaseExpiresAt!.getTime()).toBeGreaterThan(first!.leaseExpiresAt!.getTime()), { timeout: 5000 })
  child.kill('SIGKILL')
  await new Promise((resolve) => child.once('close', resolve))
  const failed = await runReaches(rescuer, id, 'failed', 15_000)
  expect(failed).toMatchObject({ inProcess: true, error: { code: 'ERR_WORKER_LOST' }, attempt: 1, attempts: [{ number: 1, outcome: 'failed', error: { code: 'ERR_WORKER_LOST' } }] })
  // Not retried: it stays failed, and its one attempt is the child's.
  expect((await rescuer.listRuns({ task: 'nap' })).data.map((r) => [r.id, r.status])).toEqual([[id, 'failed']])
  expect(stdout).not.toContain('finished')
}

describe('a recorded in-process run whose process is killed', () => {
  it('is failed by the rescue, not retried (SQLite file)', async () => {
    const file = join(dir, 'killed.db')
    await killMidRun(file, sqliteStore(file))
  }, 30_000)
})

await describePostgres('a recorded in-process run whose process is killed (postgres)', ({ open, newSchema, storeUrl }) => {
  it('is failed by the rescue, not retried (PostgreSQL)', async () => {
    const schema = newSchema()
    await killMidRun(storeUrl(schema), open({ schema }))
  }, 30_000)
})
