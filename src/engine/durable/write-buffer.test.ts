/**
 * The write buffer against a store whose flushes the test completes by hand: group commit, batches
 * in parallel where the store allows, one run's writes kept in order, retries after failures.
 */
import { describe, expect, it, vi } from 'vitest'
import type { Completion, BatchOutcome, NewLogLine, Store, WriteBatch } from '../../store/types.js'
import { WriteBuffer } from './write-buffer.js'

interface Pending {
  readonly batch: WriteBatch
  resolve(outcome: BatchOutcome): void
  reject(error: Error): void
}

/** A store that records each flush and leaves it open until the test settles it. */
function manualStore(): { store: Store; flushes: Pending[] } {
  const flushes: Pending[] = []
  const store = {
    writeBatch: (batch: WriteBatch) => new Promise<BatchOutcome>((resolve, reject) => flushes.push({ batch, resolve, reject })),
  } as unknown as Store
  return { store, flushes }
}

/** One turn of the event loop: what the buffer waits before it sends what arrived. */
const turn = (): Promise<void> => new Promise((r) => setImmediate(r))

/** The pause after a first failed batch; it doubles with each failure in a row. */
const FIRST_PAUSE_MS = 100

/** Under fake timers, a turn of the event loop asked for while the clock moves comes 1 ms later. */
const TURN_MS = 1

/** What a buffer reports: the messages, and a promise of the next report (a failed batch's pause starts as it is reported). */
function reports(): { readonly onError: (error: Error) => void; readonly messages: string[]; next(): Promise<void> } {
  const messages: string[] = []
  let reported: () => void = () => undefined
  return {
    messages,
    onError: (error) => {
      messages.push(error.message)
      reported()
    },
    next: () => new Promise<void>((resolve) => (reported = resolve)),
  }
}

/** Runs `test` with fake timers, turns of the event loop included: retry pauses pass when the test moves the clock. */
async function withFakeTimers(test: () => Promise<void>): Promise<void> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate'] })
  try {
    await test()
  } finally {
    vi.useRealTimers()
  }
}

function line(runId: string, seq: number): NewLogLine {
  return { runId, token: 't', seq, time: 0, level: 'info', message: `${runId}:${seq}` }
}

function completion(id: string): Completion {
  return { id, token: 't', status: 'succeeded', finishedAt: 1, error: null, progress: null, tags: [], attempt: { number: 1, workerId: 'w', startedAt: new Date(0), finishedAt: new Date(1), outcome: 'succeeded', error: null } }
}

