/**
 * What the conformance tests build their cases from: a fixed clock, run ids in creation order,
 * new runs, claim requests, completions, and the rescue an engine would write. Exported from
 * `taskengine/store-testing` too, for a backend's own tests.
 */
import { randomBytes } from 'node:crypto'
import { afterEach } from 'vitest'
import { backoffDelay, DEFAULT_BACKOFF } from '../../task/backoff.js'
import type { RunError } from '../../task/context.js'
import type { ExpiredRun, RescueWrite } from '../contract/maintenance.js'
import { attemptsLeftAfter, type ClaimRequest, type ClaimedRun, type Completion, type NewRun, type WriteBatch } from '../contract/queue.js'
import type { Attempt, Run } from '../contract/runs.js'
import type { Store } from '../types.js'

/** The tests' clock: every time in the suite is relative to this (2026-11-23 12:00 UTC). */
export const T0 = Date.UTC(2026, 10, 23, 12, 0, 0)

let lastMs = 0
let counter = 0

/**
 * A new UUIDv7-shaped id: ids made later sort later (within a millisecond by a counter), as the
 * engine's do, since stores may order runs by id.
 */
export function testRunId(): string {
  const ms = Math.max(Date.now(), lastMs)
  counter = ms === lastMs ? counter + 1 : 0
  lastMs = counter > 0xfff ? ms + 1 : ms
  if (counter > 0xfff) counter = 0
  const time = lastMs.toString(16).padStart(12, '0')
  const random = randomBytes(8).toString('hex')
  const variant = (0x8 | (parseInt(random[0]!, 16) & 0x3)).toString(16)
  return `${time.slice(0, 8)}-${time.slice(8)}-7${counter.toString(16).padStart(3, '0')}-${variant}${random.slice(1, 4)}-${random.slice(4, 16)}`
}

/**
 * A new run with sensible defaults: task `work`, queue `default`, due at {@link T0}, three
 * attempts with a fixed backoff of 1 s.
 *
 * @example
 * await store.insertRuns([newRun({ priority: 5, uniqueKey: 'nightly' })])
 */
export function newRun(overrides: Partial<NewRun> = {}): NewRun {
  return {
    id: testRunId(),
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

/** A claim request of `worker-a` for up to 10 runs of `work` and `other` at {@link T0}, leased for 30 s. */
export function claimRequest(overrides: Partial<ClaimRequest> = {}): ClaimRequest {
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

/** Claims one run (or throws when none is due). */
export async function claimOne(store: Store, overrides: Partial<ClaimRequest> = {}): Promise<{ run: ClaimedRun; token: string }> {
  const [claimed] = await store.claimRuns(claimRequest({ limit: 1, ...overrides }))
  if (claimed === undefined) throw new Error('nothing claimed')
  return { run: claimed, token: claimed.token }
}

/** The parts of a claimed run a completion needs. */
export type RunRef = Pick<ClaimedRun, 'id' | 'tags' | 'attempt'>

/** An attempt of `run` by `worker-a` from {@link T0} to 5 ms later. */
export function attempt(run: RunRef, outcome: Attempt['outcome'] = 'succeeded'): Attempt {
  return { number: run.attempt, workerId: 'worker-a', startedAt: new Date(T0), finishedAt: new Date(T0 + 5), outcome, error: null }
}

/** A successful completion; an override of `undefined` removes that property (e.g. `data` for a failure). */
export function completion(run: RunRef, token: string, overrides: { [K in keyof Completion]?: Completion[K] | undefined } = {}): Completion {
  const merged: Record<string, unknown> = { id: run.id, token, status: 'succeeded', finishedAt: T0 + 5, data: '{"ok":true}', error: null, progress: null, tags: run.tags, attempt: attempt(run), ...overrides }
  for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key]
  return merged as unknown as Completion
}

/** A batch that writes nothing: spread it and add what a test writes. */
export const EMPTY_BATCH: WriteBatch = { logs: [], progress: [], waits: [], completions: [] }

const LOST_WHILE_CANCELLING: RunError = { message: 'cancelled: worker lost while cancelling', code: 'ERR_CANCELLED', name: 'CancelledError' }

/**
 * What an engine writes for an expired run (the contract's rules; the engine's rescuer also
 * consults the task's own backoff function): back unspent when its handler never ran; cancelled
 * when a cancel was asked; failed when it was the last attempt; else pending after its stored
 * backoff, the lost attempt in its history as `ERR_WORKER_LOST`.
 */
export function rescueWrite(run: ExpiredRun, now: number): RescueWrite {
  const base = { id: run.id, token: run.token, at: now }
  if (run.startedAt === null) {
    return run.cancelRequested ? { ...base, status: 'cancelled', error: LOST_WHILE_CANCELLING, attempt: null } : { ...base, status: 'pending', error: run.error, attempt: null }
  }
  const error: RunError = { message: `worker lost: ${run.workerId ?? 'a worker'} stopped renewing its lease`, code: 'ERR_WORKER_LOST', name: 'WorkerLostError' }
  const lost = (outcome: Attempt['outcome']): Attempt => ({ number: run.attempt, workerId: run.workerId, startedAt: run.startedAt!, finishedAt: new Date(now), outcome, error })
  if (run.cancelRequested) return { ...base, status: 'cancelled', error: LOST_WHILE_CANCELLING, attempt: lost('cancelled') }
  if (!attemptsLeftAfter(run)) return { ...base, status: 'failed', error, attempt: lost('failed') }
  return { ...base, status: 'pending', runAt: now + backoffDelay(run.backoff ?? DEFAULT_BACKOFF, run.attempt, error), error, attempt: lost('retry') }
}

/** Rescues every run whose lease expired before `now` with {@link rescueWrite}; returns the runs as written. */
export async function rescueExpired(store: Store, now: number): Promise<Run[]> {
  const expired = await store.expiredLeases(now, 10_000)
  return store.rescueRuns(expired.map((run) => rescueWrite(run, now)))
}

/**
 * For tests that open stores of their own besides the suite's (call it inside a `describe`):
 * returns a function that opens a store with `open`, waits until it is ready, and closes it
 * after the test.
 */
export function storesClosedAfterEach(): (open: () => Promise<Store>) => Promise<Store> {
  const opened: Store[] = []
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()))
  })
  return async (open) => {
    const store = await open()
    opened.push(store)
    await store.ready()
    return store
  }
}
