/**
 * Worker commands across real processes, on SQLite and PostgreSQL: a `taskengine worker` child
 * process quieted, resumed and stopped through the HTTP API of this process (another engine on
 * the same store), each within a heartbeat (plus a margin for a loaded machine): quiet, it
 * finishes the run it holds and claims nothing; resumed, it claims again; stopped, it finishes
 * gracefully and exits 0. The CLI's `workers` commands steer and list it too.
 */
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { createEngine, type Engine, type WorkerInfo } from '../src/index.js'
import type { Store } from '../src/store/types.js'
import { createServer } from '../src/server/index.js'
import { sqliteStore } from '../src/store/sqlite/store.js'
import { FIXTURES, finished, runBin, startCli, waitForOutput } from './helpers/cli.js'
import { describePostgres } from './helpers/postgres.js'

const TASKS = join(FIXTURES, 'nap-tasks.mjs')
const { nap } = (await import(TASKS)) as { nap: Parameters<Engine['register']>[0] }
/** The child's lease: a heartbeat every 333 ms. */
const LEASE_MS = 1000
const HEARTBEAT_MS = Math.floor(LEASE_MS / 3)
/** What a loaded machine (two cores, several test files at once) may add to a heartbeat. */
const MARGIN_MS = 1500

const dir = mkdtempSync(join(tmpdir(), 'taskengine-worker-commands-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const children: ReturnType<typeof startCli>[] = []
const engines: Engine[] = []
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await Promise.all(engines.splice(0).map((e) => e.close({ graceMs: 0 })))
})