describe('WriteBuffer', () => {
  it('sends what arrives in one turn as one batch, and what arrives meanwhile as the next', async () => {
    const { store, flushes } = manualStore()
    const buffer = new WriteBuffer(store, () => undefined)
    buffer.log(line('a', 1))
    buffer.log(line('b', 1))
    const doneA = buffer.complete(completion('a'))
    await turn()
    expect(flushes).toHaveLength(1)
    expect(flushes[0]!.batch.logs.map((l) => l.message)).toEqual(['a:1', 'b:1'])
    buffer.log(line('b', 2))
    await turn()
    expect(flushes).toHaveLength(1) // one at a time by default
    flushes[0]!.resolve({ fenced: [] })
    expect(await doneA).toBe(false)
    await turn()
    await turn()
    expect(flushes).toHaveLength(2)
    expect(flushes[1]!.batch.logs.map((l) => l.message)).toEqual(['b:2'])
  })

  it('keeps batches in parallel where the store allows, holding back writes of runs already in flight', async () => {
    const { store, flushes } = manualStore()
    const buffer = new WriteBuffer(store, () => undefined, undefined, 2)
    buffer.log(line('a', 1))
    await turn()
    expect(flushes).toHaveLength(1)
    // a's completion must wait for a's log line; b's may leave at once.
    const doneA = buffer.complete(completion('a'))
    const doneB = buffer.complete(completion('b'))
    await turn()
    expect(flushes).toHaveLength(2)
    expect(flushes[1]!.batch.completions.map((c) => c.id)).toEqual(['b'])
    flushes[1]!.resolve({ fenced: ['b'] })
    expect(await doneB).toBe(true)
    await turn()
    expect(flushes).toHaveLength(2) // a still waits for its first batch
    flushes[0]!.resolve({ fenced: [] })
    await turn()
    await turn()
    expect(flushes).toHaveLength(3)
    expect(flushes[2]!.batch.completions.map((c) => c.id)).toEqual(['a'])
    flushes[2]!.resolve({ fenced: [] })
    expect(await doneA).toBe(false)
    await buffer.drain()
  })

  it('cancels a queued hold when its run starts before the batch leaves; once the hold left, the start is stored before the caller goes on', async () => {
    const { store, flushes } = manualStore()
    const buffer = new WriteBuffer(store, () => undefined)
    buffer.hold({ id: 'quick', token: 't' })
    buffer.hold({ id: 'slow', token: 't' })
    expect(buffer.unhold('quick')).toBe(true)
    await turn()
    expect(flushes[0]!.batch.holds).toEqual([{ id: 'slow', token: 't' }])
    // The hold of 'slow' is on its way: starting it now needs a start of its own, after the hold.
    expect(buffer.unhold('slow')).toBe(false)
    let started: boolean | undefined
    void buffer.start({ id: 'slow', token: 't', startedAt: 5 }).then((fenced) => (started = fenced))
    await turn()
    expect(flushes).toHaveLength(1)
    flushes[0]!.resolve({ fenced: [] })
    await turn()
    await turn()
    expect(flushes[1]!.batch.starts).toEqual([{ id: 'slow', token: 't', startedAt: 5 }])
    expect(started).toBeUndefined()
    flushes[1]!.resolve({ fenced: [] })
    await buffer.drain()
    expect(started).toBe(false)
  })

  it('resolves starts and releases with whether the store fenced them; a release drops a queued hold of its run', async () => {
    const { store, flushes } = manualStore()
    const buffer = new WriteBuffer(store, () => undefined)
    buffer.hold({ id: 'gone', token: 't' })
    const released = buffer.release({ id: 'gone', token: 't', status: 'pending', at: 1, error: null })
    const start = buffer.start({ id: 'stale', token: 'old', startedAt: 1 })
    await turn()
    expect(flushes[0]!.batch.holds).toBeUndefined()
    expect(flushes[0]!.batch.releases).toEqual([{ id: 'gone', token: 't', status: 'pending', at: 1, error: null }])
    flushes[0]!.resolve({ fenced: ['stale'] })
    expect(await released).toBe(false)
    expect(await start).toBe(true)
  })

  it('writes a hold that failed to leave again, even when its run was started meanwhile, before that start', async () => {
    await withFakeTimers(async () => {
      const { store, flushes } = manualStore()
      const failures = reports()
      const buffer = new WriteBuffer(store, failures.onError)
      buffer.hold({ id: 'a', token: 't' })
      await vi.advanceTimersByTimeAsync(0)
      expect(buffer.unhold('a')).toBe(false)
      const start = buffer.start({ id: 'a', token: 't', startedAt: 2 })
      const failed = failures.next()
      flushes[0]!.reject(new Error('connection lost'))
      await failed
      await vi.advanceTimersByTimeAsync(FIRST_PAUSE_MS - 1)
      expect(flushes).toHaveLength(1)
      // The pause is over: the batch leaves again at the next turn.
      await vi.advanceTimersByTimeAsync(1 + TURN_MS)
      expect(flushes).toHaveLength(2)
      expect(flushes[1]!.batch.holds).toEqual([{ id: 'a', token: 't' }])
      expect(flushes[1]!.batch.starts).toEqual([{ id: 'a', token: 't', startedAt: 2 }])
      flushes[1]!.resolve({ fenced: [] })
      expect(await start).toBe(false)
    })
  })

  it('never cancels a hold whose batch failed: the failed commit may have stored it, so the run needs a start of its own', async () => {
    await withFakeTimers(async () => {
      const { store, flushes } = manualStore()
      const failures = reports()
      const buffer = new WriteBuffer(store, failures.onError)
      buffer.hold({ id: 'a', token: 't' })
      await vi.advanceTimersByTimeAsync(0)
      let failed = failures.next()
      flushes[0]!.reject(new Error('connection lost after COMMIT was sent'))
      await failed
      await vi.advanceTimersByTimeAsync(FIRST_PAUSE_MS + TURN_MS)
      expect(flushes).toHaveLength(2)
      expect(flushes[1]!.batch.holds).toEqual([{ id: 'a', token: 't' }])
      failed = failures.next()
      flushes[1]!.reject(new Error('still down'))
      await failed
      // Back in the queue (the retry waits out its pause, twice as long now), not sent again:
      // still it cannot be cancelled.
      await vi.advanceTimersByTimeAsync(2 * FIRST_PAUSE_MS - 1)
      expect(flushes).toHaveLength(2)
      expect(buffer.unhold('a')).toBe(false)
      const start = buffer.start({ id: 'a', token: 't', startedAt: 3 })
      await vi.advanceTimersByTimeAsync(1 + TURN_MS)
      expect(flushes).toHaveLength(3)
      expect(flushes[2]!.batch.holds).toEqual([{ id: 'a', token: 't' }])
      expect(flushes[2]!.batch.starts).toEqual([{ id: 'a', token: 't', startedAt: 3 }])
      flushes[2]!.resolve({ fenced: [] })
      expect(await start).toBe(false)
      // Once stored, a later hold of the run can be cancelled again.
      buffer.hold({ id: 'a', token: 't' })
      expect(buffer.unhold('a')).toBe(true)
    })
  })

  it('sends completions that wait behind busy batch slots longer than the bound in one extra batch, without a claim', async () => {
    await withFakeTimers(async () => {
      const { store, flushes } = manualStore()
      const requests: number[] = []
      const claimer = { request: () => (requests.push(1), { workerId: 'w', limit: 1, now: 0, leaseUntil: 1, tasks: ['t'], queues: undefined, taskCaps: new Map(), queueCaps: new Map() }), claimed: () => undefined, failed: () => undefined }
      const buffer = new WriteBuffer(store, () => undefined, claimer, 1, 10)
      void buffer.complete(completion('a'))
      await vi.advanceTimersByTimeAsync(0)
      expect(flushes).toHaveLength(1)
      const doneB = buffer.complete(completion('b'))
      await vi.advanceTimersByTimeAsync(9)
      expect(flushes).toHaveLength(1) // the slot is busy, and 'b' has waited less than the bound
      await vi.advanceTimersByTimeAsync(1)
      expect(flushes).toHaveLength(2)
      expect(flushes[1]!.batch.completions.map((c) => c.id)).toEqual(['b'])
      expect(flushes[1]!.batch.claim).toBeUndefined()
      expect(requests).toHaveLength(1) // only the regular batch claimed
      // With the extra batch out too, the next completion waits for a slot to free.
      void buffer.complete(completion('c'))
      await vi.advanceTimersByTimeAsync(50)
      expect(flushes).toHaveLength(2)
      flushes[1]!.resolve({ fenced: [] })
      expect(await doneB).toBe(false)
      await vi.advanceTimersByTimeAsync(10)
      expect(flushes).toHaveLength(3)
      expect(flushes[2]!.batch.completions.map((c) => c.id)).toEqual(['c'])
      flushes[0]!.resolve({ fenced: [] })
      flushes[2]!.resolve({ fenced: [] })
      await buffer.drain()
    })
  })

  it('puts a failed batch back in order, reports it, and writes it again after a pause', async () => {
    await withFakeTimers(async () => {
      const { store, flushes } = manualStore()
      const failures = reports()
      const buffer = new WriteBuffer(store, failures.onError, undefined, 2)
      buffer.log(line('a', 1))
      await vi.advanceTimersByTimeAsync(0)
      buffer.log(line('a', 2))
      const failed = failures.next()
      flushes[0]!.reject(new Error('connection lost'))
      await failed
      expect(failures.messages).toEqual(['write to the store failed (attempt 1), retrying: connection lost'])
      // Nothing leaves during the pause, although a batch slot is free.
      await vi.advanceTimersByTimeAsync(FIRST_PAUSE_MS - 1)
      expect(flushes).toHaveLength(1)
      await vi.advanceTimersByTimeAsync(1 + TURN_MS)
      expect(flushes).toHaveLength(2)
      expect(flushes[1]!.batch.logs.map((l) => l.message)).toEqual(['a:1', 'a:2'])
      flushes[1]!.resolve({ fenced: [] })
      await buffer.drain()
    })
  })

  it('keeps a partial result that a newer progress write of the same claim does not carry', async () => {
    const { store, flushes } = manualStore()
    const buffer = new WriteBuffer(store, () => undefined)
    buffer.progress({ id: 'r1', token: 't', progress: { percent: 10 }, tags: [], result: '{"a":1}' })
    buffer.progress({ id: 'r1', token: 't', progress: { percent: 20 }, tags: [] })
    await turn()
    expect(flushes[0]!.batch.progress).toEqual([{ id: 'r1', token: 't', progress: { percent: 20 }, tags: [], result: '{"a":1}' }])
    // Another claim's write does not inherit it.
    buffer.progress({ id: 'r2', token: 'old', progress: {}, tags: [], result: '{"b":1}' })
    buffer.progress({ id: 'r2', token: 'new', progress: {}, tags: [] })
    flushes[0]!.resolve({ fenced: [] })
    await vi.waitFor(() => expect(flushes).toHaveLength(2))
    expect(flushes[1]!.batch.progress).toEqual([{ id: 'r2', token: 'new', progress: {}, tags: [] }])
  })

  it('refuses writes once closed: nothing is sent to a store that may be closed, the first is reported, waiters hear fenced', async () => {
    const { store, flushes } = manualStore()
    const failures = reports()
    const buffer = new WriteBuffer(store, failures.onError)
    buffer.log(line('a', 1))
    await turn()
    flushes[0]!.resolve({ fenced: [] })
    await buffer.drain()
    buffer.close()
    buffer.log(line('a', 2))
    buffer.progress({ id: 'a', token: 't', progress: { percent: 50 }, tags: [] })
    expect(await buffer.complete(completion('a'))).toBe(true)
    expect(await buffer.release({ id: 'b', token: 't', status: 'pending', at: 1, error: null })).toBe(true)
    await turn()
    await buffer.drain()
    expect(flushes).toHaveLength(1)
    expect(failures.messages).toHaveLength(1)
    expect(failures.messages[0]).toMatch(/after the worker stopped.*not stored/)
  })
})
