/**
 * Following a bulk job on the live stream (`{"type":"subscribe","bulkId":…}`) over a real
 * socket: a `bulk` message per saved batch and one at the end, for a job worked by this server's
 * engine and for one worked by another engine sharing the SQLite file; who may follow which job;
 * unknown ids and bad subscriptions.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { BULK_BATCH } from '../../src/engine/durable/bulk-jobs.js'
import { createEngine, defineTask, type Engine } from '../../src/index.js'
import { serve, type AuthResolver, type Identity } from '../../src/server/index.js'
import { sqliteStore } from '../../src/store/sqlite/store.js'
import type { BulkJob } from '../../src/store/types.js'
import { WsClient } from '../helpers/ws-client.js'

const idle = defineTask({ key: 'idle', run: () => 'ok' })

const dir = mkdtempSync(join(tmpdir(), 'taskengine-stream-bulk-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const users: Record<string, Identity> = {
  ada: { id: 'ada', permissions: ['runs:read:own', 'runs:write'] },
  bob: { id: 'bob', permissions: ['runs:read:own', 'runs:write'] },
  ops: { id: 'ops', permissions: ['runs:read', 'runs:write'] },
}
const auth: AuthResolver = (request) => users[request.headers.get('x-user') ?? ''] ?? null

/** Engines on one SQLite file (as two processes sharing it would be). */
function engineOn(path: string): Engine {
  const engine = createEngine({ tasks: [idle], store: sqliteStore(path), pollIntervalMs: 20, onError: () => undefined })
  cleanups.push(() => engine.close({ graceMs: 0 }))
  return engine
}

async function setup() {
  const path = join(dir, `bulk-${++n}.db`)
  const engine = engineOn(path)
  const running = await serve(engine, { port: 0, auth, streamPollIntervalMs: 20, onError: () => undefined })
  cleanups.push(() => running.close())
  const connect = async (user: string): Promise<WsClient> => {
    const client = new WsClient(`${running.url.replace('http', 'ws')}/api/stream`, { 'x-user': user })
    cleanups.push(() => client.socket.terminate())
    await client.opened
    await vi.waitFor(() => expect(client.of('hello')).toHaveLength(1))
    return client
  }
  return { path, engine, connect }
}

/** Runs due in a year (nobody executes them), `count` of them, made by `createdBy`. */
async function pendingRuns(engine: Engine, count: number, createdBy: string): Promise<void> {
  await engine.enqueueMany(idle, Array.from({ length: count }, () => ({})), { delayMs: 365 * 86_400_000, createdBy })
}

/** A cancel job over `createdBy`'s runs, stored and not worked yet (as if made by another process). */
async function storedJob(engine: Engine, createdBy: string): Promise<BulkJob> {
  const store = await engine.store()
  const bound = await store.bulkBound({ createdBy })
  return store.insertBulkJob({ id: `bulk-${createdBy}-${++n}`, action: 'cancel', filter: { createdBy }, upTo: bound.upTo, total: bound.count, createdBy, now: Date.now() })
}

const jobs = (client: WsClient, id: string): BulkJob[] => client.of('bulk').filter((m) => m.id === id).map((m) => m.job as BulkJob)

/** Every batch boundary after the first message shows, counts only grow, and exactly the last message has ended. */
function expectBatchByBatch(seen: BulkJob[], total: number): void {
  const handled = seen.map((job) => job.done + job.skipped)
  expect(handled).toEqual([...handled].sort((a, b) => a - b))
  for (let k = BULK_BATCH; k < total; k += BULK_BATCH) if (k > handled[0]!) expect(handled, `batch ending at ${k}`).toContain(k)
  expect(seen.map((job) => job.state).filter((state) => state !== 'running')).toEqual(['finished'])
  expect(seen.at(-1)).toMatchObject({ state: 'finished', done: total, skipped: 0, total })
}