/** Quiet, resume and stop of a worker process on the store `storeArg` names, through this process's API. */
async function steerWorkerProcess(storeArg: string, store: Store): Promise<void> {
  const child = startCli(['worker', '--store', storeArg, '--tasks', TASKS, '--lease-ms', String(LEASE_MS), '--poll-ms', '50', '--grace', '5000'])
  children.push(child)
  const done = finished(child)
  await waitForOutput(child.stderr, 'started')
  // The operator: another process's engine (this one) with its HTTP API, on the same store.
  const engine = createEngine({ tasks: [nap], store, leaseMs: LEASE_MS, onError: () => undefined })
  engines.push(engine)
  const { app } = createServer(engine, { onError: () => undefined })
  const rowOf = async (): Promise<WorkerInfo | undefined> => (await engine.workers()).find((w) => w.pid === child.pid)
  const command = async (id: string, type: string) => app.request(`/api/workers/${encodeURIComponent(id)}/${type}`, { method: 'POST' })
  /** Sends `type` and resolves with the ms until `applied` holds. */
  const timed = async (id: string, type: string, applied: () => Promise<boolean>): Promise<number> => {
    const asked = performance.now()
    expect((await command(id, type)).status).toBe(200)
    await vi.waitFor(async () => expect(await applied()).toBe(true), { timeout: 10_000, interval: 10 })
    return performance.now() - asked
  }

  const first = await engine.enqueue(nap, { ms: 1500 })
  await vi.waitFor(async () => expect((await rowOf())?.running).toEqual([first.id]), { timeout: 10_000 })
  const id = (await rowOf())!.id

  const quietMs = await timed(id, 'quiet', async () => (await rowOf())?.state === 'quiet')
  expect(quietMs).toBeLessThan(HEARTBEAT_MS + MARGIN_MS)
  const second = await engine.enqueue(nap, { ms: 10 })
  // Quiet: the run it holds finishes; the new one waits, heartbeats go on.
  const done1 = await vi.waitFor(async () => {
    const run = await engine.getRun(first.id)
    expect(run?.status).toBe('succeeded')
    return run!
  }, { timeout: 10_000 })
  expect(done1.data).toEqual({ pid: child.pid })
  const beat = (await rowOf())!.heartbeatAt.getTime()
  await vi.waitFor(async () => expect((await rowOf())!.heartbeatAt.getTime()).toBeGreaterThan(beat + HEARTBEAT_MS), { timeout: 5000 })
  expect(await engine.getRun(second.id)).toMatchObject({ status: 'pending', attempt: 0 })
  expect(await rowOf()).toMatchObject({ state: 'quiet', busy: 0, command: { type: 'quiet', by: 'local' } })

  const resumeMs = await timed(id, 'resume', async () => (await engine.getRun(second.id))?.status === 'succeeded')
  expect(resumeMs).toBeLessThan(HEARTBEAT_MS + MARGIN_MS)
  expect((await engine.getRun(second.id))?.data).toEqual({ pid: child.pid })

  // Stop while it runs a nap: it hears of it within a heartbeat (it says it is stopping and
  // claims nothing more), the nap finishes within the grace, then the process exits 0. The nap
  // is long enough to be seen running whatever the machine's load.
  const third = await engine.enqueue(nap, { ms: 2000 })
  await vi.waitFor(async () => expect((await engine.getRun(third.id))?.status).toBe('running'), { timeout: 10_000, interval: 10 })
  const stopMs = await timed(id, 'stop', async () => (await rowOf())?.state === 'stopping')
  expect(stopMs).toBeLessThan(HEARTBEAT_MS + MARGIN_MS)
  const exit = await done
  expect(exit.code).toBe(0)
  expect(exit.stderr).toMatch(/taskengine worker: stop requested by local: stopping \(grace 5000 ms/)
  expect(exit.stderr).toMatch(/taskengine worker: stopped/)
  expect(await engine.getRun(third.id)).toMatchObject({ status: 'succeeded', attempt: 1 })
  // Stopped gracefully: its row is gone (not dead), and a command now names the unknown worker.
  expect(await rowOf()).toBeUndefined()
  expect(await engine.deadWorkers()).toEqual([])
  const gone = await command(id, 'quiet')
  expect(gone.status).toBe(404)
  if (process.env.TASKENGINE_TIMINGS !== undefined) console.info(`${storeArg.startsWith('postgres') ? 'postgres' : 'sqlite'}: quiet ${quietMs.toFixed(0)} ms, resume→done ${resumeMs.toFixed(0)} ms, stop→stopping ${stopMs.toFixed(0)} ms (heartbeat ${HEARTBEAT_MS} ms)`)
}

describe('worker commands across processes on SQLite', () => {
  it('quiets, resumes and stops a taskengine worker process through another process\'s API, each within a heartbeat', async () => {
    const file = join(dir, 'steer.db')
    await steerWorkerProcess(file, sqliteStore(file))
  })

  it('steers and lists workers with the CLI: workers quiet|resume|stop, workers list with the recently dead', async () => {
    const file = join(dir, 'cli.db')
    const a = startCli(['worker', '--store', file, '--tasks', TASKS, '--lease-ms', String(LEASE_MS), '--poll-ms', '50'])
    const b = startCli(['worker', '--store', file, '--tasks', TASKS, '--lease-ms', String(LEASE_MS), '--poll-ms', '50'])
    children.push(a, b)
    const aDone = finished(a)
    await Promise.all([waitForOutput(a.stderr, 'started'), waitForOutput(b.stderr, 'started')])
    const store = sqliteStore(file)
    const engine = createEngine({ tasks: [nap], store, leaseMs: LEASE_MS, onError: () => undefined })
    engines.push(engine)
    const idOf = async (pid: number | undefined) => (await engine.workers()).find((w) => w.pid === pid)!.id
    const aId = await idOf(a.pid)
    const bId = await idOf(b.pid)

    const quiet = await runBin(['workers', 'quiet', aId, '--store', file], { env: { USER: 'ada' } })
    expect([quiet.code, quiet.stderr]).toEqual([0, `worker ${aId}: quiet requested: it claims no more runs and finishes the ones it holds\n`])
    await vi.waitFor(async () => expect((await engine.workers()).find((w) => w.id === aId)?.state).toBe('quiet'), { timeout: 5000 })
    const unknown = await runBin(['workers', 'stop', 'nope', '--store', file])
    expect([unknown.code, unknown.stderr]).toEqual([2, 'taskengine: unknown worker "nope" (taskengine workers list shows the live ones)\n'])
    const bad = await runBin(['workers', 'pause', aId, '--store', file])
    expect(bad.code).toBe(2)

    // B dies holding a run. A, quiet, still maintains the store: it rescues the run, which waits.
    const held = await engine.enqueue(nap, { ms: 60_000 })
    await vi.waitFor(async () => expect((await engine.workers()).find((w) => w.id === bId)?.running).toEqual([held.id]), { timeout: 10_000 })
    b.kill('SIGKILL')
    await vi.waitFor(async () => expect(await engine.getRun(held.id)).toMatchObject({ status: 'pending', attempts: [{ workerId: bId, error: { code: 'ERR_WORKER_LOST' } }] }), { timeout: 10_000 })
    // The CLI counts a process dead after three of its own default heartbeats (30 s): age B's row by a minute.
    const db = new Database(file)
    db.prepare('UPDATE workers SET heartbeat_at = heartbeat_at - 60000 WHERE id = ?').run(bId)
    db.close()
    const listed = await runBin(['workers', 'list', '--store', file])
    expect(listed.stdout).toMatch(new RegExp(`^${aId}\\s+quiet\\s+\\S+\\s+${a.pid}\\s+0/10\\s+all\\s+\\d+ s ago\\s+quiet by ada \\d+ s ago$`, 'm'))
    expect(listed.stdout).toContain(`recently dead (no heartbeat):\n${bId}  `)
    expect(listed.stdout).toContain(`held 1 run\n  ${held.id}  nap  pending again\n`)
    const json = JSON.parse((await runBin(['workers', '--store', file, '--json'])).stdout) as { live: WorkerInfo[]; dead: { id: string; held: { id: string; fate: string }[] }[] }
    expect(json.live.find((w) => w.id === aId)).toMatchObject({ state: 'quiet', command: { type: 'quiet', by: 'ada' } })
    expect(json.dead).toMatchObject([{ id: bId, held: [{ id: held.id, fate: 'pending' }] }])

    const stop = await runBin(['workers', 'stop', aId, '--store', file], { env: { USER: 'ada' } })
    expect(stop.stderr).toBe(`worker ${aId}: stop requested: it stops gracefully (handlers get its grace period)\n`)
    const exit = await aDone
    expect(exit.code).toBe(0)
    expect(exit.stderr).toMatch(/stop requested by ada: stopping/)
    const table = await runBin(['workers', '--store', file])
    expect(table.stdout).not.toContain(aId)
    // Nobody serves nap now: the list and the run say so, with when a worker serving it was last seen (A, stopped).
    expect(table.stdout).toMatch(/\nwaiting for a worker:\nno live worker serves task "nap" on queue "default" \(last seen \d{4}-\d\d-\d\dT[\d:.]+Z\): 1 pending\n$/)
    const shown = await runBin(['runs', 'show', held.id, '--store', file])
    expect(shown.stderr).toMatch(new RegExp(`^run ${held.id}: no live worker serves task "nap" on queue "default" \\(last seen \\d{4}-`))
  })
})

describe('taskengine serve stopped by an operator', () => {
  it('stops its worker gracefully on workers stop <id>, closes the server and exits 0', async () => {
    const file = join(dir, 'serve.db')
    const child = startCli(['serve', '--port', '0', '--store', file, '--tasks', TASKS, '--concurrency', '2'])
    children.push(child)
    const done = finished(child)
    await waitForOutput(child.stderr, 'metrics')
    const engine = createEngine({ tasks: [nap], store: sqliteStore(file), onError: () => undefined })
    engines.push(engine)
    await vi.waitFor(async () => expect((await engine.workers()).some((w) => w.pid === child.pid && w.concurrency === 2)).toBe(true), { timeout: 10_000 })
    const id = (await engine.workers()).find((w) => w.pid === child.pid && w.concurrency === 2)!.id
    // The server's default heartbeat is 10 s: the stop arrives within one.
    const stop = await runBin(['workers', 'stop', id, '--store', file], { env: { USER: 'ops' } })
    expect(stop.code).toBe(0)
    const exit = await done
    expect(exit.code).toBe(0)
    expect(exit.stderr).toMatch(/taskengine: stop requested by ops: stopping \(grace 10000 ms/)
    expect(exit.stderr).toMatch(/taskengine: stopped/)
  }, 30_000)
})

await describePostgres('worker commands across processes on PostgreSQL', ({ open, newSchema, storeUrl }) => {
  it('quiets, resumes and stops a taskengine worker process through another process\'s API, each within a heartbeat', async () => {
    const schema = newSchema()
    await steerWorkerProcess(storeUrl(schema), open({ schema }))
  })
})
