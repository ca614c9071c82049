/**
 * Durable runs across real processes: the CLI's enqueue / worker / runs commands on a shared
 * SQLite file, a worker killed with SIGKILL mid-run, a graceful SIGTERM.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import type { Run, RunPage } from '../src/index.js'
import { sqliteStore } from '../src/store/sqlite/store.js'
import { FIXTURES, finished, runBin, startCli, waitForOutput } from './helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'taskengine-workers-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
const TASKS = join(FIXTURES, 'worker-tasks.mjs')

const children: ReturnType<typeof startCli>[] = []
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
})

function worker(store: string, ...extra: string[]) {
  const child = startCli(['worker', '--store', store, '--tasks', TASKS, '--lease-ms', '1000', '--poll-ms', '50', ...extra])
  children.push(child)
  return { child, done: finished(child) }
}

describe('CLI: enqueue, worker, runs', () => {
  it('enqueues, executes in a worker process, and shows, follows and steers runs', async () => {
    const store = join(dir, `cli-${++n}.db`)
    const bad = await runBin(['enqueue', 'sleepy', '--tasks', TASKS, '--store', store, '--ms', 'soon'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toBe('taskengine: invalid arguments for task "sleepy":\n  --ms: expected int, got "soon" (string)\n')
    expect((await runBin(['runs', '--store', store])).stdout).toBe('no runs\n')

    const enqueued = await runBin(['enqueue', 'sleepy', '--tasks', TASKS, '--store', store, '--ms', '50', '--label', 'cli', '--tags', 'a,b', '--priority', '2'])
    expect(enqueued.stderr).toBe('')
    const run = JSON.parse(enqueued.stdout) as Run
    expect(run).toMatchObject({ task: 'sleepy', status: 'pending', label: 'cli', tags: ['a', 'b'], priority: 2, args: { ms: 50 } })
    const listed = await runBin(['runs', '--store', store])
    expect(listed.stdout).toMatch(new RegExp(`^${run.id}\\s+sleepy\\s+pending\\s+cli\\s+default\\s+0/3`, 'm'))

    const parked = JSON.parse((await runBin(['enqueue', 'sleepy', '--tasks', TASKS, '--store', store, '--delay', '600000'])).stdout) as Run
    const cancelled = await runBin(['runs', 'cancel', parked.id, '--store', store])
    expect(cancelled.stderr).toBe(`run ${parked.id}: cancelled\n`)
    expect((JSON.parse(cancelled.stdout) as Run).status).toBe('cancelled')
    const again = await runBin(['runs', 'cancel', parked.id, '--store', store])
    expect(again.code).toBe(2)
    expect(again.stderr).toMatch(/is already cancelled/)
    expect((await runBin(['runs', 'retry', parked.id, '--store', store])).stderr).toBe(`run ${parked.id}: pending again\n`)
    expect((await runBin(['runs', 'delete', parked.id, '--store', store])).stderr).toBe(`run ${parked.id}: it was pending: cancelled (it will not execute), then deleted\n`)
    expect((await runBin(['runs', 'show', parked.id, '--store', store])).stderr).toBe(`taskengine: unknown run "${parked.id}"\n`)

    const follow = startCli(['runs', 'logs', run.id, '--store', store, '--follow', '--interval', '50'])
    children.push(follow)
    const followed = finished(follow)
    const { child, done } = worker(store)
    await waitForOutput(child.stderr, 'started')
    const logs = await followed
    expect(logs.code).toBe(0)
    expect(logs.stdout).toMatch(/^\S+Z info {2}pid \d+ attempt 1$/m)
    expect(logs.stderr).toBe(`run ${run.id} succeeded\n`)
    const shown = JSON.parse((await runBin(['runs', 'show', run.id, '--store', store])).stdout) as Run
    expect(shown).toMatchObject({ status: 'succeeded', attempt: 1, attempts: [{ outcome: 'succeeded' }] })
    const page = JSON.parse((await runBin(['runs', '--store', store, '--status', 'succeeded', '--json'])).stdout) as RunPage
    expect(page.data.map((r) => r.id)).toEqual([run.id])
    child.kill('SIGTERM')
    const exit = await done
    expect(exit.code).toBe(0)
    expect(exit.stderr).toMatch(/succeeded sleepy .* in \d+ ms/)
    expect(exit.stderr).toMatch(/taskengine worker: stopped/)
  })

  it('rejects a bad --status and a store URL it cannot open', async () => {
    const status = await runBin(['runs', '--store', join(dir, 'x.db'), '--status', 'done'])
    expect(status.code).toBe(2)
    expect(status.stderr).toMatch(/--status: expected pending, running, waiting, succeeded, failed, cancelled, got "done"/)
    const url = await runBin(['runs', '--store', 'redis://localhost'])
    expect(url.code).toBe(2)
    expect(url.stderr).toBe('taskengine: --store: expected a file path or a postgres:// URL, got "redis://localhost"\n')
  })
})

describe('worker processes sharing one SQLite file', () => {
  it('loses no run when a worker is killed with SIGKILL mid-run: its runs are rescued and complete, attempts counted', async () => {
    const path = join(dir, `kill-${++n}.db`)
    const store = sqliteStore(path)
    const enqueue = await runBin(['enqueue', 'sleepy', '--tasks', TASKS, '--store', path, '--ms', '300'])
    expect(enqueue.code).toBe(0)
    // Many more runs, enqueued straight through the store API.
    const { createEngine } = await import('../src/index.js')
    const { sleepy } = (await import(TASKS)) as { sleepy: Parameters<ReturnType<typeof createEngine>['register']>[0] }
    const producer = createEngine({ tasks: [sleepy], store })
    await producer.enqueueMany('sleepy', Array.from({ length: 29 }, () => ({ ms: 300 })))

    const a = worker(path, '--concurrency', '4')
    const b = worker(path, '--concurrency', '4')
    await Promise.all([waitForOutput(a.child.stderr, 'started'), waitForOutput(b.child.stderr, 'started')])
    // Kill A while it holds runs.
    await vi.waitFor(async () => {
      const running = (await store.listRuns({ status: 'running', pageSize: 100 })).data
      expect(running.some((r) => r.workerId?.includes(`:${a.child.pid}:`))).toBe(true)
    })
    const heldByA = (await store.listRuns({ status: 'running', pageSize: 100 })).data.filter((r) => r.workerId?.includes(`:${a.child.pid}:`)).map((r) => r.id)
    a.child.kill('SIGKILL')
    await a.done

    await vi.waitFor(async () => expect((await store.listRuns({ status: 'succeeded', pageSize: 1 })).total).toBe(30), { timeout: 20_000, interval: 100 })
    const all = (await store.listRuns({ pageSize: 100 })).data
    expect(all.every((r) => r.status === 'succeeded')).toBe(true)
    for (const id of heldByA) {
      const run = all.find((r) => r.id === id)!
      // Executing on A: the attempt counts. Held ahead on A and never started: as if never claimed.
      expect(run.attempts.at(-1)).toMatchObject({ outcome: 'succeeded', error: null })
      if (run.attempts.length === 2) expect([run.attempt, run.attempts[0]?.outcome, run.attempts[0]?.error?.code]).toEqual([2, 'retry', 'ERR_WORKER_LOST'])
      else expect([run.attempt, run.attempts.length]).toEqual([1, 1])
      expect(run.attemptBase).toBe(0)
      expect((run.data as { pid: number }).pid).toBe(b.child.pid)
    }
    // Runs A had finished before it died stay done once; no run ran more often than it had to.
    expect(all.filter((r) => !heldByA.includes(r.id)).every((r) => r.attempt === 1)).toBe(true)
    b.child.kill('SIGTERM')
    expect((await b.done).code).toBe(0)
    await producer.close()
  })

  it('on SIGTERM lets handlers finish within the grace period, then returns the rest to pending, their attempt spent', async () => {
    const path = join(dir, `term-${++n}.db`)
    await runBin(['enqueue', 'sleepy', '--tasks', TASKS, '--store', path, '--ms', '100'])
    const long = JSON.parse((await runBin(['enqueue', 'sleepy', '--tasks', TASKS, '--store', path, '--ms', '60000'])).stdout) as Run
    const w = worker(path, '--grace', '300')
    await waitForOutput(w.child.stderr, 'succeeded')
    w.child.kill('SIGTERM')
    const exit = await w.done
    expect(exit.code).toBe(0)
    expect(exit.stderr).toMatch(/SIGTERM: stopping \(grace 300 ms/)
    const store = sqliteStore(path)
    // Its handler ran, so the attempt counts; it goes back at once (attempts are left).
    expect(await store.getRun(long.id)).toMatchObject({ status: 'pending', attempt: 1, attemptBase: 0, attempts: [{ outcome: 'interrupted', error: { code: 'ERR_SHUTDOWN' } }] })
    await store.close()
  })
})

describe('CLI: schedules and settings', () => {
  it('lists schedules from a tasks module, toggles them, triggers one, shows its runs, and changes settings', async () => {
    const store = join(dir, `schedules-${++n}.db`)
    const tasks = join(FIXTURES, 'scheduled-tasks.mjs')
    const listed = await runBin(['schedules', '--tasks', tasks, '--store', store])
    expect(listed.stderr).toBe('')
    expect(listed.stdout).toMatch(/^ID\s+CRON\s+WHEN\s+ZONE\s+ENABLED\s+NEXT RUN \(UTC\)\s+LAST RUN$/m)
    expect(listed.stdout).toMatch(/^weekday-report\s+0 6 \* \* 1-5\s+At 06:00, Monday through Friday\s+Europe\/Berlin\s+on\s+\d{4}-\d\d-\d\d (04|05):00:00\s*$/m)
    expect(listed.stdout).toMatch(/^taskengine\.retention\s+15 3 \* \* \*/m)

    expect((await runBin(['schedules', 'toggle', 'weekday-report', 'off', '--tasks', tasks, '--store', store])).stderr).toBe('schedule weekday-report: off\n')
    const refused = await runBin(['schedules', 'trigger', 'weekday-report', '--tasks', tasks, '--store', store])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toBe('taskengine: schedule "weekday-report" is disabled; enable it before triggering it\n')
    expect((await runBin(['schedules', 'toggle', 'weekday-report', 'on', '--tasks', tasks, '--store', store])).stderr).toMatch(/^schedule weekday-report: on, next run \d{4}-/)
    const triggered = await runBin(['schedules', 'trigger', 'weekday-report', '--tasks', tasks, '--store', store], { env: { USER: 'ada' } })
    const run = JSON.parse(triggered.stdout) as Run
    expect(run).toMatchObject({ task: 'report', scheduleId: 'weekday-report', category: 'system', createdBy: 'ada', args: { scope: 'sales' } })
    const history = await runBin(['schedules', 'runs', 'weekday-report', '--tasks', tasks, '--store', store])
    expect(history.stdout).toMatch(new RegExp(`^${run.id}\\s+pending\\s+\\S+ \\S+\\s+ada`, 'm'))
    expect(history.stdout).toMatch(/page 1 of 1 \(1 run\)/)
    const bySchedule = JSON.parse((await runBin(['runs', '--store', store, '--schedule', 'weekday-report', '--category', 'system', '--json'])).stdout) as RunPage
    expect(bySchedule.data.map((r) => r.id)).toEqual([run.id])
    expect(JSON.parse((await runBin(['runs', '--store', store, '--category', 'user', '--json'])).stdout)).toMatchObject({ total: 0 })
    expect((await runBin(['runs', '--store', store, '--category', 'robots'])).stderr).toBe('taskengine: --category: expected user or system, got "robots" (string)\n')
    const unknown = await runBin(['schedules', 'toggle', 'nope', 'on', '--tasks', tasks, '--store', store])
    expect(unknown.stderr).toBe(`taskengine: unknown schedule "nope" (schedules from ${tasks}: weekday-report)\n`)

    const bad = await runBin(['settings', 'set', 'workerConcurrency=0', '--store', store])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/invalid settings: workerConcurrency: expected an integer from 1 to 10000 or null, got 0/)
    const set = await runBin(['settings', 'set', 'workerConcurrency=6', 'runRetentionDays=9', '--store', store])
    expect(JSON.parse(set.stdout)).toMatchObject({ workerConcurrency: 6, runRetentionDays: 9 })
    expect((await runBin(['settings', '--store', store])).stdout).toMatch(/^runRetentionDays\s+9\s+30\s+Run retention \(days\)$/m)
  })
})