describe('following a bulk job on the stream', () => {
  it('sends the job, then a message per saved batch and one when it ends, for a job worked by this engine', async () => {
    const { engine, connect } = await setup()
    const total = 2 * BULK_BATCH + 200
    await pendingRuns(engine, total, 'ops')
    const job = await storedJob(engine, 'ops')
    const ops = await connect('ops')
    ops.send({ type: 'subscribe', id: 'b1', bulkId: job.id })
    await vi.waitFor(() => expect(jobs(ops, 'b1')).toHaveLength(1))
    expect(ops.of('subscribed')).toMatchObject([{ id: 'b1' }])
    expect(jobs(ops, 'b1')[0]).toMatchObject({ id: job.id, state: 'running', done: 0, total })
    // This engine picks it up now (as a server does at start for jobs others left).
    await engine.bulk.resume()
    await vi.waitFor(() => expect(jobs(ops, 'b1').at(-1)?.state).toBe('finished'), { timeout: 20_000 })
    const seen = jobs(ops, 'b1')
    expectBatchByBatch(seen, total)
    // Pushed as saved: one message per batch, no more (0, 500, 1000, 1200 running, 1200 finished).
    expect(seen.map((j) => j.done)).toEqual([0, BULK_BATCH, 2 * BULK_BATCH, total, total])
    // Run events are not sent to a bulk subscription.
    expect(ops.events('b1')).toEqual([])
  })

  it('follows a job worked by another engine sharing the store, to its end', async () => {
    const { path, engine, connect } = await setup()
    // This server's engine never takes the job: only the other one works it.
    await engine.bulk.stop()
    const other = engineOn(path)
    const total = 3 * BULK_BATCH
    await pendingRuns(other, total, 'ops')
    const job = await storedJob(other, 'ops')
    const ops = await connect('ops')
    ops.send({ type: 'subscribe', id: 'far', bulkId: job.id })
    await vi.waitFor(() => expect(jobs(ops, 'far')).toHaveLength(1))
    await other.bulk.resume()
    await vi.waitFor(() => expect(jobs(ops, 'far').at(-1)?.state).toBe('finished'), { timeout: 20_000 })
    expect(engine.bulk.working(job.id)).toBe(false)
    const seen = jobs(ops, 'far')
    expect(seen[0]).toMatchObject({ state: 'running', done: 0 })
    expect(seen.length).toBeGreaterThanOrEqual(2)
    const handled = seen.map((j) => j.done + j.skipped)
    expect(handled).toEqual([...handled].sort((a, b) => a - b))
    expect(seen.at(-1)).toMatchObject({ state: 'finished', done: total, total, owner: null })
    expect(seen.filter((j) => j.state !== 'running')).toHaveLength(1)
  })

  it('lets an own-runs caller follow only jobs it made, and tells an unknown id apart from nothing', async () => {
    const { engine, connect } = await setup()
    await engine.bulk.stop()
    await pendingRuns(engine, 3, 'bob')
    await pendingRuns(engine, 2, 'ada')
    const bobs = await storedJob(engine, 'bob')
    const adas = await storedJob(engine, 'ada')
    const ada = await connect('ada')
    const ops = await connect('ops')
    ada.send({ type: 'subscribe', id: 'theirs', bulkId: bobs.id })
    ada.send({ type: 'subscribe', id: 'mine', bulkId: adas.id })
    ada.send({ type: 'subscribe', id: 'nope', bulkId: 'no-such-job' })
    ops.send({ type: 'subscribe', id: 'any', bulkId: bobs.id })
    ops.send({ type: 'subscribe', id: 'nope', bulkId: 'no-such-job' })
    await vi.waitFor(() => expect(ada.of('error')).toHaveLength(2))
    await vi.waitFor(() => expect(ops.of('error')).toHaveLength(1))
    // Someone else's job is as unknown as one that never was.
    expect(ada.of('error')).toEqual(
      expect.arrayContaining([
        { type: 'error', id: 'theirs', message: `subscribe: unknown bulk job "${bobs.id}"` },
        { type: 'error', id: 'nope', message: 'subscribe: unknown bulk job "no-such-job"' },
      ]),
    )
    expect(ops.of('error')).toEqual([{ type: 'error', id: 'nope', message: 'subscribe: unknown bulk job "no-such-job"' }])
    await vi.waitFor(() => expect(jobs(ada, 'mine')).toHaveLength(1))
    await vi.waitFor(() => expect(jobs(ops, 'any')).toHaveLength(1))
    expect(ada.of('subscribed').map((m) => m.id)).toEqual(['mine'])
    // Both jobs run to their end: Ada hears of hers only, the operator of Bob's.
    await engine.bulk.resume()
    await vi.waitFor(() => expect(jobs(ada, 'mine').at(-1)).toMatchObject({ state: 'finished', done: 2 }))
    await vi.waitFor(() => expect(jobs(ops, 'any').at(-1)).toMatchObject({ state: 'finished', done: 3 }))
    expect(ada.messages.filter((m) => m.id === 'theirs' || m.id === 'nope').map((m) => m.type)).toEqual(['error', 'error'])
    expect(new Set(ada.of('bulk').map((m) => (m.job as BulkJob).id))).toEqual(new Set([adas.id]))
  })

  it('answers a malformed bulk subscription with an error naming what is wrong, and stays open', async () => {
    const { connect } = await setup()
    const ops = await connect('ops')
    ops.send({ type: 'subscribe', id: 'b', bulkId: 42 })
    ops.send({ type: 'subscribe', id: 'c', bulkId: 'x', filter: { task: 'idle' } })
    ops.send({ type: 'subscribe', id: 'd', bulkId: 'x', after: 3 })
    await vi.waitFor(() => expect(ops.of('error')).toHaveLength(3))
    expect(ops.of('error')).toEqual([
      { type: 'error', id: 'b', message: 'subscribe: "bulkId" must be a non-empty string of at most 100 characters, got 42 (number)' },
      { type: 'error', id: 'c', message: 'subscribe: "filter" does not go with "bulkId" (a bulk job\'s subscription takes no run filter or position)' },
      { type: 'error', id: 'd', message: 'subscribe: "after" does not go with "bulkId" (a bulk job\'s subscription takes no run filter or position)' },
    ])
    ops.send({ type: 'ping' })
    await vi.waitFor(() => expect(ops.of('pong')).toHaveLength(1))
  })
})
