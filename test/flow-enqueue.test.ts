/**
 * Debounce and throttle under 20 concurrent enqueuers in real processes (issue 12): five
 * processes (test/fixtures/flow-enqueuer.mjs), each with four callers, share one store (a SQLite
 * file, or a PostgreSQL schema with a connection per caller) and enqueue with the same keys, all
 * at once (they wait at a gate, a file the test creates once every process is ready). Debounce
 * leaves exactly one pending run per key, which every caller got back; throttle makes exactly one
 * run per key and window, which every caller got back, and one more in the next window (the
 * enqueuers' clocks run a minute ahead). Also: the options through the HTTP API and the CLI.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createEngine, type AnyTask, type Engine, type EngineOptions } from '../src/index.js'
import { createServer } from '../src/server/index.js'
import { sqliteStore } from '../src/store/sqlite/store.js'
import { FIXTURES, ROOT, finished, runInProcess, waitForOutput, type CliRun } from './helpers/cli.js'
import { describePostgres } from './helpers/postgres.js'

const ENQUEUER = join(FIXTURES, 'flow-enqueuer.mjs')
const TASKS = join(FIXTURES, 'flow-tasks.mjs')
const PROCESSES = 5
const CALLERS = 4
const KEYS = ['shop-1', 'shop-2', 'shop-3']
const WINDOW_MS = 60_000

const dir = mkdtempSync(join(tmpdir(), 'taskengine-flow-enqueue-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0

const { free } = (await import(TASKS)) as { free: AnyTask }

const children: ReturnType<typeof spawn>[] = []
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined)
})

/** One enqueue a caller made: the key and the run it got back. */
interface Enqueued {
  readonly key: string
  readonly id: string
  readonly args: Record<string, unknown>
}

/** What one burst of enqueuers is told (see flow-enqueuer.mjs). */
interface Burst {
  readonly option: 'debounce' | 'throttle'
  /** Their label, to find their runs. */
  readonly name: string
  readonly offsetMs?: number
}

/**
 * Starts {@link PROCESSES} enqueuers on `store`, waits until each is ready, opens their gate so
 * that all {@link PROCESSES} × {@link CALLERS} callers enqueue at once, and returns what each got back.
 */
