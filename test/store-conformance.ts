/**
 * The Store conformance suite: the behaviour every backend (SQLite, PostgreSQL) must have.
 * Call `describeStoreConformance(name, open)` from a backend's test file; `open` gives a fresh,
 * empty store for each test.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ConflictError } from '../src/errors.js'
import { newId } from '../src/engine/ids.js'
import { rescueExpiredRuns } from '../src/engine/durable/rescuer.js'
import { TaskRegistry } from '../src/task/registry.js'
import type { Attempt, ClaimRequest, ClaimedRun, Completion, NewRun, Run, Store } from '../src/store/types.js'

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0)

/** A new run row with sensible defaults. */
export function newRun(overrides: Partial<NewRun> = {}): NewRun {
  return {
    id: newId(),
    task: 'work',
    label: 'test',
    queue: 'default',
    priority: 0,
    args: '{"n":1}',
    argsHash: null,
    tags: [],
    category: 'user',
    createdBy: null,
    uniqueKey: null,
    parentId: null,
    poolId: null,
    scheduleId: null,
    maxAttempts: 3,
    backoff: { type: 'fixed', delayMs: 1000 },
    timeoutMs: null,
    runAt: T0,
    notAfter: null,
    createdAt: T0,
    ...overrides,
  }
}

function claimRequest(overrides: Partial<ClaimRequest> = {}): ClaimRequest {
  return {
    workerId: 'worker-a',
    limit: 10,
    now: T0,
    leaseUntil: T0 + 30_000,
    tasks: ['work', 'other'],
    queues: undefined,
    taskCaps: new Map(),
    queueCaps: new Map(),
    ...overrides,
  }
}

type RunRef = Pick<ClaimedRun, 'id' | 'tags' | 'attempt'>

function attempt(run: RunRef, outcome: Attempt['outcome'] = 'succeeded'): Attempt {
  return { number: run.attempt, workerId: 'worker-a', startedAt: new Date(T0), finishedAt: new Date(T0 + 5), outcome, error: null }
}

/** A completion; an override of `undefined` removes that property (e.g. `data` for a failure). */
function completion(run: RunRef, token: string, overrides: { [K in keyof Completion]?: Completion[K] | undefined } = {}): Completion {
  const merged: Record<string, unknown> = { id: run.id, token, status: 'succeeded', finishedAt: T0 + 5, data: '{"ok":true}', error: null, progress: null, tags: run.tags, attempt: attempt(run), ...overrides }
  for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key]
  return merged as unknown as Completion
}

const EMPTY = { logs: [], progress: [], waits: [], completions: [] }

/** The engine's rescue of every lease expired before `now`, deciding with each run's stored backoff. */
function rescueAll(store: Store, now: number): Promise<Run[]> {
  return rescueExpiredRuns(store, new TaskRegistry(), now)
}

