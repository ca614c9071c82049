/**
 * Live changes to limits across engines sharing a store (issue 12): one engine pauses a queue or
 * a task, or changes a limit, and another engine's worker applies it at its next heartbeat (on
 * PostgreSQL at once, through the settings signal). Paused runs wait, pending, while others run;
 * resumed, they run. The change outlasts the engine that made it: a new engine reads it.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { createEngine, defineTask, type Engine, type EngineOptions } from '../src/index.js'
import { sqliteStore } from '../src/store/sqlite/store.js'
import { describePostgres } from './helpers/postgres.js'

const dir = mkdtempSync(join(tmpdir(), 'taskengine-flow-live-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0

const mailer = defineTask({ key: 'mailer', queue: 'mail', run: () => 'sent' })
const other = defineTask({ key: 'other', run: () => 'done' })
const HEARTBEAT_MS = 200

const engines: Engine[] = []
afterEach(async () => {
  for (const engine of engines.splice(0).reverse()) await engine.close()
})

function open(store: NonNullable<EngineOptions['store']>): Engine {
  const engine = createEngine({ tasks: [mailer, other], store, heartbeatMs: HEARTBEAT_MS, pollIntervalMs: 50, retention: false })
  engines.push(engine)
  return engine
}

/** Waits until `engine` (its worker's view of the shared settings) sees the queue paused or not. */
async function seesQueue(engine: Engine, name: string, paused: boolean): Promise<void> {
  await vi.waitFor(async () => expect((await engine.queues()).find((q) => q.name === name)?.paused).toBe(paused), { timeout: 10 * HEARTBEAT_MS, interval: 20 })
}

async function proveLive(openStore: () => NonNullable<EngineOptions['store']>): Promise<void> {
  const operator = open(openStore())
  const worker = open(openStore())
  await worker.start({ concurrency: 4 })

  // Paused on one engine; the other's worker sees it within its heartbeats.
  expect(await operator.updateQueue('mail', { paused: true })).toEqual({ concurrency: null, rate: null, paused: true })
  await seesQueue(worker, 'mail', true)
  const held = await operator.enqueue(mailer, {})
  const after = await operator.enqueue(other, {})
  // A run enqueued after the paused one finished; the paused one still waits.
  await vi.waitFor(async () => expect((await operator.getRun(after.id))?.status).toBe('succeeded'), { timeout: 10_000, interval: 20 })
  expect((await operator.getRun(held.id))?.status).toBe('pending')
  expect((await operator.stats()).flow.queues.find((q) => q.name === 'mail')).toMatchObject({ paused: true, pending: 1 })

  // Resumed: the held run runs.
  await operator.updateQueue('mail', { paused: false })
  await vi.waitFor(async () => expect((await operator.getRun(held.id))?.status).toBe('succeeded'), { timeout: 10_000, interval: 20 })

  // A task paused the same way; its queue goes on for other tasks.
  expect(await operator.updateTask('other', { paused: true, concurrency: 2 })).toEqual({ concurrency: 2, rate: null, groupConcurrency: null, paused: true })
  await vi.waitFor(async () => expect((await worker.stats()).flow.tasks.find((t) => t.task === 'other')?.paused).toBe(true), { timeout: 10 * HEARTBEAT_MS, interval: 20 })
  const heldTask = await operator.enqueue(other, {})
  const mail = await operator.enqueue(mailer, {})
  await vi.waitFor(async () => expect((await operator.getRun(mail.id))?.status).toBe('succeeded'), { timeout: 10_000, interval: 20 })
  expect((await operator.getRun(heldTask.id))?.status).toBe('pending')

  // The change is stored: an engine opened now reads it (and code limits under it stay as given).
  const late = open(openStore())
  expect((await late.stats()).flow.tasks).toEqual([expect.objectContaining({ task: 'other', paused: true, concurrency: 2, pending: 1 })])
  await late.updateTask('other', { paused: false, concurrency: null })
  await vi.waitFor(async () => expect((await operator.getRun(heldTask.id))?.status).toBe('succeeded'), { timeout: 10_000, interval: 20 })
  expect((await operator.stats()).flow.tasks).toEqual([])

  // Bad changes name the field and change nothing.
  await expect(operator.updateQueue('mail', { concurrency: 0 })).rejects.toThrow('concurrency must be an integer from 1 to 1000000, got 0')
  await expect(operator.updateQueue('nowhere', { paused: true })).rejects.toThrow('unknown queue "nowhere"')
  await expect(operator.updateTask('missing', { paused: true })).rejects.toThrow('unknown task "missing"')
  expect((await operator.queues()).find((q) => q.name === 'mail')).toMatchObject({ concurrency: null, paused: false })
}

describe('live limits across engines sharing one SQLite file', () => {
  it('a pause, a resume and a limit made on one engine hold on another engine’s worker within its heartbeats, and are stored', { timeout: 60_000 }, async () => {
    const path = join(dir, `live-${++n}.db`)
    await proveLive(() => sqliteStore(path))
  })
})

await describePostgres('live limits across engines sharing one PostgreSQL schema', (kit) => {
  it('a pause, a resume and a limit made on one engine hold on another engine’s worker, and are stored', { timeout: 60_000 }, async () => {
    const schema = kit.newSchema()
    await proveLive(() => kit.open({ schema }))
  })
})