async function burst(store: string, { option, name, offsetMs = 0 }: Burst): Promise<Enqueued[]> {
  const gate = join(dir, `gate-${++n}`)
  const config = { gate, option, keys: KEYS, callers: CALLERS, ms: WINDOW_MS, offsetMs, name }
  const procs = Array.from({ length: PROCESSES }, () => {
    const child = spawn(process.execPath, [ENQUEUER, store], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', FLOW_ENQUEUE: JSON.stringify(config) } })
    children.push(child)
    const done = finished(child)
    const ready = Promise.race([
      waitForOutput(child.stderr, 'ready'),
      done.then((exit) => {
        throw new Error(`enqueuer ${child.pid} exited before it was ready (code ${exit.code}):\n${exit.stderr}`)
      }),
    ])
    ready.catch(() => undefined)
    return { done, ready }
  })
  await Promise.all(procs.map((p) => p.ready))
  writeFileSync(gate, '')
  const exits: CliRun[] = await Promise.all(procs.map((p) => p.done))
  for (const exit of exits) expect(exit.code, exit.stderr).toBe(0)
  const lines = exits.flatMap((exit) => exit.stdout.trim().split('\n'))
  expect(lines).toHaveLength(PROCESSES * CALLERS * KEYS.length)
  return lines.map((line) => JSON.parse(line) as Enqueued)
}

/** The run id every caller got back for each key (fails when callers of one key got different runs). */
function onePerKey(enqueued: readonly Enqueued[]): Map<string, string> {
  const ids = new Map<string, Set<string>>()
  for (const e of enqueued) ids.set(e.key, (ids.get(e.key) ?? new Set()).add(e.id))
  expect([...ids.keys()].sort()).toEqual(KEYS)
  for (const [key, set] of ids) expect(set.size, `callers of key ${key} got ${set.size} different runs`).toBe(1)
  return new Map([...ids].map(([key, set]) => [key, [...set][0]!]))
}

/** The proof on one store, which `engine` reads and the enqueuers open at `store`. */
async function proveDebounceAndThrottle(engine: Engine, store: string): Promise<void> {
  // Debounce: one pending run per key, holding the arguments of one of the callers.
  const debounced = await burst(store, { option: 'debounce', name: 'debounce' })
  const byKey = onePerKey(debounced)
  const pending = (await engine.listRuns({ label: 'debounce', pageSize: 100 })).data
  expect(pending.map((r) => r.status)).toEqual(KEYS.map(() => 'pending'))
  expect(new Set(pending.map((r) => r.id))).toEqual(new Set(byKey.values()))
  for (const run of pending) {
    const key = [...byKey].find(([, id]) => id === run.id)![0]
    expect(debounced.filter((e) => e.key === key).map((e) => JSON.stringify(e.args))).toContain(JSON.stringify(run.args))
    // Started a window after the last enqueue (no earlier than the first run's creation + the window).
    expect(run.runAt.getTime()).toBeGreaterThanOrEqual(run.createdAt.getTime() + WINDOW_MS)
  }

  // Throttle: one run per key in the window; one more per key in the next.
  const first = onePerKey(await burst(store, { option: 'throttle', name: 'throttle' }))
  expect((await engine.listRuns({ label: 'throttle', pageSize: 100 })).data.map((r) => r.id).sort()).toEqual([...first.values()].sort())
  const next = onePerKey(await burst(store, { option: 'throttle', name: 'throttle-next', offsetMs: WINDOW_MS }))
  for (const key of KEYS) expect(next.get(key)).not.toBe(first.get(key))
  expect((await engine.listRuns({ label: 'throttle-next', pageSize: 100 })).data.map((r) => r.id).sort()).toEqual([...next.values()].sort())
  expect((await engine.listRuns({ task: 'free', pageSize: 1 })).total).toBe(KEYS.length * 3)
}

function producer(store: NonNullable<EngineOptions['store']>): Engine {
  const engine = createEngine({ tasks: [free], store })
  cleanups.push(() => engine.close())
  return engine
}

describe('debounce and throttle across processes sharing one SQLite file', () => {
  it(`Debounce and throttle under ${PROCESSES * CALLERS} concurrent enqueuers: exactly one pending run per key`, { timeout: 60_000 }, async () => {
    const path = join(dir, `flow-${++n}.db`)
    const engine = producer(sqliteStore(path))
    await engine.stats() // migrated before the enqueuers open it
    await proveDebounceAndThrottle(engine, path)
  })
})

await describePostgres('debounce and throttle across processes sharing one PostgreSQL schema', (kit) => {
  it(`Debounce and throttle under ${PROCESSES * CALLERS} concurrent enqueuers: exactly one pending run per key`, { timeout: 60_000 }, async () => {
    const schema = kit.newSchema()
    const engine = producer(kit.open({ schema }))
    await engine.stats()
    await proveDebounceAndThrottle(engine, kit.storeUrl(schema))
  })
})

describe('groupKey, debounce and throttle through the HTTP API and the CLI', () => {
  it('POST /api/runs takes them, checks them with the engine, and answers with the run the key gave', async () => {
    const engine = createEngine({ tasks: [free] })
    cleanups.push(() => engine.close())
    const server = createServer(engine, { onError: () => undefined })
    cleanups.push(async () => server.close())
    const post = async (options: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
      const response = await server.app.request('/api/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: 'free', args: { counter: 'c' }, options }) })
      return { status: response.status, body: (await response.json()) as Record<string, unknown> }
    }
    const first = await post({ groupKey: 't-42', debounce: { key: 'shop', ms: 5000 } })
    expect(first).toMatchObject({ status: 201, body: { groupKey: 't-42', status: 'pending' } })
    expect((await post({ debounce: { key: 'shop', ms: 5000 }, label: 'again' })).body).toMatchObject({ id: first.body.id, label: 'again' })
    const held = await post({ throttle: { key: 'u', ms: 60_000 } })
    expect((await post({ throttle: { key: 'u', ms: 60_000 } })).body.id).toBe(held.body.id)
    const bad = await post({ debounce: { key: 'shop', ms: 0 }, throttle: { key: '', ms: 5 }, groupKey: '' })
    expect(bad.status).toBe(400)
    const fields = (bad.body.error as { fields: { key: string }[] }).fields.map((f) => f.key)
    expect(fields).toEqual(['options.groupKey', 'options.debounce.ms', 'options.throttle.key', 'options.debounce'])
    expect((await engine.listRuns({})).total).toBe(2)
  })

  it('taskengine enqueue --group-key, --debounce KEY:MS, --throttle KEY:MS', async () => {
    const store = join(dir, `cli-${++n}.db`)
    const enqueue = (...flags: string[]) => runInProcess(['enqueue', 'free', '--tasks', TASKS, '--store', store, '--counter', 'c', ...flags])
    const first = await enqueue('--group-key', 'g', '--debounce', 'shop:5000')
    expect(first.code, first.stderr).toBe(0)
    const run = JSON.parse(first.stdout) as { id: string; groupKey: string }
    expect(run.groupKey).toBe('g')
    const again = await enqueue('--debounce', 'shop:5000')
    expect((JSON.parse(again.stdout) as { id: string }).id).toBe(run.id)
    const throttled = await enqueue('--throttle', 'a:b:60000')
    expect((JSON.parse((await enqueue('--throttle', 'a:b:60000')).stdout) as { id: string }).id).toBe((JSON.parse(throttled.stdout) as { id: string }).id)
    const bad = await enqueue('--debounce', 'shop')
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain('--debounce: expected KEY:MS (a key, a colon, whole milliseconds; e.g. shop:5000), got "shop"')
  })
})