export function describeStoreConformance(name: string, open: () => Promise<Store>): void {
  describe(`Store conformance: ${name}`, () => {
    let store: Store

    beforeEach(async () => {
      store = await open()
      await store.ready()
    })

    afterEach(async () => {
      await store.close()
    })

    async function claimOne(overrides: Partial<ClaimRequest> = {}): Promise<{ run: ClaimedRun; token: string }> {
      const [claimed] = await store.claimRuns(claimRequest({ limit: 1, ...overrides }))
      if (claimed === undefined) throw new Error('nothing claimed')
      return { run: claimed, token: claimed.token }
    }

    describe('insert and read', () => {
      it('stores runs and reads them back', async () => {
        const row = newRun({ tags: ['a', 'b'], createdBy: 'ada', uniqueKey: null, notAfter: T0 + 60_000, timeoutMs: 500, priority: 3, category: 'system' })
        const [outcome] = await store.insertRuns([row])
        expect(outcome?.created).toBe(true)
        const run = await store.getRun(row.id)
        expect(run).toMatchObject({
          id: row.id,
          task: 'work',
          label: 'test',
          queue: 'default',
          priority: 3,
          status: 'pending',
          args: { n: 1 },
          tags: ['a', 'b'],
          category: 'system',
          createdBy: 'ada',
          attempt: 0,
          attemptBase: 0,
          maxAttempts: 3,
          backoff: { type: 'fixed', delayMs: 1000 },
          timeoutMs: 500,
          runAt: new Date(T0),
          notAfter: new Date(T0 + 60_000),
          createdAt: new Date(T0),
          startedAt: null,
          finishedAt: null,
          attempts: [],
          logCount: 0,
          deletedAt: null,
          fireKey: null,
        })
        expect(outcome?.run).toEqual(run)
        expect(await store.getRun('no-such-id')).toBeUndefined()
      })

      it('inserts a large batch in one call', async () => {
        const rows = Array.from({ length: 5000 }, (_, i) => newRun({ args: JSON.stringify({ i }) }))
        const outcomes = await store.insertRuns(rows)
        expect(outcomes.map((o) => o.run.id)).toEqual(rows.map((r) => r.id))
        expect((await store.listRuns({ pageSize: 1 })).total).toBe(5000)
      })

      it('inserts a batch whose rows differ in every column', async () => {
        const rows = Array.from({ length: 30 }, (_, i) =>
          newRun({ priority: i % 12, queue: `q${i % 3}`, label: `l${i}`, tags: i % 2 === 0 ? ['even'] : [], runAt: T0 + i, createdBy: i % 5 === 0 ? 'ada' : null, maxAttempts: 1 + (i % 4) }),
        )
        await store.insertRuns(rows)
        for (const row of rows) {
          expect(await store.getRun(row.id)).toMatchObject({ priority: row.priority, queue: row.queue, label: row.label, tags: row.tags, runAt: new Date(row.runAt), createdBy: row.createdBy, maxAttempts: row.maxAttempts })
        }
      })

      it('returns the active run holding a unique key instead of adding another, also within one batch', async () => {
        const first = newRun({ uniqueKey: 'k1' })
        const [a] = await store.insertRuns([first])
        const [b, c] = await store.insertRuns([newRun({ uniqueKey: 'k1' }), newRun({ uniqueKey: 'k2' })])
        expect(a?.created).toBe(true)
        expect(b).toMatchObject({ created: false, run: { id: first.id } })
        expect(c?.created).toBe(true)
        const [d, e] = await store.insertRuns([newRun({ uniqueKey: 'k3' }), newRun({ uniqueKey: 'k3' })])
        expect(d?.created).toBe(true)
        expect(e).toMatchObject({ created: false, run: { id: d?.run.id } })
        // Once the holder has finished, the key is free again.
        const { token } = await claimOne()
        await store.writeBatch({ ...EMPTY, completions: [completion((await store.getRun(first.id))!, token)] })
        const [again] = await store.insertRuns([newRun({ uniqueKey: 'k1' })])
        expect(again?.created).toBe(true)
      })

      it('finds a recent success with the same arguments for reuse', async () => {
        const row = newRun({ argsHash: 'h1' })
        await store.insertRuns([row])
        expect(await store.findReusable('work', 'h1', T0 - 1000)).toBeUndefined()
        const { run, token } = await claimOne()
        await store.writeBatch({ ...EMPTY, completions: [completion(run, token, { finishedAt: T0 + 100 })] })
        expect((await store.findReusable('work', 'h1', T0))?.id).toBe(row.id)
        expect(await store.findReusable('work', 'h1', T0 + 200)).toBeUndefined()
        expect(await store.findReusable('work', 'h2', T0)).toBeUndefined()
      })

      it('wakes listeners when runs arrive', async () => {
        let woken = 0
        const off = store.onRunsAvailable(() => woken++)
        await store.insertRuns([newRun()])
        await vi.waitFor(() => expect(woken).toBeGreaterThan(0))
        off()
      })
    })

    describe('claim', () => {
      it('takes due runs by priority then time, marks them running with a fresh token and attempt', async () => {
        const low = newRun({ priority: 0, runAt: T0 - 100 })
        const high = newRun({ priority: 5, runAt: T0 })
        const later = newRun({ priority: 9, runAt: T0 + 1000 })
        await store.insertRuns([low, high, later])
        // One at a time, the order shows: priority first, then time.
        const first = await store.claimRuns(claimRequest({ limit: 1 }))
        expect(first.map((c) => c.id)).toEqual([high.id])
        const claimed = [...first, ...(await store.claimRuns(claimRequest()))]
        expect(claimed.map((c) => c.id)).toEqual([high.id, low.id])
        for (const c of claimed) {
          // With attempts left, the claim counts the attempt as started (see the starts tests).
          expect(await store.getRun(c.id)).toMatchObject({ status: 'running', attempt: 1, workerId: 'worker-a', startedAt: new Date(T0), leaseExpiresAt: new Date(T0 + 30_000) })
          expect(c.token).toMatch(/\S{8,}/)
        }
        // A later claim gets another token; a claim hands over what executing needs.
        await store.insertRuns([newRun({ tags: ['x'], timeoutMs: 250 })])
        const next = await claimOne()
        expect(next.run).toMatchObject({ task: 'work', label: 'test', queue: 'default', args: { n: 1 }, tags: ['x'], attempt: 1, attemptBase: 0, maxAttempts: 3, timeoutMs: 250, logCount: 0, poolId: null, started: true })
        expect(new Set([first[0]?.token, claimed[1]?.token, next.token]).size).toBe(3)
        expect(await store.claimRuns(claimRequest())).toEqual([])
        expect((await store.claimRuns(claimRequest({ now: T0 + 1000 }))).map((c) => c.id)).toEqual([later.id])
      })

      it('takes only the tasks and queues asked for, up to the limit', async () => {
        await store.insertRuns([newRun({ task: 'work' }), newRun({ task: 'unknown' }), newRun({ queue: 'mail' }), newRun({ queue: 'mail' })])
        expect(await store.claimRuns(claimRequest({ tasks: ['nothing'] }))).toEqual([])
        const mail = await store.claimRuns(claimRequest({ queues: ['mail'], limit: 1 }))
        expect(mail.map((c) => c.queue)).toEqual(['mail'])
        const rest = await store.claimRuns(claimRequest())
        expect(rest.map((c) => [c.task, c.queue]).sort()).toEqual([
          ['work', 'default'],
          ['work', 'mail'],
        ])
      })

      it('never claims an expired run', async () => {
        await store.insertRuns([newRun({ notAfter: T0 - 1 })])
        expect(await store.claimRuns(claimRequest())).toEqual([])
      })

      it('respects per-task and per-queue limits without starving other tasks', async () => {
        const capped = Array.from({ length: 6 }, () => newRun({ task: 'work', priority: 5 }))
        const others = Array.from({ length: 3 }, () => newRun({ task: 'other' }))
        await store.insertRuns([...capped, ...others])
        const claimed = await store.claimRuns(claimRequest({ limit: 5, taskCaps: new Map([['work', 2]]) }))
        const byTask = claimed.reduce<Record<string, number>>((acc, c) => ({ ...acc, [c.task]: (acc[c.task] ?? 0) + 1 }), {})
        expect(byTask).toEqual({ work: 2, other: 3 })
        await store.insertRuns([newRun({ task: 'other', queue: 'slow' }), newRun({ task: 'other', queue: 'slow' }), newRun({ task: 'other', queue: 'fast' })])
        const queued = await store.claimRuns(claimRequest({ limit: 3, tasks: ['other'], queueCaps: new Map([['slow', 1]]) }))
        expect(queued.map((c) => c.queue).sort()).toEqual(['fast', 'slow'])
      })

      it('gives each run to one claimer only', async () => {
        await store.insertRuns(Array.from({ length: 50 }, () => newRun()))
        const results = await Promise.all(Array.from({ length: 5 }, (_, i) => store.claimRuns(claimRequest({ workerId: `w${i}`, limit: 20 }))))
        const ids = results.flat().map((c) => c.id)
        expect(ids).toHaveLength(50)
        expect(new Set(ids).size).toBe(50)
      })
    })

    describe('flush (fenced writes)', () => {
      it('appends logs, saves progress, completes; a stale token writes nothing', async () => {
        const row = newRun()
        await store.insertRuns([row])
        const { run, token } = await claimOne()
        const lines = [1, 2, 3].map((seq) => ({ runId: run.id, token, seq, time: T0 + seq, level: 'info' as const, message: `line ${seq}` }))
        const stale = { runId: run.id, token: 'stale', seq: 4, time: T0, level: 'warn' as const, message: 'stale' }
        let outcome = await store.writeBatch({ ...EMPTY, logs: [...lines, stale], progress: [{ id: run.id, token, progress: { percent: 40, message: 'going' }, tags: ['x'] }] })
        expect(outcome.fenced).toEqual([])
        expect((await store.getLogs(run.id, 0, 100)).map((l) => [l.seq, l.level, l.message])).toEqual([
          [1, 'info', 'line 1'],
          [2, 'info', 'line 2'],
          [3, 'info', 'line 3'],
        ])
        expect((await store.getLogs(run.id, 2, 100)).map((l) => l.seq)).toEqual([3])
        expect((await store.getLogs(run.id, 0, 2)).map((l) => l.seq)).toEqual([1, 2])
        expect(await store.getRun(run.id)).toMatchObject({ progress: { percent: 40, message: 'going' }, tags: ['x'], logCount: 3 })
        outcome = await store.writeBatch({ ...EMPTY, completions: [completion(run, 'stale')] })
        expect(outcome.fenced).toEqual([run.id])
        expect((await store.getRun(run.id))?.status).toBe('running')
        outcome = await store.writeBatch({ ...EMPTY, completions: [completion(run, token, { progress: { percent: 100 } })] })
        expect(outcome.fenced).toEqual([])
        expect(await store.getRun(run.id)).toMatchObject({
          status: 'succeeded',
          data: { ok: true },
          finishedAt: new Date(T0 + 5),
          progress: { percent: 100 },
          workerId: 'worker-a',
          leaseExpiresAt: null,
          attempts: [{ number: 1, workerId: 'worker-a', outcome: 'succeeded', error: null }],
        })
        // The token died with the completion.
        expect((await store.writeBatch({ ...EMPTY, completions: [completion(run, token)] })).fenced).toEqual([run.id])
      })

      it('marks waiting and back, fenced', async () => {
        await store.insertRuns([newRun()])
        const { run, token } = await claimOne()
        await store.writeBatch({ ...EMPTY, waits: [{ id: run.id, token, waiting: true }] })
        expect((await store.getRun(run.id))?.status).toBe('waiting')
        expect((await store.writeBatch({ ...EMPTY, waits: [{ id: run.id, token: 'stale', waiting: false }] })).fenced).toEqual([run.id])
        await store.writeBatch({ ...EMPTY, waits: [{ id: run.id, token, waiting: false }] })
        expect((await store.getRun(run.id))?.status).toBe('running')
      })

      it('puts a retried attempt back to pending at its time, keeping the attempt history', async () => {
        await store.insertRuns([newRun()])
        const { run, token } = await claimOne()
        const error = { message: 'boom', code: 'ERR_HANDLER', name: 'Error' }
        await store.writeBatch({ ...EMPTY, completions: [completion(run, token, { status: 'pending', runAt: T0 + 2000, error, data: undefined, attempt: { ...attempt(run, 'retry'), error } })] })
        expect(await store.getRun(run.id)).toMatchObject({ status: 'pending', runAt: new Date(T0 + 2000), finishedAt: null, error, attempts: [{ number: 1, outcome: 'retry', error }] })
        expect(await store.claimRuns(claimRequest({ now: T0 + 1999 }))).toEqual([])
        const again = await claimOne({ now: T0 + 2000 })
        expect(again.run).toMatchObject({ attempt: 2, attemptBase: 0 })
        await store.writeBatch({ ...EMPTY, completions: [completion(again.run, again.token, { status: 'pending', runAt: T0 + 2000, refundAttempt: true, data: undefined })] })
        expect(await store.getRun(run.id)).toMatchObject({ attempt: 2, attemptBase: 1 })
      })

      it('lets a cancel requested meanwhile win over a retry', async () => {
        await store.insertRuns([newRun()])
        const { run, token } = await claimOne()
        await store.cancelRuns({ ids: [run.id] }, 'stop it', T0 + 1)
        await store.writeBatch({ ...EMPTY, completions: [completion(run, token, { status: 'pending', runAt: T0, data: undefined })] })
        expect(await store.getRun(run.id)).toMatchObject({ status: 'cancelled', error: { code: 'ERR_CANCELLED' } })
      })
    })

    describe('leases', () => {
      it('renews held leases, reports cancel requests and lost leases', async () => {
        await store.insertRuns([newRun(), newRun()])
        const [a, b] = await store.claimRuns(claimRequest())
        await store.cancelRuns({ ids: [b!.id] }, 'operator', T0 + 1)
        const outcome = await store.renewLeases('worker-a', [{ id: a!.id, token: a!.token }, { id: b!.id, token: b!.token }, { id: a!.id, token: 'stale' }], T0 + 60_000)
        expect(outcome.cancelRequested).toEqual([{ id: b!.id, reason: 'operator' }])
        expect(outcome.lost).toEqual([a!.id])
        expect((await store.getRun(a!.id))?.leaseExpiresAt).toEqual(new Date(T0 + 60_000))
      })

      it('rescues expired leases: retry while attempts are left, else fail as worker lost; cancel if asked', async () => {
        await store.insertRuns([newRun({ maxAttempts: 2 }), newRun({ maxAttempts: 1 }), newRun({ maxAttempts: 5 })])
        const [retryable, spent, cancelling] = await store.claimRuns(claimRequest({ leaseUntil: T0 + 100 }))
        await store.writeBatch({ ...EMPTY, starts: [retryable!, spent!, cancelling!].map((r) => ({ id: r.id, token: r.token, startedAt: T0 })) })
        await store.cancelRuns({ ids: [cancelling!.id] }, 'operator', T0 + 1)
        expect(await store.expiredLeases(T0 + 100, 10)).toEqual([])
        expect((await store.expiredLeases(T0 + 101, 10)).map((r) => [r.id, r.token, r.workerId, r.startedAt, r.cancelRequested])).toEqual([
          [retryable!.id, retryable!.token, 'worker-a', new Date(T0), false],
          [spent!.id, spent!.token, 'worker-a', new Date(T0), false],
          [cancelling!.id, cancelling!.token, 'worker-a', new Date(T0), true],
        ])
        const rescued = await rescueAll(store, T0 + 101)
        const byId = new Map(rescued.map((r) => [r.id, r]))
        // A lost attempt waits its backoff (fixed 1 s here) like any failed attempt.
        expect(byId.get(retryable!.id)).toMatchObject({ status: 'pending', workerId: null, runAt: new Date(T0 + 1101), attempts: [{ number: 1, outcome: 'retry', error: { code: 'ERR_WORKER_LOST' } }] })
        expect(byId.get(spent!.id)).toMatchObject({ status: 'failed', finishedAt: new Date(T0 + 101), error: { code: 'ERR_WORKER_LOST', message: expect.stringContaining('worker-a') as string } })
        expect(byId.get(cancelling!.id)).toMatchObject({ status: 'cancelled', error: { code: 'ERR_CANCELLED' } })
        // The dead worker's late writes are fenced.
        expect((await store.writeBatch({ ...EMPTY, completions: [completion(retryable!, retryable!.token)] })).fenced).toEqual([retryable!.id])
        expect(await store.claimRuns(claimRequest({ now: T0 + 1100 }))).toEqual([])
        const again = await claimOne({ now: T0 + 1101 })
        expect(again.run).toMatchObject({ id: retryable!.id, attempt: 2 })
      })

      it('counts the attempt as started at the claim while attempts are left, not on the last one; starts and holds are fenced', async () => {
        await store.insertRuns([newRun({ maxAttempts: 2 }), newRun({ maxAttempts: 1 })])
        const [counted, last] = await store.claimRuns(claimRequest({ now: T0 + 2 }))
        expect([counted!.started, last!.started]).toEqual([true, false])
        expect((await store.getRun(counted!.id))?.startedAt).toEqual(new Date(T0 + 2))
        expect((await store.getRun(last!.id))?.startedAt).toBeNull()
        let outcome = await store.writeBatch({ ...EMPTY, starts: [{ id: last!.id, token: last!.token, startedAt: T0 + 7 }, { id: counted!.id, token: 'stale', startedAt: T0 + 7 }] })
        expect(outcome.fenced).toEqual([counted!.id])
        expect((await store.getRun(last!.id))?.startedAt).toEqual(new Date(T0 + 7))
        outcome = await store.writeBatch({ ...EMPTY, holds: [{ id: counted!.id, token: counted!.token }, { id: last!.id, token: 'stale' }] })
        expect(outcome.fenced).toEqual([last!.id])
        expect((await store.getRun(counted!.id))?.startedAt).toBeNull()
        // A completion records its attempt's start itself.
        outcome = await store.writeBatch({ ...EMPTY, completions: [completion(counted!, counted!.token, { attempt: { ...attempt(counted!), startedAt: new Date(T0 + 3) } })] })
        expect(outcome.fenced).toEqual([])
        expect(await store.getRun(counted!.id)).toMatchObject({ status: 'succeeded', startedAt: new Date(T0 + 3), attempts: [{ number: 1, startedAt: new Date(T0 + 3), outcome: 'succeeded' }] })
      })

      it('rescues runs that never reached their handler as if never claimed; runs whose attempt counted spend it', async () => {
        const previous = { code: 'ERR_HANDLER', message: 'first try failed', name: 'Error' }
        await store.insertRuns([newRun({ maxAttempts: 1 }), newRun({ maxAttempts: 1 }), newRun({ maxAttempts: 3 }), newRun({ maxAttempts: 3 })])
        const [started, unstarted, counted, held] = await store.claimRuns(claimRequest({ leaseUntil: T0 + 100 }))
        await store.writeBatch({ ...EMPTY, starts: [{ id: started!.id, token: started!.token, startedAt: T0 + 1 }], holds: [{ id: held!.id, token: held!.token }] })
        // The held run had failed once before: its error and history stay as they were.
        await store.writeBatch({ ...EMPTY, completions: [completion(held!, held!.token, { status: 'pending', runAt: T0 + 50, error: previous, data: undefined, attempt: attempt(held!, 'retry') })] })
        const [again] = await store.claimRuns(claimRequest({ now: T0 + 50, leaseUntil: T0 + 100 }))
        expect(again).toMatchObject({ id: held!.id, attempt: 2, started: true })
        await store.writeBatch({ ...EMPTY, holds: [{ id: again!.id, token: again!.token }] })
        const rescued = new Map((await rescueAll(store, T0 + 101)).map((r) => [r.id, r]))
        expect(rescued.get(started!.id)).toMatchObject({ status: 'failed', error: { code: 'ERR_WORKER_LOST' }, attempts: [{ number: 1, outcome: 'failed', startedAt: new Date(T0 + 1) }] })
        expect(rescued.get(counted!.id)).toMatchObject({ status: 'pending', attempt: 1, error: { code: 'ERR_WORKER_LOST' }, attempts: [{ number: 1, outcome: 'retry', startedAt: new Date(T0) }] })
        expect(rescued.get(unstarted!.id)).toMatchObject({ status: 'pending', attempt: 0, attemptBase: 0, startedAt: null, finishedAt: null, error: null, attempts: [], runAt: new Date(T0), workerId: null })
        expect(rescued.get(held!.id)).toMatchObject({ status: 'pending', attempt: 1, startedAt: null, error: previous, attempts: [{ number: 1, outcome: 'retry' }], runAt: new Date(T0 + 50) })
        // Its budget is intact: the next claim is its first attempt again, on its last attempt.
        const next = await store.claimRuns(claimRequest({ now: T0 + 200 }))
        expect(next.find((r) => r.id === unstarted!.id)).toMatchObject({ attempt: 1, attemptBase: 0, maxAttempts: 1, started: false })
      })

      it('writes rescue decisions fenced by the token read; a cancel requested after the read wins over pending', async () => {
        await store.insertRuns([newRun(), newRun()])
        const [renewed, asked] = await store.claimRuns(claimRequest({ leaseUntil: T0 + 100 }))
        const expired = await store.expiredLeases(T0 + 101, 10)
        expect(expired.map((r) => r.id)).toEqual([renewed!.id, asked!.id])
        // Meanwhile: the first worker renewed under a new claim (a stale token now), the second run got a cancel request.
        await store.cancelRuns({ ids: [asked!.id] }, 'operator', T0 + 102)
        const lost = { message: 'worker lost', code: 'ERR_WORKER_LOST', name: 'WorkerLostError' }
        const written = await store.rescueRuns([
          { id: renewed!.id, token: 'stale', status: 'failed', error: lost, attempt: null, at: T0 + 103 },
          { id: asked!.id, token: asked!.token, status: 'pending', runAt: T0 + 5000, error: lost, attempt: { ...attempt(asked!, 'retry'), error: lost }, at: T0 + 103 },
        ])
        expect(written.map((r) => [r.id, r.status])).toEqual([[asked!.id, 'cancelled']])
        expect(await store.getRun(asked!.id)).toMatchObject({ status: 'cancelled', finishedAt: new Date(T0 + 103), error: { code: 'ERR_CANCELLED' }, attempts: [{ outcome: 'retry' }] })
        expect(await store.getRun(renewed!.id)).toMatchObject({ status: 'running', leaseExpiresAt: new Date(T0 + 100) })
        expect(await store.rescueRuns([])).toEqual([])
      })

      it('a run on its last attempt is never counted without a stored start, however often its worker dies first', async () => {
        await store.insertRuns([newRun({ maxAttempts: 2 })])
        let now = T0
        const seen: string[] = []
        for (let i = 0; i < 4; i++) {
          const [claimed] = await store.claimRuns(claimRequest({ now, leaseUntil: now + 100 }))
          if (claimed === undefined) break
          // The first claim counts (attempts are left); the second is the last one: no start until stored.
          if (claimed.attempt === 2 && i === 3) await store.writeBatch({ ...EMPTY, starts: [{ id: claimed.id, token: claimed.token, startedAt: now + 1 }] })
          const [rescued] = await rescueAll(store, now + 101)
          seen.push(`${claimed.attempt}:${String(claimed.started)}->${rescued!.status}:${rescued!.attempt}`)
          now += 2000 // past the lost attempt's backoff (fixed 1 s)
        }
        expect(seen).toEqual(['1:true->pending:1', '2:false->pending:1', '2:false->pending:1', '2:false->failed:2'])
        const run = (await store.listRuns({})).data[0]!
        expect(run.attempts.map((a) => a.outcome)).toEqual(['retry', 'failed'])
      })

      it('releases claimed runs unstarted: pending as if never claimed, or cancelled; a cancel requested meanwhile wins; fenced', async () => {
        await store.insertRuns([newRun(), newRun(), newRun()])
        const [back, cancel, asked] = await store.claimRuns(claimRequest({ now: T0 + 1 }))
        await store.cancelRuns({ ids: [asked!.id] }, 'operator', T0 + 2)
        const reason = { code: 'ERR_CANCELLED', message: 'cancelled: by hand', name: 'CancelledError' }
        const outcome = await store.writeBatch({
          ...EMPTY,
          releases: [
            { id: back!.id, token: back!.token, status: 'pending', at: T0 + 3, error: null },
            { id: cancel!.id, token: cancel!.token, status: 'cancelled', at: T0 + 3, error: reason },
            { id: asked!.id, token: asked!.token, status: 'pending', at: T0 + 3, error: null },
            { id: back!.id, token: 'stale', status: 'pending', at: T0 + 3, error: null },
          ],
        })
        expect(outcome.fenced).toEqual([back!.id])
        expect(await store.getRun(back!.id)).toMatchObject({ status: 'pending', attempt: 0, startedAt: null, workerId: null, leaseExpiresAt: null, attempts: [], error: null })
        expect(await store.getRun(cancel!.id)).toMatchObject({ status: 'cancelled', attempt: 0, finishedAt: new Date(T0 + 3), error: reason, attempts: [] })
        expect(await store.getRun(asked!.id)).toMatchObject({ status: 'cancelled', attempt: 0, error: { code: 'ERR_CANCELLED' } })
        expect((await store.writeBatch({ ...EMPTY, completions: [completion(back!, back!.token)] })).fenced).toEqual([back!.id])
        expect((await claimOne({ now: T0 + 4 })).run).toMatchObject({ id: back!.id, attempt: 1 })
      })

      it('expires pending runs past notAfter', async () => {
        const row = newRun({ notAfter: T0 + 10 })
        await store.insertRuns([row, newRun()])
        expect(await store.expireOverdue(T0 + 9)).toEqual([])
        const expired = await store.expireOverdue(T0 + 10)
        expect(expired.map((r) => [r.id, r.status, r.error?.code])).toEqual([[row.id, 'cancelled', 'ERR_EXPIRED']])
      })
    })

    describe('control', () => {
      it('cancels pending runs at once and asks running ones, also by pool', async () => {
        const pool = await store.createPool({ id: newId(), parentRunId: null, parentPoolId: null, label: null, now: T0 })
        const running = newRun()
        const pending = newRun({ runAt: T0 + 100_000 })
        const inPool = newRun({ poolId: pool.id, runAt: T0 + 100_000 })
        await store.insertRuns([running])
        await claimOne()
        await store.insertRuns([pending, inPool])
        const outcome = await store.cancelRuns({ ids: [running.id, pending.id], poolIds: [pool.id] }, 'enough', T0 + 5)
        expect(outcome.cancelled.map((r) => r.id).sort()).toEqual([pending.id, inPool.id].sort())
        expect(outcome.requested.map((r) => r.id)).toEqual([running.id])
        expect(await store.getRun(pending.id)).toMatchObject({ status: 'cancelled', finishedAt: new Date(T0 + 5), cancelReason: 'enough', error: { code: 'ERR_CANCELLED', message: 'cancelled: enough' } })
        expect(await store.getRun(running.id)).toMatchObject({ status: 'running', cancelRequestedAt: new Date(T0 + 5), cancelReason: 'enough' })
        // Asking twice changes nothing.
        expect(await store.cancelRuns({ ids: [running.id, pending.id] }, 'again', T0 + 6)).toEqual({ cancelled: [], requested: [] })
      })

      it('retries failed and cancelled runs with a fresh budget; refuses others', async () => {
        await store.insertRuns([newRun({ maxAttempts: 1 })])
        const { run, token } = await claimOne()
        await store.cancelRuns({ ids: [run.id] }, 'stop', T0 + 1)
        expect(await store.retryRun(run.id, T0 + 2)).toBeUndefined()
        await store.writeBatch({ ...EMPTY, completions: [completion(run, token, { status: 'cancelled', error: { message: 'cancelled', code: 'ERR_CANCELLED', name: 'CancelledError' }, data: undefined })] })
        const retried = await store.retryRun(run.id, T0 + 3)
        expect(retried).toMatchObject({ status: 'pending', attempt: 1, attemptBase: 1, cancelRequestedAt: null, cancelReason: null, error: null, finishedAt: null, runAt: new Date(T0 + 3) })
        expect(await store.retryRun(run.id, T0 + 4)).toBeUndefined()
        expect(await store.retryRun('missing', T0)).toBeUndefined()
      })

      it('refuses to retry a run whose unique key another active run holds', async () => {
        await store.insertRuns([newRun({ uniqueKey: 'only' })])
        const { run, token } = await claimOne()
        await store.writeBatch({ ...EMPTY, completions: [completion(run, token, { status: 'failed', data: undefined, error: { message: 'x', code: 'E', name: 'Error' } })] })
        await store.insertRuns([newRun({ uniqueKey: 'only' })])
        await expect(store.retryRun(run.id, T0 + 1)).rejects.toThrow(ConflictError)
      })

      it('soft-deletes: a pending run is cancelled and hidden; a running one gets a cancel request', async () => {
        const pending = newRun({ runAt: T0 + 10_000 })
        const running = newRun()
        await store.insertRuns([running])
        await claimOne()
        await store.insertRuns([pending])
        expect(await store.deleteRun(pending.id, T0 + 1)).toMatchObject({ status: 'cancelled', deletedAt: new Date(T0 + 1) })
        expect(await store.getRun(pending.id)).toBeUndefined()
        expect(await store.getRun(pending.id, { includeDeleted: true })).toMatchObject({ status: 'cancelled' })
        expect(await store.claimRuns(claimRequest({ now: T0 + 20_000 }))).toEqual([])
        expect(await store.deleteRun(running.id, T0 + 2)).toMatchObject({ status: 'running', cancelRequestedAt: new Date(T0 + 2) })
        expect(await store.deleteRun(running.id, T0 + 3)).toBeUndefined()
        expect((await store.listRuns({})).total).toBe(0)
        expect((await store.listRuns({ includeDeleted: true })).total).toBe(2)
      })
    })

    describe('lists', () => {
      it('filters, searches and pages, newest first', async () => {
        const rows = [
          newRun({ task: 'work', label: 'nightly', tags: ['db'], createdAt: T0, args: '{"file":"alpha.sql"}' }),
          newRun({ task: 'work', label: 'adhoc', queue: 'mail', createdAt: T0 + 1, createdBy: 'ada' }),
          newRun({ task: 'other', label: 'nightly', tags: ['db', 'big'], createdAt: T0 + 2, category: 'system' }),
          newRun({ task: 'other', label: '100%_done', createdAt: T0 + 3 }),
        ]
        for (const row of rows) await store.insertRuns([row])
        const ids = async (filter: Parameters<Store['listRuns']>[0]) => (await store.listRuns(filter)).data.map((r) => rows.findIndex((x) => x.id === r.id))
        expect(await ids({})).toEqual([3, 2, 1, 0])
        expect(await ids({ task: 'work' })).toEqual([1, 0])
        expect(await ids({ label: 'nightly' })).toEqual([2, 0])
        expect(await ids({ queue: 'mail' })).toEqual([1])
        expect(await ids({ tag: 'db' })).toEqual([2, 0])
        expect(await ids({ tag: 'big' })).toEqual([2])
        expect(await ids({ createdBy: 'ada' })).toEqual([1])
        expect(await ids({ category: 'system' })).toEqual([2])
        expect(await ids({ from: new Date(T0 + 1), to: new Date(T0 + 3) })).toEqual([2, 1])
        expect(await ids({ search: 'alpha' })).toEqual([0])
        expect(await ids({ search: 'OTHER' })).toEqual([3, 2])
        expect(await ids({ search: '%_' })).toEqual([3])
        expect(await ids({ search: rows[1]!.id })).toEqual([1])
        expect(await ids({ status: 'pending', task: 'other' })).toEqual([3, 2])
        expect(await ids({ status: ['succeeded'] })).toEqual([])
        const page = await store.listRuns({ page: 2, pageSize: 3 })
        expect(page).toMatchObject({ total: 4, page: 2, pageSize: 3 })
        expect(page.data.map((r) => r.id)).toEqual([rows[0]!.id])
      })

      it('walks a list page by page after a given run, with or without counting', async () => {
        const rows = Array.from({ length: 7 }, (_, i) => newRun({ task: i % 2 === 0 ? 'even' : 'odd', createdAt: T0 + i }))
        for (const row of rows) await store.insertRuns([row])
        const newestFirst = [...rows].reverse().map((r) => r.id)
        const seen: string[] = []
        let before: string | undefined
        for (;;) {
          const page = await store.listRuns({ pageSize: 3, count: false, ...(before === undefined ? {} : { before }) })
          expect(page.total).toBe(-1)
          seen.push(...page.data.map((r) => r.id))
          if (page.data.length < 3) break
          before = page.data.at(-1)!.id
        }
        expect(seen).toEqual(newestFirst)
        // Filters still apply, and the total counts every match, not only those after the cursor.
        const odd = await store.listRuns({ task: 'odd', before: rows[5]!.id })
        expect(odd.data.map((r) => r.id)).toEqual([rows[3]!.id, rows[1]!.id])
        expect(odd.total).toBe(3)
        // A cursor whose run is gone (retention deleted it mid-walk) still marks its place.
        const gone = newRun({ createdAt: T0 + 3 })
        expect((await store.listRuns({ before: gone.id, pageSize: 10 })).data.map((r) => r.id)).toEqual(newestFirst)
        expect((await store.listRuns({ before: rows[0]!.id.replace(/^.{8}/, '00000000'), pageSize: 10 })).data).toEqual([])
      })
    })

    describe('artifacts', () => {
      it('stores, lists, replaces and reads artifacts of a run its token holds', async () => {
        await store.insertRuns([newRun()])
        const { run, token } = await claimOne()
        const put = (name: string, data: Buffer, contentType = 'application/octet-stream', now = T0) => store.putArtifact({ runId: run.id, token, name, contentType, data, now })
        expect(await put('report.csv', Buffer.from('a,b\n1,2\n'), 'text/csv')).toBe(true)
        expect(await put('blob.bin', Buffer.from([0, 255, 1]))).toBe(true)
        expect(await put('report.csv', Buffer.from('x\n'), 'text/csv', T0 + 1)).toBe(true)
        expect((await store.listArtifacts(run.id)).map((a) => [a.name, a.size])).toEqual([
          ['blob.bin', 3],
          ['report.csv', 2],
        ])
        const blob = await store.getArtifact(run.id, 'blob.bin')
        expect([...blob!.data]).toEqual([0, 255, 1])
        expect(await store.getArtifact(run.id, 'report.csv')).toMatchObject({ contentType: 'text/csv', size: 2, createdAt: new Date(T0 + 1) })
        expect((await store.getArtifact(run.id, 'report.csv'))?.data.toString()).toBe('x\n')
        expect(await store.getArtifact(run.id, 'nope')).toBeUndefined()
      })

      it('fences artifact writes by the lease token: a stale worker cannot overwrite the rescued attempt\'s artifact', async () => {
        await store.insertRuns([newRun()])
        const stale = await claimOne({ leaseUntil: T0 + 100 })
        expect(await store.putArtifact({ runId: stale.run.id, token: 'not-the-token', name: 'out.txt', contentType: 'text/plain', data: Buffer.from('forged'), now: T0 })).toBe(false)
        expect(await store.listArtifacts(stale.run.id)).toEqual([])
        expect(await store.putArtifact({ runId: 'no-such-run', token: stale.token, name: 'out.txt', contentType: 'text/plain', data: Buffer.from('x'), now: T0 })).toBe(false)
        // The worker goes quiet, its run is rescued and claimed again by another worker.
        expect((await rescueAll(store, T0 + 101)).map((r) => r.status)).toEqual(['pending'])
        const fresh = await claimOne({ workerId: 'worker-b', now: T0 + 2000 })
        expect(fresh.run.id).toBe(stale.run.id)
        expect(await store.putArtifact({ runId: fresh.run.id, token: fresh.token, name: 'out.txt', contentType: 'text/plain', data: Buffer.from('second attempt'), now: T0 + 201 })).toBe(true)
        // The first worker comes back and writes under its old token: nothing changes.
        expect(await store.putArtifact({ runId: stale.run.id, token: stale.token, name: 'out.txt', contentType: 'text/html', data: Buffer.from('stale'), now: T0 + 300 })).toBe(false)
        expect(await store.putArtifact({ runId: stale.run.id, token: stale.token, name: 'other.txt', contentType: 'text/plain', data: Buffer.from('stale'), now: T0 + 300 })).toBe(false)
        const stored = await store.getArtifact(fresh.run.id, 'out.txt')
        expect([stored?.contentType, stored?.data.toString()]).toEqual(['text/plain', 'second attempt'])
        expect((await store.listArtifacts(fresh.run.id)).map((a) => a.name)).toEqual(['out.txt'])
        // Once the attempt completed, its token writes nothing either.
        await store.writeBatch({ ...EMPTY, completions: [completion(fresh.run, fresh.token)] })
        expect(await store.putArtifact({ runId: fresh.run.id, token: fresh.token, name: 'late.txt', contentType: 'text/plain', data: Buffer.from('late'), now: T0 + 400 })).toBe(false)
        expect((await store.listArtifacts(fresh.run.id)).map((a) => a.name)).toEqual(['out.txt'])
      })
    })

    describe('pools', () => {
      it('builds trees and counts runs in a pool or the whole tree', async () => {
        const root = await store.createPool({ id: newId(), parentRunId: null, parentPoolId: null, label: 'root', now: T0 })
        const parent = newRun({ poolId: root.id })
        await store.insertRuns([parent, newRun({ poolId: root.id, runAt: T0 + 1e6 })])
        const child = await store.createPool({ id: newId(), parentRunId: parent.id, parentPoolId: root.id, label: null, now: T0 + 1 })
        const grandchild = await store.createPool({ id: newId(), parentRunId: null, parentPoolId: child.id, label: null, now: T0 + 2 })
        expect(child.rootId).toBe(root.id)
        expect(grandchild.rootId).toBe(root.id)
        await store.insertRuns([newRun({ poolId: child.id, runAt: T0 + 1e6 }), newRun({ poolId: grandchild.id, runAt: T0 + 1e6 })])
        const { run, token } = await claimOne()
        await store.writeBatch({ ...EMPTY, progress: [{ id: run.id, token, progress: { percent: 50 }, tags: [] }] })
        expect((await store.poolTree(root.id)).sort()).toEqual([root.id, child.id, grandchild.id].sort())
        expect(await store.poolTree(grandchild.id)).toEqual([grandchild.id])
        expect(await store.poolCounts(root.id)).toMatchObject({ total: 2, pending: 1, running: 1, progressSum: 50 })
        expect(await store.poolCounts(root.id, { tree: true })).toMatchObject({ total: 4, pending: 3, running: 1 })
        expect((await store.poolsOfRun(parent.id)).map((p) => p.id)).toEqual([child.id])
        expect((await store.getPool(root.id))?.closedAt).toBeNull()
        await store.closePool(root.id, T0 + 9)
        expect((await store.getPool(root.id))?.closedAt).toEqual(new Date(T0 + 9))
      })
    })

    describe('stats', () => {
      it('counts runs by status and queue, with the oldest due pending run, and finished runs per bucket', async () => {
        await store.insertRuns([newRun({ queue: 'a', runAt: T0 - 5000 }), newRun({ queue: 'a', runAt: T0 + 1e6 }), newRun({ queue: 'b', runAt: T0 - 100 })])
        const claimed = await store.claimRuns(claimRequest({ limit: 1, queues: ['b'] }))
        await store.insertRuns([newRun({ queue: 'b' }), newRun({ queue: 'c' })])
        const [done] = await store.claimRuns(claimRequest({ limit: 1, queues: ['c'] }))
        await store.writeBatch({ ...EMPTY, completions: [completion(done!, done!.token, { finishedAt: T0 + 90_000 })] })
        const stats = await store.stats(T0)
        expect(stats.statuses).toEqual({ pending: 3, running: 1, waiting: 0, succeeded: 1, failed: 0, cancelled: 0 })
        expect(stats.queues).toEqual([
          { queue: 'a', pending: 2, running: 0, oldestPendingAt: new Date(T0 - 5000), nextDueAt: new Date(T0 - 5000) },
          { queue: 'b', pending: 1, running: 1, oldestPendingAt: new Date(T0), nextDueAt: new Date(T0) },
        ])
        expect(claimed).toHaveLength(1)
        const buckets = await store.throughput(T0, T0 + 180_000, 60_000)
        expect(buckets).toEqual([
          { start: new Date(T0), succeeded: 0, failed: 0, cancelled: 0 },
          { start: new Date(T0 + 60_000), succeeded: 1, failed: 0, cancelled: 0 },
          { start: new Date(T0 + 120_000), succeeded: 0, failed: 0, cancelled: 0 },
        ])
      })
    })

    describe('stats of finished runs', () => {
      it('counts every status, leaves deleted runs out of counts and throughput, and buckets each finished run once', async () => {
        const rows = Array.from({ length: 8 }, () => newRun())
        await store.insertRuns(rows)
        const claimed = await store.claimRuns(claimRequest({ limit: 8 }))
        const outcomes: [Completion['status'], number][] = [
          ['succeeded', T0 + 10],
          ['succeeded', T0 + 59_999],
          ['failed', T0 + 60_000],
          ['cancelled', T0 + 61_000],
          ['succeeded', T0 + 150_000],
          ['succeeded', T0 + 10],
        ]
        await store.writeBatch({
          ...EMPTY,
          completions: outcomes.map(([status, finishedAt], i) =>
            completion(claimed[i]!, claimed[i]!.token, status === 'succeeded' ? { status, finishedAt } : { status, finishedAt, data: undefined, error: { message: 'x', code: 'E', name: 'Error' } }),
          ),
        })
        // One still runs, one waits on a pool, one finished run is deleted.
        await store.writeBatch({ ...EMPTY, waits: [{ id: claimed[7]!.id, token: claimed[7]!.token, waiting: true }] })
        await store.deleteRun(claimed[5]!.id, T0 + 20)
        await store.insertRuns([newRun({ runAt: T0 + 1e9 })])
        const stats = await store.stats(T0)
        expect(stats.statuses).toEqual({ pending: 1, running: 1, waiting: 1, succeeded: 3, failed: 1, cancelled: 1 })
        expect(stats.queues).toEqual([{ queue: 'default', pending: 1, running: 2, oldestPendingAt: null, nextDueAt: new Date(T0 + 1e9) }])
        expect(await store.throughput(T0, T0 + 150_000, 60_000)).toEqual([
          { start: new Date(T0), succeeded: 2, failed: 0, cancelled: 0 },
          { start: new Date(T0 + 60_000), succeeded: 0, failed: 1, cancelled: 1 },
          // The last bucket ends at `until`: a run finished at `until` is not in it.
          { start: new Date(T0 + 120_000), succeeded: 0, failed: 0, cancelled: 0 },
        ])
        expect(await store.throughput(T0 + 60_000, T0 + 60_000, 60_000)).toEqual([])
        expect((await store.throughput(T0 - 600_000, T0 + 600_000, 1000)).reduce((n, b) => n + b.succeeded + b.failed + b.cancelled, 0)).toBe(5)
      })
    })

    describe('workers', () => {
      it('registers, refreshes, lists live ones and removes workers', async () => {
        const worker = { id: 'w1', host: 'h', pid: 1, concurrency: 4, busy: 1, queues: null, tasks: ['work'], running: ['r1'], startedAt: T0, heartbeatAt: T0, observer: false }
        await store.saveWorker(worker)
        await store.saveWorker({ ...worker, busy: 2, heartbeatAt: T0 + 10, startedAt: T0 + 10 })
        await store.saveWorker({ ...worker, id: 'w2', heartbeatAt: T0 - 1_000_000 })
        await store.saveWorker({ ...worker, id: 'server', concurrency: 0, busy: 0, running: [], startedAt: T0 + 5, heartbeatAt: T0 + 5, observer: true })
        const live = await store.listWorkers(T0)
        expect(live).toEqual([
          { ...worker, busy: 2, startedAt: new Date(T0), heartbeatAt: new Date(T0 + 10) },
          { ...worker, id: 'server', concurrency: 0, busy: 0, running: [], startedAt: new Date(T0 + 5), heartbeatAt: new Date(T0 + 5), observer: true },
        ])
        await store.removeWorker('server')
        await store.removeWorker('w1')
        expect(await store.listWorkers(T0)).toEqual([])
      })
    })

    describe('schedules', () => {
      it('records a schedule once; a known one keeps its state', async () => {
        const first = await store.initSchedule({ id: 'nightly', enabled: true, since: T0, nextTickAt: T0 + 60_000, now: T0 })
        expect(first).toEqual({ id: 'nightly', enabled: true, lastTickAt: T0, lastRunId: null, nextTickAt: T0 + 60_000, updatedAt: T0 })
        await store.setScheduleEnabled('nightly', false, T0 + 1)
        const again = await store.initSchedule({ id: 'nightly', enabled: true, since: T0 + 500, nextTickAt: T0 + 60_000, now: T0 + 500 })
        expect(again).toMatchObject({ enabled: false, lastTickAt: T0 })
        await store.initSchedule({ id: 'hourly', enabled: false, since: T0, nextTickAt: null, now: T0 })
        expect((await store.listSchedules()).map((s) => [s.id, s.enabled])).toEqual([
          ['hourly', false],
          ['nightly', false],
        ])
        expect(await store.setScheduleEnabled('missing', true, T0)).toBeUndefined()
      })

      it('takes each tick once, inserting its run in the same step; earlier ticks are refused', async () => {
        await store.initSchedule({ id: 's', enabled: true, since: T0, nextTickAt: T0 + 1000, now: T0 })
        const run = newRun({ scheduleId: 's', category: 'system' })
        const fired = await store.fireSchedule({ id: 's', tickAt: T0 + 1000, nextTickAt: T0 + 2000, run, now: T0 + 1000 })
        expect(fired).toMatchObject({ fired: true, insert: { created: true, run: { id: run.id, scheduleId: 's', category: 'system' } } })
        // Another process with the same tick: nothing happens, no second run.
        const twin = newRun({ scheduleId: 's' })
        expect(await store.fireSchedule({ id: 's', tickAt: T0 + 1000, nextTickAt: T0 + 2000, run: twin, now: T0 + 1001 })).toEqual({ fired: false })
        expect(await store.getRun(twin.id)).toBeUndefined()
        expect(await store.fireSchedule({ id: 's', tickAt: T0 + 500, nextTickAt: T0 + 2000, run: null, now: T0 + 1001 })).toEqual({ fired: false })
        // A skipped tick moves on without a run.
        expect(await store.fireSchedule({ id: 's', tickAt: T0 + 2000, nextTickAt: T0 + 3000, run: null, now: T0 + 2000 })).toEqual({ fired: true })
        expect((await store.listSchedules())[0]).toMatchObject({ lastTickAt: T0 + 2000, lastRunId: run.id, nextTickAt: T0 + 3000 })
        expect((await store.listRuns({ scheduleId: 's' })).data.map((r) => r.id)).toEqual([run.id])
        // Unknown schedules have no ticks to take.
        expect(await store.fireSchedule({ id: 'nope', tickAt: T0, nextTickAt: null, run: null, now: T0 })).toEqual({ fired: false })
      })

      it('keeps a tick\'s fire key unique among all runs: a repeat returns the run that holds it, finished or not', async () => {
        const first = newRun({ scheduleId: 's', fireKey: 's@2026-11-23T12:01:00.000Z' })
        const [a] = await store.insertRuns([first])
        expect(a).toMatchObject({ created: true, run: { fireKey: 's@2026-11-23T12:01:00.000Z' } })
        expect((await store.getRun(first.id))?.fireKey).toBe('s@2026-11-23T12:01:00.000Z')
        const { run, token } = await claimOne()
        await store.writeBatch({ ...EMPTY, completions: [completion(run, token)] })
        // Unlike a unique key, a fire key stays taken once its run finished.
        const [again, other] = await store.insertRuns([newRun({ scheduleId: 's', fireKey: 's@2026-11-23T12:01:00.000Z' }), newRun({ scheduleId: 's', fireKey: 's@2026-11-23T12:02:00.000Z' })])
        expect(again).toMatchObject({ created: false, run: { id: first.id, status: 'succeeded' } })
        expect(other?.created).toBe(true)
        // Even when the schedule's state was lost: the tick's run is not inserted twice.
        await store.initSchedule({ id: 's', enabled: true, since: T0, nextTickAt: null, now: T0 })
        const repeat = newRun({ scheduleId: 's', fireKey: 's@2026-11-23T12:01:00.000Z' })
        expect(await store.fireSchedule({ id: 's', tickAt: T0 + 60_000, nextTickAt: null, run: repeat, now: T0 + 60_000 })).toMatchObject({ fired: true, insert: { created: false, run: { id: first.id } } })
        expect((await store.listRuns({ scheduleId: 's' })).total).toBe(2)
      })

      it('gives a tick to exactly one of many concurrent callers', async () => {
        await store.initSchedule({ id: 'race', enabled: true, since: T0, nextTickAt: null, now: T0 })
        const runs = Array.from({ length: 8 }, () => newRun({ scheduleId: 'race' }))
        const outcomes = await Promise.all(runs.map((run) => store.fireSchedule({ id: 'race', tickAt: T0 + 10, nextTickAt: null, run, now: T0 + 10 })))
        expect(outcomes.filter((o) => o.fired)).toHaveLength(1)
        expect((await store.listRuns({ scheduleId: 'race' })).total).toBe(1)
      })

      it('counts ticks up to now as handled when turned back on', async () => {
        await store.initSchedule({ id: 'toggle', enabled: true, since: T0, nextTickAt: null, now: T0 })
        expect(await store.setScheduleEnabled('toggle', false, T0 + 10)).toMatchObject({ enabled: false, lastTickAt: T0 })
        expect(await store.setScheduleEnabled('toggle', true, T0 + 5000)).toMatchObject({ enabled: true, lastTickAt: T0 + 5000, updatedAt: T0 + 5000 })
        // Already on: turning it on again changes nothing about ticks.
        expect(await store.setScheduleEnabled('toggle', true, T0 + 9000)).toMatchObject({ lastTickAt: T0 + 5000 })
      })
    })

    describe('settings', () => {
      it('stores JSON values by key, replacing them', async () => {
        expect(await store.getSettings()).toEqual({})
        await store.saveSettings({ workerConcurrency: 8, logBackend: 'store', note: { a: [1, 'x'] }, off: null }, T0)
        await store.saveSettings({ workerConcurrency: 12 }, T0 + 1)
        expect(await store.getSettings()).toEqual({ workerConcurrency: 12, logBackend: 'store', note: { a: [1, 'x'] }, off: null })
      })
    })

    describe('retention', () => {
      it('purges finished and deleted runs older than the cut-off with their logs and artifacts, oldest first, in batches', async () => {
        const old = [newRun(), newRun(), newRun()]
        const active = newRun({ runAt: T0 + 10_000_000 })
        await store.insertRuns([...old, active])
        for (let i = 0; i < 3; i++) {
          const { run, token } = await claimOne()
          const lines = [1, 2].map((seq) => ({ runId: run.id, token, seq, time: T0, level: 'info' as const, message: `l${seq}` }))
          await store.writeBatch({ ...EMPTY, logs: lines })
          expect(await store.putArtifact({ runId: run.id, token, name: 'a.txt', contentType: 'text/plain', data: Buffer.from('x'), now: T0 })).toBe(true)
          await store.writeBatch({ ...EMPTY, completions: [completion(run, token, { finishedAt: T0 + 10 + i })] })
        }
        const recent = newRun()
        await store.insertRuns([recent])
        const { run: late, token: lateToken } = await claimOne()
        await store.writeBatch({ ...EMPTY, completions: [completion(late, lateToken, { finishedAt: T0 + 100_000 })] })

        // Logs first: lines of runs finished before the cut-off go, the runs stay.
        expect(await store.purgeLogs(T0 + 1000, 3)).toBe(3)
        expect(await store.purgeLogs(T0 + 1000, 100)).toBe(3)
        expect(await store.purgeLogs(T0 + 1000, 100)).toBe(0)
        expect((await store.getRun(old[0]!.id))?.status).toBe('succeeded')

        expect(await store.purgeRuns(T0 + 1000, 2)).toEqual([old[0]!.id, old[1]!.id])
        expect(await store.purgeRuns(T0 + 1000, 10)).toEqual([old[2]!.id])
        expect(await store.purgeRuns(T0 + 1000, 10)).toEqual([])
        for (const run of old) {
          expect(await store.getRun(run.id, { includeDeleted: true })).toBeUndefined()
          expect(await store.listArtifacts(run.id)).toEqual([])
          expect(await store.getLogs(run.id, 0, 10)).toEqual([])
        }
        // The pending run and the recently finished one stay; a deleted one goes once old enough.
        expect((await store.getRun(active.id))?.status).toBe('pending')
        expect((await store.getRun(late.id))?.status).toBe('succeeded')
        await store.deleteRun(active.id, T0 + 50)
        expect(await store.purgeRuns(T0 + 1000, 10)).toEqual([active.id])
      })
    })

    describe('retention of pools', () => {
      it('deletes pools left without runs, leaves of a tree first, and counts what retention would delete', async () => {
        const pool = (parentPoolId: string | null, now = T0) => store.createPool({ id: newId(), parentRunId: null, parentPoolId, label: null, now })
        const root = await pool(null)
        const child = await pool(root.id)
        const busy = await pool(null)
        const fresh = await pool(null, T0 + 5000)
        const inChild = newRun({ poolId: child.id })
        const inRoot = newRun({ poolId: root.id })
        const kept = newRun()
        await store.insertRuns([inChild, inRoot, kept])
        for (let i = 0; i < 3; i++) {
          const { run, token } = await claimOne()
          const lines = run.id === kept.id ? 3 : 2
          await store.writeBatch({ ...EMPTY, logs: Array.from({ length: lines }, (_, seq) => ({ runId: run.id, token, seq: seq + 1, time: T0, level: 'info' as const, message: `l${seq}` })) })
          await store.writeBatch({ ...EMPTY, completions: [completion(run, token, { finishedAt: run.id === kept.id ? T0 + 100_000 : T0 + 10 })] })
        }
        await store.insertRuns([newRun({ poolId: busy.id, runAt: T0 + 1e9 })])
        // Runs finished before the run cut-off go with their lines; lines of runs kept count apart.
        expect(await store.countPurgeable(T0 + 1000, T0 + 200_000)).toEqual({ runs: 2, logLines: 3 })
        expect(await store.countPurgeable(null, T0 + 200_000)).toEqual({ runs: 0, logLines: 7 })
        expect(await store.countPurgeable(T0 + 1000, null)).toEqual({ runs: 2, logLines: 0 })
        // While their runs exist, pools stay.
        expect(await store.purgePools(T0 + 1000, 10)).toBe(0)
        expect((await store.purgeRuns(T0 + 1000, 10)).sort()).toEqual([inChild.id, inRoot.id].sort())
        expect(await store.purgePools(T0 + 1000, 10)).toBe(1)
        expect(await store.getPool(child.id)).toBeUndefined()
        expect(await store.getPool(root.id)).toBeDefined()
        expect(await store.purgePools(T0 + 1000, 10)).toBe(1)
        expect(await store.getPool(root.id)).toBeUndefined()
        expect(await store.purgePools(T0 + 1000, 10)).toBe(0)
        // A pool with a run, and one created after the cut-off (runs may still be added), stay.
        expect(await store.getPool(busy.id)).toBeDefined()
        expect(await store.getPool(fresh.id)).toBeDefined()
        expect(await store.countPurgeable(T0 + 1000, T0 + 200_000)).toEqual({ runs: 0, logLines: 3 })
      })
    })

    describe('log counts from other log backends', () => {
      it('raises the log count of runs whose lines live elsewhere, fenced by token', async () => {
        await store.insertRuns([newRun()])
        const { run, token } = await claimOne()
        await store.writeBatch({ ...EMPTY, logCounts: [{ id: run.id, token, count: 7 }, { id: run.id, token: 'stale', count: 99 }] })
        await store.writeBatch({ ...EMPTY, logCounts: [{ id: run.id, token, count: 5 }] })
        expect(await store.getRun(run.id)).toMatchObject({ logCount: 7 })
        expect(await store.getLogs(run.id, 0, 10)).toEqual([])
      })
    })
  })
}
